package planner

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/textfmt"
	"github.com/askmesh/askmesh/tools"
)

var definitionRe = regexp.MustCompile(`\b(?:how (?:is|are|do (?:we|you)|does (?:the bank|askmesh)) .*\b(?:defined|define|calculated|calculate|computed|compute|measured|measure|counted)|definition of|define|what counts as|what does .* mean|what is meant by|meaning of|formula (?:for|of))\b`)

// ruleDefinition answers "how is conversion rate defined?" from the
// metric's descriptor — expression, unit, owner, time column — and not with
// its value. The product is described through the executor, so the
// question is authorized and audited like any other.
var ruleDefinition = rule{
	name:    "definition",
	applies: func(f *features) bool { return f.definition },
	plan: func(p *Planner, a *analysis, f *features) *intent {
		for _, m := range a.ms {
			if m.kind != mMetric {
				continue
			}
			if f.product != nil && m.product != f.product {
				continue
			}
			metric, ok := m.product.Metric(m.metric)
			if !ok {
				continue
			}
			return &intent{kind: kindData, product: m.product, define: &metric,
				calls: []plannedCall{{tools.ToolDescribe, tools.DescribeArgs{Product: m.product.Name}}}}
		}
		if len(f.unmatched) > 0 {
			return nil // the unmatched rule names what is missing
		}
		return &intent{kind: kindNote, outcome: assistant.OutcomeDeclined, notes: []string{
			"I could not tell which metric you want defined; the catalog's metrics are listed by \"describe <product>\"."}}
	},
}

// definitionText is the metric's definition as the descriptor states it.
func (p *Planner) definitionText(in *intent, outs []outcome) string {
	m := in.define
	prod := in.product
	for _, o := range outs {
		if o.status == statusDenied {
			return "I can't show that: " + strings.TrimSuffix(o.msg, ".") + "."
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s of %s is defined as %s", textfmtCap(textfmt.Humanize(m.Name)), prod.Name, m.Expression)
	if m.Description != "" {
		fmt.Fprintf(&b, ": %s", strings.ToLower(m.Description[:1])+m.Description[1:])
	}
	if !strings.HasSuffix(b.String(), ".") {
		b.WriteString(".")
	}
	if m.Unit != "" {
		unit := m.Unit
		if unit == "ratio" {
			unit = "ratio, shown as a percentage"
		}
		fmt.Fprintf(&b, " Unit: %s.", unit)
	}
	b.WriteString(" Filters: none beyond the expression's own conditions.")
	if prod.TimeColumn != "" {
		fmt.Fprintf(&b, " Periods apply to %s.", prod.TimeColumn)
	}
	if prod.Owner != "" {
		fmt.Fprintf(&b, " Owner: %s.", prod.Owner)
	}
	fmt.Fprintf(&b, " (source: %s descriptor)", prod.Name)
	return b.String()
}

func textfmtCap(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
