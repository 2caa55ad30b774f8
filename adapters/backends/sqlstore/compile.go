package sqlstore

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// The compiler turns validated plans into parameterized SQL. Two rules make
// it safe whatever a plan holds: identifiers come only from the product's
// catalog entry (every name in a plan is looked up there and rejected when
// absent) and are quoted; values are only ever parameters, never SQL text.
// The SQL text therefore depends on the plan's shape (which columns, which
// operators, how many values), never on the values themselves.

// stmt is a compiled statement.
type stmt struct {
	sql  string
	args []any
}

// outKind says how a result column's raw values are normalized.
type outKind int

const (
	kindColumn     outKind = iota // a product column, by its logical type
	kindPeriod                    // a bucket start date, 'YYYY-MM-DD' text
	kindMetricInt                 // an integer-valued metric
	kindMetricReal                // a real-valued metric, rounded to precision
	kindReal                      // an internal floating value (anomaly statistics)
)

// outCol describes one column a statement returns.
type outCol struct {
	name      string
	typ       string // catalog logical type of the value returned
	kind      outKind
	precision int
}

// Fixed aliases the compiler introduces. "$" cannot appear in a catalog
// identifier, so they never collide with a product's columns.
const (
	aliasMean  = "$mean"
	aliasVar   = "$var"
	aliasValue = "$value"
	subMeans   = "$means"
	subStats   = "$stats"
	subAgg     = "$agg"
	periodName = "period"
)

// maxExprDepth bounds recursion over metric expressions built in code.
const maxExprDepth = 64

// builder accumulates one statement's parameters.
type builder struct {
	d    dialect
	p    *catalog.Product
	qual string // table alias qualifying column references, "" for none
	args []any
}

func newBuilder(d dialect, p *catalog.Product) (*builder, error) {
	if p == nil {
		return nil, errors.New("the plan has no product")
	}
	if p.Binding.Table == "" {
		return nil, fmt.Errorf("%s has no table in its binding", p.Name)
	}
	return &builder{d: d, p: p}, nil
}

func (b *builder) param(v any) string {
	b.args = append(b.args, v)
	return b.d.placeholder(len(b.args))
}

func (b *builder) stmt(sql string) stmt { return stmt{sql: sql, args: b.args} }

// column looks a name up in the catalog: the only way a name reaches SQL.
// Restricted columns are refused wherever they appear, a filter included
// (a filter on one would answer questions about its values): the catalog
// promises they are never used through askmesh, and the store keeps that
// promise even if a plan does not.
func (b *builder) column(name string) (catalog.Column, error) {
	c, ok := b.p.Column(name)
	if !ok {
		return c, fmt.Errorf("%s has no column %q", b.p.Name, name)
	}
	if c.Classification == catalog.ClassRestricted {
		return c, fmt.Errorf("%s.%s is restricted and is never read through askmesh", b.p.Name, name)
	}
	return c, nil
}

// ref is the (qualified) reference to a catalog column.
func (b *builder) ref(c catalog.Column) string {
	if b.qual != "" {
		return quote(b.qual) + "." + quote(c.Name)
	}
	return quote(c.Name)
}

// exactRef is a column reference where its values are compared for
// equality, grouped or counted as distinct: text by code point in every
// dialect, whatever collation a MySQL column has.
func (b *builder) exactRef(c catalog.Column) string {
	if c.Type == catalog.TypeString {
		return b.d.exact(b.ref(c))
	}
	return b.ref(c)
}

// orderRef is a column reference as a sort key or in an ordering
// comparison (< <= > >= between): text compares by code point in both
// dialects, whatever collation a PostgreSQL column has.
func (b *builder) orderRef(c catalog.Column) string {
	if c.Type == catalog.TypeString {
		return b.d.textOrder(b.ref(c))
	}
	return b.ref(c)
}

// --- values ---

// dayRound says how an instant compared with a date column becomes a day:
// a date is read as its first instant (midnight UTC), so "d >= t" holds for
// the days from ceil(t) and "d <= t" for the days up to floor(t).
type dayRound int

const (
	dayFloor dayRound = iota
	dayCeil
)

