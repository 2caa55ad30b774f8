// Package catalog knows the data products of the mesh: their descriptors
// (Open Data Contract Standard v3 YAML with one askmesh extension), the
// resolved Product model the rest of askmesh reads, a registry and search.
package catalog

import (
	"fmt"
	"strings"
	"time"
)

// Classification levels, from least to most sensitive. Policies decide what
// each means for a given asker; the catalog only records them.
const (
	ClassPublic       = "public"
	ClassInternal     = "internal"
	ClassConfidential = "confidential"
	ClassPII          = "pii"
	ClassRestricted   = "restricted"
)

// Logical column types (ODCS v3.1 logicalType values askmesh can query).
const (
	TypeString    = "string"
	TypeInteger   = "integer"
	TypeNumber    = "number"
	TypeBoolean   = "boolean"
	TypeDate      = "date"
	TypeTimestamp = "timestamp"
)

// Capabilities a product may declare; tools refuse calls a product does not offer.
const (
	CapRecords   = "records"
	CapMetrics   = "metrics"
	CapGet       = "get"
	CapAnomalies = "anomalies"
)

// SQLite storage layouts. Timestamps are stored as fixed-width RFC 3339 text
// in UTC so that text order is time order (comparisons can use indexes);
// dates as YYYY-MM-DD; booleans as 0/1; decimals as REAL with their scale.
const (
	SQLiteTimeLayout = "2006-01-02T15:04:05.000000Z"
	SQLiteDateLayout = "2006-01-02"
)

// Backend kinds a product can be bound to.
const (
	BackendSQLite   = "sqlite"
	BackendPostgres = "postgres"
	// BackendMySQL is MySQL or MariaDB; the binding's schema is the MySQL
	// database (the DSN's default database when empty).
	BackendMySQL = "mysql"
	BackendREST  = "rest"
	// BackendCombined is a product whose metrics combine metrics of other
	// products joined on conformed dimensions (Binding.Join); askmesh runs
	// each side as its own governed call and joins the results.
	BackendCombined = "combined"
	// BackendAudit binds a product to askmesh's own audit store (access-audit).
	BackendAudit = "audit"
)

// Product is the validated, resolved view of one data product descriptor.
// It is read-only after loading and shared between goroutines.
type Product struct {
	Name        string // e.g. "customer-transactions"; the name tools use
	ID          string // the descriptor's ODCS id
	Version     string
	Status      string
	Domain      string // e.g. "retail-banking"
	DataProduct string
	Description string // Purpose, then "Usage: ..." and "Limitations: ..." when given
	Owner       string // the team or person accountable (ODCS team role owner)
	Tags        []string
	Synonyms    []string // words people use for this product ("payments", "txns")

	Columns    []Column
	Metrics    []Metric
	Dimensions []string // columns that may be grouped by
	TimeColumn string   // the column time ranges and grains apply to
	KeyColumn  string   // the primary key; get_record looks up by it

	Capabilities     []string
	HeadlineMetrics  []string // metrics an executive brief leads with
	ExampleQuestions []string
	// Verified are the questions the owners answered and checked.
	Verified  []VerifiedQuestion
	Anomalies *AnomalySpec
	// Units declare amount columns whose unit varies by row (a currency
	// column): metrics over them are never added up across units.
	Units     []UnitSpec
	Freshness time.Duration // expected maximum data age (ODCS slaProperties)

	// Access lists the grants of the owning domain team: who may do what.
	// Policies read them as data, so a domain changes access by editing its
	// descriptor, not Go code. Restricted columns are never granted.
	Access []Grant

	Binding Binding
	// Join maps each conformed dimension of a combined product (backend kind
	// combined, key join) to the column that holds it in each product
	// combined: dimension -> product -> column.
	Join map[string]map[string]string

	Source string // the descriptor file it came from, for error messages
	// lines are the descriptor's YAML lines by fault path, so that checks
	// made after loading (CheckGroups) point at the line; nil in code.
	lines *sourceLines

	// The ODCS description's parts, as written; Description joins them.
	Purpose     string
	Usage       string
	Limitations string
}

