package planner

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/textfmt"
	"github.com/askmesh/askmesh/tools"
)

// An average of a count per period ("how many transactions per day on
// average", "average new customers per month") is the count over the
// range divided by the periods the range spans. No metric computes it, and
// the product's average metric is an average of something else (the
// amount): the planner asks for the count over the range, and for the
// counts per period to show, and divides in the answer, saying by what.

// formPeriodMean answers calls[0] (the count over the range) as a mean per
// period; calls[1] is the count per period.
const formPeriodMean = "period-mean"

// periodMeanCount is the count metric a question averages per period, or
// "" when it does not ask for one: it says "average" or "on average" with
// a grain, and averages a count (countAveraged).
func (p *Planner) periodMeanCount(a *analysis, prod *catalog.Product) string {
	if meanGrain(a) == "" || perEntity(a) != "" {
		return ""
	}
	return p.countAveraged(a, prod)
}

// typicalRe is a period said as a typical one: "in a typical week".
var typicalRe = regexp.MustCompile(`\b(?:typical|usual|normal|ordinary|average)\s+(day|week|month|quarter|year)\b`)

// meanGrain is the period an average is per: the question's grain, or
// the period of "a typical week".
func meanGrain(a *analysis) string {
	if a.w.grain != "" {
		return a.w.grain
	}
	if m := typicalRe.FindStringSubmatch(a.free); m != nil {
		return m[1]
	}
	return ""
}

// countAveraged is the count metric an average is taken of (the total
// amount after "how much"), or "" when the average is of something else: the question names no numeric column
// ("average amount per day" is an average of amounts) unless as a count
// metric ("conversions"), and every metric it names is a count or an
// average named only by the average word and the product's own nouns
// ("average transactions" reads the average_amount synonym "average
// transaction").
func (p *Planner) countAveraged(a *analysis, prod *catalog.Product) string {
	if !a.has(averageRe) && !a.has(typicalRe) {
		return ""
	}
	if a.has(howMuchRe) {
		// "how much do we spend per day on average": the total, per day.
		return metricBy(prod, isSum)
	}
	count := ""
	for _, m := range a.ms {
		if m.product != prod {
			continue
		}
		switch m.kind {
		case mColumn, mColumnPart:
			countToo := slices.ContainsFunc(a.ms, func(o mention) bool {
				met, _ := prod.Metric(o.metric)
				return o.product == prod && o.kind == mMetric && o.i == m.i && o.j == m.j && met.Unit == "count"
			})
			if c, ok := prod.Column(m.column); ok && !c.PrimaryKey && !countToo && (c.Type == catalog.TypeNumber || c.Type == catalog.TypeInteger) {
				return ""
			}
		case mMetric:
			met, _ := prod.Metric(m.metric)
			switch {
			case met.Unit == "count":
				if count == "" {
					count = met.Name
				}
			case !p.averageWordOnly(a, prod, m):
				return ""
			}
		}
	}
	if count == "" {
		count = metricBy(prod, isCount)
	}
	return count
}

var (
	perEntityRe = regexp.MustCompile(`\b(?:per|for each|for every)\s+(\w+)`)
	periodWord  = map[string]bool{"day": true, "days": true, "week": true, "weeks": true, "month": true, "months": true,
		"quarter": true, "quarters": true, "year": true, "years": true}
)

// perEntity is what an average is taken per when that is no period ("per
// customer", "per campaign"), or "".
func perEntity(a *analysis) string {
	for _, m := range perEntityRe.FindAllStringSubmatch(a.free, -1) {
		if !periodWord[m[1]] {
			return m[1]
		}
	}
	return ""
}

