package planner

// ruleAudit reads questions about the access log: denials, who accessed
// what, a person's activity (see audit.go).
var ruleAudit = rule{
	name:    "audit",
	applies: func(f *features) bool { return f.audit != nil },
	plan:    func(p *Planner, a *analysis, f *features) *intent { return p.audit(a, f.audit) },
}
