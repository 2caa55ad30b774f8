package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/brief"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// An executive brief ("Give me an executive summary of last month", "brief
// me on October") spans every product the catalog gives headline metrics,
// so it is planned by assistant/brief rather than by the one-product
// parser: the first turn asks for all of its calls at once (they run in
// parallel), a second turn asks for the calls that depend on them (the top
// campaign's conversion rate), and the last turn writes the brief from the
// results with brief.Compose, the same text `askmesh brief` prints.
//
// A summary of one named product ("Summarize customer acquisition last
// month vs the month before") is the same brief restricted to that product;
// see productBrief.

var (
	execRe = regexp.MustCompile(`\b(?:executive|exec|c-suite|board|leadership|everything|all (?:the )?(?:data )?products|across (?:the )?(?:business|bank|company|mesh|board))\b`)
	// briefWordRe: what an executive question asks for to be a brief.
	briefWordRe = regexp.MustCompile(`\b(?:brief|summary|overview|update|report|recap|highlights)\b`)
)

// Grounded reports that the planner writes only numbers it copied from
// tool results, so the agent's number check has nothing to catch.
func (p *Planner) Grounded() bool { return true }

// briefOptions reads a question as an executive brief, or reports it is not one.
func (p *Planner) briefOptions(q string, now time.Time) (brief.Options, bool) {
	a := p.analyze(q, now)
	exec := a.has(execRe)
	if !a.has(briefRe) && !(exec && a.has(briefWordRe)) {
		return brief.Options{}, false
	}
	if a.has(discoverRe) || a.has(anomalyRe) {
		return brief.Options{}, false
	}
	prod, _ := p.chooseProduct(a, false)
	if ap := p.auditProduct(); ap != nil && p.auditCue(a, ap, prod) {
		return brief.Options{}, false
	}
	o := brief.Options{Period: a.w.rangeArg, Compare: a.w.compare}
	if prod != nil {
		if !exec {
			return p.productBrief(a, prod, now)
		}
		o.Products = []string{prod.Name}
	}
	return o, true
}

// productBrief reads "Summarize customer acquisition last month vs the
// month before" (or "recap of", "overview of", "brief on" a product) as the
// executive brief restricted to that product, so it gets the same layout,
// top contributor and anomalies. Only a summary of the product as a whole
// qualifies: one that names a metric other than the headline ones, a
// filter, a grouping or a grain stays the parser's one-product brief, which
// can express those. A summary naming several products by name ("customer
// acquisition and marketing campaigns") covers them all.
func (p *Planner) productBrief(a *analysis, prod *catalog.Product, now time.Time) (brief.Options, bool) {
	o := brief.Options{Products: []string{prod.Name}}
	if len(brief.Products(p.cat, o)) == 0 {
		return brief.Options{}, false // no headline metrics to brief on
	}
	in := p.parse(a.q, nil, now)
	if in.kind != kindData || in.form != formBrief || in.product != prod || len(in.notes) > 0 || len(in.calls) == 0 {
		return brief.Options{}, false
	}
	args, ok := in.calls[0].args.(tools.QueryMetricsArgs)
	if !ok || len(args.Filters) > 0 || len(args.GroupBy) > 0 || args.TimeGrain != "" || !slices.Equal(args.Metrics, prod.HeadlineMetrics) {
		return brief.Options{}, false
	}
	o.Period, o.Compare = args.TimeRange, args.CompareTo
	if named := p.namedProducts(a); len(named) > 1 && slices.Contains(named, prod.Name) {
		if len(brief.Products(p.cat, brief.Options{Products: named})) == len(named) {
			o.Products = named
		}
	}
	return o, true
}

// namedProducts are the products a question names by their full names,
// sorted; a name inside a longer one ("customer" in "customer
// acquisition") does not count.
func (p *Planner) namedProducts(a *analysis) []string {
	var out []string
	for _, m := range a.ms {
		if m.kind != mName {
			continue
		}
		inner := slices.ContainsFunc(a.ms, func(n mention) bool {
			return n.kind == mName && n.product != m.product && n.i <= m.i && n.j >= m.j && n.j-n.i > m.j-m.i
		})
		if !inner && !slices.Contains(out, m.product.Name) {
			out = append(out, m.product.Name)
		}
	}
	slices.Sort(out)
	return out
}

