package planner

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/textfmt"
)

// ruleUnmatched declines a question that names a concept the catalog has
// no match for — a metric ("default rate", "churn", "NPS") or a value
// ("Germany") — rather than answer a neighbouring question: it names the
// concept, the closest metrics that do exist, and computes nothing.
var ruleUnmatched = rule{
	name:    "unmatched",
	applies: func(f *features) bool { return len(f.unmatched) > 0 },
	plan: func(p *Planner, a *analysis, f *features) *intent {
		in := &intent{kind: kindNote, outcome: assistant.OutcomeDeclined, unmatched: f.unmatched, product: f.product}
		var quoted []string
		for _, u := range f.unmatched {
			quoted = append(quoted, fmt.Sprintf("%q", u))
		}
		msg := "I found nothing in the catalog matching " + strings.Join(quoted, " or ") + ", so I computed nothing in its place."
		if slices.ContainsFunc(f.unmatched, func(u string) bool { return strings.HasSuffix(u, "%") }) {
			// "a conversion rate above 10%": the rate exists, the condition
			// on it does not.
			msg = "The tools filter rows by their columns, not groups by a rate computed over them (" + strings.Join(quoted, " or ") +
				"), so I computed nothing in its place. Ask for the rate by the dimension you mean, ranked, and read off which are above or below it."
		}
		// "the web channel": the values the named column does have.
		for _, col := range namedCategoricals(a, f.product) {
			c, _ := f.product.Column(col)
			msg += fmt.Sprintf(" The %s values of %s are: %s.", textfmt.Humanize(col), f.product.Name, strings.Join(c.Values, ", "))
		}
		if slices.ContainsFunc(f.unmatched, func(u string) bool { return statWords[strings.Fields(u)[0]] }) {
			msg += " The catalog's metrics are counts, sums, averages and rates; none computes that statistic."
		}
		if near := p.closestMetrics(f); len(near) > 0 {
			msg += " The closest metrics that exist: " + strings.Join(near, "; ") + "."
		}
		in.notes = []string{msg}
		return in
	},
}

// statWords are statistics no metric computes (metrics are counts, sums,
// averages and rates).
var statWords = map[string]bool{"median": true, "medians": true, "percentile": true, "percentiles": true, "quartile": true,
	"quartiles": true, "variance": true, "stddev": true, "p90": true, "p95": true, "p99": true}

// averageWords ask for an average; sizeWords after them mean the
// product's amount ("average size").
var (
	averageWords = map[string]bool{"average": true, "avg": true, "mean": true}
	sizeWords    = map[string]bool{"size": true, "sizes": true}
)

// costMetric reports whether a metric of prod is a cost or a spend, by its
// name or description.
func costMetric(prod *catalog.Product) bool {
	return slices.ContainsFunc(prod.Metrics, func(m catalog.Metric) bool {
		d := strings.ToLower(m.Name + " " + m.Description)
		return strings.Contains(d, "cost") || strings.Contains(d, "spen") || strings.Contains(d, "budget")
	})
}

// countWords are small numbers said in words.
var countWords = map[string]bool{"one": true, "two": true, "three": true, "four": true, "five": true, "six": true,
	"seven": true, "eight": true, "nine": true, "ten": true, "once": true, "twice": true}

// durationWords name a span of time or an age: averaged, they need a
// metric or a numeric column that holds it.
var durationWords = map[string]bool{"time": true, "times": true, "duration": true, "durations": true, "age": true, "ages": true,
	"tenure": true, "days": true, "hours": true, "wait": true, "delay": true, "delays": true, "turnaround": true, "lifetime": true}

