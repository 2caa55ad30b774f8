package planner

// ruleHelp answers greetings, "what can you do" and empty questions with
// what the planner answers and example questions.
var ruleHelp = rule{
	name:    "help",
	applies: func(f *features) bool { return f.empty || f.help },
	plan: func(p *Planner, _ *analysis, _ *features) *intent {
		return &intent{kind: kindHelp, suggest: p.suggestions(nil)}
	},
}
