package planner

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// dataBase is what every one-product data rule reads first: the metrics
// the question names, its filters and its period.
type dataBase struct {
	prod     *catalog.Product
	in       *intent // kind data, with notes so far
	metrics  []string
	strong   bool // a metric was named by a word of its own, not the product's name
	used     map[int]bool
	filters  []tools.Filter
	tr       string
	rk       ranking
	sup      []int  // supRe's match
	supWord  string // "largest", "latest" ...
	timeSays bool   // a grain, a comparison or a brief: a metrics question
	records  bool   // the question asks for rows
}

// base reads metrics, filters and period for prod.
func (p *Planner) base(a *analysis, prod *catalog.Product) *dataBase {
	d := &dataBase{prod: prod, in: &intent{kind: kindData, product: prod}}
	d.metrics, d.strong, d.used = p.metricsOf(a, prod)
	// "top 3 campaigns by conversions, with their budget": the metric
	// after "by" ranks, the others are shown beside it.
	if by := p.byMetric(a, prod); by != "" {
		d.metrics = []string{by}
		for _, m := range a.ms {
			inside := slices.ContainsFunc(a.ms, func(o mention) bool {
				return o.kind == mMetric && o.product == prod && o.i <= m.i && m.j <= o.j && o.j-o.i > m.j-m.i
			})
			if m.product == prod && m.kind == mMetric && !inside && !a.toks[m.i].used && !slices.Contains(d.metrics, m.metric) {
				d.metrics = append(d.metrics, m.metric)
			}
		}
		d.strong = true
	}
	d.filters = p.valueFilters(a, prod, d.used)
	d.filters = append(d.filters, p.numericFilters(a, prod)...)
	d.tr = a.w.rangeArg
	if d.tr != "" && prod.TimeColumn == "" {
		d.in.notes = append(d.in.notes, prod.Name+" has no time column, so I could not limit it to "+d.tr+".")
		d.tr = ""
	}
	if note := countedWithNote(prod, d.filters, d.metrics); note != "" {
		d.in.notes = append(d.in.notes, note)
	}
	if d.tr != "" {
		if note := otherDateNote(prod, d.filters); note != "" {
			d.in.notes = append(d.in.notes, note)
		}
	}
	return d
}

// otherDateNote says which date a period was applied to when the question
// asks about a state another date column records ("loans rejected
// yesterday": decided_at says when they were rejected). The tools limit a
// period by the product's time column only, so the answer must say it
// counted by that date, not by when the state was reached.
func otherDateNote(prod *catalog.Product, filters []tools.Filter) string {
	tc, ok := prod.Column(prod.TimeColumn)
	if !ok {
		return ""
	}
	for _, c := range prod.Columns {
		if c.Name == prod.TimeColumn || c.Type != catalog.TypeTimestamp && c.Type != catalog.TypeDate {
			continue
		}
		words := strings.FieldsFunc(strings.ToLower(c.Description), func(r rune) bool { return !unicode.IsLetter(r) && r != '_' })
		for _, f := range filters {
			v, isText := f.Value.(string)
			if f.Op != tools.OpEq || !isText || !slices.Contains(words, strings.ToLower(v)) {
				continue
			}
			// "empty while submitted": that date says nothing of rows in
			// that state, so the time column is the only date to go by.
			if desc := strings.ToLower(c.Description); strings.Contains(desc, "while "+strings.ToLower(v)) {
				continue
			}
			return fmt.Sprintf("The period is on %s (%s), the date the tools limit %s by, not on %s (%s).",
				tc.Name, lowerFirst(strings.TrimSuffix(tc.Description, ".")), prod.Name, c.Name, lowerFirst(strings.TrimSuffix(c.Description, ".")))
		}
	}
	return ""
}

// countedWithNote says which values a filter counted when a rate of the
// product counts that value together with others ("approved": approval_rate
// counts approved and funded as approvals): the filter keeps its one
// value, as the question named it, and the answer says the others were not
// counted, so "approved" is not read two ways unsaid.
func countedWithNote(prod *catalog.Product, filters []tools.Filter, metrics []string) string {
	for _, f := range filters {
		v, isText := f.Value.(string)
		if f.Op != tools.OpEq || !isText {
			continue
		}
		for _, m := range prod.Metrics {
			if m.Unit != "ratio" || slices.Contains(metrics, m.Name) {
				continue
			}
			// The numerator's list: the first "col in (...)" of the expression.
			g := inListRe.FindStringSubmatch(m.Expression)
			if g == nil || g[1] != f.Column {
				continue
			}
			var vals []string
			for _, x := range strings.Split(g[2], ",") {
				vals = append(vals, strings.Trim(strings.TrimSpace(x), `'"`))
			}
			if len(vals) < 2 || !slices.Contains(vals, v) {
				continue
			}
			return fmt.Sprintf("Counted %s %s only; %s counts %s %s together.", f.Column, v, m.Name,
				f.Column, strings.Join(vals, " and "))
		}
	}
	return ""
}

var inListRe = regexp.MustCompile(`(\w+)\s+in\s*\(([^)]*)\)`)

var byRe = regexp.MustCompile(`\b(?:ranked |sorted |ordered )?by\s+(?:the\s+)?(?:most\s+|number of\s+)?`)