// averagedDuration is the phrase of the average at token k when what it
// averages, within the next three words, is a time or an age that no
// metric (other than a count) or numeric column the question names holds:
// "average time to decision", "average customer age". "" otherwise, as for
// "average handle time" (handle_minutes).
func averagedDuration(a *analysis, k int) string {
	measured := func(j int) bool {
		for _, m := range a.ms {
			if j < m.i || j >= m.j || m.product == nil {
				continue
			}
			switch m.kind {
			case mMetric:
				if x, ok := m.product.Metric(m.metric); ok && !isCount(x) {
					return true
				}
			case mColumn, mColumnPart:
				if c, ok := m.product.Column(m.column); ok && c.Type == catalog.TypeNumber && !c.PrimaryKey {
					return true
				}
			}
		}
		return false
	}
	for j := k + 1; j < len(a.toks) && j <= k+3; j++ {
		t := a.toks[j]
		if t.kind != tokWord || measured(j) {
			return ""
		}
		if durationWords[t.low] {
			ws := []string{a.toks[k].low}
			for i := k + 1; i <= j; i++ {
				ws = append(ws, a.toks[i].low)
			}
			// "time to decision": what it is the time to.
			if j+2 < len(a.toks) && a.toks[j+1].low == "to" && a.toks[j+2].kind == tokWord {
				ws = append(ws, "to", a.toks[j+2].low)
			}
			return strings.Join(ws, " ")
		}
		if stopword[t.low] {
			return "" // "average of", "average per"
		}
	}
	return ""
}

// isDuration reports whether m measures a length of time: its unit is one
// (average_handle_minutes, in minutes).
func isDuration(m catalog.Metric) bool { return timeUnits[strings.ToLower(m.Unit)] > 0 }

// hasDurationMetric reports whether a metric of prod measures a length of
// time.
func hasDurationMetric(prod *catalog.Product) bool { return metricBy(prod, isDuration) != "" }

// metricHeads end a phrase that names a metric ("default rate").
var metricHeads = map[string]bool{"rate": true, "ratio": true, "score": true, "index": true, "margin": true}

// passiveAux come before a participle that says what state rows are in
// ("were escalated", "got cancelled").
var passiveAux = map[string]bool{"was": true, "were": true, "been": true, "got": true, "get": true, "gets": true, "is": true, "are": true, "being": true}

// participle reports whether w reads as a past participle.
func participle(w string) bool {
	return len(w) > 4 && (strings.HasSuffix(w, "ed") || strings.HasSuffix(w, "en"))
}

// conceptWords are business measures people ask for by name; one the
// catalog does not know is a concept with no match.
var conceptWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`churn churned nps revenue revenues profit profits profitability margin margins
		income ebitda ltv cac arpu roi retention satisfaction csat delinquency delinquencies arrears default defaults
		defaulted writeoff writeoffs losses equity liquidity exposure apr yield headcount salary salaries attrition
		balance balances interest tenure lose lost losing book portfolio outstanding lend lent disbursed disbursement
		disbursements`) {
		conceptWords[w] = true
	}
}

