package planner

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/textfmt"
	"github.com/askmesh/askmesh/tools"
)

var (
	// growthRe asks how a figure moved, not how big it is.
	growthRe = regexp.MustCompile(`\b(?:grew|grow|grows|growing|grown|growth|increased?|increases|rose|risen|rise|fell|fallen|falls|dropped|drops?|declined?|declines|shrank|shrunk|shrinks?|decreased?|decreases)\b`)
	// fallRe is a fall asked about: the ranking runs the other way.
	fallRe = regexp.MustCompile(`\b(?:fell|fallen|falls|dropped|drops?|declined?|declines|shrank|shrunk|shrinks?|decreased?|decreases|slowest|least|worst)\b`)
	// growthLeadRe names the one ranked: "which region", "top 3 channels".
	growthLeadRe = regexp.MustCompile(`\b(?:which|what)\s+(?:(\d+)\s+)?|\b(?:top|bottom)\s*(\d+)?\s+`)
)

// growthSpec ranks the groups of a grouped comparison by their change.
type growthSpec struct {
	column string // the dimension ranked ("region")
	metric string
	fall   bool // "fell the most": the largest fall first
	limit  int  // how many the question names (1 for "which region")
}

// ruleGrowth answers "which region grew new customers fastest last
// quarter": the metric by that dimension for the period and the one before
// it, ranked by change — never the period's total, and never the largest
// value taken for the largest growth.
var ruleGrowth = rule{
	name:    "growth",
	applies: func(f *features) bool { return f.product != nil && f.a.has(growthRe) && growthAsked(f.a) },
	plan: func(p *Planner, a *analysis, f *features) *intent {
		prod := f.product
		if !prod.Has(catalog.CapMetrics) || prod.TimeColumn == "" {
			return nil
		}
		column, said, limit, other := "", "", 0, ""
		for _, m := range growthLeadRe.FindAllStringSubmatchIndex(a.free, -1) {
			k, col, end := p.dimensionAt(a, prod, m[1])
			if col == "" {
				if k >= 0 && other == "" && otherColumnAt(a, prod, k) {
					other = a.toks[k].low
				}
				continue
			}
			column, limit = col, 1
			if t := a.toks[end-1]; t.low != t.stem || strings.HasPrefix(a.free[m[0]:], "top") || strings.HasPrefix(a.free[m[0]:], "bottom") {
				limit = 5 // "which regions", "top channels"
			}
			for _, g := range []int{2, 4} {
				if m[g] >= 0 {
					limit, _ = strconv.Atoi(a.free[m[g]:m[g+1]])
				}
			}
			for j := k; j < end; j++ {
				a.toks[j].used = true
			}
			said = a.toks[end-1].stem
			break
		}
		if column == "" && other != "" {
			// "which segment grew deposits": transactions have no segment;
			// the total's growth would answer another question.
			return &intent{kind: kindNote, outcome: assistant.OutcomeDeclined, product: prod, unmatched: []string{other},
				notes: []string{fmt.Sprintf("%s has no %s to rank by, so I computed nothing. It can be broken down by %s.", prod.Name, other, strings.Join(prod.Dimensions, ", "))}}
		}
		if column == "" {
			// "did new customers grow last month": the period against the
			// one before, not the period alone. A trend ("growth per
			// month") is the metrics rule's.
			if a.w.rangeArg == "" && a.w.grain == "" && !a.w.allTime {
				// "has our approval rate increased?": no period to set
				// against the one before; how the figure moved over time,
				// not its value over all the data.
				a.w.grain = fittingGrain("", a.now)
				d := p.shape(a, p.base(a, prod))
				if d.records {
					return nil
				}
				return p.metricsIntent(a, d)
			}
			if a.w.rangeArg == "" || a.w.grain != "" {
				return nil
			}
			if a.w.compare == "" {
				a.w.compare = tools.ComparePreviousPeriod
			}
			d := p.shape(a, p.base(a, prod))
			if d.records {
				return nil
			}
			return p.metricsIntent(a, d)
		}
		if c, ok := prod.Column(column); ok && (c.PrimaryKey || c.Unique || column == nameColumn(prod)) {
			// "which campaign grew conversions most": each campaign is one
			// row, dated once by the time column, so no campaign has a
			// figure in two periods; comparing them by the period they
			// fall in would rank something else.
			tc, _ := prod.Column(prod.TimeColumn)
			g := growthRe.FindStringIndex(a.free)
			word := a.free[g[0]:g[1]]
			return &intent{kind: kindNote, outcome: assistant.OutcomeDeclined, product: prod, unmatched: []string{word},
				notes: []string{fmt.Sprintf("Each %s is one row of %s, dated once by %s (%s), so none has figures for two periods to compare: I computed nothing. Its metrics (%s) can be ranked by %s over a period instead.",
					said, prod.Name, tc.Name, lowerFirst(strings.TrimSuffix(tc.Description, ".")), strings.Join(metricNames(prod), ", "), said)}}
		}
		d := p.base(a, prod)
		metric := firstOr(d.metrics, metricBy(prod, isCount))
		if metric == "" {
			// "which channel grew campaigns the most": no metric names what
			// grew and none counts the rows; another metric's largest value
			// would answer a question not asked.
			word := growthThing(a)
			return &intent{kind: kindNote, outcome: assistant.OutcomeDeclined, product: prod, unmatched: []string{word},
				notes: []string{fmt.Sprintf("%s has no metric for %q (none counts its rows), so I computed nothing. Its metrics (%s) can be compared by %s between periods instead.",
					prod.Name, word, strings.Join(metricNames(prod), ", "), said)}}
		}
		in := d.in
		tr, cmp := d.tr, a.w.compare
		if tr == "" {
			tr = "last_month"
			in.notes = append(in.notes, "No period was given, so I compared last month with the month before.")
		}
		if cmp == "" {
			cmp = tools.ComparePreviousPeriod
		}
		if note := datedOnceNote(prod, metric); note != "" {
			in.notes = append(in.notes, note)
		}
		in.growth = &growthSpec{column: column, metric: metric, fall: fallRe.MatchString(a.free), limit: limit}
		in.calls = []plannedCall{{tools.ToolQueryMetrics, tools.QueryMetricsArgs{Product: prod.Name, Metrics: []string{metric},
			GroupBy: []string{column}, Filters: d.filters, TimeRange: tr, CompareTo: cmp}}}
		return in
	},
}

