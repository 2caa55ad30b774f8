// Package planner is askmesh's built-in offline model: a deterministic
// parser that turns questions into tool calls and tool results into short
// answers, with no network and no language model.
//
// It reads only catalog metadata (product names, synonyms, columns, declared
// values, metrics, dimensions) to understand a question. Every number it
// writes comes from a tool result, and every tool call goes through the
// executor like any model's, so policy and audit apply in full: the planner
// never decides access.
package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/brief"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// Planner implements assistant.Model.
type Planner struct {
	cat   tools.Catalog
	clock tools.Clock
	lex   *lexicon
	// analyses remembers recent readings of questions (see analyze).
	analyses analyses
	// access, when set, tells executive briefs what the asker may query
	// (one policy evaluation), so they call nothing policy refuses.
	access brief.Checker
}

var _ assistant.Model = (*Planner)(nil)

// New returns a planner over a catalog. The clock resolves relative dates
// ("last month") the same way the executor does; nil means the system clock.
func New(cat tools.Catalog, clock tools.Clock) *Planner {
	if clock == nil {
		clock = tools.SystemClock{}
	}
	return &Planner{cat: cat, clock: clock, lex: newLexicon(cat.List())}
}

// WithAccess has executive briefs ask chk (the executor) what the asker
// may query before planning, so they call only that; it returns p.
func (p *Planner) WithAccess(chk brief.Checker) *Planner {
	p.access = chk
	return p
}

// Name is the model name recorded in audit records.
func (p *Planner) Name() string { return "offline" }

// Generate reads the conversation: with no tool results after the last
// question it plans the calls; with results it either plans the next calls
// or writes the answer. Text is passed to onText in a few chunks.
func (p *Planner) Generate(ctx context.Context, req assistant.ModelRequest, onText func(string)) (*assistant.Reply, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("planner: %w", err)
	}
	msgs := req.Messages
	u := -1
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == assistant.RoleUser {
			u = i
			break
		}
	}
	now := p.clock.Now()
	if u < 0 {
		return p.text(helpText(p.suggestions(nil)), onText), nil
	}
	prevBrief := p.briefHistory(ctx, msgs[:u])
	if r, ok := p.executiveBrief(ctx, msgs, u, prevBrief, len(req.Tools) > 0, now, onText); ok {
		return r, nil // executive briefs span products: see brief.go
	}
	var prev *previousTurn
	if u > 0 && prevBrief == nil {
		prev = lastTurn(msgs[:u])
	}
	in := p.parseAs(msgs[u].Content, prev, now, p.queryable(ctx))
	outs, steps := collect(msgs[u+1:])
	canCall := len(req.Tools) > 0

	if steps == 0 {
		if len(in.calls) > 0 {
			if !canCall {
				return p.text("I could not query the data products needed to answer this.", onText), nil
			}
			return p.toolCalls(in.calls, steps), nil
		}
		return p.answer(in, nil, onText), nil
	}
	// A person named by first name: the resolving call found their id, so
	// count for that id alone.
	if r := in.resolve; r != nil && steps == 1 && canCall && len(outs) == 1 {
		if subs := r.subjects(outs[0]); len(subs) == 1 {
			return p.toolCalls([]plannedCall{r.finalCall(subs[0])}, steps), nil
		}
	}
	// A discovery question that also asks who owns the data: describe the
	// top hit once the search is in.
	if in.kind == kindSearch && in.describe && steps == 1 && canCall && len(outs) == 1 && outs[0].status == statusOK {
		if v := outs[0].view; v != nil && len(v.Products) > 0 {
			return p.toolCalls([]plannedCall{{tools.ToolDescribe, tools.DescribeArgs{Product: v.Products[0].Name}}}, steps), nil
		}
	}
	return p.answer(in, outs, onText), nil
}

