package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/askmesh/askmesh/internal/app"
)

// Report is a run's outcome: per model, per case.
type Report struct {
	Suite    string     `json:"suite"`
	Source   string     `json:"source,omitempty"`
	RunID    string     `json:"run_id"`
	Started  time.Time  `json:"started"`
	Finished time.Time  `json:"finished"`
	Cases    []CaseInfo `json:"cases"`
	// Pending cases do not yet say what is right; they were not asked.
	Pending []CaseInfo    `json:"pending,omitempty"`
	Models  []ModelResult `json:"models"`
}

// CaseInfo is a case as the report lists it.
type CaseInfo struct {
	ID       string `json:"id"`
	Question string `json:"question"`
	Asker    string `json:"asker"`
	Expect   string `json:"expect"`
}

// ModelResult is one model's answers and their summary.
type ModelResult struct {
	Model   string    `json:"model"` // as --model named it
	Name    string    `json:"name"`  // as the model names itself in audit records
	Price   app.Price `json:"price"`
	Results []Result  `json:"results"`
	Summary Summary   `json:"summary"`
}

// Result is one scored answer.
type Result struct {
	Case             string     `json:"case"`
	Status           string     `json:"status"`
	Reason           string     `json:"reason,omitempty"`
	Outcome          string     `json:"outcome,omitempty"`
	Verified         string     `json:"verified,omitempty"` // the verified question it followed
	Want             []float64  `json:"want,omitempty"`
	Answer           string     `json:"answer"`
	Calls            []CallInfo `json:"calls,omitempty"`
	RequestID        string     `json:"request_id,omitempty"`
	Conversation     string     `json:"conversation"` // the audit conversation of this question
	LatencyMS        float64    `json:"latency_ms"`
	Turns            int        `json:"turns"`
	PromptTokens     int        `json:"prompt_tokens"`
	CompletionTokens int        `json:"completion_tokens"`
	Cost             float64    `json:"cost"`
}

// CallInfo is a tool call an answer made.
type CallInfo struct {
	Tool      string `json:"tool"`
	Product   string `json:"product,omitempty"`
	Arguments string `json:"arguments"`
	Decision  string `json:"decision"`
	AuditID   string `json:"audit_id,omitempty"`
}

// Summary scores a model over the suite.
type Summary struct {
	Counts           map[string]int `json:"counts"` // by status
	Total            int            `json:"total"`
	RightRate        float64        `json:"right_rate"` // of all cases
	WrongRate        float64        `json:"wrong_rate"`
	LatencyP50MS     float64        `json:"latency_p50_ms"`
	LatencyP95MS     float64        `json:"latency_p95_ms"`
	Turns            int            `json:"turns"`
	PromptTokens     int            `json:"prompt_tokens"`
	CompletionTokens int            `json:"completion_tokens"`
	Cost             float64        `json:"cost"`
	Priced           bool           `json:"priced"` // a price was configured
}

func cost(p app.Price, prompt, completion int) float64 {
	return (float64(prompt)*p.Input + float64(completion)*p.Output) / 1e6
}

func (mr *ModelResult) summarize() {
	s := Summary{Counts: map[string]int{}, Total: len(mr.Results), Priced: mr.Price != (app.Price{})}
	var lat []float64
	for i := range mr.Results {
		r := &mr.Results[i]
		r.Cost = cost(mr.Price, r.PromptTokens, r.CompletionTokens)
		s.Counts[r.Status]++
		lat = append(lat, r.LatencyMS)
		s.Turns += r.Turns
		s.PromptTokens += r.PromptTokens
		s.CompletionTokens += r.CompletionTokens
		s.Cost += r.Cost
	}
	if s.Total > 0 {
		s.RightRate = float64(s.Counts[Right]) / float64(s.Total)
		s.WrongRate = float64(s.Counts[Wrong]) / float64(s.Total)
	}
	s.LatencyP50MS, s.LatencyP95MS = percentile(lat, 50), percentile(lat, 95)
	mr.Summary = s
}

// percentile by nearest rank.
func percentile(vs []float64, p float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	sort.Float64s(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// Gate checks the thresholds CI sets: each model's right rate at least
// minRight and wrong rate at most maxWrong (negative: unchecked).
func (r *Report) Gate(minRight, maxWrong float64) error {
	var fails []string
	for _, m := range r.Models {
		if minRight >= 0 && m.Summary.RightRate < minRight {
			fails = append(fails, fmt.Sprintf("%s: %.1f%% right, below --min-right %.1f%%", m.Model, 100*m.Summary.RightRate, 100*minRight))
		}
		if maxWrong >= 0 && m.Summary.WrongRate > maxWrong {
			fails = append(fails, fmt.Sprintf("%s: %.1f%% wrong, above --max-wrong %.1f%%", m.Model, 100*m.Summary.WrongRate, 100*maxWrong))
		}
	}
	if len(fails) > 0 {
		return fmt.Errorf("eval gate failed: %s", strings.Join(fails, "; "))
	}
	return nil
}

// Result returns a model's result for a case.
func (m *ModelResult) Result(caseID string) (Result, bool) {
	for _, r := range m.Results {
		if r.Case == caseID {
			return r, true
		}
	}
	return Result{}, false
}

// WriteJSON writes the whole report.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the scores for a terminal: one line per model.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s: %d questions, %d model(s)\n\n", r.Suite, len(r.Cases), len(r.Models))
	fmt.Fprintf(w, "%-28s %6s %6s %9s %10s %6s %9s %9s %6s %9s %9s\n", "MODEL", "RIGHT", "WRONG", "DECLINED", "CLARIFIED", "ERROR", "P50 ms", "P95 ms", "TURNS", "TOKENS", "COST")
	for _, m := range r.Models {
		s := m.Summary
		fmt.Fprintf(w, "%-28s %6d %6d %9d %10d %6d %9.1f %9.1f %6d %9d %9s\n", terminalSafe(m.Model), s.Counts[Right], s.Counts[Wrong], s.Counts[Declined],
			s.Counts[Clarified], s.Counts[Error], s.LatencyP50MS, s.LatencyP95MS, s.Turns, s.PromptTokens+s.CompletionTokens, costText(s))
	}
	for _, m := range r.Models {
		for _, res := range m.Results {
			if res.Status == Wrong || res.Status == Error {
				fmt.Fprintf(w, "\n%s %s: %s — %s", terminalSafe(m.Model), res.Case, res.Status, terminalSafe(res.Reason))
			}
		}
	}
	if len(r.Pending) > 0 {
		fmt.Fprintf(w, "\n\n%d pending cases (not asked until they say what is right):", len(r.Pending))
		for _, c := range r.Pending {
			fmt.Fprintf(w, "\n  %s: %s", c.ID, terminalSafe(c.Question))
		}
	}
	fmt.Fprintln(w)
	return nil
}

func costText(s Summary) string {
	if !s.Priced {
		return "—"
	}
	return fmt.Sprintf("%.4f", s.Cost)
}

// terminalSafe drops control characters (escape sequences) from text that
// came from a model or a suite before it reaches a terminal.
func terminalSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}
