package planner

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
)

// Intent selection is an ordered table of named rules. Each rule reads the
// features computed once from the question (features) and either plans the
// intent or passes; the first rule that plans wins. A rule lives in its own
// file, rule_<name>.go, with its own tests, and the intent records the rule
// that fired so a failing suite case can name it (see Explain).
//
// Order matters and is the design: conversation rules first (help, follow-
// ups), then rules that name a thing exactly (a record, the catalog, a
// product's description or a metric's definition, the access log), then
// the rules that refuse to guess (a question in several parts is split;
// a named metric the catalog lacks is declined; two products that fit
// equally are asked back), and last the one-product data rules from the
// most specific (anomalies, shares, side-by-side comparisons, records) to
// the general metrics query.

// rule is one way of reading a question.
type rule struct {
	name string
	// applies is a cheap test on the features; plan runs only when it holds.
	applies func(f *features) bool
	// plan builds the intent from a private copy of the analysis (plans
	// mark words as used), or returns nil to let the next rule try.
	plan func(p *Planner, a *analysis, f *features) *intent
}

// rules is the table, in order; filled in init because rules that split a
// question (multi-part) parse its parts through the table again.
var rules []rule

func init() {
	rules = []rule{
		ruleHelp,
		ruleFollowUp,
		ruleGetRecord,
		ruleDiscover,
		ruleDefinition,
		ruleDescribe,
		ruleAudit,
		ruleMultiPart,
		ruleUnmatched,
		ruleAmbiguous,
		ruleAmbiguousWord,
		ruleInitialState,
		ruleNoProduct,
		ruleAnomalies,
		ruleShare,
		ruleCompareValues,
		ruleGrowth,
		ruleRecords,
		ruleBrief,
		ruleMetrics,
	}
}

// features is a question read once: the analysis (tokens, time, catalog
// mentions), the cues the rules test, the product it points at, and the
// previous turn for follow-ups. Rules never change it.
type features struct {
	a    *analysis
	prev *previousTurn

	empty        bool     // nothing asked
	help         bool     // "hi", "what can you do"
	discover     bool     // "what data do we have about ..."
	describeLead bool     // starts with "describe"
	describe     bool     // schema, owner, freshness words
	definition   bool     // "how is X defined", "what counts as X"
	share        bool     // "share of", "percentage of", "proportion"
	compare      bool     // "compare", "vs", "versus"
	parts        []string // the question's parts, when it asks several things
	howMany      bool
	anomaly      bool
	brief        bool
	list         bool // "show", "list", "what are"
	agg          bool // aggregate words: total, by, rate ...

	product *catalog.Product // the product the question points at, if any
	scores  []scored
	audit   *catalog.Product // the access-log product when the question is about it

	unmatched []string // phrases naming a measure or value the catalog lacks

	// queryable says whether the asker may query a product; nil when
	// policy was not asked (no checker or no caller): every product is
	// offered and each call is decided on its own.
	queryable func(*catalog.Product) bool
}

// may reports whether the asker may query prod, as far as the planner knows.
func (f *features) may(prod *catalog.Product) bool {
	return f.queryable == nil || f.queryable(prod)
}

func (p *Planner) features(q string, prev *previousTurn, now time.Time, queryable func(*catalog.Product) bool) *features {
	a := p.analyze(q, now)
	f := &features{a: a, prev: prev, queryable: queryable}
	f.empty = strings.TrimSpace(q) == ""
	f.help = a.has(helpRe) && len(a.ms) == 0
	f.discover = a.has(discoverRe)
	f.describeLead = a.has(describeLeadRe)
	f.describe = a.has(describeRe)
	f.definition = a.has(definitionRe)
	f.share = a.has(shareRe)
	f.compare = a.has(compareRe)
	f.parts = splitParts(q)
	f.howMany = a.has(howManyRe)
	f.anomaly = a.has(anomalyRe)
	f.brief = a.has(briefRe)
	f.list = a.has(listRe)
	f.agg = a.has(aggRe)
	f.product, f.scores = p.chooseProduct(a, false)
	f.product = p.queryableReading(f)
	if ap := p.auditProduct(); ap != nil && p.auditCue(a, ap, f.product) {
		f.audit = ap
	}
	f.unmatched = p.unmatchedConcepts(a, f.product)
	return f
}

// clone is a private copy of the analysis for one rule's plan.
func (a *analysis) clone() *analysis {
	c := *a
	c.toks = slices.Clone(a.toks)
	c.ms = slices.Clone(a.ms)
	c.w.spans = slices.Clone(a.w.spans)
	return &c
}

// parse turns a question into an intent through the rule table. prev is
// the previous turn, for follow-ups.
func (p *Planner) parse(q string, prev *previousTurn, now time.Time) *intent {
	return p.parseAs(q, prev, now, nil)
}

// parseAs is parse for an asker: queryable is what the asker may query
// (see Planner.queryable), nil when unknown.
func (p *Planner) parseAs(q string, prev *previousTurn, now time.Time, queryable func(*catalog.Product) bool) *intent {
	f := p.features(q, prev, now, queryable)
	for _, r := range rules {
		if !r.applies(f) {
			continue
		}
		if in := r.plan(p, f.a.clone(), f); in != nil {
			if in.rule == "" {
				in.rule = r.name
			}
			return in
		}
	}
	// ruleMetrics plans for any product and ruleNoProduct catches the rest.
	return &intent{kind: kindUnknown, rule: "none", suggest: p.suggestions(f.scores)}
}

// ruleOf names the rule that reads the last question of msgs, as Generate
// would for ctx's caller: "executive-brief" when assistant/brief plans it
// instead.
func (p *Planner) ruleOf(ctx context.Context, msgs []assistant.Message) string {
	u := -1
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == assistant.RoleUser {
			u = i
			break
		}
	}
	if u < 0 {
		return "help"
	}
	now := p.clock.Now()
	prevBrief := p.briefHistory(ctx, msgs[:u])
	_, ok := p.briefOptions(msgs[u].Content, now)
	if !ok && prevBrief != nil {
		_, ok = p.briefFollowUp(msgs[u].Content, *prevBrief, now)
	}
	if ok {
		return "executive-brief"
	}
	var prev *previousTurn
	if u > 0 && prevBrief == nil {
		prev = lastTurn(msgs[:u])
	}
	return p.parseAs(msgs[u].Content, prev, now, p.queryable(ctx)).rule
}
