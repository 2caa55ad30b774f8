package tools

import (
	"time"

	"github.com/askmesh/askmesh/catalog"
)

// Plans are validated, catalog-checked requests with every name resolved
// against the product and every time range resolved against the clock.
// Backends receive plans, never raw arguments, so identifiers in a plan are
// always catalog names. Obligations from policy (row filters) are already
// merged into Filters by the executor.

// Condition is a validated filter. Value has been converted to the column's
// Go type: string, int64, float64, bool, time.Time, or a slice of those for
// in, not in (any length) and between (exactly two).
type Condition struct {
	Column string
	Op     string // one of the Op* constants
	Value  any
}

// Filter operators.
const (
	OpEq        = "="
	OpNe        = "!="
	OpLt        = "<"
	OpLe        = "<="
	OpGt        = ">"
	OpGe        = ">="
	OpIn        = "in"
	OpNotIn     = "not in"
	OpContains  = "contains"
	OpBetween   = "between"
	OpIsNull    = "is null"
	OpIsNotNull = "is not null"
)

// Ops lists the filter operators in the order the tool description gives them.
var Ops = []string{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpIn, OpNotIn, OpContains, OpBetween, OpIsNull, OpIsNotNull}

// Range is a resolved half-open time interval [From, To) in UTC. A zero From
// or To leaves that side open.
type Range struct {
	From  time.Time `json:"from,omitzero"`
	To    time.Time `json:"to,omitzero"`
	Label string    `json:"label,omitempty"` // what was asked, e.g. "last_month"
}

// IsZero reports whether the range has neither bound.
func (r Range) IsZero() bool { return r.From.IsZero() && r.To.IsZero() }

// Sort is a validated sort key.
type Sort struct {
	Field string
	Desc  bool
}

// Record limits.
const (
	DefaultLimit  = 100
	MaxLimit      = 1000
	DefaultSearch = 5
	MaxSearch     = 20
	DefaultAnoms  = 20
)

// RecordsPlan is a validated query_records request.
type RecordsPlan struct {
	Product *catalog.Product
	Columns []string
	Filters []Condition
	Range   Range
	Order   []Sort
	Limit   int
	// Offset is decoded from the opaque cursor; the cursor is bound to the
	// request's other arguments so it cannot be replayed against another query.
	Offset int
}

// Time grains.
const (
	GrainDay     = "day"
	GrainWeek    = "week"
	GrainMonth   = "month"
	GrainQuarter = "quarter"
	GrainYear    = "year"
)

// Comparisons.
const (
	ComparePreviousPeriod = "previous_period"
	ComparePreviousYear   = "previous_year"
)

// MetricsPlan is a validated query_metrics request.
type MetricsPlan struct {
	Product   *catalog.Product
	Metrics   []string
	GroupBy   []string
	Filters   []Condition
	Range     Range
	Grain     string
	CompareTo string
	Compare   Range // the comparison range when CompareTo is set
	Order     []Sort
	Limit     int
	// Partial lists the periods of the request that are not over yet: the
	// time range itself ("this_month") or, with a grain, its last bucket.
	Partial []PartialPeriod
	// Caveats are what the answer must repeat about how the figures were
	// computed: a breakdown by currency, a period not over yet.
	Caveats []string
}

// GetPlan is a validated get_record request.
type GetPlan struct {
	Product *catalog.Product
	Columns []string
	ID      string
	Filters []Condition // policy row filters: a record outside them is not found
}

// AnomaliesPlan is a validated find_anomalies request.
type AnomaliesPlan struct {
	Product *catalog.Product
	Columns []string
	Filters []Condition
	Range   Range
	Limit   int
}