// perEntityDecline declines an average of a count per something that is
// no period ("average applications per customer"): the metrics count
// rows, not the customers to divide by, and no other metric stands in.
func (p *Planner) perEntityDecline(a *analysis, d *dataBase, metric, per string) *intent {
	in := d.in
	in.kind = kindNote
	ownNoun := slices.ContainsFunc(a.ms, func(m mention) bool {
		return m.product == d.prod && (m.kind == mName || m.kind == mSynonym) && a.toks[m.i].low == per
	})
	if ownNoun {
		// "average amount per customer" read as customers: one row each.
		in.notes = append(in.notes, fmt.Sprintf("I could not tell what to average per %s: %s has one row per %s and no such figure, so I computed nothing.",
			per, d.prod.Name, per))
		return in
	}
	in.notes = append(in.notes, fmt.Sprintf("An average per %s needs the number of %ss to divide by, which %s does not count, "+
		"so I computed nothing rather than another figure. I can give the %s per day, week or month, or by %s.",
		per, strings.TrimSuffix(per, "s"), d.prod.Name, textfmt.Humanize(metric), strings.Join(d.prod.Dimensions, ", ")))
	return in
}

// averageWordOnly reports whether a metric mention is the word "average"
// alone or with words that name the product ("average transaction").
func (p *Planner) averageWordOnly(a *analysis, prod *catalog.Product, m mention) bool {
	for k := m.i; k < m.j; k++ {
		if averageRe.MatchString(a.toks[k].low) {
			continue
		}
		named := slices.ContainsFunc(a.ms, func(o mention) bool {
			return o.product == prod && o.i <= k && k < o.j && o.j-o.i < m.j-m.i &&
				(o.kind == mName || o.kind == mNamePart || o.kind == mSynonym)
		})
		if !named {
			return false
		}
	}
	return true
}

// periodMeanIntent plans the count over the range and the count per
// period; without a range there is nothing to divide by, so it declines.
func (p *Planner) periodMeanIntent(a *analysis, d *dataBase, metric string) *intent {
	prod, in := d.prod, d.in
	grain := meanGrain(a)
	if d.tr == "" || prod.TimeColumn == "" {
		in.kind, in.outcome = kindNote, ""
		in.notes = append(in.notes, fmt.Sprintf("An average per %s needs a period to average over, and none was given, so I computed nothing. "+
			"Ask for example for the %s per %s on average last month.", grain, textfmt.Humanize(metric), grain))
		return in
	}
	total := tools.QueryMetricsArgs{Product: prod.Name, Metrics: []string{metric}, Filters: d.filters, TimeRange: d.tr}
	total.GroupBy = p.groupBy(a, prod, &in.notes)
	if len(total.GroupBy) > 0 {
		total.OrderBy = []tools.OrderBy{{Field: metric, Direction: "desc"}}
	}
	if a.w.compare != "" {
		in.notes = append(in.notes, "I did not compare the average with another period: ask for each period's average on its own.")
	}
	in.form, in.meanGrain = formPeriodMean, grain
	in.calls = []plannedCall{{tools.ToolQueryMetrics, total}}
	if len(total.GroupBy) == 0 {
		series := total
		series.TimeGrain = grain
		in.calls = append(in.calls, plannedCall{tools.ToolQueryMetrics, series})
	}
	return in
}

// periodMeanShape is the grain of a period mean's calls (follow-ups carry
// calls, not the question's form): the same metrics call twice, the second
// per period; else "".
func periodMeanShape(outs []outcome) string {
	if len(outs) != 2 || outs[0].call.Name != tools.ToolQueryMetrics || outs[1].call.Name != tools.ToolQueryMetrics {
		return ""
	}
	var total, series tools.QueryMetricsArgs
	if json.Unmarshal(outs[0].call.Arguments, &total) != nil || json.Unmarshal(outs[1].call.Arguments, &series) != nil {
		return ""
	}
	grain := series.TimeGrain
	if grain == "" || total.TimeGrain != "" || total.CompareTo != "" || len(total.Metrics) != 1 {
		return ""
	}
	series.TimeGrain = ""
	a, _ := json.Marshal(total)
	b, _ := json.Marshal(series)
	if string(a) != string(b) {
		return ""
	}
	return grain
}

