package planner

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// ruleMetrics is the general one-product metrics query: the metrics the
// question names (or its count, total, average or rate, or the product's
// headline metrics), its filters, period, grain, comparison, grouping and
// ranking.
var ruleMetrics = rule{
	name:    "metrics",
	applies: func(f *features) bool { return f.product != nil },
	plan: func(p *Planner, a *analysis, f *features) *intent {
		return p.metricsIntent(a, p.shape(a, p.base(a, f.product)))
	},
}

// namedRowColumn is the number column said right after "how many" that no
// metric sums ("clicks"), when the question names one row by its name
// column (a filter name = X, its only filter): the column and the name.
func (p *Planner) namedRowColumn(a *analysis, prod *catalog.Product, filters []tools.Filter) (col, name string) {
	nc := nameColumn(prod)
	if nc == "" || len(filters) != 1 || filters[0].Column != nc || filters[0].Op != tools.OpEq {
		return "", ""
	}
	name, _ = filters[0].Value.(string)
	for _, m := range a.ms {
		if m.product != prod || m.kind != mColumn || m.i == 0 || a.toks[m.i-1].low != "many" || name == "" {
			continue
		}
		c, ok := prod.Column(m.column)
		if !ok || c.PrimaryKey || (c.Type != catalog.TypeNumber && c.Type != catalog.TypeInteger) {
			continue
		}
		if sumMetric(prod, c.Name) == "" {
			return c.Name, name
		}
	}
	return "", ""
}

// bandWords after a measure ask for it in bands ("credit score band").
var bandWords = map[string]bool{"band": true, "bands": true, "bucket": true, "buckets": true, "range": true, "ranges": true,
	"bracket": true, "brackets": true, "tier": true, "tiers": true, "level": true, "levels": true}

// byMeasure is the words after "by" (or "per", "across", ...) that name a
// metric or a numeric column of prod ("credit score band", a band word
// kept), or ""; own says that the words before "by" name prod's rows
// ("campaigns by conversions").
func (p *Planner) byMeasure(a *analysis, prod *catalog.Product) (phrase string, own bool) {
	for _, loc := range groupRe.FindAllStringIndex(a.free, -1) {
		k := tokenAt(a.toks, loc[1])
		if k < 0 {
			continue
		}
		end := 0
		for _, m := range a.ms {
			if m.product != prod || m.i != k {
				continue
			}
			switch m.kind {
			case mMetric:
				end = max(end, m.j)
			case mColumn, mColumnPart:
				if c, ok := prod.Column(m.column); ok && (c.Type == catalog.TypeNumber || c.Type == catalog.TypeInteger) && !prod.IsDimension(c.Name) {
					end = max(end, m.j)
				}
			}
		}
		if end == 0 {
			continue
		}
		if end < len(a.toks) && bandWords[a.toks[end].low] {
			end++
		}
		var ws []string
		for i := k; i < end; i++ {
			ws = append(ws, a.toks[i].low)
		}
		by := tokenAt(a.toks, loc[0])
		return strings.Join(ws, " "), by > 0 && productWordAt(a, prod, by-1)
	}
	return "", false
}

// ruleBrief is a one-product summary ("give me a brief on loan
// applications this quarter"): the headline metrics against the previous
// period, and a breakdown by the first dimension.
var ruleBrief = rule{
	name:    "brief",
	applies: func(f *features) bool { return f.product != nil && f.brief },
	plan: func(p *Planner, a *analysis, f *features) *intent {
		return p.metricsIntent(a, p.shape(a, p.base(a, f.product)))
	},
}