// Grant gives the members of Groups some actions on a product.
type Grant struct {
	Groups []string
	// Actions are "records" (query_records, get_record, find_anomalies) and
	// "metrics" (query_metrics).
	Actions []string
	// See lists classifications above internal that the grantees see in
	// clear, e.g. ["confidential"]; public and internal are always visible.
	See []string
	// Mask maps a classification (or a column name) to a mask kind (redact,
	// last4, hash): such columns are returned masked instead of withheld.
	Mask map[string]string
	// RowFilters restrict the grantees to some rows.
	RowFilters []GrantRowFilter
}

// GrantRowFilter is a row restriction: Column Op Value, where the value is
// either literal or taken from the asker's directory attribute.
type GrantRowFilter struct {
	Column           string
	Op               string
	Value            any
	SubjectAttribute string // e.g. "region": the value is the asker's region
}

// Grant actions.
const (
	ActionRecords = "records"
	ActionMetrics = "metrics"
)

// Column is one property of the product's schema.
type Column struct {
	Name           string
	Type           string // one of the Type* constants
	Description    string
	Classification string // one of the Class* constants
	PrimaryKey     bool
	Nullable       bool
	// Values are the known values of a categorical column (for validation
	// hints and for the offline planner to recognise "deposits", "europe").
	Values   []string
	Synonyms []string
	Unique   bool     // ODCS unique: no two rows share a value
	Examples []string // ODCS examples, as text
	// Review is a generator's note that a person must still check this
	// column (its classification was guessed); see ReviewProperty.
	Review string
}

// Metric is an aggregate the product declares. Only declared metrics can be
// queried: the expression comes from the descriptor, never from a request.
type Metric struct {
	Name        string
	Expression  string // e.g. "sum(amount)", "count_if(status in ('approved','funded')) / count_if(status in ('approved','funded','rejected'))"
	Description string
	Unit        string // e.g. "count", "USD", "ratio", "minutes"
	Precision   int    // decimal places results are rounded to
	Synonyms    []string
	// Columns are the columns the expression reads, derived when the
	// descriptor is loaded; authorization checks the asker may see them.
	Columns []string
	// Expr is Expression parsed (see ParseExpr), set when the descriptor is
	// loaded; query compilers work from it, never from the text.
	Expr Expr
	// Combine is set instead of Expression on a combined product: the
	// metric is Left Op Right, metrics of two other products.
	Combine *Combination
}

// Combination is a combined product's metric: Left Op Right, computed per
// row of conformed dimension values both sides have.
type Combination struct {
	Left, Right MetricRef
	Op          string // + - * /
}

// MetricRef names a metric of another product.
type MetricRef struct {
	Product, Metric string
}

func (r MetricRef) String() string { return r.Product + "." + r.Metric }

func (c *Combination) String() string { return c.Left.String() + " " + c.Op + " " + c.Right.String() }

// ParseCombination reads "product.metric <op> product.metric".
func ParseCombination(s string) (*Combination, error) {
	f := strings.Fields(s)
	if len(f) != 3 || !strings.Contains("+-*/", f[1]) || len(f[1]) != 1 {
		return nil, fmt.Errorf("%q is not of the form product.metric / product.metric (operators + - * /)", s)
	}
	ref := func(t string) (MetricRef, error) {
		prod, metric, ok := strings.Cut(t, ".")
		if !ok || prod == "" || metric == "" {
			return MetricRef{}, fmt.Errorf("%q is not product.metric", t)
		}
		return MetricRef{Product: prod, Metric: metric}, nil
	}
	l, err := ref(f[0])
	if err != nil {
		return nil, err
	}
	r, err := ref(f[2])
	if err != nil {
		return nil, err
	}
	return &Combination{Left: l, Right: r, Op: f[1]}, nil
}

// AnomalySpec says how find_anomalies works for a product: values of Column
// more than StdDevs standard deviations above the mean of their GroupBy group.
type AnomalySpec struct {
	Column  string
	GroupBy string
	StdDevs float64
}

