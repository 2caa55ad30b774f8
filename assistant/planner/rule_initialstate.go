package planner

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/textfmt"
)

// ruleInitialState asks back when a question says a status every row
// starts in as the act that made the row: "how many applications were
// submitted last month" is either every application made then, or those
// still in status submitted (awaiting a decision), and the two differ by
// hundreds. "Still submitted", "in status submitted" and "pending" are
// the status and read as such by the other rules.
var ruleInitialState = rule{
	name: "initial-state",
	applies: func(f *features) bool {
		return f.product != nil && f.audit == nil && initialStateActRe.MatchString(f.a.low)
	},
	plan: func(p *Planner, a *analysis, f *features) *intent {
		m := initialStateActRe.FindStringSubmatchIndex(a.low)
		if m == nil {
			return nil
		}
		value := initialStates[a.low[m[4]:m[5]]]
		col := ""
		for _, c := range f.product.Columns {
			for _, v := range c.Values {
				if v == value {
					col = c.Name
				}
			}
		}
		if col == "" || statusSaidRe.MatchString(a.low) {
			return nil
		}
		// Offsets are a.low's, which is a.q's: trimmed at the end only.
		q := strings.TrimRight(a.q, "?.! \t\n")
		end := min(m[1], len(q))
		verb := initialStateMade[value] // "were submitted" -> "were made"
		if a.low[m[4]:m[5]] == "submit" {
			verb = "make" // "did carol submit" -> "did carol make"
		}
		made := q[:m[4]] + verb + q[end:] + "?"
		if verb == "make" {
			// "did carol submit": the act, not a status anyone is in.
			return p.parseAs(made, f.prev, a.now, f.queryable)
		}
		start, stillSaid := m[4], "still in "+textfmt.Humanize(col)+" "+value
		if m[2] >= 0 {
			start, stillSaid = m[2], "are still in "+textfmt.Humanize(col)+" "+value // "were submitted" -> "are still in status submitted"
		}
		still := q[:start] + stillSaid + q[end:] + "?"
		made, still = strings.Join(strings.Fields(made), " "), strings.Join(strings.Fields(still), " ")
		c := &assistant.Clarification{
			Question: fmt.Sprintf("%q can mean every %s made, or only those still in %s %s. Which do you mean?",
				a.q[m[4]:m[5]], strings.ReplaceAll(strings.TrimSuffix(f.product.Name, "s"), "-", " "), textfmt.Humanize(col), value),
			Options: []assistant.ClarificationOption{
				{Label: "every one made", Question: textfmt.Capitalize(made)},
				{Label: "still " + value, Question: textfmt.Capitalize(still)},
			},
		}
		return &intent{kind: kindNote, outcome: assistant.OutcomeClarify, product: f.product, clarify: c, notes: []string{c.Question + optionsText(c)}}
	},
}

// initialStates are status values every row passes through, by the verb
// forms that say the act itself.
var (
	initialStates     = map[string]string{"submitted": "submitted", "submit": "submitted", "submits": "submitted"}
	initialStateMade  = map[string]string{"submitted": "made"}
	initialStateActRe = regexp.MustCompile(`\b((?:were|was|been|got|get|gets|are|is)\s+)?(submitted|submits|submit)\b`)
	// statusSaidRe says the status itself: "still submitted", "in status
	// submitted", "submitted status", "currently submitted".
	statusSaidRe = regexp.MustCompile(`\b(?:still|status|state|currently|remain(?:s|ing)?|left)\s+(?:(?:in|as)\s+)?(?:status\s+)?submitted\b|\bsubmitted\s+(?:status|state)\b|\bin\s+submitted\b`)
)