// metricsIntent plans the metrics query (a brief's when the question asks
// for a summary).
func (p *Planner) metricsIntent(a *analysis, d *dataBase) *intent {
	prod, in, metrics, strongMetric, filters, tr, rk, supWord := d.prod, d.in, slices.Clone(d.metrics), d.strong, d.filters, d.tr, d.rk, d.supWord
	if m := p.periodMeanCount(a, prod); m != "" && !a.has(briefRe) {
		return p.periodMeanIntent(a, d, m)
	}
	if per := perEntity(a); per != "" && !a.has(briefRe) {
		if m := p.countAveraged(a, prod); m != "" {
			return p.perEntityDecline(a, d, m, per)
		}
	}
	// "how much was deposited", "how much was requested in applications":
	// an amount, not how many, unless a metric is named by its own words.
	// "which customers spent the most", "how much did account 123456
	// spend": money spent is a sum of amounts, never a count of rows.
	if sum := metricBy(prod, isSum); sum != "" && !strongMetric {
		if a.has(spendRe) {
			metrics = []string{sum}
			if note := summedTypesNote(prod, filters); note != "" {
				in.notes = append(in.notes, note)
			}
		} else if a.has(howMuchRe) {
			metrics = []string{sum}
		}
	}
	if a.has(howManyRe) && !a.has(howMuchRe) && !a.has(rateRe) {
		if col, ok := countedFlag(a, prod, metrics); ok {
			// "how many were resolved": a count of the resolved ones, not
			// the resolution rate the word also names.
			metrics = nonEmpty(metricBy(prod, isCount))
			if !slices.ContainsFunc(filters, func(f tools.Filter) bool { return f.Column == col }) {
				filters = append(slices.Clone(filters), tools.Filter{Column: col, Op: tools.OpEq, Value: true})
			}
		} else if len(metrics) > 0 && !slices.ContainsFunc(metrics, func(name string) bool {
			m, _ := prod.Metric(name)
			return m.Unit != "ratio"
		}) {
			// "how many approvals": a count was asked, and the word names
			// only a rate; the rate would answer another question.
			msg := fmt.Sprintf("A count was asked, but %s of %s is a rate, so I computed nothing in its place. Name what to count by its values (%s)",
				strings.Join(metrics, ", "), prod.Name, strings.Join(prod.Dimensions, ", "))
			if i := slices.IndexFunc(prod.ExampleQuestions, func(q string) bool { return hasPrefixFold(q, "how many") }); i >= 0 {
				msg += fmt.Sprintf(", e.g. %q", prod.ExampleQuestions[i])
			}
			msg += "."
			return &intent{kind: kindNote, outcome: assistant.OutcomeDeclined, product: prod, notes: []string{msg}}
		}
	}
	// "what's their average size" of loan applications: the product's own
	// noun names its count only weakly, and "average" asks for an average
	// of its amount; the count would be another figure under the name asked.
	if !strongMetric && len(metrics) > 0 && a.has(averageRe) && !a.has(howManyRe) && !slices.ContainsFunc(metrics, func(name string) bool {
		m, _ := prod.Metric(name)
		return !isCount(m)
	}) {
		if avg := averageOfMeasure(prod); avg != "" {
			metrics = []string{avg}
		}
	}
	if !strongMetric {
		if m, phrase := analogMetric(a, prod); m != "" {
			metrics = []string{m}
		} else if phrase != "" {
			return &intent{kind: kindNote, outcome: assistant.OutcomeDeclined, product: prod, unmatched: []string{phrase},
				notes: []string{fmt.Sprintf("%s has nothing matching %q, so I computed nothing in its place. Its metrics: %s.", prod.Name, phrase, strings.Join(metricNames(prod), ", "))}}
		}
	}
	peak := peakPeriodOf(a)
	if m := peakUnitRe.FindStringSubmatch(a.free); m != nil && peak.grain == "" && prod.TimeColumn != "" {
		m[1] += m[2]
		// "the busiest hour", "which weekday": no grain the tools group
		// by; the period's total would be another figure.
		return &intent{kind: kindNote, outcome: assistant.OutcomeDeclined, product: prod, unmatched: []string{m[1]},
			notes: []string{fmt.Sprintf("The tools group %s by day, week, month, quarter or year, not by %s, so I computed nothing in its place. Ask for the busiest day or week instead.", prod.Name, m[1])}}
	}
	if peak.grain != "" && prod.TimeColumn != "" && (len(metrics) == 0 || peak.activity && !strongMetric) {
		// "the busiest day": the most rows in a day, whatever word named
		// the product.
		metrics = nonEmpty(metricBy(prod, isCount))
	}
	if a.has(lengthAskedRe) && !strongMetric {
		// "how long do calls take", "the longest calls": a length of
		// time, the metric that measures one (a product without any is
		// declined as unmatched).
		if m := metricBy(prod, isDuration); m != "" {
			metrics = []string{m}
		}
	}
	if len(metrics) == 0 {
		switch {
		case a.has(howManyRe) || supWord != "" || rk.found && bestRe.MatchString(a.free) && mostRe.MatchString(a.free):
			metrics = nonEmpty(metricBy(prod, isCount))
		case a.has(totalRe):
			metrics = nonEmpty(metricBy(prod, func(m catalog.Metric) bool { return hasPrefixFold(m.Expression, "sum(") }))
		case a.has(averageRe):
			metrics = nonEmpty(metricBy(prod, func(m catalog.Metric) bool { return hasPrefixFold(m.Expression, "avg(") }))
		case a.has(rateRe):
			metrics = nonEmpty(metricBy(prod, func(m catalog.Metric) bool { return m.Unit == "ratio" }))
		}
	}
	// "How many clicks did Summer Special Offer get": a number column of
	// one named row, which no metric sums: the row's own value.
	if len(metrics) == 0 && a.has(howManyRe) && prod.Has(catalog.CapRecords) {
		if col, name := p.namedRowColumn(a, prod, filters); col != "" {
			args := tools.QueryRecordsArgs{Product: prod.Name, Columns: []string{nameColumn(prod), col},
				Filters: []tools.Filter{{Column: nameColumn(prod), Op: tools.OpEq, Value: name}}, TimeRange: tr, Limit: 5}
			in.calls = []plannedCall{{tools.ToolQueryRecords, args}}
			return in
		}
	}
	// "How many campaigns", "average campaigns per month" of a product with
	// no metric counting its rows: its headline metric is no count of them.
	if len(metrics) == 0 && metricBy(prod, isCount) == "" && !a.has(howMuchRe) && (a.has(howManyRe) || meanGrain(a) != "" && a.has(averageRe)) {
		in.kind = kindNote
		in.notes = append(in.notes, fmt.Sprintf("%s has no metric that counts its records, so I computed nothing rather than another figure; its metrics are %s.",
			prod.Name, strings.Join(metricNames(prod), ", ")))
		return in
	}
	brief := a.has(briefRe)
	if brief && !strongMetric {
		metrics = nil // a brief leads with the product's headline metrics
	}
	if len(metrics) == 0 {
		metrics = slices.Clone(prod.HeadlineMetrics)
		if len(metrics) == 0 && len(prod.Metrics) > 0 {
			metrics = []string{prod.Metrics[0].Name}
		}
		if !brief && !a.has(performRe) && len(metrics) > 1 && !a.has(howWhatRe) {
			metrics = metrics[:1]
		}
	}
	if len(metrics) == 0 {
		return &intent{kind: kindNote, product: prod, notes: []string{prod.Name + " declares no metrics I could compute."}}
	}
	args := tools.QueryMetricsArgs{Product: prod.Name, Metrics: metrics, Filters: filters, TimeRange: tr, CompareTo: a.w.compare}
	if prod.TimeColumn != "" {
		args.TimeGrain = a.w.grain
	}
	if args.CompareTo != "" && args.TimeRange == "" {
		args.CompareTo = ""
		in.notes = append(in.notes, "A comparison needs a period, and none was given.")
	}
	if word := p.groupByElsewhere(a, prod); word != "" {
		// "marketing spend by region": a breakdown the product cannot
		// give; its total would be another figure under the name asked.
		return &intent{kind: kindNote, outcome: assistant.OutcomeDeclined, product: prod, unmatched: []string{word},
			notes: []string{fmt.Sprintf("%s has no %s to break its figures down by, so I computed nothing in its place. It can be grouped by %s.",
				prod.Name, word, strings.Join(prod.Dimensions, ", "))}}
	}
	args.GroupBy = p.groupBy(a, prod, &in.notes)
	// Part of a name ("the Spring campaign"): each name that holds it.
	for _, f := range args.Filters {
		if f.Op == tools.OpContains && f.Column == nameColumn(prod) && !slices.Contains(args.GroupBy, f.Column) {
			args.GroupBy = append(args.GroupBy, f.Column)
		}
	}
	if len(args.GroupBy) == 0 && args.TimeGrain == "" && !rk.found && peak.grain == "" && !a.has(compareRe) {
		if phrase, own := p.byMeasure(a, prod); phrase != "" && own && nameColumn(prod) != "" {
			// "campaigns by conversions": each campaign, ranked by it.
			rk = ranking{column: nameColumn(prod), desc: true, limit: 10, found: true}
		} else if phrase != "" {
			// "applications by credit score": a breakdown by a number,
			// which the tools do not band; the whole set's figures would
			// be another answer under the name asked.
			return &intent{kind: kindNote, outcome: assistant.OutcomeDeclined, product: prod, unmatched: []string{"by " + phrase},
				notes: []string{fmt.Sprintf("%s can be broken down by %s or by period, not by %s, which is a number the tools do not group into bands, so I computed nothing in its place. Ask about a range of it instead, e.g. above or below a value.",
					prod.Name, strings.Join(prod.Dimensions, ", "), phrase)}}
		}
	}
	if peak.grain != "" && args.TimeGrain == "" && prod.TimeColumn != "" && len(args.GroupBy) == 0 && !rk.found {
		// "What was the busiest day for transactions last month": each
		// day's figure, ranked, the top one; the period's total is
		// another figure.
		args.TimeGrain, args.CompareTo = peak.grain, ""
		args.OrderBy = []tools.OrderBy{{Field: metrics[0], Direction: dirName(peak.desc)}}
		args.Limit = peak.limit
		if !peak.desc && peak.grain != "day" {
			// Periods cut by the range's start or end hold fewer days.
			in.notes = append(in.notes, fmt.Sprintf("A %s cut short by the start or end of the period holds fewer days, so it can rank lowest for that alone.", peak.grain))
		}
		in.calls = []plannedCall{{tools.ToolQueryMetrics, args}}
		return in
	}
	if rk.found {
		if !slices.Contains(args.GroupBy, rk.column) {
			args.GroupBy = append(args.GroupBy, rk.column)
		}
		args.OrderBy = []tools.OrderBy{{Field: metrics[0], Direction: dirName(rk.desc)}}
		args.Limit = rk.limit
		// "Which campaign brought the most" means a campaign, not "none".
		if c, ok := prod.Column(rk.column); ok && c.Nullable {
			args.Filters = append(args.Filters, tools.Filter{Column: rk.column, Op: tools.OpIsNotNull})
		}
	} else if len(args.GroupBy) > 0 && args.TimeGrain == "" {
		args.OrderBy = []tools.OrderBy{{Field: metrics[0], Direction: "desc"}}
	}
	if brief {
		in.form = formBrief
		if args.TimeRange == "" {
			args.TimeRange = "last_month"
		}
		if args.CompareTo == "" {
			args.CompareTo = tools.ComparePreviousPeriod
		}
		in.calls = []plannedCall{{tools.ToolQueryMetrics, args}}
		if dim := breakdownDimension(prod, args); dim != "" && len(args.GroupBy) == 0 {
			by := tools.QueryMetricsArgs{Product: prod.Name, Metrics: metrics[:1], GroupBy: []string{dim}, Filters: args.Filters,
				TimeRange: args.TimeRange, OrderBy: []tools.OrderBy{{Field: metrics[0], Direction: "desc"}}}
			in.calls = append(in.calls, plannedCall{tools.ToolQueryMetrics, by})
		}
		return in
	}
	in.calls = []plannedCall{{tools.ToolQueryMetrics, args}}
	if strongMetric {
		in.calls = append(in.calls, p.setAgainstOther(a, prod, args, &in.notes)...)
	}
	return in
}

