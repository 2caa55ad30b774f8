package planner

import (
	"encoding/json"
	"regexp"
	"slices"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/tools"
)

// previousTurn is what the last answered question asked of the tools.
type previousTurn struct {
	question string
	calls    []assistant.ToolCall // its data calls, as made
}

// dataTools are the tools whose calls a follow-up can modify.
var dataTools = []string{tools.ToolQueryMetrics, tools.ToolQueryRecords, tools.ToolFindAnomalies}

// lastTurn finds the previous question and its data calls in the history
// (everything before the current question).
func lastTurn(history []assistant.Message) *previousTurn {
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
	pt := &previousTurn{question: history[u].Content}
	// The last assistant message of the turn that made data calls: after a
	// search, the data calls come later.
	for _, m := range history[u+1:] {
		if m.Role != assistant.RoleAssistant || len(m.ToolCalls) == 0 {
			continue
		}
		var calls []assistant.ToolCall
		for _, c := range m.ToolCalls {
			if slices.Contains(dataTools, c.Name) {
				calls = append(calls, c)
			}
		}
		if len(calls) > 0 {
			pt.calls = calls
		}
	}
	if len(pt.calls) == 0 {
		return nil
	}
	return pt
}

var followCueRe = regexp.MustCompile(`^\W*(?:and|what about|how about|same for|same but|same thing for|the same for|now|also|only|just|but|what if|ok|okay|then|break (?:it|that) down|split (?:it|that)|show (?:it|that|me that)|and now)\b`)

// followUp modifies the previous turn's calls by what the question adds:
// another period ("and the month before?"), a filter ("what about
// Europe?"), a grouping ("and by channel?"), a grain, a comparison, other
// metrics. It returns nil when the question stands on its own.
func (p *Planner) followUp(a *analysis, prev *previousTurn) *intent {
	prodName := productArgOf(prev.calls[0].Arguments)
	prod, ok := p.cat.Get(prodName)
	if !ok {
		return nil
	}
	cue := a.has(followCueRe)
	audit := p.auditProduct() == prod
	// A question naming another product strongly is a new question, except
	// after an access-log question, where products are what is filtered.
	if best, _ := p.chooseProduct(a, false); best != nil && best != prod && !(audit && cue) {
		if !cue {
			return nil
		}
		scores := p.scoreProducts(a)
		for _, s := range scores {
			if s.product == prod && s.score > 0 {
				best = prod
			}
		}
		if best != prod {
			return nil
		}
	}
	var notes []string
	metrics, strong, metricToks := p.metricsOf(a, prod)
	filters := p.valueFilters(a, prod, metricToks)
	filters = append(filters, p.numericFilters(a, prod)...)
	if ap := prod; audit {
		if pf := p.productFilter(a, ap); pf != nil {
			filters = append(filters, *pf)
		}
		if sf := p.subjectFilter(a, ap); sf != nil {
			filters = append(filters, *sf)
		} else if cue {
			// "what about carol?"
			for k, t := range a.toks {
				if t.kind == tokWord && !t.used && p.personName(t.low) {
					filters = append(filters, tools.Filter{Column: "subject", Op: tools.OpContains, Value: t.low + "@"})
					a.toks[k].used = true
					break
				}
			}
		}
	}
	group := p.groupBy(a, prod, &notes)
	w := a.w
	changed := len(filters) > 0 || len(group) > 0 || (w.rangeArg != "" && !w.defaulted) || w.allTime || w.shift != "" || w.compare != "" || w.grain != "" || strong
	if !changed {
		return nil
	}
	// Without a cue, a question that only names a period or a filter is a
	// follow-up only when it names no product at all.
	if !cue {
		standalone := strong || a.has(howManyRe) || a.has(listRe) || a.has(whoRe) || a.has(didRe) || a.has(anomalyRe)
		if best, _ := p.chooseProduct(a, false); best != nil && (best != prod || !audit || standalone) {
			return nil
		}
	}
	in := &intent{kind: kindData, product: prod, followUp: true, notes: notes}
	now := a.now
	for _, c := range prev.calls {
		switch c.Name {
		case tools.ToolQueryMetrics:
			var args tools.QueryMetricsArgs
			if json.Unmarshal(c.Arguments, &args) != nil {
				return nil
			}
			args.Filters = mergeFilters(args.Filters, filters)
			if tr, ok := p.newRange(args.TimeRange, w, now, &in.notes); ok {
				args.TimeRange = tr
			}
			if w.compare != "" {
				args.CompareTo = w.compare
			}
			if args.TimeRange == "" {
				args.CompareTo = ""
			}
			if w.grain != "" {
				args.TimeGrain = w.grain
			}
			if strong {
				args.Metrics = metrics
				args.OrderBy = retarget(args.OrderBy, metrics[0], args.GroupBy)
			}
			if len(group) > 0 {
				args.GroupBy = group
				args.Limit = 0
				args.OrderBy = nil
				if args.TimeGrain == "" {
					args.OrderBy = []tools.OrderBy{{Field: args.Metrics[0], Direction: "desc"}}
				}
			}
			in.calls = append(in.calls, plannedCall{c.Name, args})
		case tools.ToolQueryRecords:
			var args tools.QueryRecordsArgs
			if json.Unmarshal(c.Arguments, &args) != nil {
				return nil
			}
			args.Filters = mergeFilters(args.Filters, filters)
			if tr, ok := p.newRange(args.TimeRange, w, now, &in.notes); ok {
				args.TimeRange = tr
			}
			args.Cursor = ""
			in.calls = append(in.calls, plannedCall{c.Name, args})
		case tools.ToolFindAnomalies:
			var args tools.FindAnomaliesArgs
			if json.Unmarshal(c.Arguments, &args) != nil {
				return nil
			}
			args.Filters = mergeFilters(args.Filters, filters)
			if tr, ok := p.newRange(args.TimeRange, w, now, &in.notes); ok {
				args.TimeRange = tr
			}
			in.calls = append(in.calls, plannedCall{c.Name, args})
		}
	}
	if len(in.calls) == 0 {
		return nil
	}
	return in
}

