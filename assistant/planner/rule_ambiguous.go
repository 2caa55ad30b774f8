package planner

import (
	"fmt"
	"math"
	"strings"

	"github.com/askmesh/askmesh/assistant"
)

// ruleAmbiguous asks back when two or more products fit a question equally
// ("average amount last month": loan-applications or customer-
// transactions) instead of taking the first the search ranks. Each choice
// is the question with the product named, which the table reads without
// asking again.
var ruleAmbiguous = rule{
	name: "ambiguous-product",
	applies: func(f *features) bool {
		return f.product != nil && f.audit == nil && len(f.scores) >= 2 && math.Abs(f.scores[0].score-f.scores[1].score) < 1e-9 &&
			metricTie(f)
	},
	plan: func(p *Planner, a *analysis, f *features) *intent {
		c := &assistant.Clarification{}
		var names []string
		q := strings.TrimRight(strings.TrimSpace(a.q), "?.! ")
		for _, s := range f.scores {
			if math.Abs(s.score-f.scores[0].score) >= 1e-9 || len(c.Options) == 3 {
				break
			}
			names = append(names, s.product.Name)
			c.Options = append(c.Options, assistant.ClarificationOption{
				Label:    s.product.Name,
				Question: fmt.Sprintf("%s (%s)?", q, s.product.Name),
			})
		}
		c.Question = "That question fits more than one data product: " + strings.Join(names, " or ") + ". Which do you mean?"
		return &intent{kind: kindNote, outcome: assistant.OutcomeClarify, clarify: c, notes: []string{c.Question + optionsText(c)}}
	},
}

// optionsText lists the choices in the text too, for channels that show
// only text.
func optionsText(c *assistant.Clarification) string {
	var b strings.Builder
	for _, o := range c.Options {
		fmt.Fprintf(&b, "\n- %s: %q", o.Label, o.Question)
	}
	return b.String()
}

// metricTie reports whether the tied products fit by what the question
// asks of them (a metric or column each: "average amount"), not by their
// names: a question naming products is about the products it names.
func metricTie(f *features) bool {
	for _, s := range f.scores {
		if math.Abs(s.score-f.scores[0].score) >= 1e-9 {
			break
		}
		asked, named := false, false
		for _, m := range f.a.ms {
			if m.product != s.product {
				continue
			}
			switch m.kind {
			case mMetric, mColumn:
				asked = true
			case mName, mNamePart, mSynonym:
				named = true
			}
		}
		if !asked || named {
			return false
		}
	}
	return true
}