// setAgainstOther plans, for a metric of another product set against one
// of the call's ("marketing spend compared to new customers by channel"),
// that product's call over the same grouping and period: answering the
// first alone would drop half the question unsaid. When the grouping or
// the filters do not apply to that product, a note says what was left out.
func (p *Planner) setAgainstOther(a *analysis, prod *catalog.Product, args tools.QueryMetricsArgs, notes *[]string) []plannedCall {
	var out []plannedCall
	seen := map[string]bool{}
	for _, m := range a.ms {
		if m.product == prod || m.kind != mMetric || m.j-m.i < 2 || seen[m.product.Name+m.metric] {
			continue
		}
		joined := slices.ContainsFunc(a.ms, func(o mention) bool {
			return o.product == prod && o.kind == mMetric && slices.Contains(args.Metrics, o.metric) && onlyAgainst(a, o, m)
		})
		if !joined {
			continue
		}
		seen[m.product.Name+m.metric] = true
		other := m.product
		why := ""
		for _, g := range args.GroupBy {
			if !other.IsDimension(g) {
				why = fmt.Sprintf("%s cannot be grouped by %s", other.Name, g)
			}
		}
		if len(args.Filters) > 0 {
			why = "the question's filters were read for " + prod.Name
		}
		if args.TimeRange != "" && other.TimeColumn == "" {
			why = other.Name + " has no time column"
		}
		if why != "" {
			*notes = append(*notes, fmt.Sprintf("I did not compute %s of %s beside it: %s.", m.metric, other.Name, why))
			continue
		}
		o := tools.QueryMetricsArgs{Product: other.Name, Metrics: []string{m.metric}, GroupBy: args.GroupBy, TimeRange: args.TimeRange, TimeGrain: args.TimeGrain}
		if len(o.GroupBy) > 0 && o.TimeGrain == "" {
			o.OrderBy = []tools.OrderBy{{Field: m.metric, Direction: "desc"}}
		}
		out = append(out, plannedCall{tools.ToolQueryMetrics, o})
	}
	return out
}