// answer writes the final reply and says what kind of answer it is.
func (p *Planner) answer(in *intent, outs []outcome, onText func(string)) *assistant.Reply {
	if word := unfoundName(in, outs); word != "" {
		// "the Winter campaign": no name holds the word, so the question
		// is about something that does not exist, not about a zero.
		in.outcome = assistant.OutcomeDeclined
		in.unmatched = append(in.unmatched, word)
		in.notes = append(in.notes, fmt.Sprintf("No %s of %s contains %q, so there is nothing by that name to compute.", nameColumn(in.product), in.product.Name, word))
	}
	if rs := in.resolve; rs != nil && len(outs) > 0 {
		if subs := rs.subjects(outs[0]); len(outs) == 1 {
			// The name resolved to no one, or to several people.
			in.calls = nil
			switch {
			case outs[0].status != statusOK:
				// The lookup was refused or failed: say so as any call.
			case len(subs) == 0:
				in.kind = kindNote
				in.notes = []string{fmt.Sprintf("No one whose id starts with %q appears in the access log (%s), so there is nothing of theirs to count.", rs.name+"@", in.product.Name)}
			default:
				in.kind, in.outcome = kindNote, assistant.OutcomeClarify
				in.clarify = rs.clarification(subs)
				in.notes = []string{in.clarify.Question + " " + strings.Join(subs, ", ") + "."}
			}
		} else {
			// The count of the one subject: the lookup is not the answer.
			outs = outs[1:]
			in.calls = []plannedCall{rs.finalCall(subs[0])}
			note := fmt.Sprintf("%s is %s in the access log", rs.name, subs[0])
			if isCountMetric(in.product, rs.final.Metrics) {
				note += ": every tool call they made is counted, whatever the tool"
			}
			in.notes = append(in.notes, note+".")
		}
	}
	r := p.text(p.compose(in, outs), onText)
	r.Outcome, r.Unmatched, r.Clarification = verdict(in, outs), in.allUnmatched(), in.clarify
	return r
}

// verdict is the answer's outcome: declined when nothing was computed (no
// match, a refusal, nothing the asker may see), clarify when asking back,
// partial when some part was left out, else answered.
func verdict(in *intent, outs []outcome) string {
	if in.outcome != "" {
		return in.outcome
	}
	switch in.kind {
	case kindHelp:
		return assistant.OutcomeAnswered
	case kindUnknown, kindNote:
		return assistant.OutcomeDeclined
	}
	if len(in.parts) > 0 {
		var got []string
		for i, part := range in.parts {
			got = append(got, verdict(part, partOutcomes(in, outs, i)))
		}
		switch {
		case !slices.ContainsFunc(got, func(s string) bool { return s != assistant.OutcomeAnswered }):
			return assistant.OutcomeAnswered
		case slices.Contains(got, assistant.OutcomeAnswered) || slices.Contains(got, assistant.OutcomePartial):
			return assistant.OutcomePartial
		case slices.Contains(got, assistant.OutcomeClarify):
			return assistant.OutcomeClarify
		}
		return assistant.OutcomeDeclined
	}
	ok, bad := 0, 0
	for _, o := range outs {
		if o.status == statusOK {
			ok++
		} else {
			bad++
		}
	}
	switch {
	case ok == 0 && len(outs) > 0:
		return assistant.OutcomeDeclined
	case bad > 0 || len(in.unmatched) > 0:
		return assistant.OutcomePartial
	}
	return assistant.OutcomeAnswered
}

