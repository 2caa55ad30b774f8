package planner

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// tamperRe asks whether the log itself is intact.
var tamperRe = regexp.MustCompile(`\b(?:tamper(?:ed|ing)?|altered|intact|integrity|(?:chain|log) (?:is |was )?(?:broken|valid|verified)|verify (?:the )?(?:audit|log|chain))\b`)

// auditColumns are the columns a person reviewing access reads first.
var auditColumns = []string{"at", "subject", "tool", "product", "decision", "reason"}

// audit plans questions about the access log: who was denied, what a
// person tried, who read personal data, how many denials. Products named in
// the question become filters on the log's product column, people become
// filters on its subject column.
func (p *Planner) audit(a *analysis, ap *catalog.Product) *intent {
	if tamperRe.MatchString(a.free) {
		// "was the audit log tampered with?": a listing of records says
		// nothing about it; walking the hash chain does, and chat cannot.
		return &intent{kind: kindNote, outcome: assistant.OutcomeDeclined, product: ap, notes: []string{
			"Whether the access log was altered is told by verifying its hash chain, which I cannot run from here, so I computed nothing. " +
				"An auditor runs it with `askmesh audit verify`, or Verify in the audit review (POST /v1/audit/verify): " +
				"it names the first record that was changed, removed or inserted, if any."}}
	}
	in := &intent{kind: kindData, product: ap}
	filters := p.valueFilters(a, ap, nil)
	if pf := p.productFilter(a, ap); pf != nil {
		filters = append(filters, *pf)
	}
	if sf := p.subjectFilter(a, ap); sf != nil {
		filters = append(filters, *sf)
	}
	tr := a.w.rangeArg
	if permissionRe.MatchString(a.free) {
		// Who may read a product is policy, not data; the log says who did.
		what := "a product"
		if pf := p.productFilter(a, ap); pf != nil {
			what = valueText(pf.Value)
			if pf.Op == tools.OpIn {
				what = listText(pf.Value, "and")
			}
		}
		return &intent{kind: kindNote, product: ap, notes: []string{fmt.Sprintf("Who may read %s is decided by policy, which I cannot query, so I computed nothing. "+
			"The access log says who did read it: ask for example who accessed %s this month.", what, what)}}
	}
	metrics, strong, _ := p.metricsOf(a, ap)
	count := metricBy(ap, isCount)

	metricsCall := func() *intent {
		if len(metrics) == 0 {
			metrics = []string{count}
		}
		// denial_count already counts only denials.
		if slices.ContainsFunc(metrics, func(m string) bool { return strings.Contains(m, "denial") }) {
			filters = slices.DeleteFunc(filters, func(f tools.Filter) bool { return f.Column == "decision" && f.Value == "deny" })
		}
		args := tools.QueryMetricsArgs{Product: ap.Name, Metrics: metrics, Filters: filters, TimeRange: tr,
			TimeGrain: a.w.grain, CompareTo: a.w.compare}
		if args.CompareTo != "" && args.TimeRange == "" {
			args.CompareTo = ""
		}
		args.GroupBy = p.groupBy(a, ap, &in.notes)
		if len(args.GroupBy) > 0 && args.TimeGrain == "" {
			args.OrderBy = []tools.OrderBy{{Field: metrics[0], Direction: "desc"}}
		}
		in.calls = []plannedCall{{tools.ToolQueryMetrics, args}}
		// "how many queries did carol run": a first name is no directory
		// id; the log's own subjects say whose it is, or that several fit.
		if i := slices.IndexFunc(args.Filters, byFirstName); i >= 0 && !slices.Contains(args.GroupBy, "subject") {
			name := strings.TrimSuffix(args.Filters[i].Value.(string), "@")
			in.resolve = &subjectResolve{name: name, question: a.q, final: args}
			in.calls = []plannedCall{{tools.ToolQueryMetrics, tools.QueryMetricsArgs{Product: ap.Name, Metrics: []string{count},
				GroupBy: []string{"subject"}, Filters: []tools.Filter{args.Filters[i]}, OrderBy: []tools.OrderBy{{Field: count, Direction: "desc"}}}}}
		}
		return in
	}
	if m := p.periodMeanCount(a, ap); m != "" {
		// "average denials per day": denial_count counts only denials.
		if strings.Contains(m, "denial") {
			filters = slices.DeleteFunc(filters, func(f tools.Filter) bool { return f.Column == "decision" && f.Value == "deny" })
		}
		return p.periodMeanIntent(a, &dataBase{prod: ap, in: in, filters: filters, tr: tr}, m)
	}
	switch {
	case a.has(piiRe):
		in.form = formAuditPII
		base := withoutColumn(filters, "decision")
		base = append(base, tools.Filter{Column: "decision", Op: tools.OpEq, Value: "allow"})
		for _, prod := range p.piiProducts(filters) {
			for _, c := range prod.Columns {
				if c.Classification != catalog.ClassPII {
					continue
				}
				f := append(withoutColumn(base, "product"),
					tools.Filter{Column: "product", Op: tools.OpEq, Value: prod.Name},
					// The columns field is a JSON list: match the quoted name
					// so "name" does not match "full_name".
					tools.Filter{Column: "columns", Op: tools.OpContains, Value: `"` + c.Name + `"`})
				in.calls = append(in.calls, plannedCall{tools.ToolQueryMetrics, tools.QueryMetricsArgs{
					Product: ap.Name, Metrics: []string{count}, GroupBy: []string{"subject"}, Filters: f, TimeRange: tr,
					OrderBy: []tools.OrderBy{{Field: count, Direction: "desc"}}}})
			}
		}
		if len(in.calls) == 0 {
			return &intent{kind: kindNote, product: ap, notes: []string{"No product in the catalog has personal (pii) columns."}}
		}
		return in
	case a.has(howManyRe):
		return metricsCall()
	case didRe.MatchString(a.free):
		in.form = formAuditWho
		in.calls = []plannedCall{
			{tools.ToolQueryRecords, tools.QueryRecordsArgs{Product: ap.Name, Columns: existing(ap, auditColumns), Filters: filters,
				TimeRange: tr, OrderBy: []tools.OrderBy{{Field: ap.TimeColumn, Direction: "asc"}}}},
			{tools.ToolQueryMetrics, tools.QueryMetricsArgs{Product: ap.Name, Metrics: []string{count}, GroupBy: []string{"decision"},
				Filters: filters, TimeRange: tr, OrderBy: []tools.OrderBy{{Field: count, Direction: "desc"}}}},
		}
		return in
	case a.has(whoRe):
		in.form = formAuditWho
		in.calls = []plannedCall{
			{tools.ToolQueryRecords, tools.QueryRecordsArgs{Product: ap.Name, Columns: existing(ap, auditColumns), Filters: filters,
				TimeRange: tr, OrderBy: []tools.OrderBy{{Field: ap.TimeColumn, Direction: "desc"}}}},
			{tools.ToolQueryMetrics, tools.QueryMetricsArgs{Product: ap.Name, Metrics: []string{count}, GroupBy: []string{"subject"},
				Filters: filters, TimeRange: tr, OrderBy: []tools.OrderBy{{Field: count, Direction: "desc"}}}},
		}
		return in
	case strong:
		return metricsCall()
	}
	args := tools.QueryRecordsArgs{Product: ap.Name, Columns: existing(ap, auditColumns), Filters: filters, TimeRange: tr,
		OrderBy: []tools.OrderBy{{Field: ap.TimeColumn, Direction: "desc"}}}
	if n := countAsked(a); n > 0 {
		args.Limit = n
	}
	in.calls = []plannedCall{{tools.ToolQueryRecords, args}}
	return in
}