// unmatchedConcepts lists the phrases of a question that name a measure or
// a value the catalog does not have.
func (p *Planner) unmatchedConcepts(a *analysis, prod *catalog.Product) []string {
	covered := make([]bool, len(a.toks))  // by any catalog phrase
	byMetric := make([]bool, len(a.toks)) // by a metric's name or synonym, or a phrase with the word before
	for _, m := range a.ms {
		for k := m.i; k < m.j && k < len(covered); k++ {
			covered[k] = true
			if m.kind == mMetric || m.j-m.i > 1 && k > m.i {
				byMetric[k] = true
			}
		}
	}
	known := func(k int) bool {
		t := a.toks[k]
		return covered[k] || t.used || p.lex.vocab[t.stem] || p.lex.vocab[t.low]
	}
	content := func(k int) bool {
		t := a.toks[k]
		return t.kind == tokWord && !t.used && !stopword[t.low] && !questionWord[t.low] && !questionWord[t.stem]
	}
	var out []string
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for k, t := range a.toks {
		if t.kind != tokWord {
			continue
		}
		switch {
		case metricHeads[t.low] && !byMetric[k]:
			// "default rate": the words before the head that the catalog
			// does not know make the phrase; else the one word before
			// ("mortgage rate" is no metric of loan-applications).
			j := k
			for j > 0 && content(j-1) && !known(j-1) && k-j < 2 {
				j--
			}
			if j == k && k > 0 && content(k-1) {
				j = k - 1
			}
			if j < k {
				var ws []string
				for i := j; i <= k; i++ {
					ws = append(ws, a.toks[i].low)
				}
				add(strings.Join(ws, " "))
			}
		case prod != nil && !byMetric[k] && k > 0 && (a.toks[k-1].low == "many" || a.toks[k-1].low == "total") && unsummedColumnAt(a, prod, k) != "":
			// "how many minutes were spent": a total of a column no
			// metric sums; counting the rows would answer with another
			// figure under the name asked.
			w := t.low
			if k+2 < len(a.toks) && passiveAux[a.toks[k+1].low] && a.toks[k+2].kind == tokWord {
				w += " " + a.toks[k+2].low // "minutes spent"
			} else if k+1 < len(a.toks) && a.toks[k+1].low == "spent" {
				w += " spent"
			}
			add(w)
		case statWords[t.low] && !byMetric[k]:
			// "median credit score": the metrics count, sum, average and
			// take rates; another statistic is no metric of the catalog,
			// and the average is another figure, offered, not answered.
			ws := []string{t.low}
			j := k + 1
			if j < len(a.toks) && a.toks[j].low == "of" {
				j++
			}
			// The phrase runs to the column or metric named within the next
			// words ("median loan amount").
			end := 0
			for _, m := range a.ms {
				if m.i >= j && m.i <= j+2 && (m.kind == mColumn || m.kind == mMetric) {
					end = max(end, m.j)
				}
			}
			for i := j; i < end; i++ {
				ws = append(ws, a.toks[i].low)
			}
			add(strings.Join(ws, " "))
		case averageWords[t.low] && k+1 < len(a.toks) && content(k+1) && !known(k+1) && !sizeWords[a.toks[k+1].low] && !spendRe.MatchString(a.toks[k+1].low):
			// "average age of loan applications": an average of something
			// no column holds; the product's average amount would answer
			// another question.
			add(t.low + " " + a.toks[k+1].low)
		case averageWords[t.low] && averagedDuration(a, k) != "":
			// "average time to decision", "average customer age": an
			// average of a time or an age no metric or column holds; the
			// product's average amount, or its count, would answer another
			// question.
			add(averagedDuration(a, k))
		case (t.low == "longest" || t.low == "shortest") && prod != nil && !hasDurationMetric(prod):
			// "which campaign ran the longest": a length of time none of
			// the product's metrics measures.
			add(t.low)
		case t.low == "how" && k+1 < len(a.toks) && a.toks[k+1].low == "long" && prod != nil && !hasDurationMetric(prod):
			// "how long does it take to decide a loan": a length of time,
			// which none of the product's metrics measures; its average
			// amount would answer another question.
			add("how long")
		case (t.low == "more" || t.low == "fewer" || t.low == "less") && k+2 < len(a.toks) && a.toks[k+1].low == "than" &&
			(a.toks[k+2].low == "once" || a.toks[k+2].low == "twice" || k+3 < len(a.toks) && a.toks[k+3].low == "times"):
			// "customers who contacted us more than once": a count per
			// customer, which no metric computes; the count of every
			// contact would answer another question.
			w := t.low + " than " + a.toks[k+2].raw
			if a.toks[k+2].low != "once" && a.toks[k+2].low != "twice" {
				w += " times"
			}
			add(w)
		case t.low == "first" && k+1 < len(a.toks) && (a.toks[k+1].low == "contact" || a.toks[k+1].low == "call" || a.toks[k+1].low == "time"):
			// "resolved on the first contact": which contact was a
			// customer's first is no column; the resolution rate of all
			// would answer another question.
			add("first " + a.toks[k+1].low)
		case (t.low == "more" || t.low == "fewer" || t.low == "less") && k+3 < len(a.toks) && a.toks[k+1].low == "than" &&
			(a.toks[k+2].kind == tokNumber || countWords[a.toks[k+2].low]) && productWordAt(a, nil, k+3):
			// "customers with more than one loan": a count per customer,
			// which no metric computes; counting every row would drop the
			// condition.
			add(strings.Join([]string{t.low, "than", a.toks[k+2].raw, a.toks[k+3].low}, " "))
		case t.kind == tokWord && (t.low == "above" || t.low == "below" || t.low == "over" || t.low == "under" || t.low == "than") &&
			k+1 < len(a.toks) && a.toks[k+1].kind == tokNumber && percentAt(a, k+1) && byMetric[max(k-1, 0)]:
			// "campaigns with a conversion rate above 10%": a condition on
			// a rate computed per row group, which no filter applies; the
			// overall rate would answer another question.
			j := k - 1
			for j > 0 && byMetric[j-1] {
				j--
			}
			var ws []string
			for i := j; i <= k; i++ {
				ws = append(ws, a.toks[i].low)
			}
			add(strings.Join(ws, " ") + " " + a.toks[k+1].raw + "%")
		case (t.low == "left" || t.low == "remaining") && k > 0 && (covered[k-1] || passiveAux[a.toks[k-1].low] && k > 1 && covered[k-2]) &&
			(k+1 == len(a.toks) || !content(k+1)): // "loans left undecided" is a state
			// "how much budget is left": what remains of a figure after
			// what was spent, which no product records; the figure itself
			// would answer another question.
			j := k - 1
			if passiveAux[a.toks[j].low] {
				j--
			}
			add(a.toks[j].low + " " + t.low)
		case t.low == "remaining" && k+1 < len(a.toks) && covered[k+1]:
			add("remaining " + a.toks[k+1].low)
		case (t.low == "longer" || t.low == "shorter") && k+2 < len(a.toks) && a.toks[k+1].low == "than" && a.toks[k+2].kind != tokNumber:
			// "longer than half an hour": a length the filters take only
			// as a number; counting every row would drop the condition.
			ws := []string{t.low, "than"}
			for j := k + 2; j < len(a.toks) && j <= k+5 && a.toks[j].kind == tokWord; j++ {
				ws = append(ws, a.toks[j].low)
				if timeUnits[a.toks[j].low] > 0 {
					break
				}
			}
			add(strings.Join(ws, " "))
		case t.low == "lend" || t.low == "lent":
			// "how much did we lend": money paid out, which no product
			// records (the lending domain's word matches the product, but
			// its amounts are what was requested).
			add(t.low)
		case conceptWords[t.low] && !covered[k] && !p.lex.vocab[t.stem]:
			if k+1 < len(a.toks) && metricHeads[a.toks[k+1].low] {
				continue // said with its head
			}
			add(t.low)
		case t.low == "cost" && k+2 < len(a.toks) && a.toks[k+1].low == "per" && !byMetric[k+2]:
			add("cost per " + a.toks[k+2].low) // "cost per click"
		case (t.low == "cost" || t.low == "costs") && !byMetric[k] && prod != nil && !costMetric(prod):
			// "the customer acquisition cost": a cost, of a product no
			// metric of which is one (a campaign's cost is its budget, and
			// marketing-campaigns has cost_per_conversion); its count of
			// new customers would answer another question.
			w := t.low
			if k > 0 && content(k-1) && !questionWord[a.toks[k-1].low] {
				w = a.toks[k-1].low + " " + w
			}
			add(w)
		case prod != nil && content(k) && !known(k) && k > 0 && passiveAux[a.toks[k-1].low] && participle(t.low) &&
			(k+1 == len(a.toks) || a.toks[k+1].low != "as"): // "flagged as fraud" names "fraud"
			// "how many complaints were escalated": a state the rows must
			// be in, which no column or value holds; counting all of them
			// would drop the condition.
			add(t.low)
		case prod != nil && content(k) && !known(k) && categoricalAt(a, prod, k+1) != "":
			// "the web channel": a word the catalog does not know, said as
			// a value of a column that lists its values.
			add(t.low)
		case prod != nil && otherValueOnly(a, prod, k) && !modifiesOther(a, prod, k):
			// "approval rate for credit cards": "card" is a value of other
			// products only; loan-applications has no such loan type.
			w := t.low
			if k > 0 && content(k-1) && !valueOf(a, prod, k-1) && !a.toks[k-1].upper {
				w = a.toks[k-1].low + " " + w
			}
			add(w)
		case t.upper && k > 0 && !known(k) && !stopword[t.low] && !questionWord[t.low] && monthNum[t.low] == 0 && !p.partOfName(a, k) &&
			(prod == nil || nameColumn(prod) == "" || !slices.Contains(partialNames(a, prod), k)):
			// With a name column, the word is read as part of a name.
			add(t.raw) // a value by name: "Germany"
		}
	}
	// Someone named by email or by name, in a product with no column to
	// find them in ("transactions of anna@example.com", "transactions by
	// Mei Li"): answering for everyone would be a figure for another question.
	if prod != nil && prod != p.auditProduct() {
		for _, t := range a.toks {
			if t.kind == tokEmail && !t.used && emailColumn(prod) == "" {
				add(t.raw)
			}
		}
		if nameColumn(prod) == "" && personNameColumn(prod) == "" {
			for _, name := range capitalisedRuns(a, covered) {
				add(name)
			}
		}
	}
	return out
}