// onlyAgainst reports whether only against words ("compared to", "vs",
// "and") stand between two mentions.
func onlyAgainst(a *analysis, x, y mention) bool {
	lo, hi := x.j, y.i
	if y.j <= x.i {
		lo, hi = y.j, x.i
	}
	if lo >= hi {
		return false
	}
	for k := lo; k < hi; k++ {
		if !againstWords[a.toks[k].low] {
			return false
		}
	}
	return true
}

// groupByElsewhere is the word after "by" ("by region") that names a
// column of other products only, not of prod, or "".
func (p *Planner) groupByElsewhere(a *analysis, prod *catalog.Product) string {
	for _, loc := range groupRe.FindAllStringIndex(a.free, -1) {
		k := tokenAt(a.toks, loc[1])
		if k < 0 || a.toks[k].used || p.metricAt(a, prod, k) {
			continue
		}
		if col, _, isValue := p.columnAt(a, prod, k); col != "" || isValue {
			continue
		}
		if slices.ContainsFunc(a.ms, func(m mention) bool { return m.i == k && m.product == prod }) {
			continue // a word of prod itself ("by loan")
		}
		if slices.ContainsFunc(a.ms, func(m mention) bool { return m.i == k && m.product != prod && m.kind == mColumn }) {
			return a.toks[k].low
		}
	}
	return ""
}

