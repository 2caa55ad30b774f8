package sqlstore

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

var (
	fuzzOnce     sync.Once
	fuzzProducts []*catalog.Product
)

func fuzzCatalog(t testing.TB) []*catalog.Product {
	fuzzOnce.Do(func() {
		fuzzProducts = append(demoRegistry(t).List(), fixtureProduct(t, "fixture-events", "at"), fixtureProduct(t, "fixture-days", "day"))
	})
	return fuzzProducts
}

// fuzzPlans builds one plan of each kind from fuzz input: a product, a
// column, an operator and values drawn from the input, where s is an
// arbitrary string used as a value (and, when odd, as a column name).
type fuzzInput struct {
	product, column, op, variant uint8
	s                            string
	n                            int64
	x                            float64
}

type fuzzPlans struct {
	records   tools.RecordsPlan
	metrics   tools.MetricsPlan
	get       tools.GetPlan
	anomalies tools.AnomaliesPlan
}

func (in fuzzInput) plans(products []*catalog.Product) fuzzPlans {
	p := products[int(in.product)%len(products)]
	col := p.Columns[int(in.column)%len(p.Columns)]
	colName := col.Name
	if in.variant&1 == 1 {
		colName = in.s // an identifier the catalog does not have, usually
	}
	op := tools.Ops[int(in.op)%len(tools.Ops)]
	var v any
	switch {
	case in.variant&2 == 2:
		v = in.s // a string whatever the column's type
	case col.Type == catalog.TypeString:
		v = in.s
	case col.Type == catalog.TypeInteger:
		v = in.n
	case col.Type == catalog.TypeNumber:
		v = in.x
	case col.Type == catalog.TypeBoolean:
		v = in.n%2 == 0
	default:
		v = time.Unix(in.n%(1<<34), 0).UTC()
	}
	switch op {
	case tools.OpIn, tools.OpNotIn:
		v = []any{v, v, in.s}[:1+int(in.variant>>4)%3]
	case tools.OpBetween:
		v = []any{v, v}
	case tools.OpIsNull, tools.OpIsNotNull:
		v = nil
	}
	cond := tools.Condition{Column: colName, Op: op, Value: v}
	grains := []string{"", tools.GrainDay, tools.GrainWeek, tools.GrainMonth, tools.GrainQuarter, tools.GrainYear}
	rng := tools.Range{From: time.Unix(in.n%(1<<33), 0).UTC(), To: time.Unix(in.n%(1<<33)+86400*31, 0).UTC()}
	var fp fuzzPlans
	fp.records = tools.RecordsPlan{Product: p, Columns: []string{colName, p.KeyColumn}, Filters: []tools.Condition{cond},
		Order: []tools.Sort{{Field: colName, Desc: in.variant&4 == 4}}, Limit: int(in.n % 5000), Offset: int(in.n % 7)}
	if p.TimeColumn != "" {
		fp.records.Range = rng
	}
	if len(p.Metrics) > 0 {
		m := p.Metrics[int(in.column)%len(p.Metrics)].Name
		fp.metrics = tools.MetricsPlan{Product: p, Metrics: []string{m}, Filters: []tools.Condition{cond}, Limit: int(in.n % 2000),
			Order: []tools.Sort{{Field: m, Desc: true}}}
		if p.IsDimension(col.Name) || in.variant&1 == 1 {
			fp.metrics.GroupBy = []string{colName}
		}
		if p.TimeColumn != "" {
			fp.metrics.Grain = grains[int(in.variant>>3)%len(grains)]
			fp.metrics.Range = rng
		}
	}
	fp.get = tools.GetPlan{Product: p, ID: in.s, Columns: []string{colName}, Filters: []tools.Condition{cond}}
	if p.Anomalies != nil {
		fp.anomalies = tools.AnomaliesPlan{Product: p, Columns: []string{colName}, Filters: []tools.Condition{cond}, Range: rng, Limit: int(in.n % 100)}
	}
	return fp
}