// executiveBrief answers an executive brief turn by turn; ok is false when
// the question (msgs[u]) is not one. A question right after a brief (prev,
// from briefHistory; nil when there was none) that only changes its period
// ("and the month before?") is a brief too.
func (p *Planner) executiveBrief(ctx context.Context, msgs []assistant.Message, u int, prev *brief.Options, canCall bool, now time.Time, onText func(string)) (*assistant.Reply, bool) {
	q, after := msgs[u].Content, msgs[u+1:]
	o, ok := p.briefOptions(q, now)
	if !ok && prev != nil {
		o, ok = p.briefFollowUp(q, *prev, now)
	}
	if !ok {
		return nil, false
	}
	o.Now, o.Access = now, p.briefAccess(ctx, o)
	items := brief.Plan(p.cat, o)
	if len(items) == 0 {
		return p.text("There is nothing to brief on: no data product declares headline metrics.", onText), true
	}
	type made struct {
		call    assistant.ToolCall
		content string
		done    bool
	}
	var calls []*made
	byID := map[string]*made{}
	steps := 0
	for _, m := range after {
		switch m.Role {
		case assistant.RoleAssistant:
			steps++
			for _, c := range m.ToolCalls {
				mc := &made{call: c}
				calls = append(calls, mc)
				byID[c.ID] = mc
			}
		case assistant.RoleTool:
			if mc, ok := byID[m.ToolCallID]; ok {
				mc.content, mc.done = m.Content, true
			}
		}
	}
	if steps == 0 {
		if !canCall {
			return p.text("I could not query the data products needed for a brief.", onText), true
		}
		callable, _ := brief.Screen(items, o.Access)
		return briefCalls(callable, steps), true
	}
	outcomes := func(planned []brief.Item) []brief.Outcome {
		planned, outs := brief.Screen(planned, o.Access)
		for _, mc := range calls {
			it, ok := brief.Match(planned, mc.call.Name, mc.call.Arguments)
			if !ok {
				continue
			}
			if !mc.done {
				outs = append(outs, brief.Outcome{Item: it, Status: brief.StatusError, Message: "no result"})
				continue
			}
			outs = append(outs, brief.Read(it, mc.content))
		}
		return brief.InPlanOrder(planned, outs)
	}
	first := outcomes(items)
	more := brief.FollowUps(p.cat, first)
	if callable, _ := brief.Screen(more, o.Access); steps == 1 && len(callable) > 0 && canCall {
		return briefCalls(callable, steps), true
	}
	outs := append(first, outcomes(more)...)
	return p.text(brief.Compose(p.cat, o, outs).Text, onText), true
}

// briefAccess asks policy, once, what the asker (ctx's caller, which the
// agent sets) may do with the products a brief of o could touch, so the
// brief calls only those and lists the rest as withheld. Without a checker
// or a caller, or when policy cannot be asked, it is nil: every call is
// made and decided on its own, which refuses and audits what it must.
func (p *Planner) briefAccess(ctx context.Context, o brief.Options) brief.Access {
	caller, ok := tools.CallerFromContext(ctx)
	if p.access == nil || !ok {
		return nil
	}
	acc, err := brief.AskAccess(ctx, p.access, p.cat, caller, o)
	if err != nil {
		return nil
	}
	return acc
}

// queryable is what ctx's caller may query, asked of policy for each
// product a rule asks about, once per question: never for the whole
// catalog, whose size would then be every question's cost (a catalog of
// 10,000 products was 20,000 decisions for a question that named one).
// Nil without a checker or a caller; when policy cannot be asked the
// product counts as queryable: calls are still decided and audited one by
// one.
func (p *Planner) queryable(ctx context.Context) func(*catalog.Product) bool {
	caller, ok := tools.CallerFromContext(ctx)
	if p.access == nil || !ok {
		return nil
	}
	allowed := map[string]bool{}
	return func(prod *catalog.Product) bool {
		may, asked := allowed[prod.Name]
		if !asked {
			acc, err := p.access.Access(ctx, caller, []string{prod.Name}, authz.ActionQueryMetrics)
			may = err != nil || len(acc) == 1 && acc[0].May(authz.ActionQueryMetrics)
			allowed[prod.Name] = may
		}
		return may
	}
}

// briefCalls asks for the items' calls in one turn; ids are deterministic.
func briefCalls(items []brief.Item, step int) *assistant.Reply {
	msg := assistant.Message{Role: assistant.RoleAssistant}
	for i, it := range items {
		msg.ToolCalls = append(msg.ToolCalls, assistant.ToolCall{ID: fmt.Sprintf("call_%d_%d", step, i), Name: it.Call.Tool,
			Arguments: slices.Clone(it.Call.Arguments)})
	}
	return &assistant.Reply{Message: msg, FinishReason: "tool_calls"}
}