// bind converts a plan value to the parameter for column c.
func (b *builder) bind(c catalog.Column, v any, r dayRound) (any, error) {
	bad := func() error {
		return fmt.Errorf("%s holds %s values; %s is not one", c.Name, c.Type, describeValue(v))
	}
	switch c.Type {
	case catalog.TypeString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, bad()
	case catalog.TypeInteger:
		switch n := v.(type) {
		case int64:
			return n, nil
		case int:
			return int64(n), nil
		case int32:
			return int64(n), nil
		case float64:
			if n == math.Trunc(n) && math.Abs(n) <= 1<<53 {
				return int64(n), nil
			}
		}
		return nil, bad()
	case catalog.TypeNumber:
		switch n := v.(type) {
		case float64:
			if math.IsNaN(n) || math.IsInf(n, 0) {
				return nil, bad()
			}
			return n, nil
		case int64:
			return float64(n), nil
		case int:
			return float64(n), nil
		case int32:
			return float64(n), nil
		}
		return nil, bad()
	case catalog.TypeBoolean:
		if t, ok := v.(bool); ok {
			return b.d.boolValue(t), nil
		}
		return nil, bad()
	case catalog.TypeDate, catalog.TypeTimestamp:
		t, ok := timeOf(v)
		if !ok {
			return nil, bad()
		}
		if c.Type == catalog.TypeTimestamp {
			return b.d.timeValue(t), nil
		}
		if r == dayCeil {
			t = ceilDay(t)
		}
		return b.d.dateValue(t), nil
	}
	return nil, fmt.Errorf("%s has type %q, which cannot be queried", c.Name, c.Type)
}

// timeOf accepts a time.Time, or text as a date (YYYY-MM-DD) or RFC 3339
// instant (the form metric expression literals take).
func timeOf(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t.UTC(), !t.IsZero()
	case string:
		if d, err := time.Parse(time.DateOnly, t); err == nil {
			return d, true
		}
		if d, err := time.Parse(time.RFC3339, t); err == nil {
			return d.UTC(), true
		}
	}
	return time.Time{}, false
}

