package tools

// Result is what a tool call returns: a table for data tools, products for
// search, a description for describe. The same shape goes to the model (in
// compact form), to channel adapters (tables, charts) and to the CLI's --json.
type Result struct {
	Tool    string `json:"tool"`
	Product string `json:"product,omitempty"`

	Columns    []ResultColumn `json:"columns,omitempty"`
	Rows       [][]any        `json:"rows,omitempty"`
	RowCount   int            `json:"row_count"`
	TotalCount *int64         `json:"total_count,omitempty"` // rows matching, before limit (query_records)
	NextCursor string         `json:"next_cursor,omitempty"`

	TimeRange    *Range `json:"time_range,omitempty"`
	CompareRange *Range `json:"compare_range,omitempty"`

	Products    []ProductSummary    `json:"products,omitempty"`    // search_data_products
	Description *ProductDescription `json:"description,omitempty"` // describe_data_product
	Masked      map[string]string   `json:"masked,omitempty"`      // column -> mask kind applied
	Notes       []string            `json:"notes,omitempty"`       // dropped columns, truncation, filters applied by policy
	// Partial lists periods of the result that are not over yet.
	Partial []PartialPeriod `json:"partial,omitempty"`
	// Metrics define the metrics a query_metrics result computed, from the
	// descriptor, so an answer can say what each number is.
	Metrics []MetricDescription `json:"metrics,omitempty"`
	// PolicyFilters are the row filters policy added to the call (the
	// asker's own filters are in the call's arguments).
	PolicyFilters []Filter `json:"policy_filters,omitempty"`
	// Caveats are the notes an answer must repeat to be read right: amounts
	// broken down by currency, a period not over yet. They are also in Notes.
	Caveats []string `json:"caveats,omitempty"`
	AuditID string   `json:"audit_id,omitempty"`
}

// ResultColumn names a result column and its logical type. Role tells
// renderers how to treat it: "dimension", "period", "metric", "previous",
// "change", "change_pct" or "" for a plain record column.
type ResultColumn struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Role   string `json:"role,omitempty"`
	Metric string `json:"metric,omitempty"` // for previous/change columns, the metric they belong to
	Unit   string `json:"unit,omitempty"`
	// UnitColumn names the result column that holds each row's unit of this
	// value (currency), when the metric's amounts are in several units.
	UnitColumn string `json:"unit_column,omitempty"`
	// UnitValue is the one unit every value is in, when a filter pinned it
	// (currency = EUR).
	UnitValue string `json:"unit_value,omitempty"`
}

// Column roles.
const (
	RoleDimension = "dimension"
	RolePeriod    = "period"
	RoleMetric    = "metric"
	RolePrevious  = "previous"
	RoleChange    = "change"
	RoleChangePct = "change_pct"
)

// ProductSummary is one search hit.
type ProductSummary struct {
	Name        string  `json:"name"`
	Domain      string  `json:"domain"`
	Description string  `json:"description"`
	Score       float64 `json:"score"`
}

// ProductDescription is what describe_data_product returns.
type ProductDescription struct {
	Name             string              `json:"name"`
	Domain           string              `json:"domain"`
	Owner            string              `json:"owner"`
	Description      string              `json:"description"`
	TimeColumn       string              `json:"time_column,omitempty"`
	KeyColumn        string              `json:"key_column,omitempty"`
	Freshness        string              `json:"freshness,omitempty"`
	Capabilities     []string            `json:"capabilities"`
	Columns          []ColumnDescription `json:"columns"`
	Metrics          []MetricDescription `json:"metrics,omitempty"`
	Dimensions       []string            `json:"dimensions,omitempty"`
	ExampleQuestions []string            `json:"example_questions,omitempty"`
}

// ColumnDescription describes a column, and what the asker will see of it.
type ColumnDescription struct {
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	Description    string   `json:"description,omitempty"`
	Classification string   `json:"classification"`
	Values         []string `json:"values,omitempty"`
	// Access is "visible", "masked:<kind>" or "withheld" for the asker.
	Access string `json:"access"`
}

// MetricDescription describes a metric.
type MetricDescription struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Unit        string `json:"unit,omitempty"`
	// Expression is how the metric is computed, e.g. sum(amount).
	Expression string `json:"expression,omitempty"`
}
