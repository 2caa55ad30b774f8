package planner

import (
	"strings"
	"unicode"

	"github.com/askmesh/askmesh/tools"
)

// ruleDiscover is a catalog search: "what data do we have about loans?".
var ruleDiscover = rule{
	name:    "discover",
	applies: func(f *features) bool { return f.discover && !f.describeLead },
	plan:    func(p *Planner, a *analysis, _ *features) *intent { return p.discover(a) },
}

// discover is a catalog search, with the top hit described when the
// question also asks who owns it or what it holds.
func (p *Planner) discover(a *analysis) *intent {
	query := ""
	loc := discoverRe.FindStringIndex(a.low)
	tail := a.low[loc[0]:]
	if m := discoverTailRe.FindStringSubmatch(tail); m != nil {
		query = m[1]
	} else {
		query = a.low[loc[1]:]
	}
	// Drop what is not topic: a trailing question about owners, time words.
	if i := ownerRe.FindStringIndex(query); i != nil && i[0] > 0 {
		query = query[:i[0]]
	}
	query = strings.Trim(strings.Join(strings.FieldsFunc(query, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-'
	}), " "), " -")
	var kept []string
	for _, w := range strings.Fields(query) {
		switch w {
		case "data", "information", "info", "dataset", "datasets", "product", "products", "the", "any", "some", "and", "who", "we", "have", "do":
			continue
		}
		kept = append(kept, w)
	}
	query = strings.Join(kept, " ")
	if query == "" {
		var ws []string
		for _, t := range a.toks {
			if t.kind == tokWord && !stopword[t.low] && !questionWord[t.low] && !t.used {
				ws = append(ws, t.low)
			}
		}
		query = strings.Join(ws, " ")
	}
	if query == "" {
		return &intent{kind: kindUnknown, suggest: p.suggestions(nil)}
	}
	return &intent{kind: kindSearch, query: query, describe: a.has(ownerRe),
		calls: []plannedCall{{tools.ToolSearch, tools.SearchArgs{Query: query}}}}
}