// withoutColumn is a copy of fs without col's filters; fs is left as it was
// (callers go on reading it).
func withoutColumn(fs []tools.Filter, col string) []tools.Filter {
	return slices.DeleteFunc(slices.Clone(fs), func(f tools.Filter) bool { return f.Column == col })
}

func existing(prod *catalog.Product, cols []string) []string {
	var out []string
	for _, c := range cols {
		if _, ok := prod.Column(c); ok {
			out = append(out, c)
		}
	}
	return out
}

// productFilter turns the other products a question names ("denied access
// to loan-applications", "customers pii") into a filter on the product column.
func (p *Planner) productFilter(a *analysis, ap *catalog.Product) *tools.Filter {
	var names []string
	for _, m := range a.ms {
		if m.product == ap || (m.kind != mName && m.kind != mSynonym) {
			continue
		}
		if !slices.Contains(names, m.product.Name) {
			names = append(names, m.product.Name)
		}
	}
	switch len(names) {
	case 0:
		return nil
	case 1:
		return &tools.Filter{Column: "product", Op: tools.OpEq, Value: names[0]}
	}
	vals := make([]any, len(names))
	for i, n := range names {
		vals[i] = n
	}
	return &tools.Filter{Column: "product", Op: tools.OpIn, Value: vals}
}

