package assistant

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/textfmt"
	"github.com/askmesh/askmesh/prompts"
	"github.com/askmesh/askmesh/tools"
)

// Verified questions: a product's owners declare questions they answered
// and checked, with the tool calls that answer them (catalog.VerifiedQuestion).
// A question that says the same as one of them is answered with those calls
// before any model is asked: run for the asker through the executor (so
// authorized and audited every time, never a cached result) and marked
// "verified". Other questions show the model the few most similar verified
// questions as examples, found through the catalog's search so the prompt
// does not grow with the catalog.

// VerifiedIndex finds a catalog's verified questions.
type VerifiedIndex struct {
	cat   tools.Catalog
	exact map[string]verifiedRef // by normalized phrasing
}

type verifiedRef struct {
	product *catalog.Product
	q       *catalog.VerifiedQuestion
}

// Limits on the examples a model is shown.
const (
	MaxVerifiedExamples = 3   // examples in the prompt
	verifiedProducts    = 5   // products searched for them
	maxExampleBytes     = 600 // one example's calls, as JSON
)

// NewVerifiedIndex indexes the verified questions of a catalog. Where two
// products declare the same phrasing, the first by name keeps it.
func NewVerifiedIndex(cat tools.Catalog) *VerifiedIndex {
	x := &VerifiedIndex{cat: cat, exact: map[string]verifiedRef{}}
	for _, p := range cat.List() {
		for i := range p.Verified {
			v := &p.Verified[i]
			for _, phr := range append([]string{v.Question}, v.Phrasings...) {
				k := verifiedKey(phr)
				if _, taken := x.exact[k]; k != "" && !taken {
					x.exact[k] = verifiedRef{product: p, q: v}
				}
			}
		}
	}
	return x
}

// Len is the number of phrasings indexed.
func (x *VerifiedIndex) Len() int { return len(x.exact) }

// Match returns the verified question the question says the same as: the
// same words, ignoring case, punctuation, word order, plurals and filler
// words ("what", "the", "please"). Words that change the answer (periods,
// "by", values) must all be there, so "approval rate by loan type this
// quarter" never matches "approval rate this quarter".
func (x *VerifiedIndex) Match(question string) (*catalog.Product, *catalog.VerifiedQuestion, bool) {
	if x == nil {
		return nil, nil, false
	}
	r, ok := x.exact[verifiedKey(question)]
	return r.product, r.q, ok
}

// Example is a verified question shown to a model.
type Example struct {
	Question string
	Product  string
	Calls    string // the calls as JSON
}

