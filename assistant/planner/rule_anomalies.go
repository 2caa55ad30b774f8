package planner

import (
	"strings"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// ruleAnomalies asks a product's anomaly detection: "unusual transactions
// this month". A product without it says which products have it.
var ruleAnomalies = rule{
	name:    "anomalies",
	applies: func(f *features) bool { return f.product != nil && f.anomaly },
	plan: func(p *Planner, a *analysis, f *features) *intent {
		d := p.base(a, f.product)
		prod, in, filters, tr := d.prod, d.in, d.filters, d.tr
		if !prod.Has(catalog.CapAnomalies) || prod.Anomalies == nil {
			var with []string
			for _, q := range p.lex.products {
				if q.Has(catalog.CapAnomalies) && q.Anomalies != nil {
					with = append(with, q.Name)
				}
			}
			msg := prod.Name + " does not offer anomaly detection."
			if len(with) > 0 {
				msg += " Products that do: " + strings.Join(with, ", ") + "."
			}
			return &intent{kind: kindNote, product: prod, notes: []string{msg}}
		}
		args := tools.FindAnomaliesArgs{Product: prod.Name, Filters: filters, TimeRange: tr}
		if n := countAsked(a); n > 0 {
			args.Limit = n
		}
		in.calls = []plannedCall{{tools.ToolFindAnomalies, args}}
		return in
	},
}
