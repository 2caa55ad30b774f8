package planner

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/textfmt"
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
	if in := p.referToResult(a, prev, prod); in != nil {
		return in
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
				// "and by type?" after "mortgage approval rate": a filter
				// on the new breakdown's column would leave one row.
				args.Filters = slices.DeleteFunc(args.Filters, func(f tools.Filter) bool {
					if f.Op == tools.OpEq && slices.Contains(group, f.Column) {
						in.notes = append(in.notes, fmt.Sprintf("I dropped the filter %s %v of the previous question, as the breakdown is by %s.",
							textfmt.Humanize(f.Column), f.Value, textfmt.Humanize(f.Column)))
						return true
					}
					return false
				})
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
	p.keepShape(in, prev.question, now)
	return in
}

// keepShape carries the previous question's shape — its parts, its share —
// over to the follow-up's modified calls, so "and by type?" after "how many
// applications, and what share was approved?" answers both parts by type,
// the second still as a share. A previous question that was itself a
// follow-up has no shape of its own to carry.
func (p *Planner) keepShape(in *intent, prevQuestion string, now time.Time) {
	prevIn := p.parse(prevQuestion, nil, now)
	if len(prevIn.calls) != len(in.calls) {
		return
	}
	reshape := func(src *intent, calls []plannedCall) *intent {
		c := *src
		c.calls = calls
		if c.share != nil && len(calls) == 2 {
			sp := *c.share
			args, ok := calls[1].args.(tools.QueryMetricsArgs)
			if !ok {
				return src
			}
			sp.groups = args.GroupBy
			c.share = &sp
		}
		return &c
	}
	switch {
	case len(prevIn.parts) > 0:
		off := 0
		for _, part := range prevIn.parts {
			n := len(part.calls)
			in.parts = append(in.parts, reshape(part, in.calls[off:off+n]))
			off += n
		}
		in.partText = prevIn.partText
	case prevIn.share != nil:
		in.share = reshape(prevIn, in.calls).share
	}
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

var (
	// refExtremeRe: "the largest one", "which one is the highest?".
	refExtremeRe = regexp.MustCompile(`^\W*(?:and\s+|so\s+|ok\s+)?(?:(?:which|what|who)(?:\s+one|\s+of them)?\s+)?(?:(?:is|was|were|are|had|has)\s+)?(?:the\s+)?(largest|biggest|highest|top|most|smallest|lowest|least|fewest|best|worst)(?:\s+(?:one|of them|of those))?\W*$`)
	// refShowRe: "show them", "list those".
	refShowRe = regexp.MustCompile(`^\W*(?:ok\s+|okay\s+|and\s+|now\s+|can you\s+|please\s+)?(?:show|list|display|see|give)\s+(?:me\s+)?(?:them|those|these|the (?:rows|records|list|details)|those (?:rows|records)|the (?:underlying )?(?:rows|records))\W*$`)
)

// referToResult reads a follow-up that refers to the previous result
// rather than changing it: "the largest one" picks the top row of the
// previous breakdown; "show them" lists the records behind the previous
// figure, with its filters and period.
func (p *Planner) referToResult(a *analysis, prev *previousTurn, prod *catalog.Product) *intent {
	c := prev.calls[0]
	if m := refExtremeRe.FindStringSubmatch(a.low); m != nil {
		desc := !slices.Contains([]string{"smallest", "lowest", "least", "fewest", "worst"}, m[1])
		in := &intent{kind: kindData, product: prod, followUp: true}
		switch c.Name {
		case tools.ToolQueryMetrics:
			var args tools.QueryMetricsArgs
			if json.Unmarshal(c.Arguments, &args) != nil {
				return nil
			}
			if len(args.GroupBy) == 0 && args.TimeGrain == "" {
				return &intent{kind: kindNote, product: prod, outcome: assistant.OutcomeDeclined, notes: []string{
					"The previous answer was a single figure, so there is no largest one to pick; ask for a breakdown first (\"by region\")."}}
			}
			if strings.Contains(args.Metrics[0], "cost") && (m[1] == "best" || m[1] == "worst") {
				desc = !desc
			}
			args.OrderBy = []tools.OrderBy{{Field: args.Metrics[0], Direction: dirName(desc)}}
			args.Limit = 1
			in.calls = []plannedCall{{c.Name, args}}
		case tools.ToolQueryRecords:
			var args tools.QueryRecordsArgs
			if json.Unmarshal(c.Arguments, &args) != nil {
				return nil
			}
			field := measureColumn(prod)
			if field == "" {
				return nil
			}
			args.OrderBy = []tools.OrderBy{{Field: field, Direction: dirName(desc)}}
			args.Limit, args.Cursor = 1, ""
			in.calls = []plannedCall{{c.Name, args}}
		default:
			return nil
		}
		return in
	}
	if refShowRe.MatchString(a.low) && c.Name == tools.ToolQueryMetrics {
		var args tools.QueryMetricsArgs
		if json.Unmarshal(c.Arguments, &args) != nil {
			return nil
		}
		rec := tools.QueryRecordsArgs{Product: args.Product, Filters: args.Filters, TimeRange: args.TimeRange}
		if prod.TimeColumn != "" {
			rec.OrderBy = []tools.OrderBy{{Field: prod.TimeColumn, Direction: "desc"}}
		}
		return &intent{kind: kindData, product: prod, followUp: true, calls: []plannedCall{{tools.ToolQueryRecords, rec}}}
	}
	return nil
}