// byMetric is a metric named right after "by" ("by conversions"): an
// ordering, not a grouping.
func (p *Planner) byMetric(a *analysis, prod *catalog.Product) string {
	for _, loc := range byRe.FindAllStringIndex(a.free, -1) {
		k := tokenAt(a.toks, loc[1])
		// A metric said by more than the product's word ("by cost per
		// conversion") is the ranking.
		for _, m := range a.ms {
			if k >= 0 && m.product == prod && m.kind == mMetric && m.i == k && (m.j-m.i > 1 || !productWordAt(a, prod, k)) {
				return m.metric
			}
		}
		// "by amount", "by transaction amount": the column a sum metric
		// adds up, said alone or after a word of the product, ranks by
		// that sum, never by the count the product's word names.
		for _, at := range []int{k, k + 1} {
			if sum := sumOfColumnAt(a, prod, at); sum != "" && (at == k || productWordAt(a, prod, k)) {
				for j := k; j <= at; j++ {
					a.toks[j].used = true // neither a metric beside it nor a grouping
				}
				return sum
			}
		}
		for _, m := range a.ms {
			if k >= 0 && m.product == prod && m.kind == mMetric && m.i == k {
				return m.metric
			}
		}
	}
	return ""
}

// sumOfColumnAt is the metric of prod that sums the column token k names
// ("amount": total_amount), or "".
func sumOfColumnAt(a *analysis, prod *catalog.Product, k int) string {
	for _, m := range a.ms {
		if m.product != prod || m.kind != mColumn || m.i != k {
			continue
		}
		if sum := sumMetric(prod, m.column); sum != "" {
			return sum
		}
	}
	return ""
}

// sumMetric is prod's metric that sums column, or "".
func sumMetric(prod *catalog.Product, column string) string {
	return metricBy(prod, func(x catalog.Metric) bool { return strings.EqualFold(x.Expression, "sum("+column+")") })
}

// productWordAt reports whether token k is a word of prod's name or a
// synonym ("transaction" of customer-transactions); of any product's when
// prod is nil.
func productWordAt(a *analysis, prod *catalog.Product, k int) bool {
	return slices.ContainsFunc(a.ms, func(m mention) bool {
		return (prod == nil || m.product == prod) && m.i <= k && k < m.j && (m.kind == mName || m.kind == mNamePart || m.kind == mSynonym)
	})
}

// shape reads on from base: a ranking, a superlative, and whether the
// question asks for records rather than metrics.
func (p *Planner) shape(a *analysis, d *dataBase) *dataBase {
	prod, metrics, strongMetric := d.prod, d.metrics, d.strong
	timeSays := a.w.grain != "" || a.w.compare != "" || a.has(briefRe)
	recordsCue := a.has(listRe) && !a.has(aggRe) && !strongMetric && !timeSays
	sup := supRe.FindStringSubmatchIndex(a.free)
	supWord := ""
	if sup != nil {
		supWord = a.free[sup[4]:sup[5]]
	}
	rk := p.rank(a, prod, firstOr(metrics, ""))
	if supWord != "" && !rk.found && !strongMetric && !timeSays && !a.has(howManyRe) {
		recordsCue = true
	}
	// "top channel for new customers": a ranking of a dimension by the
	// product's measure, not the customer ids "customers" names.
	if !recordsCue && len(p.requestedColumns(a, prod)) > 0 && !strongMetric && !a.has(howManyRe) && !rk.found {
		recordsCue = true // "the emails of customers in Europe"
	}
	if !recordsCue && !strongMetric && !timeSays && !a.has(aggRe) && !rk.found && p.asksWho(a, prod) {
		recordsCue = true // "who applied for a mortgage", "which customers joined last week"
	}
	if !recordsCue && !strongMetric && !timeSays && !a.has(howManyRe) && lookupFilter(prod, d.filters) {
		recordsCue = true // "the customer with email anna@example.com"
	}
	if recordsCue && !prod.Has(catalog.CapRecords) {
		recordsCue = false
	}
	if !recordsCue && !prod.Has(catalog.CapMetrics) {
		recordsCue = prod.Has(catalog.CapRecords)
	}
	d.timeSays, d.records, d.sup, d.supWord, d.rk = timeSays, recordsCue, sup, supWord, rk
	return d
}

// lookupFilter reports whether a filter picks someone out by an email or a
// name: the question looks a record up rather than counting.
func lookupFilter(prod *catalog.Product, fs []tools.Filter) bool {
	email, name := emailColumn(prod), personNameColumn(prod)
	return slices.ContainsFunc(fs, func(f tools.Filter) bool {
		return f.Op == tools.OpEq && (email != "" && f.Column == email || name != "" && f.Column == name)
	})
}

var whoLeadRe = regexp.MustCompile(`^\W*(?:who\b|(?:which|what)\s+(\w+))`)

// asksWho reports whether a question asks who or which of the product's
// own things ("which customers", "what loans"): rows, not a count of them.
func (p *Planner) asksWho(a *analysis, prod *catalog.Product) bool {
	m := whoLeadRe.FindStringSubmatchIndex(a.free)
	if m == nil {
		return false
	}
	if m[2] < 0 {
		return true
	}
	k := tokenAt(a.toks, m[2])
	return slices.ContainsFunc(a.ms, func(o mention) bool {
		return o.product == prod && o.i == k && (o.kind == mName || o.kind == mNamePart || o.kind == mSynonym)
	})
}

// lowerFirst puts a description inside a sentence: "When ..." -> "when ...".
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}
