package planner

// ruleFollowUp modifies the previous turn's calls by what the question
// adds (another period, a filter, a grouping, other metrics) or reads a
// reference to the previous result ("the largest one", "show them"); see
// followup.go. A question that stands on its own passes to the next rules.
var ruleFollowUp = rule{
	name:    "follow-up",
	applies: func(f *features) bool { return f.prev != nil },
	plan: func(p *Planner, a *analysis, f *features) *intent {
		return p.followUp(a, f.prev)
	},
}
