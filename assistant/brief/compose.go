package brief

import (
	"encoding/json"
	"fmt"
	"github.com/askmesh/askmesh/internal/textfmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// perProduct gathers one product's outcomes.
type perProduct struct {
	headline, contributor, anomalies, related, trend *Outcome
}

// Compose writes the brief from the outcomes of its calls: the text (one
// line per product, then what was withheld and the sources), a table of the
// headline metrics, a table of the top contributors, the unusual records,
// and one chart of the changes. Sources and denials are filled from
// outcomes that carry audit ids (Build's); the agent fills them otherwise.
func Compose(cat tools.Catalog, o Options, outs []Outcome) *assistant.Answer {
	o = o.withDefaults()
	by := map[string]*perProduct{}
	for i := range outs {
		out := &outs[i]
		pp := by[out.Item.Product]
		if pp == nil {
			pp = &perProduct{}
			by[out.Item.Product] = pp
		}
		switch out.Item.Kind {
		case KindHeadline:
			pp.headline = out
		case KindContributor:
			pp.contributor = out
		case KindAnomalies:
			pp.anomalies = out
		case KindRelated:
			pp.related = out
		case KindTrend:
			pp.trend = out
		}
	}
	ans := &assistant.Answer{}
	period, cmpPeriod := periodsOf(outs)
	if period == "" {
		period = humanize(o.Period)
	}
	var lines, sources []string
	var withheld []assistant.BriefWithheld
	bf := &assistant.Brief{Period: period, ComparePeriod: cmpPeriod}
	headTable := assistant.Table{Columns: []tools.ResultColumn{
		{Name: "product", Type: catalog.TypeString, Role: tools.RoleDimension},
		{Name: "metric", Type: catalog.TypeString, Role: tools.RoleDimension},
		{Name: "value", Type: catalog.TypeNumber, Role: tools.RoleMetric},
		{Name: "previous", Type: catalog.TypeNumber, Role: tools.RolePrevious},
		{Name: "change", Type: catalog.TypeNumber, Role: tools.RoleChange},
		{Name: "change_pct", Type: catalog.TypeNumber, Role: tools.RoleChangePct, Unit: "percent"},
	}}
	topTable := assistant.Table{Columns: []tools.ResultColumn{
		{Name: "product", Type: catalog.TypeString, Role: tools.RoleDimension},
		{Name: "by", Type: catalog.TypeString, Role: tools.RoleDimension},
		{Name: "group", Type: catalog.TypeString, Role: tools.RoleDimension},
		{Name: "metric", Type: catalog.TypeString, Role: tools.RoleDimension},
		{Name: "value", Type: catalog.TypeNumber, Role: tools.RoleMetric},
	}}
	chart := assistant.Chart{Kind: assistant.ChartBar, XLabel: "metric", YLabel: "change_pct", Unit: "%",
		Title: "Change from " + orWord(cmpPeriod, "the previous period") + " to " + period + " (%)"}
	changes := assistant.Series{Name: "change %"}
	var moves []move

	for _, p := range Products(cat, o) {
		pp := by[p.Name]
		if pp == nil || pp.headline == nil {
			continue
		}
		name := textfmt.Capitalize(humanize(p.Name))
		h := pp.headline
		switch h.Status {
		case StatusDenied:
			withheld = append(withheld, withheldPart(o.Access, p.Name, p.Name, h.Message))
			continue
		case StatusError:
			lines = append(lines, fmt.Sprintf("- %s: could not be read: %s.", name, reason(h.Message)))
			continue
		}
		addSource(&sources, p.Name)
		v := h.View
		var parts []string
		if len(v.Rows) > 0 {
			row := v.Rows[0]
			var args tools.QueryMetricsArgs
			_ = json.Unmarshal(h.Item.Call.Arguments, &args)
			for _, m := range args.Metrics {
				mi := v.col(m)
				if mi < 0 {
					continue
				}
				md, _ := p.Metric(m)
				if u, ok := p.UnitOf(m); ok && v.col(u.UnitColumn) >= 0 {
					// Amounts in several currencies: one figure per currency.
					var per []string
					for _, r := range v.Rows {
						code := fmt.Sprint(at(v, r, u.UnitColumn))
						per = append(per, code+" "+textfmt.Metric(r[mi], md.Unit, md.Precision)+changeText(v, r, m, md))
						bf.Cards = append(bf.Cards, newCard(p, h, v, r, m, md, code))
						headTable.Rows = append(headTable.Rows, []any{p.Name, m + " (" + code + ")", cell(r[mi]), cellAt(v, r, m+"_previous"),
							cellAt(v, r, m+"_change"), cellAt(v, r, m+"_change_pct")})
						if pct, ok := float(at(v, r, m+"_change_pct")); ok {
							changes.Points = append(changes.Points, assistant.Point{X: p.Name + " · " + m + " · " + code, Y: pct})
							moves = append(moves, move{what: humanize(m) + " in " + code + " (" + p.Name + ")", pct: pct, text: textfmt.Pct(at(v, r, m+"_change_pct"))})
						}
					}
					parts = append(parts, humanize(m)+" by "+humanize(u.UnitColumn)+": "+strings.Join(per, "; "))
					continue
				}
				// A count split by currency alongside the amounts adds up.
				row := row
				if len(v.Rows) > 1 {
					row = summed(v, m)
				}
				parts = append(parts, humanize(m)+" "+textfmt.Metric(row[mi], md.Unit, md.Precision)+changeText(v, row, m, md))
				bf.Cards = append(bf.Cards, newCard(p, h, v, row, m, md, ""))
				headTable.Rows = append(headTable.Rows, []any{p.Name, m, cell(row[mi]), cellAt(v, row, m+"_previous"),
					cellAt(v, row, m+"_change"), cellAt(v, row, m+"_change_pct")})
				if pct, ok := float(at(v, row, m+"_change_pct")); ok {
					changes.Points = append(changes.Points, assistant.Point{X: p.Name + " · " + m, Y: pct})
					moves = append(moves, move{what: humanize(m) + " (" + p.Name + ")", pct: pct, text: textfmt.Pct(at(v, row, m+"_change_pct"))})
				}
			}
		}
		if len(parts) == 0 {
			parts = append(parts, "no data "+inPeriod(period))
		}
		line := "- " + name + ": " + strings.Join(parts, "; ") + "."
		if c := pp.contributor; c != nil {
			switch c.Status {
			case StatusDenied:
				withheld = append(withheld, withheldPart(o.Access, p.Name, fmt.Sprintf("the top %s of %s", dimLabel(p.Name, c.Item.Dimension), p.Name), c.Message))
			case StatusOK:
				line += contributorText(p, c, pp.related, cat, o.Access, &withheld, &sources, &topTable, &bf.Movers)
			}
		}
		if a := pp.anomalies; a != nil {
			switch a.Status {
			case StatusDenied:
				withheld = append(withheld, withheldPart(o.Access, p.Name, "unusual records of "+p.Name, a.Message))
			case StatusOK:
				line += " " + anomaliesText(p, a.View)
				if n := max(a.View.RowCount, len(a.View.Rows)); n > 0 {
					bf.Anomalies = append(bf.Anomalies, assistant.BriefAnomaly{Product: p.Name, Count: n, Text: anomaliesText(p, a.View), Source: sourceOf(a)})
				}
				if len(a.View.Rows) > 0 {
					t := assistant.Table{Title: "Unusual " + p.Name + " records · " + period, TotalRows: int64(a.View.RowCount)}
					for _, c := range a.View.Columns {
						t.Columns = append(t.Columns, tools.ResultColumn{Name: c})
					}
					if a.Result != nil {
						t.Columns = a.Result.Columns
					}
					for _, r := range a.View.Rows {
						row := make([]any, len(r))
						for i, x := range r {
							row[i] = cell(x)
						}
						t.Rows = append(t.Rows, row)
					}
					t.Source = sourceOf(a)
					ans.Tables = append(ans.Tables, t)
				}
			}
		}
		if notes := policyNotes(pp); len(notes) > 0 {
			line += " " + strings.Join(notes, " ")
			headTable.Notes = append(headTable.Notes, notes...)
			bf.Notes = append(bf.Notes, notes...)
		}
		lines = append(lines, line)
	}

	var text []string
	head := "Executive brief for " + period
	if cmpPeriod != "" {
		head += ", compared with " + cmpPeriod
	}
	text = append(text, head+".")
	if s := movesText(moves); s != "" {
		text = append(text, s)
	}
	text = append(text, lines...)
	if len(lines) == 0 && len(withheld) == 0 {
		text = append(text, "There is nothing to brief on: no data product declares headline metrics.")
	}
	if n := len(candidates(cat, o)); n > o.MaxProducts {
		text = append(text, fmt.Sprintf("This brief covers the first %d of the %s products with headline metrics; name a product for a brief of it.", o.MaxProducts, textfmt.GroupThousands(fmt.Sprint(n))))
	}
	if s := withheldText(withheld); s != "" {
		text = append(text, s)
	}
	if len(sources) > 0 {
		text = append(text, "Sources: "+strings.Join(sources, ", ")+"; each figure's audit record is listed with the sources.")
	}
	ans.Text = strings.Join(text, "\n")
	for i := range bf.Cards {
		addTrend(&bf.Cards[i], by[bf.Cards[i].Product], o)
	}
	bf.Withheld = withheld
	bf.Headline = headline(period, cmpPeriod, moves, len(lines), len(withheld))
	bf.Sources = sourcesOf(outs, sources, len(withheld))
	if len(lines) == 0 && len(withheld) == 0 {
		bf.Headline = "There is nothing to brief on: no data product declares headline metrics."
	}
	ans.Brief = bf

	// Tables lead with the headline metrics; the unusual records follow.
	var tables []assistant.Table
	if len(headTable.Rows) > 0 {
		headTable.Title = "Headline metrics · " + period
		if cmpPeriod != "" {
			headTable.Title += " vs " + cmpPeriod
		}
		headTable.TotalRows = int64(len(headTable.Rows))
		headTable.Source = firstSource(outs, KindHeadline)
		tables = append(tables, headTable)
	}
	if len(topTable.Rows) > 0 {
		topTable.Title = "Top contributors · " + period
		topTable.TotalRows = int64(len(topTable.Rows))
		topTable.Source = firstSource(outs, KindContributor)
		tables = append(tables, topTable)
	}
	ans.Tables = append(tables, ans.Tables...)
	if len(changes.Points) > 0 {
		chart.Series = []assistant.Series{changes}
		chart.Source = firstSource(outs, KindHeadline)
		ans.Charts = []assistant.Chart{chart}
	}
	for i := range outs {
		out := &outs[i]
		switch {
		case out.AuditID == "":
		case out.Status == StatusOK:
			ans.Sources = append(ans.Sources, sourceOf(out))
		case out.Status == StatusDenied:
			ans.Denials = append(ans.Denials, assistant.Denial{Product: assistant.ProductArg(out.Item.Call.Arguments), Tool: out.Item.Call.Tool,
				Reason: out.Message, AuditID: out.AuditID})
		}
	}
	return ans
}

// move is a headline metric's change, for "biggest moves".
type move struct {
	what, text string
	pct        float64
}

// notableMove is the change worth leading a brief with.
const notableMove = 20.0

// movesText leads the brief with the largest changes (at least 20% either
// way, at most three), largest first.
func movesText(moves []move) string {
	// A copy: DeleteFunc clears the tail it drops, and the headline reads
	// every move after this.
	moves = slices.DeleteFunc(slices.Clone(moves), func(m move) bool { return m.pct < notableMove && m.pct > -notableMove })
	slices.SortStableFunc(moves, func(a, b move) int {
		x, y := a.pct, b.pct
		if x < 0 {
			x = -x
		}
		if y < 0 {
			y = -y
		}
		switch {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return strings.Compare(a.what, b.what)
	})
	if len(moves) == 0 {
		return ""
	}
	var parts []string
	for _, m := range moves[:min(len(moves), 3)] {
		parts = append(parts, m.what+" "+m.text)
	}
	return "Biggest moves: " + strings.Join(parts, ", ") + "."
}

// contributorText names the top contributor, with the related product's
// rate for it when that was fetched.
func contributorText(p *catalog.Product, c, rel *Outcome, cat tools.Catalog, acc Access, withheld *[]assistant.BriefWithheld, sources *[]string,
	t *assistant.Table, movers *[]assistant.BriefMover) string {
	v := c.View
	di, mi := v.col(c.Item.Dimension), v.col(c.Item.Metric)
	if di < 0 || mi < 0 || len(v.Rows) == 0 {
		return ""
	}
	md, _ := p.Metric(c.Item.Metric)
	for _, r := range v.Rows {
		t.Rows = append(t.Rows, []any{p.Name, c.Item.Dimension, cell(r[di]), c.Item.Metric, cell(r[mi])})
	}
	top := v.Rows[0]
	mv := assistant.BriefMover{Product: p.Name, Dimension: dimLabel(p.Name, c.Item.Dimension), Group: textfmt.Cell(top[di]),
		Metric: humanize(c.Item.Metric), Value: textfmt.Metric(top[mi], md.Unit, md.Precision), Source: sourceOf(c)}
	defer func() { *movers = append(*movers, mv) }()
	s := fmt.Sprintf(" Top %s: %s (%s %s", mv.Dimension, mv.Group, mv.Metric, mv.Value)
	if rel != nil {
		rp := assistant.ProductArg(rel.Item.Call.Arguments)
		switch rel.Status {
		case StatusDenied:
			*withheld = append(*withheld, withheldPart(acc, rp, fmt.Sprintf("the %s of %s", humanize(rel.Item.Metric), rel.Item.Value), rel.Message))
		case StatusOK:
			if ri := rel.View.col(rel.Item.Metric); ri >= 0 && len(rel.View.Rows) > 0 && rel.View.Rows[0][ri] != nil {
				unit, prec := "", 2
				if q, ok := cat.Get(rp); ok {
					if m, ok := q.Metric(rel.Item.Metric); ok {
						unit, prec = m.Unit, m.Precision
					}
				}
				mv.Detail = fmt.Sprintf("%s %s over all its data, per %s", humanize(rel.Item.Metric), textfmt.Metric(rel.View.Rows[0][ri], unit, prec), rp)
				s += fmt.Sprintf("; its %s is %s over all its data, per %s", humanize(rel.Item.Metric), textfmt.Metric(rel.View.Rows[0][ri], unit, prec), rp)
				addSource(sources, rp)
			}
		}
	}
	return s + ")."
}

// changeText says how a metric moved: ", up 34.0% from 297" or, for a
// rate, ", up 2.62 points (+3.9%) from 65.28%": a relative change alone
// would obscure what a rate did.
func changeText(v *View, row []any, m string, md catalog.Metric) string {
	if v.col(m+"_previous") < 0 {
		return ""
	}
	prev, pct := at(v, row, m+"_previous"), at(v, row, m+"_change_pct")
	if prev == nil {
		return ", with no earlier value to compare with"
	}
	pv := textfmt.Metric(prev, md.Unit, md.Precision)
	if md.Unit == "ratio" {
		d, ok := textfmt.DecimalText(at(v, row, m+"_change"))
		if !ok {
			return ", compared with " + pv
		}
		pts := textfmt.RoundDecimal(textfmt.ShiftPoint(d, 2), max(md.Precision-2, 0))
		rel := ""
		if pct != nil {
			rel = " (" + textfmt.Pct(pct) + ")"
		}
		switch {
		case strings.Trim(pts, "-0.") == "":
			return ", about the same as " + pv
		case strings.HasPrefix(pts, "-"):
			return ", down " + strings.TrimPrefix(pts, "-") + " points" + rel + " from " + pv
		}
		return ", up " + pts + " points" + rel + " from " + pv
	}
	if pct == nil {
		return ", compared with " + pv
	}
	s := textfmt.Pct(pct)
	switch {
	case s == "0.0%":
		return ", about the same as " + pv
	case strings.HasPrefix(s, "-"):
		return ", down " + strings.TrimPrefix(s, "-") + " from " + pv
	}
	return ", up " + strings.TrimPrefix(s, "+") + " from " + pv
}

// anomaliesText counts the unusual records and names the most unusual.
func anomaliesText(p *catalog.Product, v *View) string {
	n := max(v.RowCount, len(v.Rows))
	if n == 0 {
		return "No unusual records."
	}
	count := fmt.Sprint(n)
	if n >= anomalyLimit {
		count = "At least " + count
	}
	s := fmt.Sprintf("%s unusual %s", count, textfmt.Plural(n, "record", "records"))
	row := v.Rows[0]
	var detail []string
	if p.Anomalies != nil {
		if i := v.col(p.Anomalies.Column); i >= 0 {
			val := textfmt.Cell(row[i])
			if c, ok := p.Column(p.Anomalies.Column); ok && c.Type == catalog.TypeNumber {
				if d, ok := textfmt.DecimalText(row[i]); ok {
					val = textfmt.GroupThousands(textfmt.RoundDecimal(d, 2)) // an amount, as the stores keep it
				}
			}
			detail = append(detail, humanize(p.Anomalies.Column)+" "+val)
		}
		if i := v.col("std_devs_above"); i >= 0 {
			if sd, ok := textfmt.DecimalText(row[i]); ok {
				detail = append(detail, textfmt.RoundDecimal(sd, 1)+" standard deviations above its "+humanize(p.Anomalies.GroupBy)+"'s mean")
			}
		}
	}
	key := ""
	if i := v.col(p.KeyColumn); i >= 0 {
		key = textfmt.Cell(row[i])
	}
	if key != "" || len(detail) > 0 {
		s += "; the most unusual: " + strings.TrimSpace(key+" ("+strings.Join(detail, ", ")+")")
	}
	return s + "."
}

// policyNotes are what policy did to a product's figures ("only rows where
// region = europe (policy)"), said once: a brief must not pass a filtered
// figure off as the whole.
func policyNotes(pp *perProduct) []string {
	var out []string
	for _, o := range []*Outcome{pp.headline, pp.contributor, pp.anomalies} {
		if o == nil || o.View == nil {
			continue
		}
		for _, n := range o.View.Notes {
			n = strings.TrimSpace(n)
			if !strings.HasSuffix(n, "(policy)") && !strings.HasPrefix(n, "withheld by policy") {
				continue
			}
			n = textfmt.Capitalize(strings.TrimSuffix(n, ".")) + "."
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// periodsOf reads the period and comparison period from the first
// headline result that has them.
func periodsOf(outs []Outcome) (string, string) {
	for _, o := range outs {
		if o.Item.Kind == KindHeadline && o.Status == StatusOK && o.View.TimeRange != "" {
			cmp := ""
			if o.View.CompareRange != "" {
				cmp = textfmt.Period(o.View.CompareRange)
			}
			return textfmt.Period(o.View.TimeRange), cmp
		}
	}
	return "", ""
}

func at(v *View, row []any, name string) any {
	if i := v.col(name); i >= 0 && i < len(row) {
		return row[i]
	}
	return nil
}

func cellAt(v *View, row []any, name string) any { return cell(at(v, row, name)) }

func sourceOf(o *Outcome) assistant.Source {
	s := assistant.Source{Product: assistant.ProductArg(o.Item.Call.Arguments), Tool: o.Item.Call.Tool, Arguments: o.Item.Call.Arguments, AuditID: o.AuditID}
	if o.Result != nil {
		s.TimeRange = o.Result.TimeRange
	}
	return s
}

func firstSource(outs []Outcome, kind string) assistant.Source {
	for i := range outs {
		if outs[i].Item.Kind == kind && outs[i].Status == StatusOK {
			return sourceOf(&outs[i])
		}
	}
	return assistant.Source{}
}

func addSource(list *[]string, product string) {
	for _, s := range *list {
		if s == product {
			return
		}
	}
	*list = append(*list, product)
}

// dimLabel names a dimension as a noun: campaign_name -> campaign, and a
// product's own name column by what the product holds (marketing-campaigns
// -> campaign).
func dimLabel(product, d string) string {
	if d == "name" {
		last := product[strings.LastIndex(product, "-")+1:]
		if s, ok := strings.CutSuffix(last, "s"); ok && s != "" {
			return s
		}
		return last
	}
	return humanize(strings.TrimSuffix(d, "_name"))
}

func reason(s string) string { return strings.TrimSuffix(strings.TrimSpace(s), ".") }

func inPeriod(p string) string { return "in " + p }

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// summed is a row holding metric m, its previous value, change and percent
// change added up over all rows: a count the executor split by currency
// (because amounts in the same call are per currency) is still one count.
func summed(v *View, m string) []any {
	row := make([]any, len(v.Columns))
	var cur, prev float64
	hasPrev := false
	for _, r := range v.Rows {
		c, _ := float(at(v, r, m))
		cur += c
		if p, ok := float(at(v, r, m+"_previous")); ok {
			prev += p
			hasPrev = true
		}
	}
	num := func(f float64) json.Number { return json.Number(strconv.FormatFloat(f, 'f', -1, 64)) }
	set := func(name string, val any) {
		if i := v.col(name); i >= 0 {
			row[i] = val
		}
	}
	set(m, num(cur))
	if hasPrev {
		set(m+"_previous", num(prev))
		set(m+"_change", num(cur-prev))
		if prev != 0 {
			set(m+"_change_pct", num(math.Round((cur-prev)/prev*10000)/100))
		}
	}
	return row
}