// growthAsked is whether a word of growth in a asks how a figure moved,
// rather than being part of a value it names: in "how many loans were
// declined" the words "were declined" are status rejected, not a fall.
func growthAsked(a *analysis) bool {
	for _, g := range growthRe.FindAllStringIndex(a.free, -1) {
		k := tokenAt(a.toks, g[0])
		inValue := k >= 0 && slices.ContainsFunc(a.ms, func(m mention) bool { return m.kind == mValue && m.i <= k && k < m.j })
		if !inValue {
			return true
		}
	}
	return false
}

// growthThing is the word of what grew ("campaigns" in "which channel grew
// campaigns the most"): the first topic word after the growth word, or the
// growth word itself when none follows.
func growthThing(a *analysis) string {
	g := growthRe.FindStringIndex(a.free)
	if k := tokenAt(a.toks, g[1]); k >= 0 {
		for _, t := range a.toks[k:] {
			if t.used || t.stem == "" || t.num != 0 {
				break
			}
			if !stopword[t.low] && !questionWord[t.low] {
				return t.low
			}
		}
	}
	return a.free[g[0]:g[1]]
}

// datedOnceNote says plainly what a growth of metric compares when each
// row of prod is one named thing dated once by the time column (a
// campaign by its start): the figures of the things dated in each period,
// not what happened in each period. "" for other products and for counts,
// which are of the things themselves.
func datedOnceNote(prod *catalog.Product, metric string) string {
	name := nameColumn(prod)
	nc, ok := prod.Column(name)
	m, okm := prod.Metric(metric)
	if name == "" || !ok || !nc.Unique || !okm || isCount(m) {
		return ""
	}
	thing := "row"
	if len(nc.Synonyms) > 0 {
		thing = nc.Synonyms[0]
	}
	tc, _ := prod.Column(prod.TimeColumn)
	return fmt.Sprintf("Each %s is dated once, by %s (%s): this compares the %s of the %ss whose %s falls in the period with those whose %s falls in the period before, not %s made in each period.",
		thing, tc.Name, lowerFirst(strings.TrimSuffix(tc.Description, ".")), strings.ToLower(textfmt.Humanize(metric)), thing, tc.Name, tc.Name, strings.ToLower(textfmt.Humanize(metric)))
}

