package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/prompts"
	"github.com/askmesh/askmesh/tools"
)

// ToolRunner runs tool calls; tools.Executor implements it.
type ToolRunner interface {
	Call(ctx context.Context, caller tools.Caller, call tools.Call) (*tools.Result, error)
}

// Admitter is implemented by runners that can refuse an asker before the
// model reads the question (tools.Executor, tools.Limited): policy decides
// whether they may use the catalog at all, so a model that knows the
// catalog cannot describe it to a stranger.
type Admitter interface {
	Admit(ctx context.Context, caller tools.Caller) error
}

// AnswerShaper is implemented by models that lay out some answers' tables
// and charts themselves (the offline planner's executive briefs: one
// headline table and one chart rather than one per call). It runs after
// the tables, charts and sources are composed from the tool results.
type AnswerShaper interface {
	ShapeAnswer(ctx context.Context, question string, ans *Answer, results map[string]*tools.Result)
}

// Observer is told about model and tool calls, for metrics. Optional.
type Observer interface {
	ModelCall(model string, d time.Duration, usage Usage, err error)
	ToolCall(tool, decision string, d time.Duration)
}

// Options configure an Agent.
type Options struct {
	Model        Model
	Tools        ToolRunner
	Memory       Memory        // default: in-memory with default limits
	Clock        tools.Clock   // default: system clock
	Organization string        // named in the system prompt
	MaxSteps     int           // model turns per question (default 8)
	Timeout      time.Duration // per question (default 2 minutes)
	// MaxToolErrors bounds malformed or failing calls per question before
	// the agent stops calling tools and answers with what it has (default 4).
	MaxToolErrors int
	// ParallelTools bounds tool calls run at once within one turn (default 4).
	ParallelTools int
	// ResultRows and ResultBytes cap a tool result as the model sees it
	// (defaults 50 rows, 16 KiB); the Answer's tables keep every row.
	ResultRows  int
	ResultBytes int
	Observer    Observer
	Logger      *slog.Logger
	// Verified answers questions its products' owners verified, and shows
	// models similar ones as examples (optional).
	Verified *VerifiedIndex
	// Turns, when set, is charged one model turn per step for the asker,
	// so a user's budget counts model work, not requests.
	Turns TurnLimiter
	// Telemetry traces each question (OpenTelemetry, GenAI conventions);
	// the zero value records nothing.
	Telemetry Telemetry
}

// TurnLimiter budgets model turns per user; *tools.Limiter implements it.
type TurnLimiter interface {
	Turn(subject string) error
}

// Agent answers questions.
type Agent struct {
	o Options
	g *genAI
}

