package eval

import (
	"fmt"
	"strings"

	"github.com/askmesh/askmesh/feedback"
)

// ImportFeedback adds a pending case to s for each down-voted answer not
// already in it (by case id, derived from the feedback's request id), and
// returns how many it added. A pending case holds the question, its asker
// and what they said; it is not scored until someone writes what a right
// answer holds and removes the pending line.
func ImportFeedback(s *Suite, entries []feedback.Entry) int {
	have := map[string]bool{}
	for _, c := range s.Cases {
		have[c.ID] = true
	}
	added := 0
	for _, e := range entries {
		if e.Rating != feedback.Down {
			continue
		}
		id := "feedback-" + slug(shortID(e.RequestID))
		if have[id] {
			continue
		}
		have[id] = true
		said := "no comment"
		if e.Comment != "" {
			said = fmt.Sprintf("%q", e.Comment)
		}
		c := Case{ID: id, Question: e.Question, Asker: e.Subject,
			Note:    fmt.Sprintf("down-voted by %s on %s (%s, request %s, audit %s): %s", e.Subject, e.At.Format("2006-01-02"), e.Channel, e.RequestID, e.AuditID, said),
			Pending: "write what a right answer holds (truth, values, calls, must_decline or must_clarify), then remove this line"}
		if len(e.Products) > 0 {
			c.Note += "; answered from " + strings.Join(e.Products, ", ")
		}
		s.Cases = append(s.Cases, c)
		added++
	}
	return added
}

func shortID(id string) string {
	id = strings.ReplaceAll(id, "-", "")
	if len(id) > 12 {
		id = id[:12]
	}
	return strings.ToLower(id)
}