// Unit kinds a UnitSpec may declare.
const (
	UnitKindCurrency = "currency" // the unit column holds ISO 4217 codes (EUR, USD)
	UnitKindUnit     = "unit"     // any other unit (kg, kWh, shares)
)

// UnitSpec says that the values of Column are in the unit named, row by
// row, in UnitColumn: an amount in EUR and one in USD cannot be summed or
// averaged together, so metrics that aggregate Column are broken down by
// UnitColumn (see Product.UnitOf).
type UnitSpec struct {
	Column     string // the amount column, e.g. amount
	UnitColumn string // the column naming each row's unit, e.g. currency
	Kind       string // one of the UnitKind* constants
}

// UnitOf returns the unit declaration behind a metric when the metric
// aggregates the value of a column whose unit varies by row (sum, avg, min
// or max of it; counts do not depend on the unit).
func (p *Product) UnitOf(metric string) (UnitSpec, bool) {
	m, ok := p.Metric(metric)
	if !ok || len(p.Units) == 0 {
		return UnitSpec{}, false
	}
	var found UnitSpec
	var walk func(Expr) bool
	walk = func(e Expr) bool {
		switch e := e.(type) {
		case *Agg:
			switch e.Func {
			case AggSum, AggAvg, AggMin, AggMax:
				u, ok := p.UnitOfColumn(e.Column)
				found = u
				return ok
			}
		case *Binary:
			return walk(e.Left) || walk(e.Right)
		}
		return false
	}
	if m.Expr == nil || !walk(m.Expr) {
		return UnitSpec{}, false
	}
	return found, true
}

// UnitOfColumn returns the unit declaration of column, when its unit varies
// by row (amount, in each row's currency).
func (p *Product) UnitOfColumn(column string) (UnitSpec, bool) {
	for _, u := range p.Units {
		if u.Column == column {
			return u, true
		}
	}
	return UnitSpec{}, false
}

// Binding tells a backend where the product's data lives.
type Binding struct {
	Kind string // one of the Backend* constants
	// Database names the SQLite file (<data-dir>/<Database>.db) for sqlite,
	// and is the logical database of the domain for postgres.
	Database string
	Schema   string // postgres schema; mysql database (optional)
	Table    string
	// DSNEnv names the environment variable holding the PostgreSQL or MySQL DSN, so
	// descriptors never contain credentials.
	DSNEnv string
	// DSN is set only at run time, when askmesh itself binds a product (the
	// access-audit product to the audit store, or the demo to PostgreSQL);
	// descriptors cannot set it. It takes precedence over DSNEnv.
	DSN string
	// URL is the product API base URL for rest bindings.
	URL string
	// TokenEnv names the environment variable holding a static token for a
	// rest binding, when the product is not called with the asker's identity.
	TokenEnv string
}

// Column returns the named column.
func (p *Product) Column(name string) (Column, bool) {
	for _, c := range p.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Metric returns the named metric.
func (p *Product) Metric(name string) (Metric, bool) {
	for _, m := range p.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Has reports whether the product declares a capability.
func (p *Product) Has(capability string) bool {
	for _, c := range p.Capabilities {
		if c == capability {
			return true
		}
	}
	return false
}

// IsDimension reports whether a column may be grouped by.
func (p *Product) IsDimension(name string) bool {
	for _, d := range p.Dimensions {
		if d == name {
			return true
		}
	}
	return false
}

// ColumnNames lists the product's columns in schema order.
func (p *Product) ColumnNames() []string {
	names := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		names[i] = c.Name
	}
	return names
}

// MetricNames lists the product's metrics in declaration order.
func (p *Product) MetricNames() []string {
	names := make([]string, len(p.Metrics))
	for i, m := range p.Metrics {
		names[i] = m.Name
	}
	return names
}

// Classifications maps each column to its classification, as policies see it.
func (p *Product) Classifications() map[string]string {
	out := make(map[string]string, len(p.Columns))
	for _, c := range p.Columns {
		out[c.Name] = c.Classification
	}
	return out
}
