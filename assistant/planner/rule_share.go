package planner

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/textfmt"
	"github.com/askmesh/askmesh/tools"
)

var (
	shareRe     = regexp.MustCompile(`\b(?:share|percentage|percent|proportion|fraction|portion)\b|%\s*of\b`)
	shareWordRe = regexp.MustCompile(`^(?:share|percentage|percent|proportion|fraction|portion)$`)
)

// shareVerb separates a share's whole from its subset.
var shareVerb = map[string]bool{"were": true, "was": true, "are": true, "is": true, "that": true, "which": true, "came": true,
	"come": true, "got": true, "get": true, "had": true, "have": true, "has": true, "went": true, "ended": true}

// shareSpec is a share: the subset's count over the whole's, per group.
type shareSpec struct {
	subset []tools.Filter // what the share is of ("risk rating high")
	count  string         // the count metric both calls ask
	groups []string       // the grouping, when a share per group is asked
	rank   ranking        // "which region has the highest share"
}

// ruleShare answers "what share of X are Y", "which region has the highest
// share of high-risk customers": two counts, the subset's and the whole's,
// by the same grouping and period, and their ratio per group — never the
// subset's count alone. A share the catalog declares as a metric (approval
// rate) is the metrics rule's.
var ruleShare = rule{
	name:    "share",
	applies: func(f *features) bool { return f.share && f.product != nil },
	plan: func(p *Planner, a *analysis, f *features) *intent {
		at := slices.IndexFunc(a.toks, func(t token) bool { return t.kind == tokWord && shareWordRe.MatchString(t.low) })
		if at < 0 {
			return nil
		}
		prod := f.product
		// "what percentage of mortgages were funded": the values before
		// the verb say what the whole is, those after it the subset; with
		// no verb ("share of high-risk customers") all are the subset's.
		from := at
		if v := slices.IndexFunc(a.toks[at+1:], func(t token) bool { return t.kind == tokWord && shareVerb[t.low] }); v >= 0 {
			from = at + 1 + v
		}
		var subsetCols []string
		for _, m := range a.ms {
			if m.product == prod && m.i > from && isValueKind(m.kind) && !slices.Contains(subsetCols, m.column) {
				subsetCols = append(subsetCols, m.column)
			}
		}
		d := p.shape(a, p.base(a, prod))
		if len(subsetCols) == 0 || d.strong {
			return nil // a declared rate, or nothing to take a share of
		}
		count := metricBy(prod, isCount)
		if count == "" || !prod.Has(catalog.CapMetrics) {
			return nil
		}
		var subset, whole []tools.Filter
		for _, flt := range d.filters {
			if slices.Contains(subsetCols, flt.Column) {
				subset = append(subset, flt)
			} else {
				whole = append(whole, flt)
			}
		}
		in := d.in
		groups := p.groupBy(a, prod, &in.notes)
		if d.rk.found && !slices.Contains(groups, d.rk.column) {
			groups = append(groups, d.rk.column)
		}
		mk := func(fs []tools.Filter) tools.QueryMetricsArgs {
			return tools.QueryMetricsArgs{Product: prod.Name, Metrics: []string{count}, GroupBy: groups, Filters: fs, TimeRange: d.tr}
		}
		in.share = &shareSpec{subset: subset, count: count, groups: groups, rank: d.rk}
		in.calls = []plannedCall{{tools.ToolQueryMetrics, mk(append(slices.Clone(whole), subset...))}, {tools.ToolQueryMetrics, mk(whole)}}
		return in
	},
}

// shareRow is one group's share.
type shareRow struct {
	key      string
	num, den float64
}

// shareText writes the share per group from the two counts; ok is false
// when the results cannot be read (then the plain texts are written).
func (p *Planner) shareText(in *intent, outs []outcome) (string, bool) {
	if len(outs) != 2 || outs[0].status != statusOK || outs[1].status != statusOK {
		return "", false
	}
	sp := in.share
	num, den := outs[0].view, outs[1].view
	keyOf := func(v *toolView, row []any) string {
		var ks []string
		for _, g := range sp.groups {
			if i := col(v, g); i >= 0 {
				ks = append(ks, textfmt.Cell(row[i]))
			}
		}
		return strings.Join(ks, " / ")
	}
	value := func(v *toolView, row []any) float64 {
		i := col(v, sp.count)
		if i < 0 {
			return 0
		}
		s, _ := textfmt.DecimalText(row[i])
		f, _ := strconv.ParseFloat(s, 64)
		return f
	}
	nums := map[string]float64{}
	for _, row := range num.Rows {
		nums[keyOf(num, row)] = value(num, row)
	}
	var rows []shareRow
	for _, row := range den.Rows {
		k := keyOf(den, row)
		if d := value(den, row); d > 0 {
			rows = append(rows, shareRow{k, nums[k], d})
		}
	}
	if len(rows) == 0 {
		return "", false
	}
	desc := !sp.rank.found || sp.rank.desc
	sort.SliceStable(rows, func(i, j int) bool {
		ri, rj := rows[i].num/rows[i].den, rows[j].num/rows[j].den
		if desc {
			return ri > rj
		}
		return ri < rj
	})
	prodName := in.product.Name
	var args tools.QueryMetricsArgs
	_ = json.Unmarshal(outs[1].call.Arguments, &args)
	whole := textfmt.Humanize(prodName)
	what := fmt.Sprintf("Share of %s%s with %s", whole, filterText(args.Filters), strings.Trim(filterText(sp.subset), " ()"))
	period := inPeriod(outs[1].view.TimeRange)
	pct := func(r shareRow) string {
		return fmt.Sprintf("%s (%s of %s)", textfmt.Metric(json.Number(strconv.FormatFloat(r.num/r.den, 'f', -1, 64)), "ratio", 4),
			textfmt.GroupThousands(strconv.FormatFloat(r.num, 'f', -1, 64)), textfmt.GroupThousands(strconv.FormatFloat(r.den, 'f', -1, 64)))
	}
	if len(sp.groups) == 0 {
		return fmt.Sprintf("%s %s: %s%s.", what, period, pct(rows[0]), source(prodName)), true
	}
	var ss []string
	for _, r := range rows {
		ss = append(ss, r.key+" "+pct(r))
	}
	by := textfmt.Humanize(strings.Join(sp.groups, " and "))
	lead := ""
	if sp.rank.found {
		word := "highest"
		if !desc {
			word = "lowest"
		}
		lead = fmt.Sprintf("%s has the %s share. ", rows[0].key, word)
	}
	return fmt.Sprintf("%s%s, by %s, %s: %s%s.", lead, what, by, period, strings.Join(ss, ", "), source(prodName)), true
}