// unsummedColumnAt is the numeric column of prod that token k names
// ("minutes" of handle_minutes) when no metric of prod sums it, or "".
func unsummedColumnAt(a *analysis, prod *catalog.Product, k int) string {
	for _, m := range a.ms {
		if m.product != prod || (m.kind != mColumn && m.kind != mColumnPart) || k < m.i || k >= m.j {
			continue
		}
		c, ok := prod.Column(m.column)
		if !ok || c.Type != catalog.TypeNumber || c.PrimaryKey {
			continue
		}
		if sumMetric(prod, c.Name) == "" {
			return c.Name
		}
	}
	return ""
}

// capitalisedRuns are runs of two or more capitalised words no catalog
// phrase covers, a capitalised question word at the start left out: names
// ("Mei Li").
func capitalisedRuns(a *analysis, covered []bool) []string {
	var out []string
	var run []string
	flush := func() {
		if len(run) >= 2 {
			out = append(out, strings.Join(run, " "))
		}
		run = nil
	}
	for k, t := range a.toks {
		lead := k == 0 && (questionWord[t.low] || stopword[t.low])
		if t.kind == tokWord && t.upper && !t.used && !covered[k] && monthNum[t.low] == 0 && !lead {
			run = append(run, t.raw)
			continue
		}
		flush()
	}
	flush()
	return out
}