func ceilDay(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if d.Before(t) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

func describeValue(v any) string {
	if s, ok := v.(string); ok {
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

// list returns the elements of a list value ([]any, or any typed slice).
func list(v any) ([]any, bool) {
	if l, ok := v.([]any); ok {
		return l, true
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Slice || rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// likeEscaper makes a value match literally inside a LIKE pattern.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// --- conditions ---

// condition compiles a filter.
func (b *builder) condition(f tools.Condition) (string, error) {
	c, err := b.column(f.Column)
	if err != nil {
		return "", err
	}
	ref := b.exactRef(c)
	switch f.Op {
	case tools.OpIsNull:
		return ref + " IS NULL", nil
	case tools.OpIsNotNull:
		return ref + " IS NOT NULL", nil
	case tools.OpEq, tools.OpNe, tools.OpLt, tools.OpLe, tools.OpGt, tools.OpGe:
		r := dayFloor
		if f.Op == tools.OpLt || f.Op == tools.OpGe {
			r = dayCeil
		}
		v, err := b.bind(c, f.Value, r)
		if err != nil {
			return "", fmt.Errorf("filter on %s: %w", c.Name, err)
		}
		op := f.Op
		if op == tools.OpNe {
			op = "<>"
		}
		if op != tools.OpEq && op != "<>" {
			ref = b.orderRef(c)
		}
		return ref + " " + op + " " + b.param(v), nil
	case tools.OpIn, tools.OpNotIn:
		vals, ok := list(f.Value)
		if !ok {
			return "", fmt.Errorf("filter on %s: %s needs a list of values", c.Name, f.Op)
		}
		return b.inList(c, ref, f.Op == tools.OpNotIn, vals)
	case tools.OpBetween:
		vals, ok := list(f.Value)
		if !ok || len(vals) != 2 {
			return "", fmt.Errorf("filter on %s: between needs exactly two values", c.Name)
		}
		lo, err := b.bind(c, vals[0], dayCeil)
		if err != nil {
			return "", fmt.Errorf("filter on %s: %w", c.Name, err)
		}
		hi, err := b.bind(c, vals[1], dayFloor)
		if err != nil {
			return "", fmt.Errorf("filter on %s: %w", c.Name, err)
		}
		return b.orderRef(c) + " BETWEEN " + b.param(lo) + " AND " + b.param(hi), nil
	case tools.OpContains:
		s, ok := f.Value.(string)
		if c.Type != catalog.TypeString || !ok {
			return "", fmt.Errorf("filter on %s: contains needs a text column and a text value", c.Name)
		}
		return b.d.contains(b.ref(c), b.param("%"+likeEscaper.Replace(s)+"%")), nil
	}
	return "", fmt.Errorf("filter on %s: unknown operator %q", c.Name, f.Op)
}

func (b *builder) inList(c catalog.Column, ref string, not bool, vals []any) (string, error) {
	if len(vals) == 0 {
		// x IN () is false for every row, x NOT IN () true.
		if not {
			return "1 = 1", nil
		}
		return "1 = 0", nil
	}
	ph := make([]string, len(vals))
	for i, v := range vals {
		bv, err := b.bind(c, v, dayFloor)
		if err != nil {
			return "", fmt.Errorf("filter on %s: %w", c.Name, err)
		}
		ph[i] = b.param(bv)
	}
	op := " IN ("
	if not {
		op = " NOT IN ("
	}
	return ref + op + strings.Join(ph, ", ") + ")", nil
}

// timeRange compiles [From, To) on the time column. A date column's days are
// read as their first instant, so both bounds round up to a day.
func (b *builder) timeRange(r tools.Range) ([]string, error) {
	if r.IsZero() {
		return nil, nil
	}
	if b.p.TimeColumn == "" {
		return nil, fmt.Errorf("%s has no time column, so a time range cannot apply", b.p.Name)
	}
	c, err := b.column(b.p.TimeColumn)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, bound := range []struct {
		t  time.Time
		op string
	}{{r.From, ">="}, {r.To, "<"}} {
		if bound.t.IsZero() {
			continue
		}
		v, err := b.bind(c, bound.t, dayCeil)
		if err != nil {
			return nil, fmt.Errorf("time range: %w", err)
		}
		out = append(out, b.ref(c)+" "+bound.op+" "+b.param(v))
	}
	return out, nil
}

// where compiles filters and an optional range into a WHERE clause ("" when
// there is nothing to filter).
func (b *builder) where(filters []tools.Condition, r tools.Range) (string, error) {
	parts := make([]string, 0, len(filters)+2)
	for _, f := range filters {
		s, err := b.condition(f)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	rs, err := b.timeRange(r)
	if err != nil {
		return "", err
	}
	parts = append(parts, rs...)
	return whereClause(parts), nil
}

func whereClause(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(parts, " AND ")
}

// --- query_records and get_record ---

func clampLimit(n, def int) int {
	switch {
	case n <= 0:
		return def
	case n > tools.MaxLimit:
		return tools.MaxLimit
	}
	return n
}

// selectList compiles the requested columns. None is an error, not "all":
// the executor always names the columns the asker may see, so an empty list
// means there are none, and returning every column would fail open.
func (b *builder) selectList(names []string) ([]string, []outCol, error) {
	if len(names) == 0 {
		return nil, nil, errors.New("no columns to return")
	}
	exprs := make([]string, 0, len(names))
	cols := make([]outCol, 0, len(names))
	for _, n := range names {
		c, err := b.column(n)
		if err != nil {
			return nil, nil, err
		}
		exprs = append(exprs, b.ref(c))
		cols = append(cols, outCol{name: c.Name, typ: c.Type})
	}
	return exprs, cols, nil
}

// recordOrder compiles a records sort: the requested keys, else the time
// column newest first, then always the key column, so that every page of
// an offset-paged listing comes from the same total order.
func (b *builder) recordOrder(order []tools.Sort) (string, error) {
	if len(order) == 0 && b.p.TimeColumn != "" {
		order = []tools.Sort{{Field: b.p.TimeColumn, Desc: true}}
	}
	seen := map[string]bool{}
	var keys []string
	add := func(s tools.Sort) error {
		if seen[s.Field] {
			return nil
		}
		c, err := b.column(s.Field)
		if err != nil {
			return fmt.Errorf("order by: %w", err)
		}
		seen[s.Field] = true
		keys = append(keys, b.d.sortKey(b.orderRef(c), s.Desc))
		return nil
	}
	for _, s := range order {
		if err := add(s); err != nil {
			return "", err
		}
	}
	tie := []string{b.p.KeyColumn}
	if b.p.KeyColumn == "" {
		// No key: every column there is, the best total order available.
		tie = nil
		for _, c := range b.p.Columns {
			if c.Classification != catalog.ClassRestricted {
				tie = append(tie, c.Name)
			}
		}
	}
	for _, k := range tie {
		if err := add(tools.Sort{Field: k}); err != nil {
			return "", err
		}
	}
	return " ORDER BY " + strings.Join(keys, ", "), nil
}

// compileRecords compiles query_records: the page and the count of all
// matching rows.
func compileRecords(d dialect, plan tools.RecordsPlan) (page, count stmt, cols []outCol, err error) {
	b, err := newBuilder(d, plan.Product)
	if err != nil {
		return stmt{}, stmt{}, nil, err
	}
	exprs, cols, err := b.selectList(plan.Columns)
	if err != nil {
		return stmt{}, stmt{}, nil, err
	}
	where, err := b.where(plan.Filters, plan.Range)
	if err != nil {
		return stmt{}, stmt{}, nil, err
	}
	order, err := b.recordOrder(plan.Order)
	if err != nil {
		return stmt{}, stmt{}, nil, err
	}
	offset := max(plan.Offset, 0)
	from := " FROM " + d.table(b.p)
	countArgs := append([]any(nil), b.args...)
	count = stmt{sql: "SELECT COUNT(*)" + from + where, args: countArgs}
	limit := b.param(int64(clampLimit(plan.Limit, tools.DefaultLimit)))
	off := b.param(int64(offset))
	page = b.stmt("SELECT " + strings.Join(exprs, ", ") + from + where + order + " LIMIT " + limit + " OFFSET " + off)
	return page, count, cols, nil
}

// compileGet compiles get_record: the row with the key, if the filters let
// it through.
func compileGet(d dialect, plan tools.GetPlan) (stmt, []outCol, bool, error) {
	b, err := newBuilder(d, plan.Product)
	if err != nil {
		return stmt{}, nil, false, err
	}
	if b.p.KeyColumn == "" {
		return stmt{}, nil, false, fmt.Errorf("%s has no key column, so records cannot be fetched by id", b.p.Name)
	}
	key, err := b.column(b.p.KeyColumn)
	if err != nil {
		return stmt{}, nil, false, err
	}
	exprs, cols, err := b.selectList(plan.Columns)
	if err != nil {
		return stmt{}, nil, false, err
	}
	id, ok := keyValue(key, plan.ID)
	if !ok {
		return stmt{}, cols, false, nil // an id of the wrong shape matches nothing
	}
	kv, err := b.bind(key, id, dayFloor)
	if err != nil {
		return stmt{}, cols, false, nil
	}
	parts := []string{b.exactRef(key) + " = " + b.param(kv)}
	for _, f := range plan.Filters {
		s, err := b.condition(f)
		if err != nil {
			return stmt{}, nil, false, err
		}
		parts = append(parts, s)
	}
	return b.stmt("SELECT " + strings.Join(exprs, ", ") + " FROM " + d.table(b.p) + whereClause(parts) + " LIMIT 1"), cols, true, nil
}

// keyValue converts an id (always text in a request) to the key column's type.
func keyValue(c catalog.Column, id string) (any, bool) {
	switch c.Type {
	case catalog.TypeString:
		return id, true
	case catalog.TypeInteger:
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil, false
		}
		return n, true
	case catalog.TypeDate, catalog.TypeTimestamp:
		if t, ok := timeOf(id); ok {
			return t, true
		}
	}
	return nil, false
}

// --- query_metrics ---

// metricsQuery is a compiled aggregate and the layout of its rows.
type metricsQuery struct {
	stmt
	cols    []outCol
	nGroup  int // leading group columns (period first, then dimensions)
	limit   int // rows wanted; the statement fetches one more to detect truncation
	metrics []catalog.Metric
}

// compileMetrics compiles query_metrics over r. With ordered false the
// statement has no ORDER BY and no LIMIT (the comparison query: every group
// is needed to match the current one's).
func compileMetrics(d dialect, plan tools.MetricsPlan, r tools.Range, ordered bool) (*metricsQuery, error) {
	b, err := newBuilder(d, plan.Product)
	if err != nil {
		return nil, err
	}
	if len(plan.Metrics) == 0 {
		return nil, fmt.Errorf("no metric asked of %s", b.p.Name)
	}
	q := &metricsQuery{}
	var selects []string
	groupCols := map[string]catalog.Column{}
	if plan.Grain != "" {
		if b.p.TimeColumn == "" {
			return nil, fmt.Errorf("%s has no time column, so a time grain cannot apply", b.p.Name)
		}
		tc, err := b.column(b.p.TimeColumn)
		if err != nil {
			return nil, err
		}
		bucket, err := d.bucket(b.ref(tc), tc.Type, plan.Grain)
		if err != nil {
			return nil, err
		}
		selects = append(selects, bucket+" AS "+quote(periodName))
		q.cols = append(q.cols, outCol{name: periodName, typ: catalog.TypeDate, kind: kindPeriod})
	}
	for _, g := range plan.GroupBy {
		c, err := b.column(g)
		if err != nil {
			return nil, fmt.Errorf("group by: %w", err)
		}
		if _, dup := groupCols[g]; dup {
			continue
		}
		if g == periodName && plan.Grain != "" {
			return nil, fmt.Errorf("%s has a column named period, which clashes with the time grain's period column", b.p.Name)
		}
		groupCols[g] = c
		sel := b.exactRef(c)
		if sel != b.ref(c) {
			sel += " AS " + quote(c.Name) // named for the outer query below
		}
		selects = append(selects, sel)
		q.cols = append(q.cols, outCol{name: c.Name, typ: c.Type})
	}
	q.nGroup = len(q.cols)
	seenMetric := map[string]bool{}
	for _, name := range plan.Metrics {
		m, ok := b.p.Metric(name)
		if !ok {
			return nil, fmt.Errorf("%s has no metric %q", b.p.Name, name)
		}
		if seenMetric[name] {
			continue
		}
		if name == periodName && plan.Grain != "" {
			return nil, fmt.Errorf("%s has a metric named period, which clashes with the time grain's period column", b.p.Name)
		}
		seenMetric[name] = true
		if m.Expr == nil {
			return nil, fmt.Errorf("metric %s of %s has no parsed expression", name, b.p.Name)
		}
		expr, err := b.expr(m.Expr, 0)
		if err != nil {
			return nil, fmt.Errorf("metric %s: %w", name, err)
		}
		oc := outCol{name: m.Name, typ: catalog.TypeNumber, kind: kindMetricReal, precision: m.Precision}
		if isIntegerExpr(b.p, m.Expr) {
			oc.typ, oc.kind = catalog.TypeInteger, kindMetricInt
		}
		expr = d.metricValue(expr, oc.kind == kindMetricInt)
		selects = append(selects, expr+" AS "+quote(m.Name))
		q.cols = append(q.cols, oc)
		q.metrics = append(q.metrics, m)
	}
	where, err := b.where(plan.Filters, r)
	if err != nil {
		return nil, err
	}
	sql := "SELECT " + strings.Join(selects, ", ") + " FROM " + d.table(b.p) + where
	if q.nGroup > 0 {
		ords := make([]string, q.nGroup)
		for i := range ords {
			ords[i] = fmt.Sprint(i + 1)
		}
		sql += " GROUP BY " + strings.Join(ords, ", ")
	}
	if ordered {
		order, err := b.metricsOrder(plan, q, groupCols)
		if err != nil {
			return nil, err
		}
		if d == mysqlDialect {
			// MySQL cannot sort by an expression over an aggregate's alias
			// ("m" IS NULL), which NULLs-last needs: the aggregate becomes
			// a derived table whose columns can be sorted on freely.
			sql = "SELECT * FROM (" + sql + ") AS " + quote(subAgg)
		}
		q.limit = clampLimit(plan.Limit, tools.DefaultLimit)
		sql += order + " LIMIT " + b.param(int64(q.limit+1))
	}
	q.stmt = b.stmt(sql)
	return q, nil
}

// metricsOrder sorts by the requested keys, then by period and dimensions
// ascending, so that ties come out in the same order on every run and
// dialect.
func (b *builder) metricsOrder(plan tools.MetricsPlan, q *metricsQuery, groupCols map[string]catalog.Column) (string, error) {
	seen := map[string]bool{}
	var keys []string
	add := func(s tools.Sort) error {
		if seen[s.Field] {
			return nil
		}
		seen[s.Field] = true
		switch c, isGroup := groupCols[s.Field]; {
		case s.Field == periodName && plan.Grain != "":
			keys = append(keys, b.d.sortKey(quote(periodName), s.Desc))
		case isGroup:
			keys = append(keys, b.d.sortKey(b.orderRef(c), s.Desc))
		case seenMetricIn(q.metrics, s.Field):
			keys = append(keys, b.d.sortKey(quote(s.Field), s.Desc))
		default:
			return fmt.Errorf("cannot order by %q: it is not a metric, group column or period of this query", s.Field)
		}
		return nil
	}
	for _, s := range plan.Order {
		if err := add(s); err != nil {
			return "", err
		}
	}
	for _, c := range q.cols[:q.nGroup] {
		if err := add(tools.Sort{Field: c.name}); err != nil {
			return "", err
		}
	}
	if len(keys) == 0 {
		return "", nil // one row: nothing to order
	}
	return " ORDER BY " + strings.Join(keys, ", "), nil
}

func seenMetricIn(ms []catalog.Metric, name string) bool {
	for _, m := range ms {
		if m.Name == name {
			return true
		}
	}
	return false
}

// expr compiles a metric expression.
func (b *builder) expr(e catalog.Expr, depth int) (string, error) {
	if depth > maxExprDepth {
		return "", errors.New("expression nested too deeply")
	}
	switch e := e.(type) {
	case *catalog.Agg:
		return b.agg(e, depth)
	case *catalog.Binary:
		l, err := b.expr(e.Left, depth+1)
		if err != nil {
			return "", err
		}
		r, err := b.expr(e.Right, depth+1)
		if err != nil {
			return "", err
		}
		switch e.Op {
		case "+", "-", "*":
			return "(" + l + " " + e.Op + " " + r + ")", nil
		case "/":
			// Real division, and no error on a zero divisor: the value is NULL.
			return "(" + b.d.toReal(l) + " / NULLIF(" + r + ", 0))", nil
		}
		return "", fmt.Errorf("unknown operator %q", e.Op)
	case *catalog.Number:
		if math.IsNaN(e.Value) || math.IsInf(e.Value, 0) {
			return "", errors.New("number out of range")
		}
		if e.Value == math.Trunc(e.Value) && math.Abs(e.Value) <= 1<<53 {
			return b.d.numberParam(b.param(int64(e.Value)), true), nil
		}
		return b.d.numberParam(b.param(e.Value), false), nil
	case nil:
		return "", errors.New("empty expression")
	}
	return "", fmt.Errorf("unknown expression node %T", e)
}

func (b *builder) agg(a *catalog.Agg, depth int) (string, error) {
	if a.Func == catalog.AggCountIf {
		if a.Cond == nil {
			return "", errors.New("count_if without a condition")
		}
		c, err := b.cond(a.Cond, depth+1)
		if err != nil {
			return "", err
		}
		// COUNT of a CASE without ELSE counts the rows where c is true, and
		// is 0 (not NULL, as SUM would be) over no rows.
		return "COUNT(CASE WHEN " + c + " THEN 1 END)", nil
	}
	if a.Func == catalog.AggCount && (a.Column == "" || a.Column == "*") {
		return "COUNT(*)", nil
	}
	c, err := b.column(a.Column)
	if err != nil {
		return "", err
	}
	ref := b.ref(c)
	switch a.Func {
	case catalog.AggCount:
		return "COUNT(" + ref + ")", nil
	case catalog.AggCountDistinct:
		return "COUNT(DISTINCT " + b.exactRef(c) + ")", nil
	case catalog.AggSum, catalog.AggAvg, catalog.AggMin, catalog.AggMax:
		if c.Type != catalog.TypeInteger && c.Type != catalog.TypeNumber {
			return "", fmt.Errorf("%s(%s): %s is not numeric", a.Func, c.Name, c.Name)
		}
		return strings.ToUpper(a.Func) + "(" + ref + ")", nil
	}
	return "", fmt.Errorf("unknown aggregate %q", a.Func)
}

// cond compiles a count_if condition.
func (b *builder) cond(c catalog.Cond, depth int) (string, error) {
	if depth > maxExprDepth {
		return "", errors.New("condition nested too deeply")
	}
	switch c := c.(type) {
	case *catalog.Compare:
		col, err := b.column(c.Column)
		if err != nil {
			return "", err
		}
		op := c.Op
		switch op {
		case "=", "<", "<=", ">", ">=":
		case "!=", "<>":
			op = "<>"
		default:
			return "", fmt.Errorf("unknown comparison %q", c.Op)
		}
		r := dayFloor
		if op == "<" || op == ">=" {
			r = dayCeil
		}
		v, err := b.bind(col, c.Value, r)
		if err != nil {
			return "", err
		}
		ref := b.exactRef(col)
		if op != "=" && op != "<>" {
			ref = b.orderRef(col)
		}
		return ref + " " + op + " " + b.param(v), nil
	case *catalog.InList:
		col, err := b.column(c.Column)
		if err != nil {
			return "", err
		}
		return b.inList(col, b.exactRef(col), c.Not, c.Values)
	case *catalog.BoolColumn:
		col, err := b.column(c.Column)
		if err != nil {
			return "", err
		}
		if col.Type != catalog.TypeBoolean {
			return "", fmt.Errorf("%s is not a boolean column", col.Name)
		}
		return b.d.boolTrue(b.ref(col)), nil
	case *catalog.Not:
		inner, err := b.cond(c.Cond, depth+1)
		if err != nil {
			return "", err
		}
		return "NOT (" + inner + ")", nil
	case *catalog.Logical:
		var op string
		switch strings.ToLower(c.Op) {
		case "and":
			op = " AND "
		case "or":
			op = " OR "
		default:
			return "", fmt.Errorf("unknown logical operator %q", c.Op)
		}
		l, err := b.cond(c.Left, depth+1)
		if err != nil {
			return "", err
		}
		r, err := b.cond(c.Right, depth+1)
		if err != nil {
			return "", err
		}
		return "(" + l + op + r + ")", nil
	case nil:
		return "", errors.New("empty condition")
	}
	return "", fmt.Errorf("unknown condition node %T", c)
}

// isIntegerExpr reports whether a metric always yields whole numbers:
// counts, and sums, minima and maxima of integer columns, combined without
// division. Such metrics are returned as int64.
func isIntegerExpr(p *catalog.Product, e catalog.Expr) bool {
	switch e := e.(type) {
	case *catalog.Agg:
		switch e.Func {
		case catalog.AggCount, catalog.AggCountDistinct, catalog.AggCountIf:
			return true
		case catalog.AggSum, catalog.AggMin, catalog.AggMax:
			c, _ := p.Column(e.Column)
			return c.Type == catalog.TypeInteger
		}
	case *catalog.Number:
		return e.Value == math.Trunc(e.Value) && math.Abs(e.Value) <= 1<<53
	case *catalog.Binary:
		return e.Op != "/" && isIntegerExpr(p, e.Left) && isIntegerExpr(p, e.Right)
	}
	return false
}

// --- find_anomalies ---

// anomaliesQuery is a compiled anomaly search. Its rows are the requested
// columns, then the value, its group's mean and population variance.
type anomaliesQuery struct {
	stmt
	cols []outCol // the requested columns, then value, mean, variance
}

// compileAnomalies finds rows in the range whose value exceeds their
// group's mean by more than k standard deviations, where the mean and
// variance are over every row the filters allow (the range does not limit
// them: a customer's history is the baseline). Squared deviations are
// compared with k²·variance, so no square root is needed in SQL.
//
// The statistics are window aggregates over the filtered rows, two passes
// (mean, then the mean squared deviation from it, which loses no precision
// to cancellation), and the range and threshold apply outside them: one
// scan of the table, and no join a planner could get wrong.
func compileAnomalies(d dialect, plan tools.AnomaliesPlan) (*anomaliesQuery, error) {
	b, err := newBuilder(d, plan.Product)
	if err != nil {
		return nil, err
	}
	spec := b.p.Anomalies
	if spec == nil {
		return nil, fmt.Errorf("%s does not declare anomaly detection", b.p.Name)
	}
	if !(spec.StdDevs > 0) || math.IsInf(spec.StdDevs, 0) {
		return nil, fmt.Errorf("%s: anomaly threshold %v is not a positive number of standard deviations", b.p.Name, spec.StdDevs)
	}
	vc, err := b.column(spec.Column)
	if err != nil {
		return nil, err
	}
	if vc.Type != catalog.TypeInteger && vc.Type != catalog.TypeNumber {
		return nil, fmt.Errorf("%s: anomalies need a numeric column; %s is %s", b.p.Name, vc.Name, vc.Type)
	}
	partition := "OVER ()"
	if spec.GroupBy != "" {
		gc, err := b.column(spec.GroupBy)
		if err != nil {
			return nil, err
		}
		partition = "OVER (PARTITION BY " + b.exactRef(gc) + ")"
	}

	// The columns the outer queries read: the requested ones, and those the
	// range and the order need.
	names := plan.Columns
	if len(names) == 0 {
		return nil, errors.New("no columns to return")
	}
	var carried []catalog.Column
	seen := map[string]bool{}
	for _, n := range append(append([]string{}, names...), b.p.TimeColumn, b.p.KeyColumn, spec.GroupBy) {
		if n == "" || seen[n] {
			continue
		}
		c, err := b.column(n)
		if err != nil {
			return nil, err
		}
		seen[n] = true
		carried = append(carried, c)
	}
	list := func(qual string) string {
		refs := make([]string, len(carried))
		for i, c := range carried {
			refs[i] = quote(c.Name)
			if qual != "" {
				refs[i] = quote(qual) + "." + refs[i]
			}
		}
		return strings.Join(refs, ", ")
	}
	value, mean, variance := quote(aliasValue), quote(aliasMean), quote(aliasVar)
	x := d.toReal(quote(vc.Name))

	where, err := b.where(plan.Filters, tools.Range{})
	if err != nil {
		return nil, err
	}
	inner := "SELECT " + list("") + ", " + x + " AS " + value + ", AVG(" + x + ") " + partition + " AS " + mean +
		" FROM " + d.table(b.p) + where
	dev := "(" + value + " - " + mean + ")"
	middle := "SELECT " + list(subMeans) + ", " + value + ", " + mean + ", AVG(" + dev + " * " + dev + ") " + partition + " AS " + variance +
		" FROM (" + inner + ") AS " + quote(subMeans)

	exprs, cols, err := b.selectList(names)
	if err != nil {
		return nil, err
	}
	exprs = append(exprs, value, mean, variance)
	cols = append(cols,
		outCol{name: aliasValue, typ: catalog.TypeNumber, kind: kindReal},
		outCol{name: aliasMean, typ: catalog.TypeNumber, kind: kindReal},
		outCol{name: aliasVar, typ: catalog.TypeNumber, kind: kindReal})
	b.qual = subStats
	conds, err := b.timeRange(plan.Range)
	if err != nil {
		return nil, err
	}
	k2 := d.toReal(b.param(spec.StdDevs * spec.StdDevs))
	conds = append(conds, value+" > "+mean, dev+" * "+dev+" > "+k2+" * "+variance)
	// (x-mean)²/var orders like (x-mean)/stddev, as x > mean; var > 0 there.
	order := " ORDER BY " + dev + " * " + dev + " / " + variance + " DESC"
	if b.p.KeyColumn != "" {
		kc, err := b.column(b.p.KeyColumn)
		if err != nil {
			return nil, err
		}
		order += ", " + b.orderRef(kc) + " ASC"
	}
	limit := b.param(int64(clampLimit(plan.Limit, tools.DefaultAnoms)))
	sql := "SELECT " + strings.Join(exprs, ", ") + " FROM (" + middle + ") AS " + quote(subStats) +
		whereClause(conds) + order + " LIMIT " + limit
	return &anomaliesQuery{stmt: b.stmt(sql), cols: cols}, nil
}