// subjectFilter reads who the question is about: an email, or a first name
// in "what did frank try", "was carol denied", "by erin". A first name
// matches the start of the directory id ("frank@"), since the planner knows
// the catalog, not the directory.
func (p *Planner) subjectFilter(a *analysis, ap *catalog.Product) *tools.Filter {
	if _, ok := ap.Column("subject"); !ok {
		return nil
	}
	for k, t := range a.toks {
		if t.kind == tokEmail {
			a.toks[k].used = true
			return &tools.Filter{Column: "subject", Op: tools.OpEq, Value: t.low}
		}
	}
	name := ""
	if m := didRe.FindStringSubmatch(a.free); m != nil {
		name = m[1]
	}
	for _, re := range nameRes {
		if name != "" {
			break
		}
		for _, m := range re.FindAllStringSubmatch(a.free, -1) {
			if p.personName(m[1]) {
				name = m[1]
				break
			}
		}
	}
	if !p.personName(name) {
		return nil
	}
	return &tools.Filter{Column: "subject", Op: tools.OpContains, Value: name + "@"}
}

// personName reports whether a word can be a person's name: not a word the
// catalog or questions use.
func (p *Planner) personName(w string) bool {
	if len(w) < 2 || stopword[w] || questionWord[w] || p.lex.vocab[catalog.Stem(w)] {
		return false
	}
	if _, isMonth := monthNum[w]; isMonth {
		return false
	}
	for _, named := range []string{"today", "yesterday", "week", "month", "quarter", "year", "policy", "access", "data", "product", "products", "anyone", "someone", "everyone", "people", "users", "user", "them", "whom"} {
		if w == named {
			return false
		}
	}
	return true
}

// piiProducts are the products whose personal data a question asks about:
// those the product filter names, else every product with pii columns.
func (p *Planner) piiProducts(filters []tools.Filter) []*catalog.Product {
	var named []string
	for _, f := range filters {
		if f.Column != "product" {
			continue
		}
		switch v := f.Value.(type) {
		case string:
			named = append(named, v)
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					named = append(named, s)
				}
			}
		}
	}
	var out []*catalog.Product
	for _, prod := range p.lex.products {
		if len(named) > 0 && !slices.Contains(named, prod.Name) {
			continue
		}
		if slices.ContainsFunc(prod.Columns, func(c catalog.Column) bool { return c.Classification == catalog.ClassPII }) {
			out = append(out, prod)
		}
	}
	return out
}

// byFirstName reports whether a filter picks a person by first name
// (subject contains "carol@"), as subjectFilter writes it.
func byFirstName(f tools.Filter) bool {
	v, _ := f.Value.(string)
	return f.Column == "subject" && f.Op == tools.OpContains && strings.HasSuffix(v, "@")
}

// subjectResolve is a count about a person named by first name: the first
// call lists the log's subjects whose id starts with it, over all time;
// with one, final is asked of that id; with several, the asker chooses.
type subjectResolve struct {
	name     string
	question string
	final    tools.QueryMetricsArgs
}

// subjects are the log's subjects the resolving call found whose id is
// the name's (carol@...), not one that only contains it (mcarol@...).
func (r *subjectResolve) subjects(o outcome) []string {
	var out []string
	if o.status != statusOK || o.view == nil {
		return nil
	}
	col := slices.Index(o.view.Columns, "subject")
	if col < 0 {
		return nil
	}
	for _, row := range o.view.Rows {
		if col < len(row) {
			if s, ok := row[col].(string); ok && strings.HasPrefix(strings.ToLower(s), r.name+"@") {
				out = append(out, s)
			}
		}
	}
	return out
}

// finalCall is the count asked of the one subject the name resolved to.
func (r *subjectResolve) finalCall(subject string) plannedCall {
	args := r.final
	args.Filters = slices.Clone(args.Filters)
	for i, f := range args.Filters {
		if byFirstName(f) {
			args.Filters[i] = tools.Filter{Column: "subject", Op: tools.OpEq, Value: subject}
		}
	}
	return plannedCall{tools.ToolQueryMetrics, args}
}

// clarification asks which of several subjects the name meant; each
// option is the question with the name replaced by one id.
func (r *subjectResolve) clarification(subjects []string) *assistant.Clarification {
	re := regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(r.name) + `\b`)
	c := &assistant.Clarification{Question: fmt.Sprintf("Several people in the access log are called %s. Which one do you mean?", r.name)}
	for _, s := range subjects {
		q := re.ReplaceAllLiteralString(r.question, s)
		c.Options = append(c.Options, assistant.ClarificationOption{Label: s, Question: q})
	}
	return c
}

// isCountMetric reports whether metrics is the product's plain count of
// rows (count(*)), not a count of some of them (denials).
func isCountMetric(prod *catalog.Product, metrics []string) bool {
	if prod == nil || len(metrics) != 1 {
		return false
	}
	m, ok := prod.Metric(metrics[0])
	return ok && isCount(m)
}
