package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/tools"
)

// Statuses of a scored answer.
const (
	Right     = "right"
	Wrong     = "wrong"     // a number that is not the answer, or a call not made
	Declined  = "declined"  // nothing computed
	Clarified = "clarified" // asked back
	Error     = "error"     // no answer (model unavailable, timeout)
)

// Statuses in report order.
var Statuses = []string{Right, Wrong, Declined, Clarified, Error}

// score grades one answer. want are the numbers the answer must state (from
// truth SQL and values). The text is what people read, so a number in it
// that is not the truth makes the answer wrong even when a table below it
// is right: numbers are read from the text first, and from the tables only
// when the text states none.
func score(c Case, ans *assistant.Answer, runErr error, want []float64) (status, reason string) {
	if runErr != nil {
		return Error, runErr.Error()
	}
	clarified := ans.Outcome == assistant.OutcomeClarify || ans.Clarification != nil
	declined := !clarified && (ans.Outcome == assistant.OutcomeDeclined || !computed(ans, c))
	switch {
	case c.MustClarify:
		switch {
		case clarified:
			return Right, "asked back, as it should"
		case declined:
			return Declined, "declined instead of asking back"
		}
		return Wrong, "answered a question with more than one reading without asking which"
	case c.MustDecline:
		switch {
		case declined:
			return Right, "declined, as it should"
		case clarified:
			return Clarified, "asked back instead of declining"
		}
		return Wrong, "computed an answer where it should have declined"
	case clarified:
		return Clarified, "asked back: " + clarificationText(ans)
	case declined:
		return Declined, firstLine(ans.Text)
	}
	for _, f := range ans.Flags {
		if strings.HasPrefix(f, "the number ") {
			return Wrong, f
		}
	}
	if len(want) > 0 {
		text := statedNumbers(ans.Text)
		figures := text
		if len(text) == 0 {
			figures = tableNumbers(ans)
		}
		var missing []string
		for _, w := range want {
			if !slices.ContainsFunc(figures, func(s stated) bool { return s.matches(w) }) {
				missing = append(missing, formatWant(w))
			}
		}
		if len(missing) > 0 {
			return Wrong, fmt.Sprintf("the answer does not state %s (it states %s)", strings.Join(missing, ", "), listStated(figures))
		}
	}
	for _, ec := range c.Calls {
		if !slices.ContainsFunc(ans.ToolCalls, func(tc assistant.ToolCallRecord) bool { return callMatches(ec, tc) }) {
			b, _ := json.Marshal(ec.Arguments)
			return Wrong, fmt.Sprintf("no allowed %s call with %s", ec.Tool, b)
		}
	}
	return Right, ""
}

// computed reports whether an allowed call fetched data for the answer:
// a data tool's, or a catalog tool's when the case asks for one (a
// discovery question is answered by a search).
func computed(ans *assistant.Answer, c Case) bool {
	for _, tc := range ans.ToolCalls {
		if tc.Decision != audit.DecisionAllow {
			continue
		}
		if tc.Tool != tools.ToolSearch && tc.Tool != tools.ToolDescribe ||
			slices.ContainsFunc(c.Calls, func(ec ExpectedCall) bool { return ec.Tool == tc.Tool }) {
			return true
		}
	}
	return len(ans.Tables) > 0
}

func clarificationText(ans *assistant.Answer) string {
	if ans.Clarification != nil {
		return ans.Clarification.Question
	}
	return firstLine(ans.Text)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

// callMatches: same tool, allowed, and each expected argument equal to the
// call's (lists compared as sets, so [a, b] matches [b, a]).
func callMatches(ec ExpectedCall, tc assistant.ToolCallRecord) bool {
	if ec.Tool != tc.Tool || tc.Decision != audit.DecisionAllow {
		return false
	}
	var got map[string]any
	if json.Unmarshal(tc.Arguments, &got) != nil {
		return false
	}
	for k, v := range ec.Arguments {
		if !sameJSON(v, got[k]) {
			return false
		}
	}
	return true
}

func sameJSON(want, got any) bool {
	norm := func(v any) any {
		b, _ := json.Marshal(v)
		var out any
		_ = json.Unmarshal(b, &out)
		return out
	}
	w, g := norm(want), norm(got)
	wl, ok1 := w.([]any)
	gl, ok2 := g.([]any)
	if ok1 && ok2 {
		if len(wl) != len(gl) {
			return false
		}
		for _, x := range wl {
			if !slices.ContainsFunc(gl, func(y any) bool { return reflect.DeepEqual(x, y) }) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(w, g)
}

// stated is a number as an answer shows it: its value, how many decimals
// it was written with, and whether it was a percentage.
type stated struct {
	raw      string
	v        float64
	decimals int
	pct      bool
}

// matches reports whether the stated number is w as rounded for showing:
// 12.3% states 0.1234 (and 12.34), 1,235 states 1234.6.
func (s stated) matches(w float64) bool {
	tol := 0.5*math.Pow(10, -float64(s.decimals)) + 1e-9*math.Max(1, math.Abs(w))
	if math.Abs(s.v-w) <= tol {
		return true
	}
	return s.pct && math.Abs(s.v-100*w) <= tol
}

var (
	// Dates, times and identifiers are not figures.
	notFigure = regexp.MustCompile(`\b\d{4}-\d{2}(-\d{2})?([T ][\d:.]+Z?)?\b|\b[A-Za-z]+[-_]\d+\b|\b\d{1,2}:\d{2}\b|` +
		`(?i)\b(January|February|March|April|May|June|July|August|September|October|November|December|Q[1-4]|in|of|since|year)\s+(19|20)\d{2}\b`)
	figure = regexp.MustCompile(`-?\d[\d,]*(\.\d+)?\s?%?`)
)

// statedNumbers reads the figures of a text.
func statedNumbers(text string) []stated {
	text = notFigure.ReplaceAllString(text, " ")
	var out []stated
	for _, m := range figure.FindAllString(text, -1) {
		raw := strings.TrimSpace(m)
		pct := strings.HasSuffix(raw, "%")
		num := strings.TrimSpace(strings.TrimSuffix(raw, "%"))
		num = strings.ReplaceAll(num, ",", "")
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			continue
		}
		dec := 0
		if _, frac, ok := strings.Cut(num, "."); ok {
			dec = len(frac)
		}
		out = append(out, stated{raw: raw, v: v, decimals: dec, pct: pct})
	}
	return out
}

// tableNumbers are the numeric cells of the answer's tables, exact.
func tableNumbers(ans *assistant.Answer) []stated {
	var out []stated
	for _, t := range ans.Tables {
		for _, row := range t.Rows {
			for _, cell := range row {
				if f, ok := number(cell); ok {
					out = append(out, stated{raw: strconv.FormatFloat(f, 'f', -1, 64), v: f, decimals: 12})
				}
			}
		}
	}
	return out
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case string:
		return 0, false
	}
	return 0, false
}

func formatWant(w float64) string { return strconv.FormatFloat(w, 'f', -1, 64) }

func listStated(ss []stated) string {
	if len(ss) == 0 {
		return "no number"
	}
	var raws []string
	for i, s := range ss {
		if i == 8 {
			raws = append(raws, "…")
			break
		}
		raws = append(raws, s.raw)
	}
	return strings.Join(raws, ", ")
}
