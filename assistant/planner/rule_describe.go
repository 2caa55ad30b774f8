package planner

import "github.com/askmesh/askmesh/tools"

// ruleDescribe describes a product named by name, synonym or tag:
// "describe loan-applications", "who owns the transactions data?".
var ruleDescribe = rule{
	name:    "describe",
	applies: func(f *features) bool { return f.describeLead || f.describe && !f.howMany },
	plan: func(p *Planner, a *analysis, f *features) *intent {
		if prod := p.namedProduct(a); prod != nil {
			return &intent{kind: kindDescribe, product: prod, calls: []plannedCall{{tools.ToolDescribe, tools.DescribeArgs{Product: prod.Name}}}}
		}
		if f.describeLead {
			return &intent{kind: kindUnknown, suggest: p.suggestions(nil)}
		}
		return nil
	},
}
