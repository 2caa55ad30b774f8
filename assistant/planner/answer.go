package planner

import (
	"encoding/json"
	"fmt"
	"github.com/askmesh/askmesh/internal/textfmt"
	"slices"
	"strings"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// The answer templates. The text is short and leads with the answer; the
// agent composes tables and charts from the same results, so the text names
// only the top few groups or rows. Every number is copied from a result.

func helpText(suggest []string) string {
	return "I answer questions about the data products in the catalog: what data exists, what a product holds, " +
		"metrics and trends, records, unusual transactions and access reviews. For example:" + bullets(suggest)
}

func unknownText(suggest []string) string {
	return "I could not work out which data product and figures that question is about, so I won't guess. " +
		"Questions I can answer look like these:" + bullets(suggest)
}

func bullets(items []string) string {
	var b strings.Builder
	for _, s := range items {
		b.WriteString("\n- ")
		b.WriteString(s)
	}
	return b.String()
}

// compose writes the answer from the intent and the results.
func (p *Planner) compose(in *intent, outs []outcome) string {
	switch in.kind {
	case kindHelp:
		return helpText(in.suggest)
	case kindUnknown:
		return unknownText(in.suggest)
	case kindNote:
		return strings.Join(in.notes, " ")
	}
	switch {
	case len(in.parts) > 0:
		return p.partsText(in, outs)
	case in.define != nil:
		return p.definitionText(in, outs)
	case in.share != nil:
		if s, ok := p.shareText(in, outs); ok {
			return s
		}
	}
	var parts, denials, errs, notes []string
	addNote := func(n string) {
		if n != "" && !slices.Contains(notes, n) {
			notes = append(notes, n)
		}
	}
	var lead []string // audit counts lead an audit answer
	if in.form == formPlain {
		in.form = p.inferForm(outs)
	}
	if g := periodMeanShape(outs); in.form == formPlain && g != "" {
		in.form, in.meanGrain = formPeriodMean, g // a follow-up of an average per period
	}
	if in.form == formAuditPII {
		if s := p.piiText(outs); s != "" {
			parts = append(parts, s)
		}
	}
	for _, o := range outs {
		switch o.status {
		case statusDenied:
			r := strings.TrimSuffix(strings.TrimSpace(o.msg), ".")
			if !slices.Contains(denials, r) {
				denials = append(denials, r)
			}
			continue
		case statusError:
			what := o.call.Name
			if prod := productArgOf(o.call.Arguments); prod != "" {
				what = prod
			}
			errs = append(errs, fmt.Sprintf("I couldn't get that from %s: %s.", what, strings.TrimSuffix(o.msg, ".")))
			continue
		}
		v := o.view
		asked := askedLimit(o.call.Arguments)
		for _, n := range v.Notes {
			// A top N asked for is not a truncation worth mentioning.
			if asked && strings.HasPrefix(n, "only the first ") {
				continue
			}
			addNote(noteText(n))
		}
		if len(v.Masked) > 0 {
			addNote(maskedText(v.Masked))
		}
		if in.form == formAuditPII {
			continue
		}
		var s string
		switch o.call.Name {
		case tools.ToolSearch:
			var args tools.SearchArgs
			_ = json.Unmarshal(o.call.Arguments, &args)
			s = searchText(args, v)
		case tools.ToolDescribe:
			s = describeText(v)
		case tools.ToolQueryMetrics:
			var args tools.QueryMetricsArgs
			_ = json.Unmarshal(o.call.Arguments, &args)
			if in.form == formPeriodMean && o.call.ID == outs[0].call.ID {
				s = p.periodMeanText(args, v, in.meanGrain)
			} else {
				s = p.metricsText(args, v)
			}
			if in.form == formAuditWho {
				lead = append(lead, s)
				continue
			}
		case tools.ToolQueryRecords:
			var args tools.QueryRecordsArgs
			_ = json.Unmarshal(o.call.Arguments, &args)
			s = p.recordsText(args, v)
		case tools.ToolGetRecord:
			var args tools.GetRecordArgs
			_ = json.Unmarshal(o.call.Arguments, &args)
			s = p.getText(args, v)
		case tools.ToolFindAnomalies:
			var args tools.FindAnomaliesArgs
			_ = json.Unmarshal(o.call.Arguments, &args)
			s = p.anomaliesText(args, v)
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	parts = append(lead, parts...)
	if in.growth != nil {
		if s := growthText(in.growth, outs); s != "" {
			parts = append([]string{s}, parts...)
		}
	}
	var out []string
	switch {
	case len(parts) == 0 && len(denials) > 0:
		out = append(out, "I can't show that: "+strings.Join(denials, "; ")+".")
	case len(denials) > 0:
		out = append(out, parts...)
		out = append(out, "Part of this was refused: "+strings.Join(denials, "; ")+".")
	default:
		out = append(out, parts...)
	}
	out = append(out, errs...)
	out = append(out, notes...)
	out = append(out, in.notes...)
	if len(out) == 0 {
		return "I have no results to answer with."
	}
	return strings.Join(out, "\n")
}

// askedLimit reports whether a call set its own limit.
func askedLimit(raw json.RawMessage) bool {
	var a struct {
		Limit int `json:"limit"`
	}
	_ = json.Unmarshal(raw, &a)
	return a.Limit > 0
}

// inferForm recognises an audit answer's shape from its calls, for
// follow-ups, which carry calls rather than the question's form.
func (p *Planner) inferForm(outs []outcome) string {
	ap := p.auditProduct()
	if ap == nil || len(outs) == 0 {
		return formPlain
	}
	records, grouped, pii := 0, 0, 0
	for _, o := range outs {
		if productArgOf(o.call.Arguments) != ap.Name {
			return formPlain
		}
		switch o.call.Name {
		case tools.ToolQueryRecords:
			records++
		case tools.ToolQueryMetrics:
			var a tools.QueryMetricsArgs
			_ = json.Unmarshal(o.call.Arguments, &a)
			if len(a.GroupBy) > 0 {
				grouped++
			}
			for _, f := range a.Filters {
				if f.Column == "columns" && f.Op == tools.OpContains {
					pii++
					break
				}
			}
		}
	}
	switch {
	case pii == len(outs):
		return formAuditPII
	case records == 1 && grouped == 1 && len(outs) == 2:
		return formAuditWho
	}
	return formPlain
}

// noteText relays a result note; the anomaly rule is said in the text.
func noteText(n string) string {
	n = strings.TrimSpace(n)
	if n == "" || strings.HasPrefix(n, "records whose ") {
		return ""
	}
	return textfmt.Capitalize(strings.TrimSuffix(n, ".")) + "."
}

func maskedText(m map[string]string) string {
	cols := make([]string, 0, len(m))
	for c, kind := range m {
		cols = append(cols, c+" ("+kind+")")
	}
	slices.Sort(cols)
	return "Masked by policy: " + strings.Join(cols, ", ") + "."
}

func source(product string) string { return " (source: " + product + ")" }

// inPeriod phrases a range for a sentence: "in October 2026", "since 1
// March 2026", or "over all the data" when no range applied.
func inPeriod(r string) string {
	t := textfmt.Period(r)
	switch {
	case t == "":
		return "over all the data"
	case strings.HasPrefix(t, "since ") || strings.HasPrefix(t, "until "):
		return t
	}
	return "in " + t
}

// filterText writes the filters a call applied: "type deposit, region europe".
func filterText(fs []tools.Filter) string {
	var parts []string
	for _, f := range fs {
		col := textfmt.Humanize(f.Column)
		switch f.Op {
		case tools.OpEq:
			parts = append(parts, col+" "+valueText(f.Value))
		case tools.OpNe:
			parts = append(parts, col+" not "+valueText(f.Value))
		case tools.OpIn:
			parts = append(parts, col+" "+listText(f.Value, "or"))
		case tools.OpNotIn:
			parts = append(parts, col+" not "+listText(f.Value, "or"))
		case tools.OpGt:
			parts = append(parts, col+" over "+valueText(f.Value))
		case tools.OpGe:
			parts = append(parts, col+" at least "+valueText(f.Value))
		case tools.OpLt:
			parts = append(parts, col+" under "+valueText(f.Value))
		case tools.OpLe:
			parts = append(parts, col+" at most "+valueText(f.Value))
		case tools.OpBetween:
			parts = append(parts, col+" between "+listText(f.Value, "and"))
		case tools.OpContains:
			parts = append(parts, col+" containing "+valueText(f.Value))
		case tools.OpIsNull:
			parts = append(parts, col+" empty")
		case tools.OpIsNotNull:
			parts = append(parts, col+" set")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func valueText(v any) string {
	switch x := v.(type) {
	case float64:
		return textfmt.GroupThousands(strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%f", x), "0"), "."))
	case json.Number:
		return textfmt.Cell(x)
	case bool:
		if x {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(v)
}

func listText(v any, conj string) string {
	list, _ := v.([]any)
	ss := make([]string, len(list))
	for i, x := range list {
		ss[i] = valueText(x)
	}
	if len(ss) <= 1 {
		return strings.Join(ss, "")
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " " + conj + " " + ss[len(ss)-1]
}

func searchText(args tools.SearchArgs, v *toolView) string {
	if len(v.Products) == 0 {
		return fmt.Sprintf("I found no data products about %q.", args.Query)
	}
	var b strings.Builder
	n := len(v.Products)
	fmt.Fprintf(&b, "I found %d data %s about %q:", n, textfmt.Plural(n, "product", "products"), args.Query)
	for _, ps := range v.Products {
		fmt.Fprintf(&b, "\n- %s (%s): %s", ps.Name, ps.Domain, ps.Description)
	}
	return b.String()
}

func describeText(v *toolView) string {
	d := v.Description
	if d == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (domain %s) is owned by %s. %s", d.Name, d.Domain, d.Owner, strings.Join(strings.Fields(d.Description), " "))
	var cols, names []string
	withheld := 0
	for _, c := range d.Columns {
		s := c.Name
		names = append(names, c.Name)
		switch {
		case c.Access == "withheld":
			s += " (withheld from you)"
			withheld++
		case strings.HasPrefix(c.Access, "masked"):
			s += " (masked for you)"
		}
		cols = append(cols, s)
	}
	if withheld == len(d.Columns) && withheld > 1 {
		fmt.Fprintf(&b, "\nColumns: %s (none of them visible to you).", strings.Join(names, ", "))
	} else {
		fmt.Fprintf(&b, "\nColumns: %s.", strings.Join(cols, ", "))
	}
	if len(d.Metrics) > 0 {
		var ms []string
		for _, m := range d.Metrics {
			ms = append(ms, m.Name)
		}
		fmt.Fprintf(&b, "\nMetrics: %s.", strings.Join(ms, ", "))
	}
	if len(d.Dimensions) > 0 {
		fmt.Fprintf(&b, "\nGroup by: %s.", strings.Join(d.Dimensions, ", "))
	}
	if d.TimeColumn != "" {
		fmt.Fprintf(&b, "\nTime column: %s.", d.TimeColumn)
	}
	if d.Freshness != "" {
		fmt.Fprintf(&b, " Freshness: %s.", d.Freshness)
	}
	return b.String()
}

// col returns the index of a named result column, or -1.
func col(v *toolView, name string) int { return slices.Index(v.Columns, name) }

// metricInfo is a metric's unit and precision from the catalog.
func (p *Planner) metricInfo(product, metric string) (unit string, precision int) {
	if prod := p.product(product); prod != nil {
		if m, ok := prod.Metric(metric); ok {
			return m.Unit, m.Precision
		}
	}
	return "", 2
}

// cmpText says how a value changed: ", up 16.7% from 198 in September 2026".
func cmpText(row []any, v *toolView, metric, unit string, precision int, cmpPeriod string, short bool) string {
	pi, ci := col(v, metric+"_previous"), col(v, metric+"_change_pct")
	if pi < 0 {
		return ""
	}
	prev := row[pi]
	var pct any
	if ci >= 0 {
		pct = row[ci]
	}
	// A rate's change is said in percentage points: 67.90% -> 70.52% is
	// up 2.62 points, which a relative +3.9% would obscure.
	if di := col(v, metric+"_change"); unit == "ratio" && di >= 0 && row[di] != nil {
		d, _ := textfmt.DecimalText(row[di])
		pts := textfmt.RoundDecimal(textfmt.ShiftPoint(d, 2), max(precision-2, 0))
		up := !strings.HasPrefix(pts, "-")
		pts = strings.TrimPrefix(pts, "-")
		if short {
			sign := "+"
			if !up {
				sign = "-"
			}
			return " (" + sign + pts + " pts)"
		}
		when := ""
		if cmpPeriod != "" {
			when = " in " + cmpPeriod
		}
		pv := textfmt.Metric(prev, unit, precision)
		switch {
		case strings.Trim(pts, "0.") == "":
			return ", about the same as " + pv + when
		case up:
			return ", up " + pts + " points from " + pv + when
		}
		return ", down " + pts + " points from " + pv + when
	}
	if short {
		if pct == nil {
			return ""
		}
		return " (" + textfmt.Pct(pct) + ")"
	}
	when := ""
	if cmpPeriod != "" {
		when = " in " + cmpPeriod
	}
	if prev == nil {
		return ", with no value" + when + " to compare with"
	}
	pv := textfmt.Metric(prev, unit, precision)
	if pct == nil {
		return ", compared with " + pv + when
	}
	s := textfmt.Pct(pct)
	switch {
	case s == "0.0%":
		return ", about the same as " + pv + when
	case strings.HasPrefix(s, "-"):
		return ", down " + strings.TrimPrefix(s, "-") + " from " + pv + when
	}
	return ", up " + strings.TrimPrefix(s, "+") + " from " + pv + when
}

func (p *Planner) metricsText(args tools.QueryMetricsArgs, v *toolView) string {
	if len(args.Metrics) == 0 {
		return ""
	}
	prodName := firstNonEmpty(v.Product, args.Product)
	// Amounts in several currencies come back broken down by the currency
	// column (the executor adds it); the text reads it as one more dimension.
	for _, u := range v.Units {
		if !slices.Contains(args.GroupBy, u) {
			args.GroupBy = append(slices.Clone(args.GroupBy), u)
		}
	}
	period := inPeriod(v.TimeRange)
	cmpPeriod := textfmt.Period(v.CompareRange)
	// "campaign_name set" is implied by grouping by it.
	filters := filterText(slices.DeleteFunc(slices.Clone(args.Filters), func(f tools.Filter) bool {
		return f.Op == tools.OpIsNotNull && slices.Contains(args.GroupBy, f.Column)
	}))
	var metrics []string
	for _, m := range args.Metrics {
		if col(v, m) >= 0 {
			metrics = append(metrics, m)
		}
	}
	if len(metrics) == 0 || len(v.Rows) == 0 {
		return fmt.Sprintf("No %s data%s %s%s.", prodName, filters, period, source(prodName))
	}
	m0 := metrics[0]
	unit0, prec0 := p.metricInfo(prodName, m0)
	label0 := textfmt.Humanize(m0)
	var dims []int
	for _, g := range args.GroupBy {
		if i := col(v, g); i >= 0 {
			dims = append(dims, i)
		}
	}
	pcol := -1
	if args.TimeGrain != "" {
		pcol = col(v, "period")
	}
	groupName := func(row []any) string {
		var ss []string
		for _, i := range dims {
			if row[i] == nil {
				ss = append(ss, "(none)")
			} else {
				ss = append(ss, textfmt.Cell(row[i]))
			}
		}
		return strings.Join(ss, " / ")
	}
	val := func(row []any, m string) string {
		u, pr := p.metricInfo(prodName, m)
		return textfmt.Metric(row[col(v, m)], u, pr)
	}
	switch {
	case pcol < 0 && len(dims) == 0:
		row := v.Rows[0]
		if len(metrics) == 1 {
			return fmt.Sprintf("%s%s %s: %s%s%s.", textfmt.Capitalize(label0), filters, period, val(row, m0),
				cmpText(row, v, m0, unit0, prec0, cmpPeriod, false), source(prodName))
		}
		var ss []string
		for _, m := range metrics {
			u, pr := p.metricInfo(prodName, m)
			ss = append(ss, textfmt.Humanize(m)+" "+val(row, m)+cmpText(row, v, m, u, pr, cmpPeriod, false))
		}
		if name := namedSubject(p.product(prodName), args.Filters); name != "" {
			// "Summer Special Offer, over all the data: ..."
			rest := filterText(withoutColumn(args.Filters, nameColumn(p.product(prodName))))
			return fmt.Sprintf("%s%s, %s: %s%s.", name, rest, period, strings.Join(ss, "; "), source(prodName))
		}
		return fmt.Sprintf("%s%s %s: %s%s.", textfmt.Capitalize(prodName), filters, period, strings.Join(ss, "; "), source(prodName))
	case pcol < 0:
		dimNames := textfmt.Humanize(strings.Join(args.GroupBy, " and "))
		if args.Limit == 1 && len(args.OrderBy) > 0 {
			word := "highest"
			if args.OrderBy[0].Direction != "desc" {
				word = "lowest"
			}
			if unit0 == "count" {
				word = map[string]string{"highest": "most", "lowest": "fewest"}[word]
			}
			row := v.Rows[0]
			return fmt.Sprintf("%s had the %s %s%s %s: %s%s%s.", groupName(row), word, label0, filters, period, val(row, m0),
				cmpText(row, v, m0, unit0, prec0, cmpPeriod, false), source(prodName))
		}
		shown := min(len(v.Rows), 5)
		var ss []string
		for _, row := range v.Rows[:shown] {
			// Metrics shown beside the ranking one ("with their budget"),
			// each with its own change: GBP deposits up 0.8% in number
			// while down 12.4% in amount must not read as up.
			var beside []string
			for _, m := range metrics[1:] {
				u, pr := p.metricInfo(prodName, m)
				beside = append(beside, textfmt.Humanize(m)+" "+val(row, m)+cmpText(row, v, m, u, pr, cmpPeriod, true))
			}
			with := ""
			switch {
			case len(beside) > 0 && args.CompareTo != "":
				with = " with " + strings.Join(beside, " and ")
			case len(beside) > 0:
				with = " (" + strings.Join(beside, ", ") + ")"
			}
			ss = append(ss, groupName(row)+" "+val(row, m0)+cmpText(row, v, m0, unit0, prec0, cmpPeriod, true)+with)
		}
		more := ""
		if n := v.RowCount - shown; n > 0 {
			more = fmt.Sprintf("; %d more in the table", n)
		}
		sep := ", "
		if len(metrics) > 1 && args.CompareTo != "" {
			sep = "; "
		}
		return fmt.Sprintf("%s by %s%s %s: %s%s%s.", textfmt.Capitalize(label0), dimNames, filters, period, strings.Join(ss, sep), more, source(prodName))
	default:
		grain := args.TimeGrain
		if len(dims) > 0 {
			return fmt.Sprintf("%s per %s by %s%s %s: %d rows, shown in the table and chart%s.", textfmt.Capitalize(label0), grain,
				textfmt.Humanize(strings.Join(args.GroupBy, " and ")), filters, period, v.RowCount, source(prodName))
		}
		rows := v.Rows
		if args.Limit > 0 && len(args.OrderBy) > 0 && args.OrderBy[0].Field == m0 {
			// "the busiest day": the periods ranked by the metric, top first.
			word := "highest"
			if args.OrderBy[0].Direction != "desc" {
				word = "lowest"
			}
			var ss []string
			for _, row := range rows {
				ss = append(ss, fmt.Sprintf("%s (%s)", textfmt.Bucket(row[pcol], grain), val(row, m0)))
			}
			if len(rows) == 1 {
				return fmt.Sprintf("The %s with the %s %s%s %s was %s%s.", grain, word, label0, filters, period, ss[0], source(prodName))
			}
			return fmt.Sprintf("The %d %ss with the %s %s%s %s: %s%s.", len(rows), grain, word, label0, filters, period, strings.Join(ss, ", "), source(prodName))
		}
		// A first or last period that holds only part of its days (cut by
		// the range, or not over) is left out of the run's ends and said
		// apart: 28 new customers in 4 days of December read as a fall
		// from 372.
		var apart []string
		if len(rows) > 3 {
			if why := partialBucket(v.Caveats, rows[0][pcol], grain); why != "" {
				apart = append(apart, fmt.Sprintf("%s (%s): %s", textfmt.Bucket(rows[0][pcol], grain), why, val(rows[0], m0)))
				rows = rows[1:]
			}
		}
		if len(rows) > 2 {
			if why := partialBucket(v.Caveats, rows[len(rows)-1][pcol], grain); why != "" {
				apart = append(apart, fmt.Sprintf("%s (%s): %s", textfmt.Bucket(rows[len(rows)-1][pcol], grain), why, val(rows[len(rows)-1], m0)))
				rows = rows[:len(rows)-1]
			}
		}
		sofar := ""
		if len(apart) > 0 {
			sofar = "; part " + textfmt.Plural(len(apart), grain, grain+"s") + ": " + strings.Join(apart, ", ")
		}
		first, last := rows[0], rows[len(rows)-1]
		hi := first
		mi := col(v, m0)
		for _, row := range rows[1:] {
			if greater(row[mi], hi[mi]) {
				hi = row
			}
		}
		s := fmt.Sprintf("%s per %s%s %s: %d %s, from %s in %s to %s in %s; highest %s in %s%s", textfmt.Capitalize(label0), grain, filters, period,
			len(v.Rows), textfmt.Plural(len(v.Rows), grain, grain+"s"), val(first, m0), textfmt.Bucket(first[pcol], grain), val(last, m0), textfmt.Bucket(last[pcol], grain),
			val(hi, m0), textfmt.Bucket(hi[pcol], grain), sofar)
		return s + source(prodName) + "."
	}
}

// namedSubject is the one name a call is filtered to ("Summer Special
// Offer"), which reads better than the product as the subject of a sentence.
func namedSubject(prod *catalog.Product, fs []tools.Filter) string {
	if prod == nil {
		return ""
	}
	nc := nameColumn(prod)
	for _, f := range fs {
		if f.Column == nc && nc != "" && f.Op == tools.OpEq {
			if s, ok := f.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// greater compares two JSON numbers.
func greater(a, b any) bool {
	x, ok1 := textfmt.DecimalText(a)
	y, ok2 := textfmt.DecimalText(b)
	if !ok1 || !ok2 {
		return ok1 && !ok2
	}
	fx, _ := json.Number(x).Float64()
	fy, _ := json.Number(y).Float64()
	return fx > fy
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// rowSummary writes one record briefly: its key, then a few fields.
func rowSummary(prod *catalog.Product, v *toolView, row []any, lead []string) string {
	if s, ok := auditRowSummary(v, row); ok {
		return s
	}
	key := ""
	if prod != nil && prod.KeyColumn != "" {
		if i := col(v, prod.KeyColumn); i >= 0 {
			key = textfmt.Cell(row[i])
		}
	}
	var fields []string
	seen := map[string]bool{}
	if prod != nil {
		seen[prod.KeyColumn] = true
	}
	add := func(c string) {
		i := col(v, c)
		if i < 0 || seen[c] || len(fields) >= 4 {
			return
		}
		seen[c] = true
		f := textfmt.Humanize(c) + " " + formatField(prod, c, row[i])
		// An amount in its row's currency says it: "amount 57,452.88 EUR",
		// where records ranked by amount mix currencies.
		if u := unitColumnOf(prod, c); u != "" {
			if j := col(v, u); j >= 0 && row[j] != nil {
				f += " " + textfmt.Cell(row[j])
				seen[u] = true
			}
		}
		fields = append(fields, f)
	}
	for _, c := range lead {
		add(c)
	}
	for _, c := range v.Columns {
		if c == "reason" || c == "arguments" || c == "question" || c == "hash" || c == "prev_hash" {
			continue
		}
		add(c)
	}
	s := strings.Join(fields, ", ")
	if key != "" {
		s = key + " (" + s + ")"
	}
	return s
}

// partialBucket says why the period bucket that starts on start holds only
// part of its days, from the caveats the tools gave ("so far", "cut by the
// period's start"), or "".
func partialBucket(caveats []string, start any, grain string) string {
	s, _ := start.(string)
	from, err := time.Parse("2006-01-02", s)
	if err != nil {
		return ""
	}
	// The bucket's whole period, as the tools name it in their caveats.
	bFrom, bEnd, ok := tools.GrainBounds(from, grain)
	if !ok {
		return "" // days: never cut, and none is said not over
	}
	text := textfmt.Period(bFrom.Format("2006-01-02") + ".." + bEnd.AddDate(0, 0, -1).Format("2006-01-02"))
	for _, c := range caveats {
		switch {
		case strings.HasPrefix(c, text+" is not over"):
			return "so far"
		case strings.HasPrefix(c, text+" is cut by the period's start"):
			return "cut by the period's start"
		case strings.HasPrefix(c, text+" is cut by the period's end"):
			return "cut by the period's end"
		}
	}
	return ""
}

// unitColumnOf is the column naming the unit of prod's column c, row by
// row (currency for amount), or "".
func unitColumnOf(prod *catalog.Product, c string) string {
	if prod == nil {
		return ""
	}
	u, _ := prod.UnitOfColumn(c)
	return u.UnitColumn
}

// twoPlaces formats a number with two decimals.
func twoPlaces(v any) string {
	if s, ok := textfmt.DecimalText(v); ok {
		return textfmt.GroupThousands(textfmt.RoundDecimal(s, 2))
	}
	return textfmt.Cell(v)
}

// formatField formats a record field by its column's type: decimals with
// two places, as the stores return them.
func formatField(prod *catalog.Product, column string, v any) string {
	if prod != nil {
		if c, ok := prod.Column(column); ok && c.Type == catalog.TypeNumber {
			if s, ok := textfmt.DecimalText(v); ok {
				return textfmt.GroupThousands(textfmt.RoundDecimal(s, 2))
			}
		}
	}
	return textfmt.Cell(v)
}

// auditRowSummary writes an access-log record as a reviewer reads it:
// when, who, what on which product, and the decision with its reason.
func auditRowSummary(v *toolView, row []any) (string, bool) {
	at, who, tool, prod, dec := col(v, "at"), col(v, "subject"), col(v, "tool"), col(v, "product"), col(v, "decision")
	if who < 0 || tool < 0 || prod < 0 || dec < 0 {
		return "", false
	}
	s := fmt.Sprint(row[who]) + " " + fmt.Sprint(row[tool])
	if p := fmt.Sprint(row[prod]); row[prod] != nil && p != "" {
		s += " on " + p
	}
	s += ": " + fmt.Sprint(row[dec])
	if r := col(v, "reason"); r >= 0 && row[r] != nil && fmt.Sprint(row[r]) != "" {
		s += " (" + fmt.Sprint(row[r]) + ")"
	}
	if at >= 0 {
		s = textfmt.Cell(row[at]) + " " + s
	}
	return s, true
}

func orderText(prod *catalog.Product, order []tools.OrderBy) string {
	if len(order) == 0 || prod == nil {
		return ""
	}
	o := order[0]
	desc := o.Direction == "desc"
	if o.Field == prod.TimeColumn {
		if desc {
			return ", most recent first"
		}
		return ", oldest first"
	}
	if desc {
		return ", largest " + textfmt.Humanize(o.Field) + " first"
	}
	return ", smallest " + textfmt.Humanize(o.Field) + " first"
}

func (p *Planner) recordsText(args tools.QueryRecordsArgs, v *toolView) string {
	prodName := firstNonEmpty(v.Product, args.Product)
	prod := p.product(prodName)
	period := inPeriod(v.TimeRange)
	filters := filterText(args.Filters)
	if len(v.Rows) == 0 {
		return fmt.Sprintf("No %s records match%s %s%s.", prodName, filters, period, source(prodName))
	}
	total := ""
	if v.TotalCount != nil && *v.TotalCount > int64(v.RowCount) {
		total = fmt.Sprintf(" (of %s matching)", textfmt.GroupThousands(fmt.Sprint(*v.TotalCount)))
	}
	var lead []string
	for _, o := range args.OrderBy {
		lead = append(lead, o.Field)
	}
	for _, f := range args.Filters {
		switch f.Op {
		case tools.OpGt, tools.OpGe, tools.OpLt, tools.OpLe, tools.OpBetween:
			lead = append(lead, f.Column) // "over 10,000": show the amount
		}
	}
	if prod != nil && prod.TimeColumn != "" {
		lead = append(lead, prod.TimeColumn)
	}
	shown := len(v.Rows)
	if shown > 5 {
		shown = 3
	}
	var rows []string
	for _, row := range v.Rows[:shown] {
		rows = append(rows, rowSummary(prod, v, row, lead))
	}
	n := max(v.RowCount, len(v.Rows))
	sep := ": "
	if shown < len(v.Rows) {
		sep = fmt.Sprintf(". The first %d: ", shown)
	}
	out := fmt.Sprintf("%s %s %s%s %s%s%s%s%s%s.", textfmt.GroupThousands(fmt.Sprint(n)), prodName, textfmt.Plural(n, "record", "records"),
		filters, period, total, orderText(prod, args.OrderBy), sep, strings.Join(rows, "; "), source(prodName))
	if len(args.OrderBy) > 0 {
		if u := unitColumnOf(prod, args.OrderBy[0].Field); u != "" && distinct(v, u) > 1 {
			out += fmt.Sprintf(" They are ranked by %s as recorded, each in its own %s, not converted.", textfmt.Humanize(args.OrderBy[0].Field), textfmt.Humanize(u))
		}
	}
	return out
}

// distinct counts the values of column c in v's rows.
func distinct(v *toolView, c string) int {
	i := col(v, c)
	if i < 0 {
		return 0
	}
	seen := map[string]bool{}
	for _, row := range v.Rows {
		seen[textfmt.Cell(row[i])] = true
	}
	return len(seen)
}

func (p *Planner) getText(args tools.GetRecordArgs, v *toolView) string {
	prodName := firstNonEmpty(v.Product, args.Product)
	prod := p.product(prodName)
	if len(v.Rows) == 0 {
		return fmt.Sprintf("There is no %s record %s that you may see%s.", prodName, args.ID, source(prodName))
	}
	row := v.Rows[0]
	var fields []string
	for i, c := range v.Columns {
		if prod != nil && c == prod.KeyColumn {
			continue
		}
		fields = append(fields, textfmt.Humanize(c)+": "+formatField(prod, c, row[i]))
	}
	return fmt.Sprintf("%s record %s: %s%s.", prodName, args.ID, strings.Join(fields, "; "), source(prodName))
}

func (p *Planner) anomaliesText(args tools.FindAnomaliesArgs, v *toolView) string {
	prodName := firstNonEmpty(v.Product, args.Product)
	prod := p.product(prodName)
	period := inPeriod(v.TimeRange)
	filters := filterText(args.Filters)
	if len(v.Rows) == 0 {
		return fmt.Sprintf("No unusual %s records%s %s%s.", prodName, filters, period, source(prodName))
	}
	rule := ""
	measure, group := "", ""
	if prod != nil && prod.Anomalies != nil {
		measure, group = prod.Anomalies.Column, prod.Anomalies.GroupBy
		rule = fmt.Sprintf(" (%s more than %g standard deviations above the mean of its %s)", textfmt.Humanize(measure), prod.Anomalies.StdDevs, textfmt.Humanize(group))
	}
	shown := min(len(v.Rows), 3)
	var rows []string
	mi, si, gi := col(v, measure), col(v, "std_devs_above"), col(v, "group_mean")
	for _, row := range v.Rows[:shown] {
		key := ""
		if prod != nil {
			if i := col(v, prod.KeyColumn); i >= 0 {
				key = textfmt.Cell(row[i]) + " "
			}
		}
		s := key
		if mi >= 0 {
			s += textfmt.Humanize(measure) + " " + formatField(prod, measure, row[mi])
		}
		if si >= 0 && gi >= 0 {
			s += fmt.Sprintf(" (%s standard deviations above its %s's mean of %s)", twoPlaces(row[si]), textfmt.Humanize(group), twoPlaces(row[gi]))
		}
		rows = append(rows, strings.TrimSpace(s))
	}
	more := ""
	if len(v.Rows) > shown {
		more = "; the table lists all of them"
	}
	n := max(v.RowCount, len(v.Rows))
	return fmt.Sprintf("%d unusual %s %s%s %s%s, the most unusual first: %s%s%s.", n, prodName, textfmt.Plural(n, "record", "records"),
		filters, period, rule, strings.Join(rows, "; "), more, source(prodName))
}

// piiText answers "who read pii": per pii column, the subjects that
// received it, from one grouped count per column.
func (p *Planner) piiText(outs []outcome) string {
	var lines []string
	product, period, prodName := "", "", ""
	anyone := false
	for _, o := range outs {
		if o.status != statusOK || o.call.Name != tools.ToolQueryMetrics {
			continue
		}
		var args tools.QueryMetricsArgs
		_ = json.Unmarshal(o.call.Arguments, &args)
		column := ""
		for _, f := range args.Filters {
			switch f.Column {
			case "columns":
				column = strings.Trim(fmt.Sprint(f.Value), `"`)
			case "product":
				product = fmt.Sprint(f.Value)
			}
		}
		v := o.view
		prodName = firstNonEmpty(v.Product, args.Product)
		period = inPeriod(v.TimeRange)
		si, mi := col(v, "subject"), -1
		if len(args.Metrics) > 0 {
			mi = col(v, args.Metrics[0])
		}
		var who []string
		for _, row := range v.Rows {
			if si < 0 || mi < 0 {
				break
			}
			who = append(who, fmt.Sprintf("%s (%s %s)", textfmt.Cell(row[si]), textfmt.Cell(row[mi]), textfmt.Plural(countOf(row[mi]), "call", "calls")))
		}
		if len(who) == 0 {
			lines = append(lines, fmt.Sprintf("- %s of %s: nobody", column, product))
			continue
		}
		anyone = true
		lines = append(lines, fmt.Sprintf("- %s of %s: %s", column, product, strings.Join(who, ", ")))
	}
	if len(lines) == 0 {
		return ""
	}
	if !anyone {
		return fmt.Sprintf("Nobody received personal (pii) columns %s%s.", period, source(prodName))
	}
	return fmt.Sprintf("People who received personal (pii) columns %s, masked or not%s:\n%s", period, source(prodName), strings.Join(lines, "\n"))
}

func countOf(v any) int {
	s, _ := textfmt.DecimalText(v)
	if s == "1" {
		return 1
	}
	return 2
}