// allUnmatched is every part's unmatched concepts.
func (in *intent) allUnmatched() []string {
	out := slices.Clone(in.unmatched)
	for _, part := range in.parts {
		for _, u := range part.allUnmatched() {
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out
}

// partOutcomes are the results of part i's calls: parts ask their calls
// in order, in one turn.
func partOutcomes(in *intent, outs []outcome, i int) []outcome {
	start := 0
	for k := 0; k < i; k++ {
		start += len(in.parts[k].calls)
	}
	end := start + len(in.parts[i].calls)
	if start > len(outs) {
		return nil
	}
	return outs[start:min(end, len(outs))]
}

// toolCalls builds the reply asking for calls; ids are deterministic.
func (p *Planner) toolCalls(calls []plannedCall, step int) *assistant.Reply {
	msg := assistant.Message{Role: assistant.RoleAssistant}
	for i, c := range calls {
		msg.ToolCalls = append(msg.ToolCalls, assistant.ToolCall{ID: fmt.Sprintf("call_%d_%d", step, i), Name: c.tool, Arguments: brief.Marshal(c.args)})
	}
	return &assistant.Reply{Message: msg, FinishReason: "tool_calls"}
}

// text builds a final answer and streams it in a few chunks.
func (p *Planner) text(s string, onText func(string)) *assistant.Reply {
	if onText != nil {
		for _, chunk := range chunks(s, 3) {
			onText(chunk)
		}
	}
	return &assistant.Reply{Message: assistant.Message{Role: assistant.RoleAssistant, Content: s}, FinishReason: "stop"}
}

// chunks splits s at spaces into about n pieces that join back to s.
func chunks(s string, n int) []string {
	if len(s) < 40 || n <= 1 {
		return []string{s}
	}
	var out []string
	size := len(s)/n + 1
	for len(s) > 0 {
		if len(s) <= size {
			out = append(out, s)
			break
		}
		cut := strings.IndexByte(s[size:], ' ')
		if cut < 0 {
			out = append(out, s)
			break
		}
		cut += size + 1
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return out
}

// Statuses of a tool result.
const (
	statusOK     = "ok"
	statusDenied = "denied"
	statusError  = "error"
)

// outcome is one call of the current question and what came back.
type outcome struct {
	call   assistant.ToolCall
	status string
	msg    string // the denial reason or error
	view   *toolView
}

// toolView is a tool result as assistant.ForModel renders it.
type toolView = assistant.ModelView

// collect pairs the calls made since the question with their results, and
// counts the model turns so far.
func collect(after []assistant.Message) ([]outcome, int) {
	var outs []outcome
	steps := 0
	byID := map[string]int{}
	for _, m := range after {
		switch m.Role {
		case assistant.RoleAssistant:
			steps++
			for _, c := range m.ToolCalls {
				byID[c.ID] = len(outs)
				outs = append(outs, outcome{call: c, status: statusError, msg: "no result"})
			}
		case assistant.RoleTool:
			i, ok := byID[m.ToolCallID]
			if !ok {
				continue
			}
			outs[i] = readResult(outs[i].call, m.Content)
		}
	}
	return outs, steps
}

func readResult(c assistant.ToolCall, content string) outcome {
	o := outcome{call: c}
	switch {
	case strings.HasPrefix(content, assistant.DeniedPrefix):
		o.status, o.msg = statusDenied, strings.TrimPrefix(content, assistant.DeniedPrefix)
	case strings.HasPrefix(content, assistant.ErrorPrefix):
		o.status, o.msg = statusError, strings.TrimPrefix(content, assistant.ErrorPrefix)
	default:
		var v toolView
		dec := json.NewDecoder(strings.NewReader(content))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			o.status, o.msg = statusError, "the result could not be read"
			return o
		}
		o.status, o.view = statusOK, &v
	}
	return o
}

// product returns a catalog product by name, or nil.
func (p *Planner) product(name string) *catalog.Product {
	prod, _ := p.cat.Get(name)
	return prod
}

// unfoundName is the part of a name a one-call question filtered on
// ("name contains Winter") when the call found no row, else "".
func unfoundName(in *intent, outs []outcome) string {
	if in.product == nil || len(in.parts) > 0 || len(in.calls) != 1 || len(outs) != 1 || outs[0].status != statusOK || outs[0].view == nil || len(outs[0].view.Rows) > 0 {
		return ""
	}
	var filters []tools.Filter
	switch args := in.calls[0].args.(type) {
	case tools.QueryMetricsArgs:
		filters = args.Filters
	case tools.QueryRecordsArgs:
		filters = args.Filters
	}
	for _, f := range filters {
		if v, ok := f.Value.(string); ok && f.Op == tools.OpContains && f.Column == nameColumn(in.product) {
			return v
		}
	}
	return ""
}
