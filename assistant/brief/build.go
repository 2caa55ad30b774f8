package brief

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/tools"
)

// ModelName is recorded as the model on the audit records of a brief built
// directly (not through a language model).
const ModelName = "brief"

// parallel bounds the calls of one brief run at once.
const parallel = 4

// Build gathers a brief for the caller through run (the tools executor,
// so every call is authorized on the caller's behalf and audited) and
// composes it. cat lists the products; when nil, run's own catalog is used
// if it has one (*tools.Executor does). Only a cancelled context or a
// missing catalog is an error: refused and failed calls become part of the
// brief (withheld products, products that could not be read).
func Build(ctx context.Context, run assistant.ToolRunner, cat tools.Catalog, caller tools.Caller, o Options) (*assistant.Answer, error) {
	if cat == nil {
		if c, ok := run.(interface{ Catalog() tools.Catalog }); ok {
			cat = c.Catalog()
		}
	}
	if cat == nil {
		return nil, errors.New("brief: no catalog to list products from")
	}
	o = o.withDefaults()
	if caller.RequestID == "" {
		caller.RequestID = uuid.NewString()
	}
	if caller.ConversationID == "" {
		caller.ConversationID = caller.RequestID
	}
	if caller.Question == "" {
		caller.Question = fmt.Sprintf("executive brief: %s compared with %s", o.Period, o.Compare)
	}
	if caller.Model == "" {
		caller.Model = ModelName
	}
	if o.Now.IsZero() {
		if c, ok := run.(interface{ Clock() tools.Clock }); ok {
			o.Now = c.Clock().Now()
		}
	}
	if chk, ok := run.(Checker); ok && o.Access == nil {
		acc, err := AskAccess(ctx, chk, cat, caller, o)
		if err != nil {
			return nil, err
		}
		o.Access = acc
	}
	items := Plan(cat, o)
	outs := runScreened(ctx, run, caller, items, o.Access)
	more := FollowUps(cat, outs)
	outs = append(outs, runScreened(ctx, run, caller, more, o.Access)...)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("brief: %w", err)
	}
	ans := Compose(cat, o, outs)
	ans.ConversationID, ans.RequestID, ans.Model = caller.ConversationID, caller.RequestID, caller.Model
	if g, grounded := o.Writer.(assistant.Grounded); o.Writer != nil && !(grounded && g.Grounded()) {
		text, usage, flags, err := narrate(ctx, o.Writer, caller, ans.Text, outs)
		if err != nil {
			// The templated brief is still right; say why it is not prose.
			ans.Flags = append(ans.Flags, err.Error()+"; this is the templated brief")
		} else {
			ans.Text, ans.Usage, ans.Model, ans.Steps = text, usage, o.Writer.Name(), 1
			ans.Flags = append(ans.Flags, flags...)
		}
	}
	results := make([]*tools.Result, 0, len(outs))
	for _, out := range outs {
		if out.Withheld {
			continue // never called
		}
		ans.ToolCalls = append(ans.ToolCalls, record(out))
		results = append(results, out.Result)
	}
	// As in chat: the caveats of the figures (amounts per currency, a
	// period not over) are said with them.
	ans.Text = assistant.WithCaveats(ans.Text, results...)
	return ans, nil
}

// runScreened runs the items policy allows (per acc) and returns every
// item's outcome in plan order: the refused ones withheld, uncalled.
func runScreened(ctx context.Context, run assistant.ToolRunner, caller tools.Caller, items []Item, acc Access) []Outcome {
	callable, withheld := Screen(items, acc)
	return InPlanOrder(items, append(runAll(ctx, run, caller, callable), withheld...))
}

// runAll runs items concurrently, returning outcomes in item order.
func runAll(ctx context.Context, run assistant.ToolRunner, caller tools.Caller, items []Item) []Outcome {
	outs := make([]Outcome, len(items))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			outs[i] = runOne(ctx, run, caller, it)
		}()
	}
	wg.Wait()
	return outs
}

// runOne runs a call and reads its result (ReadResult).
func runOne(ctx context.Context, run assistant.ToolRunner, caller tools.Caller, it Item) Outcome {
	res, err := run.Call(ctx, caller, it.Call)
	var denied *tools.DeniedError
	var out Outcome
	switch {
	case err == nil:
		out = ReadResult(it, res)
	case errors.As(err, &denied):
		out = Outcome{Item: it, Status: StatusDenied, Message: denied.Reason, AuditID: denied.AuditID}
	default:
		out = Outcome{Item: it, Status: StatusError, Message: err.Error(), AuditID: tools.AuditIDOf(err)}
	}
	return out
}

// ReadResult reads an executor's result of the item exactly as a model
// would see it, so a brief built here and one the planner writes from an
// agent's results read the same data.
func ReadResult(it Item, res *tools.Result) Outcome {
	out := Read(it, assistant.ForModel(res, 1000, 1<<20))
	out.Result, out.AuditID = res, res.AuditID
	return out
}

func record(o Outcome) assistant.ToolCallRecord {
	r := assistant.ToolCallRecord{ID: o.Item.Kind + ":" + o.Item.Product, Tool: o.Item.Call.Tool, Product: assistant.ProductArg(o.Item.Call.Arguments),
		Arguments: o.Item.Call.Arguments, AuditID: o.AuditID}
	switch o.Status {
	case StatusOK:
		r.Decision = audit.DecisionAllow
		if o.Result != nil {
			r.RowCount = o.Result.RowCount
		}
	case StatusDenied:
		r.Decision, r.Error = audit.DecisionDeny, o.Message
	default:
		r.Decision, r.Error = audit.DecisionError, o.Message
	}
	return r
}