// otherColumnAt reports whether token k names a column of another product
// than prod, and none of prod's.
func otherColumnAt(a *analysis, prod *catalog.Product, k int) bool {
	other := false
	for _, m := range a.ms {
		if m.i > k || k >= m.j {
			continue
		}
		if m.product == prod {
			return false
		}
		if m.kind == mColumn {
			other = true
		}
	}
	return other
}

// growthText leads a grouped comparison with the groups that moved most,
// by percent change and, when another moved more in number, that one too.
func growthText(g *growthSpec, outs []outcome) string {
	if len(outs) != 1 || outs[0].status != statusOK || outs[0].view == nil {
		return ""
	}
	v := outs[0].view
	cur, prev, chg, pct := col(v, g.metric), col(v, g.metric+"_previous"), col(v, g.metric+"_change"), col(v, g.metric+"_change_pct")
	if cur < 0 || prev < 0 || chg < 0 || pct < 0 {
		return ""
	}
	num := func(x any) (float64, bool) {
		s, ok := textfmt.DecimalText(x)
		if !ok {
			return 0, false
		}
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	type row struct {
		key                 string
		cur, prev, chg, pct float64
		curS, prevS         string
	}
	var rows []row
	for _, r := range v.Rows {
		var ks []string
		for i, c := range v.Columns {
			if !strings.HasPrefix(c, g.metric) {
				ks = append(ks, textfmt.Cell(r[i]))
			}
		}
		c, ok1 := num(r[cur])
		pv, ok2 := num(r[prev])
		ch, ok3 := num(r[chg])
		pc, ok4 := num(r[pct])
		if !ok1 || !ok2 || !ok3 || !ok4 || pv == 0 {
			continue // no base to grow from: no percent change
		}
		rows = append(rows, row{strings.Join(ks, " / "), c, pv, ch, pc, textfmt.Cell(r[cur]), textfmt.Cell(r[prev])})
	}
	if len(rows) == 0 {
		return ""
	}
	better := func(a, b float64) bool {
		if g.fall {
			return a < b
		}
		return a > b
	}
	// ranked orders the rows by a figure, the best first (ties keep their order).
	ranked := func(figure func(row) float64) []row {
		out := slices.Clone(rows)
		slices.SortStableFunc(out, func(x, y row) int {
			switch {
			case better(figure(x), figure(y)):
				return -1
			case better(figure(y), figure(x)):
				return 1
			}
			return 0
		})
		return out
	}
	byPct := ranked(func(r row) float64 { return r.pct })
	// A move the other way is not the one asked about: "no region grew"
	// rather than calling a fall the fastest growth.
	moved := func(r row) bool { return better(r.pct, 0) }
	word, none, least := "grew fastest", "grew", "fell least"
	if g.fall {
		word, none, least = "fell furthest", "fell", "rose least"
	}
	pctText := func(r row) string { return fmt.Sprintf("%+.1f%%, %s to %s", r.pct, r.prevS, r.curS) }
	n := min(max(g.limit, 1), len(byPct))
	var lead string
	switch {
	case !moved(byPct[0]):
		lead = fmt.Sprintf("No %s %s: %s %s (%s).", textfmt.Humanize(g.column), none, byPct[0].key, least, pctText(byPct[0]))
	case n == 1:
		lead = fmt.Sprintf("%s %s (%s).", byPct[0].key, word, pctText(byPct[0]))
	default:
		var ss []string
		for _, r := range byPct[:n] {
			if moved(r) {
				ss = append(ss, fmt.Sprintf("%s (%s)", r.key, pctText(r)))
			}
		}
		lead = fmt.Sprintf("%s, by percent change: %s.", strings.ToUpper(word[:1])+word[1:], strings.Join(ss, ", "))
	}
	if n == 1 {
		byNum := ranked(func(r row) float64 { return r.chg })
		if byNum[0].key != byPct[0].key {
			lead += fmt.Sprintf(" In number, %s moved most (%+g, %s to %s).", byNum[0].key, byNum[0].chg, byNum[0].prevS, byNum[0].curS)
		}
	}
	return lead
}