// Similar returns up to n verified questions most like the question: those
// of the products the catalog's search ranks first for it, ordered by words
// shared. It reads a bounded number of products whatever the catalog's size.
func (x *VerifiedIndex) Similar(question string, n int) []Example {
	if x == nil || n <= 0 {
		return nil
	}
	words := verifiedWords(question)
	type cand struct {
		ex    Example
		score int
		rank  int
	}
	var cands []cand
	for rank, h := range x.cat.Search(question, verifiedProducts) {
		for _, v := range h.Product.Verified {
			best := 0
			for _, phr := range append([]string{v.Question}, v.Phrasings...) {
				best = max(best, overlap(words, verifiedWords(phr)))
			}
			if best == 0 {
				continue
			}
			calls := make([]map[string]any, 0, len(v.Calls))
			for _, c := range v.Calls {
				var args any
				_ = json.Unmarshal(c.Arguments, &args)
				calls = append(calls, map[string]any{"tool": c.Tool, "arguments": args})
			}
			b, _ := json.Marshal(calls)
			s := string(b)
			if len(s) > maxExampleBytes {
				continue // an example too large to show whole is not shown
			}
			cands = append(cands, cand{Example{Question: clip(v.Question, 200), Product: h.Product.Name, Calls: s}, best, rank})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score > cands[j].score
		}
		return cands[i].rank < cands[j].rank
	})
	out := make([]Example, 0, min(n, len(cands)))
	for _, c := range cands[:min(n, len(cands))] {
		out = append(out, c.ex)
	}
	return out
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// filler words carry no part of a question's meaning.
var filler = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the what whats which was were is are be been how many much did do does
		we our us i me my you your please show tell give list get can could would of for in on at to from with
		there have has had number s`) {
		filler[w] = true
	}
}

// verifiedWords are a text's meaningful words, stemmed.
func verifiedWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if filler[w] {
			continue
		}
		out = append(out, catalog.Stem(w))
	}
	return out
}

func verifiedKey(s string) string {
	w := verifiedWords(s)
	sort.Strings(w)
	return strings.Join(slices.Compact(w), " ")
}

func overlap(a, b []string) int {
	n := 0
	for _, w := range slices.Compact(slices.Sorted(slices.Values(a))) {
		if slices.Contains(b, w) {
			n++
		}
	}
	return n
}

// answerVerified answers with a verified question's calls, run for the
// asker. The answer is marked verified only when every call was allowed
// and succeeded; a denial is reported as for any other answer.
func (a *Agent) answerVerified(ctx context.Context, caller tools.Caller, req Request, history []Message,
	p *catalog.Product, v *catalog.VerifiedQuestion, ans *Answer, send func(Event)) (*Answer, error) {
	// The audit records say no model chose these calls.
	caller.Model = VerifiedModel
	send(Event{Type: EventThinking, Text: "using the answer " + v.VerifiedBy + " verified"})
	call := Message{Role: RoleAssistant}
	for i, c := range v.Calls {
		call.ToolCalls = append(call.ToolCalls, ToolCall{ID: fmt.Sprintf("verified_%d", i), Name: c.Tool, Arguments: c.Arguments})
	}
	results := map[string]*tools.Result{}
	toolMsgs, _ := a.runTools(ctx, caller, call.ToolCalls, ans, results, send)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("assistant: %w: %w", ErrNoAnswer, ctx.Err())
	}
	compose(ans, results)
	ok := 0
	for _, tc := range ans.ToolCalls {
		if tc.Decision == audit.DecisionAllow {
			ok++
		}
	}
	switch {
	case ok == len(ans.ToolCalls):
		ans.Outcome = OutcomeAnswered
		ans.Verified = &Verified{Question: v.Question, Product: p.Name, VerifiedBy: v.VerifiedBy, VerifiedAt: v.VerifiedAt}
	case ok == 0:
		ans.Outcome = OutcomeDeclined
	default:
		ans.Outcome = OutcomePartial
	}
	ans.Text = verifiedText(a.o.Verified.cat, v, ans, call.ToolCalls, results)
	msgs := append(history, Message{Role: RoleUser, Content: req.Question}, call)
	msgs = append(msgs, toolMsgs...)
	msgs = append(msgs, Message{Role: RoleAssistant, Content: ans.Text})
	if err := a.o.Memory.Save(ctx, caller.Subject.ID, caller.ConversationID, compactHistory(msgs, a.o.ResultBytes/4)); err != nil {
		a.o.Logger.WarnContext(ctx, "could not save conversation", "conversation", caller.ConversationID, "err", err)
	}
	send(Event{Type: EventText, Text: ans.Text})
	send(Event{Type: EventAnswer, Answer: ans})
	return ans, nil
}

// VerifiedModel is the model name audit records carry for the calls of a
// verified question: the owners chose them, not a model.
const VerifiedModel = "verified"

// verifiedText writes the answer from the results: the figures of each
// call, or why it was refused. Every number is a result's, formatted with
// its metric's unit and precision.
func verifiedText(cat tools.Catalog, v *catalog.VerifiedQuestion, ans *Answer, calls []ToolCall, results map[string]*tools.Result) string {
	var b strings.Builder
	for i, tc := range ans.ToolCalls {
		if i > 0 {
			b.WriteString("\n")
		}
		if tc.Decision != audit.DecisionAllow {
			if tc.Decision == audit.DecisionDeny {
				fmt.Fprintf(&b, "I can't show that: %s.", strings.TrimSuffix(tc.Error, "."))
			} else {
				fmt.Fprintf(&b, "I couldn't get that from %s: %s.", tc.Product, strings.TrimSuffix(tc.Error, "."))
			}
			continue
		}
		res := results[calls[i].ID]
		if res == nil {
			continue
		}
		b.WriteString(resultSentence(cat, res))
	}
	return b.String()
}

// resultSentence says a result's figures: one row in full, more as the
// first rows by their groups, then where the rest are.
func resultSentence(cat tools.Catalog, res *tools.Result) string {
	prod, _ := cat.Get(res.Product)
	metric := func(col tools.ResultColumn, v any) string {
		unit, prec := col.Unit, 2
		if prod != nil {
			if m, ok := prod.Metric(col.Name); ok {
				unit, prec = m.Unit, m.Precision
			}
		}
		if _, isNum := textfmt.DecimalText(v); !isNum {
			return textfmt.Cell(v)
		}
		return textfmt.Metric(v, unit, prec)
	}
	period := ""
	if r := rangeText(res.TimeRange); r != "" {
		period = " in " + textfmt.Period(r)
	}
	if len(res.Rows) == 0 {
		return fmt.Sprintf("No %s data%s (source: %s).", res.Product, period, res.Product)
	}
	var groups, values []int
	for i, c := range res.Columns {
		if c.Role == tools.RoleDimension || c.Role == tools.RolePeriod || c.Role == "" && prod != nil && prod.IsDimension(c.Name) {
			groups = append(groups, i)
		} else {
			values = append(values, i)
		}
	}
	row := func(r []any) string {
		var parts []string
		for _, i := range values {
			parts = append(parts, fmt.Sprintf("%s %s", textfmt.Humanize(res.Columns[i].Name), metric(res.Columns[i], r[i])))
		}
		return strings.Join(parts, ", ")
	}
	if len(groups) == 0 {
		return fmt.Sprintf("%s%s (source: %s).", textfmt.Capitalize(row(res.Rows[0])), period, res.Product)
	}
	var items []string
	for _, r := range res.Rows[:min(len(res.Rows), 6)] {
		var g []string
		for _, i := range groups {
			g = append(g, textfmt.Cell(r[i]))
		}
		items = append(items, strings.Join(g, " ")+": "+row(r))
	}
	more := ""
	if len(res.Rows) > 6 {
		more = fmt.Sprintf("; %d more in the table", len(res.Rows)-6)
	}
	var gnames []string
	for _, i := range groups {
		gnames = append(gnames, textfmt.Humanize(res.Columns[i].Name))
	}
	return fmt.Sprintf("By %s%s: %s%s (source: %s).", strings.Join(gnames, " and "), period, strings.Join(items, "; "), more, res.Product)
}

func promptExamples(ex []Example) []prompts.Example {
	out := make([]prompts.Example, len(ex))
	for i, e := range ex {
		out[i] = prompts.Example{Question: e.Question, Calls: e.Calls}
	}
	return out
}
