package sqlstore

import "github.com/askmesh/askmesh/tools"

// MetricsSQL returns the SQLite statement QueryMetrics runs for plan's
// current period: benchmarks run it bare with database/sql to measure what
// the executor and store add on top of the query itself.
func MetricsSQL(plan tools.MetricsPlan) (string, []any, error) {
	q, err := compileMetrics(sqliteDialect, plan, plan.Range, true)
	if err != nil {
		return "", nil, err
	}
	return q.sql, q.args, nil
}
