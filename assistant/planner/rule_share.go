package planner

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/brief"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/textfmt"
	"github.com/askmesh/askmesh/tools"
)

// shareWords are the words for a share; shareRe finds them (or "% of") in a
// question, shareWordRe is one of them as a token.
const shareWords = `share|percentage|percent|proportion|fraction|portion`

var (
	shareRe     = regexp.MustCompile(`\b(?:` + shareWords + `)\b|%\s*of\b`)
	shareWordRe = regexp.MustCompile(`^(?:` + shareWords + `)$`)
)

// changeRe is a percent change, not a share.
var changeRe = regexp.MustCompile(`\b(?:change|changed|growth|grow|grown|growing|grew|increase|increased|decrease|decreased|drop|dropped|rise|rose|fall|fell|up|down)\b`)

// shareVerb separates a share's whole from its subset.
var shareVerb = map[string]bool{"were": true, "was": true, "are": true, "is": true, "that": true, "which": true, "came": true,
	"come": true, "got": true, "get": true, "had": true, "have": true, "has": true, "went": true, "ended": true}

// shareSpec is a share: the subset's count over the whole's, per group.
type shareSpec struct {
	subset []tools.Filter // what the share is of ("risk rating high")
	count  string         // the count metric both calls ask
	groups []string       // the grouping, when a share per group is asked
	// ofTotal is each group's share of the whole ("new customers by
	// channel as a share of the total"): calls[0] counts by group,
	// calls[1] the whole, ungrouped; subset is empty.
	ofTotal bool
	rank    ranking // "which region has the highest share"
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
		count := metricBy(prod, isCount)
		if d.strong && !slices.Contains(d.metrics, count) || count == "" || !prod.Has(catalog.CapMetrics) {
			return nil // a declared rate, or no count to take a share of
		}
		if len(subsetCols) == 0 {
			return p.shareOfTotal(a, d, count)
		}
		if d.strong {
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

// shareOfTotal plans each group's share of the whole ("new customers by
// channel as a share of the total", "what share of applications came from
// each region"): the count by group and the count over all, same filters
// and period. With no grouping there is nothing to take a share of.
func (p *Planner) shareOfTotal(a *analysis, d *dataBase, count string) *intent {
	in := d.in
	groups := p.groupBy(a, d.prod, &in.notes)
	if d.rk.found && !slices.Contains(groups, d.rk.column) {
		groups = append(groups, d.rk.column)
	}
	if len(groups) == 0 {
		if d.timeSays || changeRe.MatchString(a.free) {
			return nil // "percent change": the comparison's
		}
		// "share of new customers last month": no part and no grouping
		// to take a share of; the count alone would answer another question.
		msg := fmt.Sprintf("A share needs a part of %s to take it of, and I could not tell which part you mean, so I computed nothing. "+
			"Name the part (a value of %s) or ask for a share by one of them (\"%s by %s as a share of the total\").",
			d.prod.Name, strings.Join(d.prod.Dimensions, ", "), strings.ToLower(textfmt.Humanize(count)), firstOr(d.prod.Dimensions, ""))
		return &intent{kind: kindNote, outcome: assistant.OutcomeDeclined, product: d.prod, notes: []string{msg}}
	}
	mk := func(gs []string) tools.QueryMetricsArgs {
		return tools.QueryMetricsArgs{Product: d.prod.Name, Metrics: []string{count}, GroupBy: gs, Filters: d.filters, TimeRange: d.tr}
	}
	in.share = &shareSpec{count: count, groups: groups, rank: d.rk, ofTotal: true}
	in.calls = []plannedCall{{tools.ToolQueryMetrics, mk(groups)}, {tools.ToolQueryMetrics, mk(nil)}}
	return in
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
	if sp.ofTotal {
		if len(den.Rows) != 1 {
			return "", false
		}
		if d := value(den, den.Rows[0]); d > 0 {
			for _, row := range num.Rows {
				rows = append(rows, shareRow{keyOf(num, row), value(num, row), d})
			}
		}
	}
	for _, row := range den.Rows {
		if sp.ofTotal {
			break
		}
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
	if sp.ofTotal {
		what = fmt.Sprintf("Share of all %s%s", whole, filterText(args.Filters))
	}
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

// shapeShares gives each share the question asked one table — the group,
// the subset's count, the whole's count and the share (a ratio, which
// channels show as a percentage) — in place of the two count tables and
// their charts, which read as answers on their own. A share asked in a
// follow-up keeps the count tables: the question alone does not plan it.
func (p *Planner) shapeShares(question string, ans *assistant.Answer, results map[string]*tools.Result) {
	in := p.parse(question, nil, p.clock.Now())
	intents := append([]*intent{in}, in.parts...)
	for _, it := range intents {
		if it.share == nil || len(it.calls) != 2 {
			continue
		}
		// The whole's call may repeat an earlier part's ("how many
		// applications ..., and what share was approved?"): it is the one
		// after the subset's.
		num := findCall(ans, it.calls[0], 0)
		var den *assistant.ToolCallRecord
		if num != nil {
			den = findCall(ans, it.calls[1], slices.IndexFunc(ans.ToolCalls, func(r assistant.ToolCallRecord) bool { return r.ID == num.ID })+1)
		}
		if num == nil || den == nil || results[num.ID] == nil || results[den.ID] == nil {
			continue
		}
		t, ok := shareTable(it, results[num.ID], results[den.ID])
		if !ok {
			continue
		}
		t.Source = assistant.Source{Product: results[den.ID].Product, Tool: den.Tool, Arguments: den.Arguments, AuditID: den.AuditID, TimeRange: results[den.ID].TimeRange}
		drop := func(id string) bool { return id == num.AuditID || id == den.AuditID }
		at := slices.IndexFunc(ans.Tables, func(t assistant.Table) bool { return drop(t.Source.AuditID) })
		ans.Tables = slices.DeleteFunc(ans.Tables, func(t assistant.Table) bool { return drop(t.Source.AuditID) })
		ans.Charts = slices.DeleteFunc(ans.Charts, func(c assistant.Chart) bool { return drop(c.Source.AuditID) })
		if at < 0 || at > len(ans.Tables) {
			at = len(ans.Tables)
		}
		ans.Tables = slices.Insert(ans.Tables, at, t)
	}
}

// findCall is the allowed call the agent made for a planned one, from
// index from on.
func findCall(ans *assistant.Answer, pc plannedCall, from int) *assistant.ToolCallRecord {
	args := string(brief.Marshal(pc.args))
	for i := from; i < len(ans.ToolCalls); i++ {
		rec := ans.ToolCalls[i]
		if rec.Tool == pc.tool && string(rec.Arguments) == args && rec.Decision == "allow" {
			return &ans.ToolCalls[i]
		}
	}
	return nil
}

// shareTable builds the share table from the subset's and the whole's counts.
func shareTable(in *intent, num, den *tools.Result) (assistant.Table, bool) {
	sp := in.share
	ci := func(r *tools.Result, name string) int {
		return slices.IndexFunc(r.Columns, func(c tools.ResultColumn) bool { return c.Name == name })
	}
	nc, dc := ci(num, sp.count), ci(den, sp.count)
	if nc < 0 || dc < 0 {
		return assistant.Table{}, false
	}
	// The groups' rows: the whole's, or for a share of the total the
	// subset's, each over the one total.
	rowsOf := den
	if sp.ofTotal {
		if len(den.Rows) != 1 {
			return assistant.Table{}, false
		}
		rowsOf = num
	}
	var gi []int
	var cols []tools.ResultColumn
	for _, g := range sp.groups {
		i := ci(rowsOf, g)
		if i < 0 || !sp.ofTotal && ci(num, g) < 0 {
			return assistant.Table{}, false
		}
		gi = append(gi, i)
		cols = append(cols, rowsOf.Columns[i])
	}
	key := func(r *tools.Result, row []any) string {
		var ks []string
		for _, g := range sp.groups {
			ks = append(ks, fmt.Sprint(row[ci(r, g)]))
		}
		return strings.Join(ks, "\x00")
	}
	nums := map[string]any{}
	for _, row := range num.Rows {
		nums[key(num, row)] = row[nc]
	}
	f := func(v any) float64 {
		s, _ := textfmt.DecimalText(v)
		x, _ := strconv.ParseFloat(s, 64)
		return x
	}
	var rows [][]any
	for _, row := range rowsOf.Rows {
		n, ok := nums[key(rowsOf, row)]
		if !ok {
			n = int64(0)
		}
		d := f(row[dc])
		if sp.ofTotal {
			n, d = row[nc], f(den.Rows[0][dc])
		}
		if d == 0 {
			continue
		}
		out := make([]any, 0, len(gi)+3)
		for _, i := range gi {
			out = append(out, row[i])
		}
		rows = append(rows, append(out, n, d, f(n)/d))
	}
	desc := !sp.rank.found || sp.rank.desc
	share := len(gi) + 2
	sort.SliceStable(rows, func(i, j int) bool {
		if desc {
			return rows[i][share].(float64) > rows[j][share].(float64)
		}
		return rows[i][share].(float64) < rows[j][share].(float64)
	})
	subset := strings.ReplaceAll(strings.Trim(filterText(sp.subset), " ()"), " ", "_")
	if sp.ofTotal {
		subset = strings.Join(sp.groups, "_")
	}
	cols = append(cols,
		tools.ResultColumn{Name: "count_" + subset, Type: "integer", Role: tools.RoleMetric, Unit: "count"},
		tools.ResultColumn{Name: "count_all", Type: "integer", Role: tools.RoleMetric, Unit: "count"},
		tools.ResultColumn{Name: "share", Type: "number", Role: tools.RoleMetric, Unit: "ratio"})
	title := "Share of " + in.product.Name + " with " + strings.Trim(filterText(sp.subset), " ()")
	if sp.ofTotal {
		title = "Share of all " + in.product.Name + " by " + strings.Join(sp.groups, " and ")
	}
	if r := den.TimeRange; r != nil && !r.IsZero() && !r.From.IsZero() && !r.To.IsZero() {
		title += " · " + r.From.Format("2006-01-02") + ".." + r.To.Add(-time.Nanosecond).Format("2006-01-02")
	}
	return assistant.Table{Title: title, Columns: cols, Rows: rows, TotalRows: int64(len(rows))}, len(rows) > 0
}