// retarget points an ordering at the new metric, keeping dimension orders.
func retarget(order []tools.OrderBy, metric string, group []string) []tools.OrderBy {
	out := make([]tools.OrderBy, len(order))
	for i, o := range order {
		if !slices.Contains(group, o.Field) && o.Field != "period" {
			o.Field = metric
		}
		out[i] = o
	}
	return out
}

// newRange is the follow-up's time range: the one it names, the previous
// one shifted ("the month before"), or none for "all time".
func (p *Planner) newRange(old string, w when, now time.Time, notes *[]string) (string, bool) {
	switch {
	case w.rangeArg != "" && !w.defaulted:
		return w.rangeArg, true
	case w.allTime:
		return "", true
	case w.shift != "":
		if old == "" {
			*notes = append(*notes, "The previous question had no period to move back from.")
			return "", false
		}
		s, err := shiftRange(old, w.shift, now)
		if err != nil {
			*notes = append(*notes, "I could not move the period back: "+err.Error())
			return "", false
		}
		return s, true
	}
	return "", false
}

// mergeFilters replaces the old filters on the columns the new ones name
// and keeps the rest.
func mergeFilters(old, add []tools.Filter) []tools.Filter {
	if len(add) == 0 {
		return old
	}
	var out []tools.Filter
	for _, f := range old {
		if !slices.ContainsFunc(add, func(n tools.Filter) bool { return n.Column == f.Column }) {
			out = append(out, f)
		}
	}
	return append(out, add...)
}

func productArgOf(raw json.RawMessage) string {
	var a struct {
		Product string `json:"product"`
	}
	_ = json.Unmarshal(raw, &a)
	return a.Product
}