// compileAll compiles each plan for d, returning the statements (nil where
// compiling failed or the plan is empty).
func compileAll(d dialect, fp fuzzPlans) []*stmt {
	var out []*stmt
	if page, count, _, err := compileRecords(d, fp.records); err == nil {
		out = append(out, &page, &count)
	} else {
		out = append(out, nil, nil)
	}
	if fp.metrics.Product != nil {
		if q, err := compileMetrics(d, fp.metrics, fp.metrics.Range, true); err == nil {
			out = append(out, &q.stmt)
		} else {
			out = append(out, nil)
		}
	}
	if st, _, ok, err := compileGet(d, fp.get); err == nil && ok {
		out = append(out, &st)
	} else {
		out = append(out, nil)
	}
	if fp.anomalies.Product != nil {
		if q, err := compileAnomalies(d, fp.anomalies); err == nil {
			out = append(out, &q.stmt)
		} else {
			out = append(out, nil)
		}
	}
	return out
}

// FuzzCompile: whatever a plan holds, compiling never panics, the SQL names
// only catalog identifiers, and every value is a parameter: the SQL text is
// the same as with harmless values, and the fuzz string never appears in it.
func FuzzCompile(f *testing.F) {
	seeds := []fuzzInput{
		{0, 0, 0, 0, "europe", 42, 1.5},
		{1, 3, 8, 0, "100%_off", 7, -2.25},
		{2, 5, 6, 0x10, "x'); DROP TABLE transactions; --", 1 << 40, math.MaxFloat64},
		{3, 1, 9, 2, `" OR 1=1 --`, -1, 0},
		{4, 2, 10, 1, `amount"; DELETE FROM customers; --`, 0, 0},
		{5, 7, 2, 0x2a, "SELECT", 123456, 3.14},
		{6, 4, 7, 0x33, "\x00\xff'\"\\", 9, 1e-300},
		{7, 6, 11, 4, "period", 86400, 99.99},
		{8, 2, 1, 0x18, "$1", 1700000000, 0.005},
	}
	for _, s := range seeds {
		f.Add(s.product, s.column, s.op, s.variant, s.s, s.n, s.x)
	}
	products := fuzzCatalog(f)
	f.Fuzz(func(t *testing.T, product, column, op, variant uint8, s string, n int64, x float64) {
		in := fuzzInput{product, column, op, variant, s, n, x}
		fp := in.plans(products)
		p := fp.records.Product
		// The same shape with harmless values: a string that cannot occur in
		// SQL text by accident, and ordinary numbers.
		safe := in
		safe.s, safe.n, safe.x = "zq", n%(1<<33), 1.25
		if variant&1 == 1 {
			safe.s = s // the column name is part of the shape
		}
		for _, d := range []dialect{sqliteDialect, postgresDialect, mysqlDialect} {
			got := compileAll(d, fp)
			ref := compileAll(d, safe.plans(products))
			for i, st := range got {
				if st == nil {
					continue
				}
				checkSQL(t, d, p, st)
				if ref[i] != nil && ref[i].sql != st.sql {
					t.Fatalf("%s: values changed the SQL text:\n%s\n%s", d, st.sql, ref[i].sql)
				}
				if len(s) >= 3 && !strings.Contains(ref[i].sqlOr(""), s) && strings.Contains(st.sql, s) {
					t.Fatalf("%s: the value %q appears in the SQL: %s", d, s, st.sql)
				}
			}
		}
	})
}

func (s *stmt) sqlOr(def string) string {
	if s == nil {
		return def
	}
	return s.sql
}