// periodMeanText says the mean per period of a count over a range: "Transaction
// count per day on average in 2-8 November 2026: 196.43 (1,375 over 7 days)".
func (p *Planner) periodMeanText(args tools.QueryMetricsArgs, v *toolView, grain string) string {
	prodName := firstNonEmpty(v.Product, args.Product)
	filters := filterText(args.Filters)
	period := inPeriod(v.TimeRange)
	m := args.Metrics[0]
	mi := col(v, m)
	n, ok := periodsIn(v.TimeRange, grain)
	if mi < 0 || len(v.Rows) == 0 {
		return fmt.Sprintf("No %s data%s %s%s.", prodName, filters, period, source(prodName))
	}
	if !ok {
		return fmt.Sprintf("I could not tell how many %ss %s spans, so I did not compute an average per %s%s.", grain, period, grain, source(prodName))
	}
	over := trimNumber(n, 2) + " " + textfmt.Plural(int(math.Ceil(n)), grain, grain+"s")
	if math.Abs(n-math.Round(n)) > 1e-9 {
		// The range cuts a period: say how it was counted.
		over += ", a part-" + grain + " counted as its share of days"
	}
	mean := func(row []any) (string, string) {
		tot, _ := textfmt.DecimalText(row[mi])
		f, err := strconv.ParseFloat(tot, 64)
		if err != nil {
			return "", ""
		}
		return textfmt.GroupThousands(strconv.FormatFloat(f/n, 'f', 2, 64)), textfmt.Cell(row[mi])
	}
	label := textfmt.Capitalize(textfmt.Humanize(m))
	// Amounts in several currencies come back by currency (metricsText).
	for _, u := range v.Units {
		if !slices.Contains(args.GroupBy, u) {
			args.GroupBy = append(slices.Clone(args.GroupBy), u)
		}
	}
	var dims []int
	for _, g := range args.GroupBy {
		if i := col(v, g); i >= 0 {
			dims = append(dims, i)
		}
	}
	if len(dims) == 0 {
		avg, tot := mean(v.Rows[0])
		return fmt.Sprintf("%s per %s on average%s %s: %s (%s over %s)%s.", label, grain, filters, period, avg, tot, over, source(prodName))
	}
	var ss []string
	for _, row := range v.Rows[:min(len(v.Rows), 5)] {
		var names []string
		for _, i := range dims {
			names = append(names, textfmt.Cell(row[i]))
		}
		avg, tot := mean(row)
		ss = append(ss, fmt.Sprintf("%s %s (%s)", strings.Join(names, " / "), avg, tot))
	}
	more := ""
	if k := len(v.Rows) - len(ss); k > 0 {
		more = fmt.Sprintf("; %d more in the table, as totals", k)
	}
	return fmt.Sprintf("%s per %s on average by %s%s %s, over %s: %s%s%s.", label, grain, textfmt.Humanize(strings.Join(args.GroupBy, " and ")),
		filters, period, over, strings.Join(ss, ", "), more, source(prodName))
}

// periodsIn is how many periods of grain an inclusive range
// ("2026-11-02..2026-11-08", as results give it) spans; a month, quarter
// or year cut short counts as the share of its days the range covers.
func periodsIn(r, grain string) (float64, bool) {
	fromS, toS, ok := strings.Cut(r, "..")
	if !ok || fromS == "" || toS == "" {
		return 0, false
	}
	from, err := time.Parse("2006-01-02", fromS)
	if err != nil {
		return 0, false
	}
	to, err := time.Parse("2006-01-02", toS)
	if err == nil {
		to = to.AddDate(0, 0, 1) // inclusive day: the end is the next midnight
	} else if to, err = time.Parse(time.RFC3339, toS); err != nil {
		return 0, false
	}
	if !to.After(from) {
		return 0, false
	}
	days := to.Sub(from).Hours() / 24
	months := 0.0
	for cur := from; cur.Before(to); {
		next := time.Date(cur.Year(), cur.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		end := next
		if to.Before(end) {
			end = to
		}
		monthStart := time.Date(cur.Year(), cur.Month(), 1, 0, 0, 0, 0, time.UTC)
		months += end.Sub(cur).Hours() / next.Sub(monthStart).Hours()
		cur = end
	}
	switch grain {
	case tools.GrainDay:
		return days, true
	case tools.GrainWeek:
		return days / 7, true
	case tools.GrainMonth:
		return months, true
	case tools.GrainQuarter:
		return months / 3, true
	case tools.GrainYear:
		return months / 12, true
	}
	return 0, false
}

// trimNumber writes f with at most prec decimals and no trailing zeros.
func trimNumber(f float64, prec int) string {
	s := strconv.FormatFloat(f, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