// averageOfMeasure is prod's average of its main amount (avg(amount)),
// else its first average, else "".
func averageOfMeasure(prod *catalog.Product) string {
	if mc := measureColumn(prod); mc != "" {
		if m := metricBy(prod, func(x catalog.Metric) bool {
			return strings.EqualFold(strings.ReplaceAll(x.Expression, " ", ""), "avg("+mc+")")
		}); m != "" {
			return m
		}
	}
	return metricBy(prod, func(x catalog.Metric) bool { return hasPrefixFold(x.Expression, "avg(") })
}

// metricNames are the product's metrics' names, in catalog order.
func metricNames(prod *catalog.Product) []string {
	var out []string
	for _, m := range prod.Metrics {
		out = append(out, m.Name)
	}
	return out
}

// analogMetric is prod's metric of the same shape as a metric of another
// product the question names in full ("their total value" of loans: total
// value is customer-transactions' sum of amount, so loans' sum of
// amount); with no metric of that shape, the phrase asked. One word
// ("total") is too little to go on.
func analogMetric(a *analysis, prod *catalog.Product) (metric, phrase string) {
	for _, m := range a.ms {
		if m.kind != mMetric || m.product == prod || m.j-m.i < 2 {
			continue
		}
		om, ok := m.product.Metric(m.metric)
		if !ok {
			continue
		}
		for _, shape := range []string{"sum(", "avg("} {
			if hasPrefixFold(om.Expression, shape) {
				var ws []string
				for k := m.i; k < m.j; k++ {
					ws = append(ws, a.toks[k].low)
				}
				return metricBy(prod, func(x catalog.Metric) bool { return hasPrefixFold(x.Expression, shape) }), strings.Join(ws, " ")
			}
		}
	}
	return "", ""
}