// Words and literals the compiler may write; everything else in SQL text
// must be a quoted catalog identifier or a parameter.
var (
	sqlWords = set("SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "IS", "NULL", "BETWEEN", "LIKE", "ILIKE", "ESCAPE",
		"ORDER", "BY", "ASC", "DESC", "NULLS", "LAST", "GROUP", "LIMIT", "OFFSET", "AS", "COUNT", "SUM", "AVG", "MIN", "MAX",
		"DISTINCT", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "REAL", "DOUBLE", "PRECISION", "BIGINT", "NULLIF",
		"TIMESTAMP", "TIMESTAMPTZ", "AT", "TIME", "ZONE", "COLLATE", "OVER", "PARTITION", "TRUE",
		"to_char", "date_trunc", "substr", "date",
		"LOWER", "SIGNED", "BINARY", "DATE_FORMAT", "DATE_SUB", "DATE", "INTERVAL", "WEEKDAY", "DAY", "CONCAT", "YEAR", "LPAD", "QUARTER")
	sqlLiterals = set(`\`, "UTC", "YYYY-MM-DD", "day", "week", "month", "quarter", "year", "-6 days", "weekday 1",
		"-01", "-01-01", "01", "03", "04", "06", "07", "09", "10",
		"%Y-%m-%d", "%Y-%m-01", "%Y-01-01", "-", "0")
	fixedIdents = set(aliasMean, aliasVar, aliasValue, subMeans, subStats, subAgg, periodName, "C")
)

func set(xs ...string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// checkSQL tokenizes SQL text and fails on anything the compiler should
// never write: an identifier not in the product's catalog entry, a literal
// not in its fixed set, a stray character, or a parameter count that does
// not match the arguments.
func checkSQL(t *testing.T, d dialect, p *catalog.Product, st *stmt) {
	t.Helper()
	idents := map[string]bool{p.Binding.Table: true, p.Binding.Schema: true}
	for _, c := range p.Columns {
		idents[c.Name] = true
	}
	for _, m := range p.Metrics {
		idents[m.Name] = true
	}
	sql := st.sql
	params, maxParam := 0, 0
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf("%s: %s\nin: %s", d, fmt.Sprintf(format, a...), sql)
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '"' || c == '\'':
			j, text := i+1, ""
			for ; j < len(sql); j++ {
				if sql[j] == c {
					if j+1 < len(sql) && sql[j+1] == c {
						text += string(c)
						j++
						continue
					}
					break
				}
				text += string(sql[j])
			}
			if j >= len(sql) {
				fail("unterminated quote at %d", i)
			}
			if c == '"' && !idents[text] && !fixedIdents[text] {
				fail("identifier %q is not in the catalog", text)
			}
			if c == '\'' && !sqlLiterals[text] {
				fail("literal %q is not one the compiler writes", text)
			}
			i = j + 1
		case c == '?' && d != postgresDialect:
			params++
			i++
		case c == '$' && d == postgresDialect:
			j := i + 1
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			var n int
			if _, err := fmt.Sscan(sql[i+1:j], &n); err != nil {
				fail("bad parameter at %d", i)
			}
			maxParam = max(maxParam, n)
			i = j
		case unicode.IsLetter(rune(c)) || c == '_':
			j := i
			for j < len(sql) && (unicode.IsLetter(rune(sql[j])) || sql[j] == '_') {
				j++
			}
			if !sqlWords[sql[i:j]] {
				fail("word %q is not SQL the compiler writes", sql[i:j])
			}
			i = j
		case c >= '0' && c <= '9':
			i++
		case strings.IndexByte(" (),.=<>*/+-|", c) >= 0:
			i++
		default:
			fail("unexpected character %q at %d", c, i)
		}
	}
	if d == postgresDialect {
		params = maxParam
	}
	if params != len(st.args) {
		fail("%d parameters for %d arguments", params, len(st.args))
	}
}

// TestCompileSeeds runs the fuzz checks over a grid of inputs on every
// product and column, so plain `go test` covers each operator and type.
func TestCompileSeeds(t *testing.T) {
	t.Parallel()
	products := fuzzCatalog(t)
	strs := []string{"europe", `'; DROP TABLE x; --`, `"quoted"`, "100%_\\", ""}
	for pi, p := range products {
		for ci := range p.Columns {
			for oi := range tools.Ops {
				for vi, s := range strs {
					in := fuzzInput{uint8(pi), uint8(ci), uint8(oi), uint8(vi*37) &^ 1, s, int64(1700000000 + vi), 12.5}
					fp := in.plans(products)
					for _, d := range []dialect{sqliteDialect, postgresDialect, mysqlDialect} {
						for _, st := range compileAll(d, fp) {
							if st != nil {
								checkSQL(t, d, p, st)
								if len(s) >= 3 && strings.Contains(st.sql, s) {
									t.Fatalf("value %q in SQL %s", s, st.sql)
								}
							}
						}
					}
				}
			}
		}
	}
}
