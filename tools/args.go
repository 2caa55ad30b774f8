package tools

// Tool names, as the model sees them.
const (
	ToolSearch        = "search_data_products"
	ToolDescribe      = "describe_data_product"
	ToolQueryRecords  = "query_records"
	ToolQueryMetrics  = "query_metrics"
	ToolGetRecord     = "get_record"
	ToolFindAnomalies = "find_anomalies"
)

// The Go types below are the one source of truth for the tool arguments: the
// JSON Schemas the model sees are inferred from them, and decoding validates
// against those same schemas before the catalog checks names and values.

// SearchArgs are the arguments of search_data_products.
type SearchArgs struct {
	Query string `json:"query" jsonschema:"words describing the data wanted, e.g. 'customer transactions' or 'loan approvals'"`
	Limit int    `json:"limit,omitempty" jsonschema:"maximum number of products to return (default 5, at most 20)"`
}

// DescribeArgs are the arguments of describe_data_product.
type DescribeArgs struct {
	Product string `json:"product" jsonschema:"the product name as returned by search_data_products, e.g. 'customer-transactions'"`
}

// Filter restricts rows: column op value.
type Filter struct {
	Column string `json:"column" jsonschema:"a column of the product"`
	Op     string `json:"op" jsonschema:"one of =, !=, <, <=, >, >=, in, not in, contains, between, is null, is not null"`
	// Value is a scalar for comparisons and contains, a list for in and not
	// in, a two-element list for between, and absent for is null and is not null.
	Value any `json:"value,omitempty" jsonschema:"the value to compare with: a string or number; a list for in, not in and between; omitted for is null and is not null"`
}

// OrderBy sorts results by a column (records) or a metric or dimension (metrics).
type OrderBy struct {
	Field     string `json:"field" jsonschema:"a column (query_records) or a metric or group_by column (query_metrics)"`
	Direction string `json:"direction,omitempty" jsonschema:"asc or desc (default asc)"`
}

// QueryRecordsArgs are the arguments of query_records.
type QueryRecordsArgs struct {
	Product   string    `json:"product" jsonschema:"the product name"`
	Columns   []string  `json:"columns,omitempty" jsonschema:"columns to return; all visible columns when omitted"`
	Filters   []Filter  `json:"filters,omitempty" jsonschema:"row filters, all applied (AND)"`
	TimeRange string    `json:"time_range,omitempty" jsonschema:"a named period (today, yesterday, last_7_days, last_30_days, this_week, last_week, this_month, last_month, this_quarter, last_quarter, this_year, last_year), an ISO date or month or year (2026-10-05, 2026-10, 2026, 2026-Q3) or a range FROM..TO (inclusive dates; either side may be empty)"`
	OrderBy   []OrderBy `json:"order_by,omitempty" jsonschema:"sort order"`
	Limit     int       `json:"limit,omitempty" jsonschema:"maximum rows to return (default 100, at most 1000)"`
	Cursor    string    `json:"cursor,omitempty" jsonschema:"the next_cursor of a previous call with the same arguments, to fetch the next page"`
}

// QueryMetricsArgs are the arguments of query_metrics.
type QueryMetricsArgs struct {
	Product   string    `json:"product" jsonschema:"the product name"`
	Metrics   []string  `json:"metrics" jsonschema:"metric names the product declares (see describe_data_product)"`
	GroupBy   []string  `json:"group_by,omitempty" jsonschema:"dimension columns to group by"`
	Filters   []Filter  `json:"filters,omitempty" jsonschema:"row filters, all applied (AND)"`
	TimeRange string    `json:"time_range,omitempty" jsonschema:"as in query_records; required with compare_to"`
	TimeGrain string    `json:"time_grain,omitempty" jsonschema:"day, week, month, quarter or year: adds a period column and groups by it"`
	CompareTo string    `json:"compare_to,omitempty" jsonschema:"previous_period or previous_year: adds each metric's comparison value, absolute and percent change"`
	OrderBy   []OrderBy `json:"order_by,omitempty" jsonschema:"sort order, by a metric or a group_by column"`
	Limit     int       `json:"limit,omitempty" jsonschema:"maximum rows (groups) to return (default 100, at most 1000); with order_by gives a top N"`
}

// GetRecordArgs are the arguments of get_record.
type GetRecordArgs struct {
	Product string `json:"product" jsonschema:"the product name"`
	ID      string `json:"id" jsonschema:"the value of the product's key column"`
}

// FindAnomaliesArgs are the arguments of find_anomalies.
type FindAnomaliesArgs struct {
	Product   string   `json:"product" jsonschema:"the product name; it must declare anomaly detection"`
	Filters   []Filter `json:"filters,omitempty" jsonschema:"row filters, all applied (AND)"`
	TimeRange string   `json:"time_range,omitempty" jsonschema:"as in query_records"`
	Limit     int      `json:"limit,omitempty" jsonschema:"maximum anomalies to return (default 20, at most 1000)"`
}

func (a *DescribeArgs) productName() string      { return a.Product }
func (a *QueryRecordsArgs) productName() string  { return a.Product }
func (a *QueryMetricsArgs) productName() string  { return a.Product }
func (a *GetRecordArgs) productName() string     { return a.Product }
func (a *FindAnomaliesArgs) productName() string { return a.Product }
