package planner

// ruleNoProduct refuses to guess when no product is named strongly
// enough, and suggests questions that can be answered.
var ruleNoProduct = rule{
	name:    "no-product",
	applies: func(f *features) bool { return f.product == nil },
	plan: func(p *Planner, _ *analysis, f *features) *intent {
		return &intent{kind: kindUnknown, suggest: p.suggestions(f.scores)}
	},
}