// ShapeAnswer gives an executive brief answered through the agent the
// tables and the one chart `askmesh brief` shows, in place of one table and
// chart per call; other answers are left as composed.
func (p *Planner) ShapeAnswer(ctx context.Context, question string, ans *assistant.Answer, results map[string]*tools.Result) {
	var calls []assistant.ToolCall
	for _, rec := range ans.ToolCalls {
		calls = append(calls, assistant.ToolCall{ID: rec.ID, Name: rec.Tool, Arguments: rec.Arguments})
	}
	o, ok := p.briefOf(ctx, calls)
	if !ok {
		p.shapeShares(question, ans, results)
		return
	}
	read := func(planned []brief.Item) []brief.Outcome {
		planned, outs := brief.Screen(planned, o.Access)
		for _, rec := range ans.ToolCalls {
			it, ok := brief.Match(planned, rec.Tool, rec.Arguments)
			if !ok {
				continue
			}
			out := brief.Outcome{Item: it, Status: brief.StatusError, Message: rec.Error, AuditID: rec.AuditID}
			switch res := results[rec.ID]; {
			case rec.Decision == audit.DecisionAllow && res != nil:
				out = brief.ReadResult(it, res)
			case rec.Decision == audit.DecisionDeny:
				out.Status = brief.StatusDenied
			}
			outs = append(outs, out)
		}
		return brief.InPlanOrder(planned, outs)
	}
	first := read(brief.Plan(p.cat, o))
	if len(first) == 0 {
		return
	}
	outs := append(first, read(brief.FollowUps(p.cat, first))...)
	b := brief.Compose(p.cat, o, outs)
	ans.Tables, ans.Charts, ans.Brief = b.Tables, b.Charts, b.Brief
}

// briefOf recognises an executive brief by the calls made for it: the
// plan of the period, comparison and products its headline calls name must
// all have been called. It works from calls, not words, so a brief asked
// as a follow-up is recognised too.
func (p *Planner) briefOf(ctx context.Context, calls []assistant.ToolCall) (brief.Options, bool) {
	var o brief.Options
	var products []string
	for _, c := range calls {
		if c.Name != tools.ToolQueryMetrics {
			continue
		}
		var a tools.QueryMetricsArgs
		if json.Unmarshal(c.Arguments, &a) != nil || a.CompareTo == "" || len(a.GroupBy) > 0 {
			continue
		}
		if o.Period == "" {
			o.Period, o.Compare = a.TimeRange, a.CompareTo
		}
		if !slices.Contains(products, a.Product) {
			products = append(products, a.Product)
		}
	}
	if o.Period == "" {
		return o, false
	}
	o.Now = p.clock.Now()
	o.Access = p.briefAccess(ctx, o)
	// The whole brief calls every product the asker may query.
	if all := brief.Products(p.cat, brief.Options{}); len(o.Access.Queryable(all)) != len(products) {
		o.Products = products
	}
	items, _ := brief.Screen(brief.Plan(p.cat, o), o.Access)
	for _, it := range items {
		if !slices.ContainsFunc(calls, func(c assistant.ToolCall) bool {
			return c.Name == it.Call.Tool && string(c.Arguments) == string(it.Call.Arguments)
		}) {
			return o, false
		}
	}
	return o, len(items) > 0
}

// briefHistory returns the brief the question before this one got, or nil
// when it got none: every call made after the last question of history.
// After a brief, the parser's follow-ups have no one-product query to modify.
func (p *Planner) briefHistory(ctx context.Context, history []assistant.Message) *brief.Options {
	u := -1
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Role == assistant.RoleUser {
			u = i
			break
		}
	}
	if u < 0 {
		return nil
	}
	var calls []assistant.ToolCall
	for _, m := range history[u+1:] {
		if m.Role == assistant.RoleAssistant {
			calls = append(calls, m.ToolCalls...)
		}
	}
	if o, ok := p.briefOf(ctx, calls); ok {
		o.Access = nil // asked again for the brief that follows
		return &o
	}
	return nil
}

// briefFollowUp reads a question after a brief (prev) that changes only its
// period or comparison ("and the month before?", "what about September?").
func (p *Planner) briefFollowUp(q string, prev brief.Options, now time.Time) (brief.Options, bool) {
	a := p.analyze(q, now)
	if prod, _ := p.chooseProduct(a, false); prod != nil || a.has(anomalyRe) || a.has(discoverRe) || a.has(helpRe) {
		return brief.Options{}, false // a question of its own
	}
	o := prev
	switch {
	case a.w.rangeArg != "" && !a.w.defaulted:
		o.Period = a.w.rangeArg
	case a.w.shift != "":
		s, err := shiftRange(prev.Period, a.w.shift, now)
		if err != nil {
			return brief.Options{}, false
		}
		o.Period = s
	case a.w.compare == "":
		return brief.Options{}, false
	}
	if a.w.compare != "" {
		o.Compare = a.w.compare
	}
	return o, true
}