// countedFlag is the boolean column of prod a ratio metric of metrics is
// named by in the question ("resolved": resolution_rate and the resolved
// column), for "how many ... resolved".
func countedFlag(a *analysis, prod *catalog.Product, metrics []string) (string, bool) {
	for _, m := range a.ms {
		if m.product != prod || m.kind != mMetric || !slices.Contains(metrics, m.metric) {
			continue
		}
		if md, ok := prod.Metric(m.metric); !ok || md.Unit != "ratio" {
			continue
		}
		for _, o := range a.ms {
			if o.product != prod || o.kind != mColumn || o.i != m.i || o.j != m.j {
				continue
			}
			if c, ok := prod.Column(o.column); ok && c.Type == catalog.TypeBoolean {
				return c.Name, true
			}
		}
	}
	return "", false
}

// spendRe is money going out, said as a verb: "spent", "spend", "spending".
var spendRe = regexp.MustCompile(`\b(?:spen[dt]s?|spending)\b`)

// summedTypesNote says which kinds of rows a spend sums when the question
// does not pick them: the catalog marks no column as the money's direction,
// so every kind is summed, deposits included, and the answer must say so
// rather than pass the sum off as outgoing money.
func summedTypesNote(prod *catalog.Product, filters []tools.Filter) string {
	for _, c := range prod.Columns {
		if (c.Name != "type" && !strings.HasSuffix(c.Name, "_type")) || len(c.Values) == 0 {
			continue
		}
		if slices.ContainsFunc(filters, func(f tools.Filter) bool { return f.Column == c.Name }) {
			return ""
		}
		return fmt.Sprintf("Spent is read as the sum of every %s (%s): the catalog does not say which are money going out, so none is left out.",
			c.Name, strings.Join(c.Values, ", "))
	}
	return ""
}

// peakRe asks for the period with the most or least: "the busiest day",
// "the quietest weeks", "which month had the most new customers".
var (
	peakRe      = regexp.MustCompile(`\b(?:(\d+)\s+)?(busiest|quietest|slowest|most active|least active|peak|highest|lowest|biggest|best|worst)\s+(days?|weeks?|months?|quarters?|years?)\b`)
	peakWhichRe = regexp.MustCompile(`\b(?:(?:which|what)\s+)?(?:(\d+)\s+)?(days?|weeks?|months?|quarters?|years?)\s+(?:had|saw|was|were|got|brought|with|that had|did we (?:have|get|see))\s+(?:the\s+)?(most|fewest|least|highest|lowest|biggest|largest|smallest|best|worst)\b`)
)

// peakUnitRe is a busiest or quietest part of a day or week, which no
// time grain groups by.
var peakUnitRe = regexp.MustCompile(`\b(?:busiest|quietest|slowest|most active|least active|peak)\s+(hours?|time of (?:the )?day|weekdays?|day of (?:the )?week)\b|\b(?:which|what)\s+(hours?|time of (?:the )?day|weekdays?|day of (?:the )?week)\b.*\b(?:busiest|quietest|slowest|most|fewest|least)\b`)

// peakPeriod is a question for the top (or bottom) periods of a grain.
type peakPeriod struct {
	grain    string
	desc     bool
	limit    int
	activity bool // "busiest", "quietest": the count of rows is the measure
}

func peakPeriodOf(a *analysis) peakPeriod {
	var num, word, unit string
	if m := peakRe.FindStringSubmatch(a.free); m != nil {
		num, word, unit = m[1], m[2], m[3]
	} else if m := peakWhichRe.FindStringSubmatch(a.free); m != nil {
		num, unit, word = m[1], m[2], m[3]
	} else {
		return peakPeriod{}
	}
	p := peakPeriod{grain: strings.TrimSuffix(unit, "s"), limit: 1}
	switch word {
	case "quietest", "slowest", "least active", "fewest", "least", "lowest", "smallest", "worst":
	default:
		p.desc = true
	}
	p.activity = word == "busiest" || word == "quietest" || word == "slowest" || strings.HasSuffix(word, "active")
	if strings.HasSuffix(unit, "s") {
		p.limit = 5 // "the busiest days"
	}
	if n, err := strconv.Atoi(num); err == nil && n > 0 {
		p.limit = n
	}
	return p
}