// namedCategoricals are the columns of prod with declared values that the
// question names.
func namedCategoricals(a *analysis, prod *catalog.Product) []string {
	var out []string
	if prod == nil {
		return nil
	}
	for k := range a.toks {
		if c := categoricalAt(a, prod, k); c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// partOfName reports whether token k is in a run of capitalised words,
// which name a campaign rather than a value ("Summer Special Offer").
func (p *Planner) partOfName(a *analysis, k int) bool {
	cap := func(i int) bool { return i >= 0 && i < len(a.toks) && a.toks[i].kind == tokWord && a.toks[i].upper }
	return cap(k-1) && k-1 > 0 || cap(k+1)
}

// closestMetrics are up to three metrics nearest an unmatched concept:
// those of the product the question points at first, rates before others
// when a rate was asked.
func (p *Planner) closestMetrics(f *features) []string {
	rate := slices.ContainsFunc(f.unmatched, func(u string) bool {
		return strings.HasSuffix(u, " rate") || strings.HasSuffix(u, " ratio")
	})
	stat := slices.ContainsFunc(f.unmatched, func(u string) bool { return statWords[strings.Fields(u)[0]] })
	type cand struct {
		s     string
		score int
		order int
	}
	var cs []cand
	for _, prod := range p.lex.products {
		if !f.may(prod) {
			continue // a metric the asker may not query is no alternative
		}
		for _, m := range prod.Metrics {
			score := 0
			if prod == f.product {
				score += 4
			} else if slices.ContainsFunc(f.scores, func(s scored) bool { return s.product == prod }) {
				score += 2
			}
			if rate && m.Unit == "ratio" {
				score += 3
			}
			if score == 0 {
				continue
			}
			// "minutes spent": a metric over the column the word names
			// (avg(handle_minutes)) comes first.
			// So does, for "median credit score", the metric over the
			// column named after the statistic (avg(credit_score)).
			if slices.ContainsFunc(f.unmatched, func(u string) bool {
				ws := strings.Fields(u)
				if statWords[ws[0]] && len(ws) > 1 {
					ws = ws[1:]
				} else {
					ws = ws[:1]
				}
				return slices.ContainsFunc(ws, func(w string) bool {
					return len(w) > 3 && strings.Contains(strings.ToLower(m.Expression), catalog.Stem(w))
				})
			}) {
				score += 2
				// The average stands nearest another statistic of a column.
				if stat && hasPrefixFold(m.Expression, "avg(") {
					score++
				}
			}
			cs = append(cs, cand{metricLine(prod, m), score, len(cs)})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].score > cs[j].score })
	var out []string
	for _, c := range cs {
		if len(out) == 3 {
			break
		}
		out = append(out, c.s)
	}
	return out
}

func metricLine(prod *catalog.Product, m catalog.Metric) string {
	s := m.Name + " of " + prod.Name
	if m.Description != "" {
		s += " (" + strings.TrimSuffix(strings.ToLower(m.Description[:1])+m.Description[1:], ".") + ")"
	}
	return s
}

// otherValueOnly reports whether token k is read only as a value of other
// products than prod: a filter the chosen product cannot apply.
func otherValueOnly(a *analysis, prod *catalog.Product, k int) bool {
	other := false
	for _, m := range a.ms {
		if k < m.i || k >= m.j {
			continue
		}
		if m.product == prod {
			return false
		}
		if m.kind == mValue || m.kind == mValuePart {
			other = true
		} else {
			return false
		}
	}
	return other
}

// valueOf reports whether token k is read as a value of prod.
func valueOf(a *analysis, prod *catalog.Product, k int) bool {
	for _, m := range a.ms {
		if k >= m.i && k < m.j && m.product == prod && isValueKind(m.kind) {
			return true
		}
	}
	return false
}

// categoricalAt is the column of prod, with declared values, that token k
// names ("channel"), or "".
func categoricalAt(a *analysis, prod *catalog.Product, k int) string {
	for _, m := range a.ms {
		if m.product != prod || m.kind != mColumn || k < m.i || k >= m.j {
			continue
		}
		if c, ok := prod.Column(m.column); ok && len(c.Values) > 0 {
			return c.Name
		}
	}
	return ""
}

// modifiesOther reports whether token k qualifies a following word the
// chosen product knows only as a column, or not at all ("high value
// transactions"): an adjective
// of the question, not a value of another product. "credit card
// applications" names loan-applications after the value: no adjective.
func modifiesOther(a *analysis, prod *catalog.Product, k int) bool {
	if k+1 >= len(a.toks) {
		return false
	}
	n := a.toks[k+1]
	if n.kind != tokWord || stopword[n.low] || questionWord[n.low] {
		return false
	}
	if categoricalAt(a, prod, k+1) != "" {
		return false // "the online channel": a value of that column, which prod lacks
	}
	for _, m := range a.ms {
		if m.product == prod && m.i <= k+1 && k+1 < m.j && m.kind != mColumn && m.kind != mColumnPart {
			return false // "credit card applications": a noun of the product
		}
	}
	return true // "high value": an adjective on a column, or on a word it does not know
}
