package brief

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/textfmt"
	"github.com/askmesh/askmesh/tools"
)

// newCard lays out one headline metric of a headline call's row; code is
// the row's currency for an amount per currency, else "".
func newCard(p *catalog.Product, h *Outcome, v *View, row []any, m string, md catalog.Metric, code string) assistant.BriefCard {
	label := textfmt.Capitalize(humanize(m))
	money := func(s string) string { return s }
	if code != "" {
		label += " (" + code + ")"
		money = func(s string) string { return code + " " + s }
	}
	c := assistant.BriefCard{Product: p.Name, Metric: m, Label: label, Value: money(textfmt.Metric(at(v, row, m), md.Unit, md.Precision)),
		Number: cell(at(v, row, m)), Unit: md.Unit, Currency: code, Source: sourceOf(h), Filters: filtersOf(h)}
	if prev := at(v, row, m+"_previous"); prev != nil {
		c.Previous = money(textfmt.Metric(prev, md.Unit, md.Precision))
	}
	change := at(v, row, m+"_change")
	if md.Unit == "ratio" {
		if change != nil {
			c.Change = assistant.DisplayCell(change, tools.ResultColumn{Unit: "ratio", Role: tools.RoleChange}, nil, nil)
		}
	} else if pct := at(v, row, m+"_change_pct"); pct != nil {
		c.Change = textfmt.Pct(pct)
	}
	if d, ok := float(change); ok && c.Change != "" {
		switch {
		case strings.Trim(c.Change, "+-0.% pts") == "":
			c.Direction = assistant.DirectionFlat
		case d > 0:
			c.Direction = assistant.DirectionUp
		case d < 0:
			c.Direction = assistant.DirectionDown
		}
	}
	return c
}

// filtersOf are the filters behind a call's figures: the asker's (none in
// a brief's headline calls) and the ones policy added.
func filtersOf(o *Outcome) []assistant.ProvenanceFilter {
	var out []assistant.ProvenanceFilter
	var args tools.QueryMetricsArgs
	_ = json.Unmarshal(o.Item.Call.Arguments, &args)
	for _, f := range args.Filters {
		out = append(out, assistant.ProvenanceFilter{Column: f.Column, Op: f.Op, Value: f.Value, Origin: "question"})
	}
	if o.Result != nil {
		for _, f := range o.Result.PolicyFilters {
			out = append(out, assistant.ProvenanceFilter{Column: f.Column, Op: f.Op, Value: f.Value, Origin: "policy"})
		}
	}
	return out
}

// addTrend fills a card's sparkline from its product's trend call: the
// metric month by month (in the card's currency, or summed over
// currencies for a count the executor split by them), the month in
// progress marked partial.
func addTrend(c *assistant.BriefCard, pp *perProduct, o Options) {
	if pp == nil || pp.trend == nil || pp.trend.Status != StatusOK || pp.trend.View == nil {
		return
	}
	v := pp.trend.View
	pi, mi := v.col("period"), v.col(c.Metric)
	if pi < 0 || mi < 0 {
		return
	}
	ci := -1
	if c.Currency != "" {
		for i := range v.Columns {
			if i != pi && i != mi && slices.ContainsFunc(v.Rows, func(r []any) bool { return r[i] == c.Currency }) {
				ci = i
			}
		}
		if ci < 0 {
			return
		}
	}
	sums := map[string]float64{}
	var periods []string
	for _, r := range v.Rows {
		if ci >= 0 && r[ci] != c.Currency {
			continue
		}
		per, _ := r[pi].(string)
		y, ok := float(r[mi])
		if per == "" || !ok {
			continue
		}
		if _, seen := sums[per]; !seen {
			periods = append(periods, per)
		}
		sums[per] += y
	}
	slices.Sort(periods)
	partial := partialMonth(o.Now)
	for _, per := range periods {
		y := sums[per]
		shown := textfmt.Metric(json.Number(fmt.Sprint(y)), c.Unit, precisionOf(c.Unit))
		if c.Currency != "" {
			shown = c.Currency + " " + shown
		}
		c.Trend = append(c.Trend, assistant.TrendPoint{Period: per, Label: monthLabel(per), Value: y, Shown: shown, Partial: per == partial})
	}
	src := sourceOf(pp.trend)
	c.TrendSource = &src
}

func precisionOf(unit string) int {
	switch unit {
	case "ratio":
		return 4
	case "count":
		return 0
	}
	return 2
}

// monthLabel is "Oct 2026" for the month starting on day (2026-10-01).
func monthLabel(day string) string {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return day
	}
	return t.Format("Jan 2006")
}

// withheldPart is a part of the brief policy withholds. A product the
// asker may not even describe is not named, and policy's reason (which
// would name it) is not given.
func withheldPart(acc Access, product, what, why string) assistant.BriefWithheld {
	if !acc.nameable(product) {
		return assistant.BriefWithheld{What: "a data product you may not see", Reason: "policy does not let you describe it"}
	}
	return assistant.BriefWithheld{Product: product, What: what, Reason: reason(why)}
}

// withheldText is the sentence naming what is withheld: each part the
// asker may know of with policy's reason, then how many others.
func withheldText(parts []assistant.BriefWithheld) string {
	var named []string
	hidden := 0
	for _, w := range parts {
		if w.Product == "" {
			hidden++
			continue
		}
		named = append(named, fmt.Sprintf("%s (%s)", w.What, w.Reason))
	}
	if hidden > 0 {
		named = append(named, fmt.Sprintf("%d %s you may not see", hidden, textfmt.Plural(hidden, "other data product", "other data products")))
	}
	if len(named) == 0 {
		return ""
	}
	return "Withheld from you: " + strings.Join(named, "; ") + "."
}

// headline is the brief's first sentence: the period and the biggest move.
func headline(period, cmpPeriod string, moves []move, products, withheld int) string {
	s := period
	if cmpPeriod != "" {
		s += " against " + cmpPeriod
	}
	s += ": "
	top := slices.Clone(moves)
	slices.SortStableFunc(top, func(a, b move) int {
		x, y := abs(a.pct), abs(b.pct)
		switch {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return strings.Compare(a.what, b.what)
	})
	up := 0
	for _, m := range moves {
		if m.pct > 0 {
			up++
		}
	}
	if len(top) > 0 {
		verb := "rose"
		if top[0].pct < 0 {
			verb = "fell"
		}
		s += fmt.Sprintf("%s %s %s, the biggest move; %d of %d headline figures rose",
			top[0].what, verb, strings.TrimLeft(top[0].text, "+-"), up, len(moves))
	} else {
		s += fmt.Sprintf("%d %s briefed", products, textfmt.Plural(products, "product", "products"))
	}
	if withheld > 0 {
		s += fmt.Sprintf("; %d %s withheld", withheld, textfmt.Plural(withheld, "part", "parts"))
	}
	return s + "."
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// sourcesOf folds a brief's calls into one disclosure.
func sourcesOf(outs []Outcome, products []string, withheld int) assistant.BriefSources {
	s := assistant.BriefSources{Withheld: withheld, Products: slices.Clone(products)}
	for _, o := range outs {
		if !o.Withheld {
			s.Queries++
		}
	}
	return s
}