// New checks the options and returns an Agent.
func New(o Options) (*Agent, error) {
	if o.Model == nil || o.Tools == nil {
		return nil, errors.New("assistant: an agent needs a model and a tool runner")
	}
	if o.Memory == nil {
		o.Memory = NewInMemory(MemoryLimits{})
	}
	if o.Clock == nil {
		o.Clock = tools.SystemClock{}
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = 8
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.MaxToolErrors <= 0 {
		o.MaxToolErrors = 4
	}
	if o.ParallelTools <= 0 {
		o.ParallelTools = 4
	}
	if o.ResultRows <= 0 {
		o.ResultRows = 50
	}
	if o.ResultBytes <= 0 {
		o.ResultBytes = 16 << 10
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	g, err := newGenAI(o.Telemetry, o.Model.Name())
	if err != nil {
		return nil, fmt.Errorf("assistant: telemetry: %w", err)
	}
	return &Agent{o: o, g: g}, nil
}

// Model is the agent's model.
func (a *Agent) Model() Model { return a.o.Model }

// Memory is the agent's conversation store.
func (a *Agent) Memory() Memory { return a.o.Memory }

// Answer answers one question.
func (a *Agent) Answer(ctx context.Context, req Request) (*Answer, error) {
	return a.Stream(ctx, req, nil)
}

// ErrNoAnswer wraps failures that left no answer (model unavailable, deadline).
var ErrNoAnswer = errors.New("no answer")

// Stream answers one question, emitting events as it goes (emit may be nil).
// Cancelling ctx (a client that went away) stops the work.
func (a *Agent) Stream(ctx context.Context, req Request, emit func(Event)) (ans *Answer, err error) {
	ctx, cancel := context.WithTimeout(ctx, a.o.Timeout)
	defer cancel()
	// The model is asked to stream only when someone reads the text as it
	// comes: a caller that waits for the whole answer (a JSON response)
	// would gain nothing, and a streamed reply costs a decode per chunk.
	listening := emit != nil
	if emit == nil {
		emit = func(Event) {}
	}
	var emitMu sync.Mutex
	send := func(ev Event) {
		ev.At = time.Now().UTC()
		emitMu.Lock()
		defer emitMu.Unlock()
		emit(ev)
	}
	var onText func(string)
	if listening {
		onText = func(s string) { send(Event{Type: EventText, Text: s}) }
	}
	caller := req.Caller
	if caller.ConversationID == "" {
		caller.ConversationID = uuid.NewString()
	}
	if caller.RequestID == "" {
		caller.RequestID = uuid.NewString()
	}
	caller.Question = req.Question
	caller.Model = a.o.Model.Name()
	// Models that plan by what the asker may use (the offline planner's
	// briefs) read the asker from ctx.
	ctx = tools.WithCaller(ctx, caller)
	ctx, span := a.g.startAgent(ctx, caller)
	defer func() { a.g.endAgent(span, ans, err) }()
	ans = &Answer{ConversationID: caller.ConversationID, RequestID: caller.RequestID, Model: a.o.Model.Name()}
	if ad, ok := a.o.Tools.(Admitter); ok {
		var denied *tools.DeniedError
		switch err := ad.Admit(ctx, caller); {
		case errors.As(err, &denied):
			ans.Text = "I can't show that: " + strings.TrimSuffix(denied.Reason, ".") + "."
			ans.Denials = []Denial{{Reason: denied.Reason, AuditID: denied.AuditID}}
			ans.Outcome = OutcomeDeclined
			send(Event{Type: EventAnswer, Answer: ans})
			return ans, nil
		case err != nil:
			send(Event{Type: EventError, Error: err.Error()})
			return nil, fmt.Errorf("assistant: %w: %w", ErrNoAnswer, err)
		}
	}

	history, err := a.o.Memory.Load(ctx, caller.Subject.ID, caller.ConversationID)
	if err != nil {
		return nil, fmt.Errorf("assistant: load conversation: %w", err)
	}
	if p, v, ok := a.o.Verified.Match(req.Question); ok {
		return a.answerVerified(ctx, caller, req, history, p, v, ans, send)
	}
	system, err := prompts.System(prompts.SystemData{Organization: a.o.Organization, Name: caller.Subject.Name,
		ID: caller.Subject.ID, Groups: caller.Subject.Groups, Now: a.o.Clock.Now(), Examples: promptExamples(a.o.Verified.Similar(req.Question, MaxVerifiedExamples))})
	if err != nil {
		return nil, err
	}
	msgs := append(history, Message{Role: RoleUser, Content: req.Question})
	// Language models get the agent's own tools to ask back and to decline;
	// a chosen option is answered, never asked back (no loops). The offline
	// planner says these things itself.
	var ask []*tools.Spec
	if g, ok := a.o.Model.(Grounded); !ok || !g.Grounded() {
		chosen := slices.Contains(offeredOptions(history), strings.TrimSpace(req.Question))
		for _, s := range AskSpecs() {
			if s.Name == ToolAskClarification && chosen {
				continue
			}
			ask = append(ask, s)
		}
	}
	results := make(map[string]*tools.Result) // by tool call id, for composing the answer
	toolErrors := 0
	final := false
	for step := 0; step < a.o.MaxSteps && !final; step++ {
		ans.Steps = step + 1
		send(Event{Type: EventThinking, Text: thinkingText(step)})
		specs := append(slices.Clip(tools.Specs()), ask...)
		if toolErrors >= a.o.MaxToolErrors || step == a.o.MaxSteps-1 {
			specs = nil // last chance: the model must answer with what it has
		}
		if a.o.Turns != nil {
			if err := a.o.Turns.Turn(caller.Subject.ID); err != nil {
				send(Event{Type: EventError, Error: err.Error()})
				return nil, fmt.Errorf("assistant: %w", err)
			}
		}
		start := time.Now()
		cctx, cspan := a.g.startChat(ctx)
		reply, err := a.o.Model.Generate(cctx, ModelRequest{Messages: append([]Message{{Role: RoleSystem, Content: system}}, msgs...), Tools: specs}, onText)
		a.g.endChat(cctx, cspan, time.Since(start), reply, err)
		if a.o.Observer != nil {
			var u Usage
			if reply != nil {
				u = reply.Usage
			}
			a.o.Observer.ModelCall(a.o.Model.Name(), time.Since(start), u, err)
		}
		if err != nil {
			send(Event{Type: EventError, Error: "the model is unavailable: " + err.Error()})
			return nil, fmt.Errorf("assistant: %w: model %s: %w", ErrNoAnswer, a.o.Model.Name(), err)
		}
		ans.Usage.PromptTokens += reply.Usage.PromptTokens
		ans.Usage.CompletionTokens += reply.Usage.CompletionTokens
		reply.Message.Role = RoleAssistant
		if specs == nil && len(reply.Message.ToolCalls) > 0 {
			// Tools were withdrawn and the model still asks for them: stop
			// here rather than run calls it was told it could not make. The
			// message is not kept, as its calls would have no results.
			break
		}
		for i := range reply.Message.ToolCalls {
			if reply.Message.ToolCalls[i].ID == "" {
				reply.Message.ToolCalls[i].ID = fmt.Sprintf("call_%d_%d", step, i)
			}
		}
		msgs = append(msgs, reply.Message)
		if len(ask) > 0 && hasAskCall(reply.Message.ToolCalls) {
			toolMsgs, done, bad := askTools(reply.Message.ToolCalls, ans)
			msgs = append(msgs, toolMsgs...)
			toolErrors += bad
			if done {
				msgs = append(msgs, Message{Role: RoleAssistant, Content: ans.Text})
				final = true
				break
			}
			continue
		}
		if len(reply.Message.ToolCalls) == 0 {
			ans.Text = strings.TrimSpace(reply.Message.Content)
			ans.Outcome, ans.Unmatched, ans.Clarification = reply.Outcome, reply.Unmatched, reply.Clarification
			final = true
			break
		}
		toolMsgs, errs := a.runTools(ctx, caller, reply.Message.ToolCalls, ans, results, send)
		toolErrors += errs
		msgs = append(msgs, toolMsgs...)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("assistant: %w: %w", ErrNoAnswer, ctx.Err())
		}
	}
	if !final {
		ans.Text = fmt.Sprintf("I could not finish answering within %d steps. The tables below show what I found so far.", a.o.MaxSteps)
		msgs = append(msgs, Message{Role: RoleAssistant, Content: ans.Text})
	}
	compose(ans, results)
	if s, ok := a.o.Model.(AnswerShaper); ok {
		s.ShapeAnswer(ctx, req.Question, ans, results)
	}
	if final {
		ans.Text = WithCaveats(ans.Text, resultsInOrder(ans.ToolCalls, results)...)
	}
	if ans.Outcome == "" {
		ans.Outcome = outcomeOf(ans, final)
	}
	if len(ans.Provenance) == 0 && ans.Outcome != OutcomeClarify && ans.Outcome != OutcomeDeclined {
		ans.Provenance = provenance(ans.ToolCalls, results)
	}
	if final { // the agent's own step-budget text states no tool figures
		ans.Flags = append(ans.Flags, numberFlags(a.o.Model, ans.Text, msgs, results)...)
	}
	if err := a.o.Memory.Save(ctx, caller.Subject.ID, caller.ConversationID, compactHistory(msgs, a.o.ResultBytes/4)); err != nil {
		a.o.Logger.WarnContext(ctx, "could not save conversation", "conversation", caller.ConversationID, "err", err)
	}
	send(Event{Type: EventAnswer, Answer: ans})
	return ans, nil
}

func thinkingText(step int) string {
	if step == 0 {
		return "reading the question"
	}
	return "reading the results"
}

// runTools runs one turn's tool calls concurrently and returns their tool
// messages in call order, and how many failed for reasons the model caused.
func (a *Agent) runTools(ctx context.Context, caller tools.Caller, calls []ToolCall, ans *Answer,
	results map[string]*tools.Result, send func(Event)) ([]Message, int) {
	type outcome struct {
		rec *ToolCallRecord
		res *tools.Result
		msg Message
		bad bool
	}
	outs := make([]outcome, len(calls))
	sem := make(chan struct{}, a.o.ParallelTools)
	var wg sync.WaitGroup
	for i, tc := range calls {
		rec := &ToolCallRecord{ID: tc.ID, Tool: tc.Name, Arguments: safeJSON(tc.Arguments), Product: ProductArg(tc.Arguments)}
		send(Event{Type: EventToolStarted, ToolCall: copyRec(rec)})
		wg.Add(1)
		run := func(i int, tc ToolCall, rec *ToolCallRecord) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			tctx, tspan := a.g.startTool(ctx, tc)
			res, err := a.o.Tools.Call(tctx, caller, tools.Call{Tool: tc.Name, Arguments: tc.Arguments})
			rec.DurationMS = time.Since(start).Milliseconds()
			out := outcome{rec: rec, res: res}
			content := ""
			var denied *tools.DeniedError
			var argErr *tools.ArgumentError
			switch {
			case err == nil:
				rec.Decision, rec.AuditID, rec.RowCount = audit.DecisionAllow, res.AuditID, res.RowCount
				content = ForModel(res, a.o.ResultRows, a.o.ResultBytes)
			case errors.As(err, &denied):
				rec.Decision, rec.AuditID, rec.Error = audit.DecisionDeny, denied.AuditID, denied.Reason
				content = DeniedPrefix + denied.Reason
			case errors.As(err, &argErr):
				rec.Decision, rec.AuditID, rec.Error = audit.DecisionError, argErr.AuditID, argErr.Message
				content = ErrorPrefix + argErr.Message
				out.bad = true
			default:
				rec.Decision, rec.AuditID, rec.Error = audit.DecisionError, tools.AuditIDOf(err), err.Error()
				content = ErrorPrefix + err.Error()
				out.bad = true
			}
			if a.o.Observer != nil {
				a.o.Observer.ToolCall(tc.Name, rec.Decision, time.Since(start))
			}
			a.g.endTool(tspan, rec, content)
			out.msg = Message{Role: RoleTool, ToolCallID: tc.ID, Name: tc.Name, Content: content}
			outs[i] = out
			send(Event{Type: EventToolFinished, ToolCall: copyRec(rec)})
		}
		if len(calls) == 1 {
			// A lone call runs here: a goroutine of its own would start with
			// a small stack and grow it again, copying, on every question
			// (policy evaluation and JSON decoding recurse deeply).
			run(i, tc, rec)
			continue
		}
		go run(i, tc, rec)
	}
	wg.Wait()
	msgs := make([]Message, len(calls))
	bad := 0
	for i, o := range outs {
		msgs[i] = o.msg
		ans.ToolCalls = append(ans.ToolCalls, *o.rec)
		if o.res != nil {
			results[o.rec.ID] = o.res
		}
		if o.rec.Decision == audit.DecisionDeny {
			ans.Denials = append(ans.Denials, Denial{Product: o.rec.Product, Tool: o.rec.Tool, Reason: o.rec.Error, AuditID: o.rec.AuditID})
		}
		if o.bad {
			bad++
		}
	}
	return msgs, bad
}

// A tool message's content is a ForModel view, or, when policy refused the
// call or it failed, one of these prefixes and the reason. Models that read
// results back (the offline planner, briefs) go by them.
const (
	DeniedPrefix = "denied: "
	ErrorPrefix  = "error: "
)

func copyRec(r *ToolCallRecord) *ToolCallRecord { c := *r; return &c }

// safeJSON returns raw if it is valid JSON, else raw as a JSON string, so
// answers can always be marshalled.
func safeJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) > 0 && json.Valid(raw) {
		return raw
	}
	b, _ := json.Marshal(string(raw))
	return b
}

// ProductArg is the "product" argument of a tool call, or "".
func ProductArg(raw json.RawMessage) string {
	var a struct {
		Product string `json:"product"`
	}
	_ = json.Unmarshal(raw, &a)
	return a.Product
}

// compactHistory shrinks tool results kept for later turns: a follow-up
// needs to know what was asked and roughly what came back, not every row.
func compactHistory(msgs []Message, maxToolBytes int) []Message {
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		if m.Role == RoleTool && len(m.Content) > maxToolBytes {
			m.Content = m.Content[:maxToolBytes] + " …(truncated in history)"
		}
		out[i] = m
	}
	return out
}
