package tools

import (
	"context"
	"time"
)

// Backend runs validated plans against a product's data. Implementations
// (adapters/sqlstore, adapters/rest) never see raw tool arguments and never
// decide access: the executor has authorized the call and merged policy row
// filters into the plan before a backend sees it; masking happens after.
//
// Results carry Columns, Rows, RowCount and, for records, TotalCount and
// NextCursor left empty (the executor issues cursors). Metric rows hold the
// group columns, then per metric its value and, with CompareTo, its previous
// value, absolute change and percent change, in that order.
type Backend interface {
	QueryRecords(ctx context.Context, plan RecordsPlan) (*Result, error)
	QueryMetrics(ctx context.Context, plan MetricsPlan) (*Result, error)
	GetRecord(ctx context.Context, plan GetPlan) (*Result, error)
	FindAnomalies(ctx context.Context, plan AnomaliesPlan) (*Result, error)
}

// Clock is the one source of "now": named periods, audit timestamps and the
// system prompt's date all read it, so tests and --now can pin it.
type Clock interface {
	Now() time.Time
}

// SystemClock reads the real time in UTC.
type SystemClock struct{}

// Now returns the current UTC time.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// FixedClock always returns the same instant.
type FixedClock time.Time

// Now returns the fixed instant in UTC.
func (c FixedClock) Now() time.Time { return time.Time(c).UTC() }
