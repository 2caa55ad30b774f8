package planner

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// Intent kinds.
const (
	kindUnknown  = "unknown"  // cannot parse: say so and suggest questions
	kindHelp     = "help"     // greetings, "what can you do"
	kindSearch   = "search"   // discovery
	kindDescribe = "describe" // one product's description
	kindData     = "data"     // records, metrics, get, anomalies
	kindNote     = "note"     // nothing to call; the notes are the answer
)

// Answer forms the templates know beyond one result per call.
const (
	formPlain    = ""
	formBrief    = "brief"     // headline comparison + breakdown
	formAuditWho = "audit-who" // records + counts by subject
	formAuditPII = "audit-pii" // counts by subject, one call per pii column
)

// plannedCall is one tool call the planner wants made.
type plannedCall struct {
	tool string
	args any
}

// intent is what a question asks for, as calls and what to say about them.
type intent struct {
	kind      string
	form      string
	product   *catalog.Product
	calls     []plannedCall
	notes     []string // said in the answer: what was not done and why
	query     string   // discovery query
	describe  bool     // discovery that also asks for the top hit's description
	suggest   []string // example questions, for unknown and help
	followUp  bool
	limitSeen bool   // a singular superlative ("the largest withdrawal")
	rule      string // the rule that planned it (rules.go)

	// outcome overrides the outcome read from the results: declined or
	// clarify for intents that compute nothing on purpose.
	outcome   string
	unmatched []string                 // concepts of the question the catalog has no match for
	clarify   *assistant.Clarification // the question back, for outcome clarify
	parts     []*intent                // a question in several parts: one intent each
	partText  []string                 // the parts' own wording
	share     *shareSpec               // a share: calls[0] counts the subset, calls[1] the whole
	define    *catalog.Metric          // a definition: the metric defined
	meanGrain string                   // formPeriodMean: the period averaged over
	growth    *growthSpec              // a grouped comparison ranked by change
	resolve   *subjectResolve          // a person named by first name: calls[0] finds their id first
}

// analysis is one question read once: tokens, time, catalog mentions.
type analysis struct {
	q    string
	low  string
	free string // low with the time phrases blanked out
	toks []token
	w    when
	ms   []mention
	now  time.Time
	// matched remembers has's answers; a reading's copies share it, as
	// free never changes.
	matched *matches
}

// matches are the expressions a reading's free text was matched against.
type matches struct {
	mu sync.Mutex
	m  map[*regexp.Regexp]bool
}

// analyze reads q as of now. Callers may change the analysis they get
// (rules mark tokens used), so each gets its own copy.
func (p *Planner) analyze(q string, now time.Time) *analysis {
	if a := p.analyses.get(q, now); a != nil {
		return a
	}
	a := p.read(q, now)
	p.analyses.put(a)
	return a
}

// analyses remembers the last few questions read. One question is read
// several times as of the same time: the brief check and the parse of each
// turn, the share layout, and every turn again under a fixed clock; the
// time phrases' regular expressions made reading a fifth of a question's
// CPU (BenchmarkQuestion).
type analyses struct {
	mu   sync.Mutex
	ring [8]*analysis
	next int
}

// get returns a copy of q's analysis as of now, or nil.
func (m *analyses) get(q string, now time.Time) *analysis {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.ring {
		if a != nil && a.q == q && a.now.Equal(now) && a.now.Location() == now.Location() {
			return a.clone()
		}
	}
	return nil
}

// put keeps a copy of a, pristine, replacing the oldest.
func (m *analyses) put(a *analysis) {
	c := a.clone()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ring[m.next] = c
	m.next = (m.next + 1) % len(m.ring)
}

func (p *Planner) read(q string, now time.Time) *analysis {
	q = expandShorthand(q)
	for _, l := range p.lex.levels {
		q = l.rewrite(q)
	}
	a := &analysis{q: q, low: asciiLower(q), now: now, matched: &matches{m: map[*regexp.Regexp]bool{}}}
	a.toks = tokenize(q)
	a.w = parseWhen(a.low, now)
	free := []byte(a.low)
	for _, sp := range a.w.spans {
		for k := sp[0]; k < sp[1]; k++ {
			free[k] = ' '
		}
	}
	a.free = string(free)
	for k := range a.toks {
		if inTimePhrase(a, k) {
			a.toks[k].used = true
		}
	}
	// "called Clara Murphy", "named 'Summer Special Offer'" introduce a
	// name: the word is not the catalog's ("call" is a channel).
	for k := 0; k+1 < len(a.toks); k++ {
		if nx := a.toks[k+1]; (a.toks[k].low == "called" || a.toks[k].low == "named") && (nx.kind == tokQuoted || nx.kind == tokWord && nx.upper) {
			a.toks[k].used = true
		}
	}
	p.lex.correct(a.toks)
	a.ms = p.lex.find(a.toks)
	a.ms = append(a.ms, p.lex.quotedExamples(a.toks)...)
	// The word before an identifier names its column ("customer
	// cust-00042", "account 123456"), not the product asked about.
	a.ms = slices.DeleteFunc(a.ms, func(m mention) bool {
		if m.j >= len(a.toks) || m.j != m.i+1 || (a.toks[m.j].kind != tokID && a.toks[m.j].kind != tokNumber) {
			return false
		}
		return m.kind != mColumn && m.kind != mColumnPart
	})
	return a
}

// shorthand is what people type for speed ("new custs last qtr", "loan
// apps in H1 2026"), written out before the question is read; none of them
// is a prefix of the demo's identifiers (txn-, cust-), which stay as typed.
var shorthand = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?i)\byrs?\b`), "year"},
	{regexp.MustCompile(`(?i)\bqtrs?\b`), "quarter"},
	{regexp.MustCompile(`(?i)\bm(?:n)?ths?\b`), "month"},
	{regexp.MustCompile(`(?i)\bwks?\b`), "week"},
	{regexp.MustCompile(`(?i)\bcusts\b`), "customers"},
	{regexp.MustCompile(`(?i)\btxns\b`), "transactions"},
	{regexp.MustCompile(`(?i)\bloan apps?\b`), "loan applications"},
	// A half year is its months: "from January to June 2026".
	{regexp.MustCompile(`(?i)\b(?:h1|first half)(?: of)?( (?:19|20)\d{2})?\b`), "from January to June$1"},
	{regexp.MustCompile(`(?i)\b(?:h2|second half)(?: of)?( (?:19|20)\d{2})?\b`), "from July to December$1"},
}

// anyShorthandRe finds any of shorthand's words at once: most questions
// have none, and are then read as typed.
var anyShorthandRe = regexp.MustCompile(`(?i)\b(?:yrs?|qtrs?|mn?ths?|wks?|custs|txns|apps?|h[12]|half)\b`)

// expandShorthand writes out the shorthand in q.
func expandShorthand(q string) string {
	if !anyShorthandRe.MatchString(q) {
		return q
	}
	for _, s := range shorthand {
		if s.re.MatchString(q) {
			q = s.re.ReplaceAllString(q, s.with)
		}
	}
	return q
}

// has reports whether the lower-cased question matches re. A question is
// matched against the same dozen expressions on each of its parses.
func (a *analysis) has(re *regexp.Regexp) bool {
	a.matched.mu.Lock()
	ok, seen := a.matched.m[re]
	a.matched.mu.Unlock()
	if seen {
		return ok
	}
	ok = re.MatchString(a.free)
	a.matched.mu.Lock()
	a.matched.m[re] = ok
	a.matched.mu.Unlock()
	return ok
}

var (
	helpRe         = regexp.MustCompile(`^\W*(?:hi|hello|hey|help|what can you do|what can i ask|what do you know|how does this work|who are you)\b`)
	describeRe     = regexp.MustCompile(`\b(?:describe|schema|columns?|fields?|who owns|owners?|owned by|what metrics|which metrics|metrics (?:does|do|are)|how fresh|freshness|up to date|last updated|tell me about|what(?: is|'s) in)\b`)
	discoverRe     = regexp.MustCompile(`\b(?:(?:what|which) (?:data|datasets?|data products?|products?|sources?|tables?|information)(?: do we have| are there| is there| exists?| covers?| about| on| for| have| has| contains?| includes?| holds?| can i use| is available)|(?:is|are) there (?:any )?(?:data|datasets?|products?|information)|do we have (?:any )?(?:data|datasets?|products?|information)|where can i find|search (?:the catalog )?for|find (?:data|datasets?|products?)|(?:data )?products? (?:about|on|covering|that covers?|for))\b`)
	discoverTailRe = regexp.MustCompile(`\b(?:about|on|for|covers?|covering|regarding|related to|with|find)\s+(.*)$`)
	ownerRe        = regexp.MustCompile(`\b(?:who owns|owners?|owned by|describe|columns?|schema)\b`)
	anomalyRe      = regexp.MustCompile(`\b(?:unusual|suspicious|anomalous|anomal(?:y|ies)|outliers?|odd|strange|irregular|abnormal|weird|fishy)\b`)
	briefRe        = regexp.MustCompile(`\b(?:summari[sz]e|summary|brief(?:ing)?|overview|recap|report on|how are we doing|how is .* doing)\b`)
	performRe      = regexp.MustCompile(`\b(?:perform(?:ed|ing|ance)?|doing|kpis?|results?)\b`)
	howManyRe      = regexp.MustCompile(`\b(?:how many|number of|count of|count|how often|how much)\b`)
	aggRe          = regexp.MustCompile(`\b(?:how many|how much|number of|count|total|sum|average|avg|mean|rate|ratio|percentage|share|trend|trending|over time|per|by|compare|compared|versus|vs)\b`)
	listRe         = regexp.MustCompile(`^\W*(?:(?:can|could) you |please )?(?:show|list|display|give|get|fetch|pull|find|what are|which are|let me see|i want to see|i'd like to see)\b`)
	supRe          = regexp.MustCompile(`\b(?:the\s+)?(?:(\d+)\s+)?(top|largest|biggest|highest|smallest|lowest|cheapest|most expensive|latest|most recent|newest|recent|oldest|earliest|first|last)\b(?:\s+(\d+))?`)
	whichRe        = regexp.MustCompile(`\b(?:which|what)\s+(?:(\d+)\s+)?(\w+(?:\s\w+)?)\b`)
	bestRe         = regexp.MustCompile(`\b(best|most|highest|largest|biggest|greatest|longest|top|max(?:imum)?|worst|least|lowest|fewest|smallest|shortest|min(?:imum)?|poorest)\b`)
	groupRe        = regexp.MustCompile(`\b(?:by|per|for each|for every|in each|from each|of each|across|broken down by|split by|grouped by|group by|breakdown by|break down by)\s+(?:the\s+|each\s+)?`)
	piiRe          = regexp.MustCompile(`\b(?:pii|personal (?:data|information|details)|personally identifiable)\b`)
	whoRe          = regexp.MustCompile(`\b(?:who|which (?:users?|people|persons?|subjects?|accounts?|employees?|staff))\b`)
	didRe          = regexp.MustCompile(`\bwhat (?:did|has|have) (\S+) (?:try|tried|do|done|ask|asked|access|accessed|query|queried|look|looked|see|seen|attempt|attempted|request|requested|read|get|got|want)\b`)
	nameRes        = []*regexp.Regexp{
		regexp.MustCompile(`\b(?:was|were|is|has|did|had) ([a-z]+) (?:been )?(?:denied|refused|blocked|allowed|granted|trying|try|access|accessing|read|reading)\b`),
		regexp.MustCompile(`\b([a-z]+)'s (?:activity|access|accesses|calls|requests|denials|queries|questions|attempts)\b`),
		regexp.MustCompile(`\b(?:user|by|for|from|of) ([a-z]+)(?:[^a-z@.\-]|$)`),
		regexp.MustCompile(`\b(?:did|has|have|had) ([a-z]+) (?:run|ran|make|made|ask|asked|send|sent|submit|submitted|perform|performed|execute|executed|issue|issued)\b`),
		// "everything frank tried to access"
		regexp.MustCompile(`\b([a-z]+) (?:tried|attempted|accessed|queried|requested|viewed)\b`),
	}
	// activityRe names what a person does through askmesh: each is a
	// recorded tool call ("how many queries did carol run").
	accessCountRe = regexp.MustCompile(`\b(?:how many times|how often)\b.*\b(?:accessed|queried|viewed|looked at|read)\b`)
	activityRe    = regexp.MustCompile(`\b(?:quer(?:y|ies)|questions|requests|searches|lookups|tool calls)\b`)
	cmpNumRe      = regexp.MustCompile(`(?:\b(over|above|more than|greater than|larger than|bigger than|higher than|longer than|exceeding|in excess of|at least|no less than|under|below|less than|smaller than|lower than|shorter than|at most|no more than|up to)|(>=|<=|>|<))\s*$`)
	negBoolRe     = regexp.MustCompile(`\b(?:un|not |non-?)(\w+)`)

	describeLeadRe    = regexp.MustCompile(`^\W*describe\b`)
	accessRe          = regexp.MustCompile(`\b(?:access(?:ed|es|ing)?|activity|activities|tried|attempt(?:s|ed)?|queried|asked|requests?|calls|denied|denials?|refused|allowed|audit(?:ed)?)\b`)
	permissionRe      = regexp.MustCompile(`\b(?:who|which (?:users?|people|groups?))\s+(?:has|have|gets?|is allowed to|are allowed to|can|could|may)\s+(?:access|see|read|view|query|look at)\b`)
	whoAccessedRe     = regexp.MustCompile(`\b(?:who|which users?|which people)\b.*\b(?:accessed|read|viewed|queried|looked at|tried|asked|saw|downloaded|exported)\b`)
	withSuperlativeRe = regexp.MustCompile(`\b(\w+)\s+(?:with|that had|that have|that has|having|had|has|have)\s+(?:the\s+)?(?:best|most|highest|largest|biggest|greatest|longest|worst|least|lowest|fewest|smallest|shortest)\b`)
	topNRe            = regexp.MustCompile(`\b(?:top|best|worst|bottom)\s*(\d+)?\s+`)
	supAdjRe          = regexp.MustCompile(`\b(?:biggest|largest|greatest|highest|smallest|lowest)\s+`)
	mostRe            = regexp.MustCompile(`\b(?:most|fewest|least)\b`)
	totalRe           = regexp.MustCompile(`\b(?:total|sum)\b`)
	howMuchRe         = regexp.MustCompile(`\bhow much\b`)
	averageRe         = regexp.MustCompile(`\b(?:average|avg|mean)\b`)
	lengthAskedRe     = regexp.MustCompile(`\b(?:how long|longest|shortest)\b`)
	rateRe            = regexp.MustCompile(`\b(?:rate|ratio|percentage|share)\b`)
	howWhatRe         = regexp.MustCompile(`\b(?:how|what)\b`)
)

// scored is a product and how strongly the question points at it.
type scored struct {
	product *catalog.Product
	score   float64
}

// Mention weights: how much a phrase says about which product is meant.
var kindWeight = map[int]float64{
	mName: 8, mSynonym: 5, mNamePart: 2, mMetric: 3, mColumn: 1, mColumnPart: 0.5,
	mValue: 2, mValuePart: 1, mExample: 3,
}

// minScore is the least evidence for a product: one value shared by several
// products ("europe") is not enough to pick one.
const minScore = 1.5

// scoreProducts ranks products by the phrases of the question that name
// them; each word counts once per product, at its strongest meaning, and
// a phrase many products share counts less.
func (p *Planner) scoreProducts(a *analysis) []scored {
	type mw struct {
		m mention
		w float64
	}
	per := map[*catalog.Product][]mw{}
	for _, m := range a.ms {
		w := kindWeight[m.kind] / float64(max(1, p.lex.spread[spreadKey(m.kind, m.words)]))
		// A one-word name that is also part of other products' names
		// ("customers" of customer-acquisition) says less on its own:
		// "customers we acquired" is about acquisition.
		if m.kind == mName && len(m.words) == 1 && p.lex.spread[spreadKey(mNamePart, m.words)] > 1 {
			w /= 2
		}
		// A metric said in full after "by" ("top customers by total
		// amount") says what is measured, more than the noun ranked by
		// it: transactions, by customer.
		if m.kind == mMetric && len(m.words) > 1 && m.i > 0 && a.toks[m.i-1].low == "by" {
			w *= float64(len(m.words))
		}
		// So does a column a metric sums, after "by" ("top customers by
		// amount"): the ranking is that sum, so its product is measured.
		if m.kind == mColumn && m.i > 0 && a.toks[m.i-1].low == "by" && sumOfColumnAt(a, m.product, m.i) != "" {
			w = max(w, 2*kindWeight[mMetric])
		}
		per[m.product] = append(per[m.product], mw{m, w})
	}
	var out []scored
	span := 0
	for _, m := range a.ms {
		span = max(span, m.j)
	}
	used := make([]bool, span) // tokens a heavier mention of the product took
	for _, prod := range p.lex.products {
		ms := per[prod]
		if len(ms) == 0 {
			continue
		}
		slices.SortStableFunc(ms, func(x, y mw) int { return heavier(x.w, y.w) })
		clear(used)
		total := 0.0
		for _, x := range ms {
			free := true
			for k := x.m.i; k < x.m.j; k++ {
				if used[k] {
					free = false
				}
			}
			if !free {
				continue
			}
			for k := x.m.i; k < x.m.j; k++ {
				used[k] = true
			}
			total += x.w
		}
		if total > 0 {
			out = append(out, scored{prod, total})
		}
	}
	slices.SortStableFunc(out, func(x, y scored) int { return heavier(x.score, y.score) })
	return out
}

// heavier orders weights largest first, for a stable sort: without
// reflection, unlike sort.SliceStable, so it allocates nothing.
func heavier(x, y float64) int {
	switch {
	case x > y:
		return -1
	case x < y:
		return 1
	}
	return 0
}

// chooseProduct picks the product a question is about, or nil when the
// evidence is too weak. Ties go to the catalog search's order.
func (p *Planner) chooseProduct(a *analysis, exceptAudit bool) (*catalog.Product, []scored) {
	scores := p.scoreProducts(a)
	if exceptAudit {
		ap := p.auditProduct()
		scores = slices.DeleteFunc(scores, func(s scored) bool { return s.product == ap })
	}
	if len(scores) == 0 || scores[0].score < minScore {
		return nil, scores
	}
	best := scores[0]
	var tied []*catalog.Product
	for _, s := range scores {
		if math.Abs(s.score-best.score) < 1e-9 {
			tied = append(tied, s.product)
		}
	}
	if len(tied) > 1 {
		for _, h := range p.cat.Search(a.q, 0) {
			if slices.Contains(tied, h.Product) {
				return h.Product, scores
			}
		}
	}
	return best.product, scores
}

// namedProduct is the product a question names by name, synonym or tag
// (for describe: "describe X" must name X, not one of its values).
func (p *Planner) namedProduct(a *analysis) *catalog.Product {
	all := a.ms
	defer func() { a.ms = all }()
	a.ms = slices.DeleteFunc(slices.Clone(all), func(m mention) bool {
		return m.kind != mName && m.kind != mNamePart && m.kind != mSynonym
	})
	prod, _ := p.chooseProduct(a, false)
	return prod
}

// suggestions are 3-4 example questions from the descriptors: those of
// the products the question touched first, then one per product.
func (p *Planner) suggestions(scores []scored) []string {
	var out []string
	add := func(s string) {
		if len(out) < 4 && s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, s := range scores {
		for _, q := range s.product.ExampleQuestions {
			if len(out) < 2 {
				add(q)
			}
		}
	}
	for round := 0; len(out) < 4 && round < 3; round++ {
		for _, prod := range p.lex.products {
			if round < len(prod.ExampleQuestions) {
				add(prod.ExampleQuestions[round])
			}
		}
	}
	return out
}

// requestedColumns are columns the question asks to see ("the email and
// ssn of ..."): column mentions followed by "of" or "for".
func (p *Planner) requestedColumns(a *analysis, prod *catalog.Product) []string {
	var cols []string
	var pending []string
	for k := 0; k < len(a.toks); k++ {
		found := ""
		for _, m := range a.ms {
			if m.i == k && m.product == prod && (m.kind == mColumn) {
				found = m.column
				k = m.j - 1
				break
			}
		}
		if found != "" {
			pending = append(pending, found)
			continue
		}
		t := a.toks[k]
		switch {
		case t.low == "and" || t.low == "the" || t.low == "his" || t.low == "her" || t.low == "their":
		case (t.low == "of" || t.low == "for") && len(pending) > 0:
			for _, c := range pending {
				if !slices.Contains(cols, c) && c != prod.KeyColumn {
					cols = append(cols, c)
				}
			}
			pending = nil
		default:
			pending = nil
		}
	}
	return cols
}

// auditProduct is the product holding the access log: the one with
// subject, decision and product columns.
func (p *Planner) auditProduct() *catalog.Product {
	for _, prod := range p.lex.products {
		_, s := prod.Column("subject")
		_, d := prod.Column("decision")
		_, pr := prod.Column("product")
		if s && d && pr {
			return prod
		}
	}
	return nil
}

// auditCue reports whether a question is about the access log: it names
// the log or its metrics, a decision ("denied"), a person's activity
// ("what did frank try"), or asks who accessed something. best is
// chooseProduct's pick for a, which callers have already made.
func (p *Planner) auditCue(a *analysis, ap, best *catalog.Product) bool {
	if best == ap {
		return true
	}
	for _, m := range a.ms {
		if m.product == ap && m.kind == mValue && m.column == "decision" {
			return true
		}
	}
	// An email is a person the log may be about ("bob@bank.example's
	// activity"), but also a value to look a record up by ("the customer
	// with email anna@example.com"): it points at the log when the question
	// speaks of access, or names no other product and the address is a
	// colleague's (the domain of the catalog's owners).
	for _, t := range a.toks {
		if t.kind != tokEmail {
			continue
		}
		if accessRe.MatchString(a.free) {
			return true
		}
		if other, _ := p.chooseProduct(a, true); other == nil && p.staffEmail(t.low) {
			return true
		}
	}
	if didRe.MatchString(a.free) || permissionRe.MatchString(a.free) {
		return true
	}
	// "how many times was customer data accessed": the log's count of it,
	// not the product's figures.
	if accessCountRe.MatchString(a.free) {
		return true
	}
	// "how many queries did carol run": a person's activity, by name.
	if activityRe.MatchString(a.free) && p.subjectFilter(a.clone(), ap) != nil {
		return true
	}
	return whoAccessedRe.MatchString(a.free)
}

// staffEmail reports whether an address is at the domain of one of the
// catalog's owners: a colleague, not a customer.
func (p *Planner) staffEmail(addr string) bool {
	_, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return false
	}
	return slices.ContainsFunc(p.lex.products, func(prod *catalog.Product) bool {
		_, d, ok := strings.Cut(strings.ToLower(prod.Owner), "@")
		return ok && d == domain
	})
}

// valueFilters are the filters the question states by value: declared
// values, aliases, examples (campaign names), quoted or capitalised names,
// identifiers and numbers after a column ("account 123456").
func (p *Planner) valueFilters(a *analysis, prod *catalog.Product, skip map[int]bool) []tools.Filter {
	type fv struct {
		column string
		values []string
	}
	var order []string
	byCol := map[string]*fv{}
	addVal := func(col, v string) {
		f, ok := byCol[col]
		if !ok {
			f = &fv{column: col}
			byCol[col] = f
			order = append(order, col)
		}
		if !slices.Contains(f.values, v) {
			f.values = append(f.values, v)
		}
	}
	for _, m := range a.ms {
		if m.product != prod || skip[m.i] {
			continue
		}
		switch m.kind {
		case mValue, mValuePart, mExample:
			// "by email" groups when email is a dimension value of a column
			// that is not itself named: still a filter (channel = email).
			addVal(m.column, m.value)
			for k := m.i; k < m.j; k++ {
				a.toks[k].used = true
			}
		}
	}
	// Quoted and capitalised names go to the product's name column; a
	// product without one may name people ("the customer named Clara
	// Murphy"), which policy then decides on like any personal data.
	nc := nameColumn(prod)
	if nc == "" {
		nc = personNameColumn(prod)
	}
	if nc != "" {
		for _, name := range properNames(a) {
			if _, ok := byCol[nc]; !ok || !slices.Contains(byCol[nc].values, name) {
				addVal(nc, name)
			}
		}
	}
	var out []tools.Filter
	// One capitalised word ("the Spring campaign") is part of a name, not
	// a name: every name holding it, each on its own row (metricsIntent
	// groups by the name column), never all rows.
	if pn := nameColumn(prod); pn != "" {
		for _, k := range partialNames(a, prod) {
			out = append(out, tools.Filter{Column: pn, Op: tools.OpContains, Value: a.toks[k].raw})
			a.toks[k].used = true
		}
	}
	for _, col := range order {
		f := byCol[col]
		if len(f.values) == 1 {
			out = append(out, tools.Filter{Column: col, Op: tools.OpEq, Value: f.values[0]})
		} else {
			vals := make([]any, len(f.values))
			for i, v := range f.values {
				vals[i] = v
			}
			out = append(out, tools.Filter{Column: col, Op: tools.OpIn, Value: vals})
		}
	}
	// Identifiers, emails and numbers after a column word: account 123456,
	// customer cust-00042, email anna@example.com.
	for k, t := range a.toks {
		if t.used || (t.kind != tokNumber && t.kind != tokID && t.kind != tokEmail) {
			continue
		}
		col := ""
		for _, m := range a.ms {
			if m.product == prod && (m.kind == mColumn || m.kind == mColumnPart) && m.j == k {
				if c, ok := prod.Column(m.column); ok && c.Type == catalog.TypeString && !c.PrimaryKey {
					col = c.Name
				}
			}
		}
		if col == "" && t.kind == tokID {
			col = p.idColumn(t, prod)
		}
		if col == "" && t.kind == tokEmail {
			col = emailColumn(prod)
		}
		if col == "" {
			continue
		}
		a.toks[k].used = true
		v := t.raw
		if t.kind == tokNumber {
			v = strings.NewReplacer(",", "", "$", "", "€", "", "£", "").Replace(t.raw)
		}
		out = append(out, tools.Filter{Column: col, Op: tools.OpEq, Value: v})
	}
	// Booleans: "unresolved", "not resolved" -> false; "resolved complaints" -> true
	// unless the word chose a metric (resolution rate).
	for _, c := range prod.Columns {
		if c.Type != catalog.TypeBoolean {
			continue
		}
		neg := false
		for _, m := range negBoolRe.FindAllStringSubmatch(a.free, -1) {
			if catalog.Stem(m[1]) == catalog.Stem(c.Name) {
				neg = true
			}
		}
		if neg {
			out = append(out, tools.Filter{Column: c.Name, Op: tools.OpEq, Value: false})
		}
	}
	return out
}

// nameColumn is the product's text column holding names ("name",
// "campaign_name"), not personal data.
func nameColumn(prod *catalog.Product) string {
	for _, c := range prod.Columns {
		if c.Type != catalog.TypeString || c.PrimaryKey || c.Classification == catalog.ClassPII || c.Classification == catalog.ClassRestricted {
			continue
		}
		if c.Name == "name" || strings.HasSuffix(c.Name, "_name") {
			return c.Name
		}
	}
	return ""
}

// personNameColumn is the product's column of people's names: full_name,
// or a text column called "name" by a synonym.
func personNameColumn(prod *catalog.Product) string {
	for _, c := range prod.Columns {
		if c.Type == catalog.TypeString && !c.PrimaryKey && (c.Name == "full_name" || slices.Contains(c.Synonyms, "name")) {
			return c.Name
		}
	}
	return ""
}

// emailColumn is the product's column of email addresses, if it has one.
func emailColumn(prod *catalog.Product) string {
	for _, c := range prod.Columns {
		if c.Type == catalog.TypeString && (c.Name == "email" || strings.HasSuffix(c.Name, "_email") || slices.Contains(c.Synonyms, "email")) {
			return c.Name
		}
	}
	return ""
}

// idColumn is the column of prod an identifier filters when it is not
// prod's own key: a column its examples say holds such identifiers, else
// the column named like the key it belongs to ("cust-00042" is a
// customers key, so loan-applications' customer_id).
func (p *Planner) idColumn(t token, prod *catalog.Product) string {
	ms := p.lex.idMatches(t)
	for _, m := range ms {
		if m.product == prod && !m.key {
			return m.column
		}
	}
	for _, m := range ms {
		if m.product == prod || !m.key {
			continue
		}
		if c, ok := prod.Column(m.column); ok && c.Type == catalog.TypeString && !c.PrimaryKey {
			return c.Name
		}
	}
	return ""
}

// properNames are names the question quotes, or writes as two or more
// capitalised words that are not catalog words ("the Summer Special Offer").
func properNames(a *analysis) []string {
	var out []string
	for k, t := range a.toks {
		if t.kind == tokQuoted && !t.used {
			out = append(out, t.raw)
			a.toks[k].used = true
		}
	}
	var run []int
	flush := func() {
		// A capitalised question word at the start is not part of a name.
		for len(run) > 0 && run[0] == 0 && (questionWord[a.toks[0].low] || stopword[a.toks[0].low]) {
			run = run[1:]
		}
		if len(run) >= 2 {
			parts := make([]string, len(run))
			for i, k := range run {
				parts[i] = a.toks[k].raw
				a.toks[k].used = true
			}
			out = append(out, strings.Join(parts, " "))
		}
		run = nil
	}
	// A word the catalog or questions use is no part of a name: "How Many
	// New Customers Last Month" is a question in title case.
	catalogWord := func(k int) bool {
		t := a.toks[k]
		if questionWord[t.low] || stopword[t.low] {
			return true
		}
		return slices.ContainsFunc(a.ms, func(m mention) bool { return m.kind != mExample && m.i <= k && k < m.j })
	}
	for k, t := range a.toks {
		if t.kind == tokWord && t.upper && !t.used && monthNum[t.low] == 0 && !catalogWord(k) {
			run = append(run, k)
			continue
		}
		flush()
	}
	flush()
	return out
}

// partialNames are the single capitalised words, not first in the question,
// that no catalog phrase reads, that stand alone and that come before the
// word for what prod names ("the Spring campaign"): part of a name. "in
// Germany" is no name.
func partialNames(a *analysis, prod *catalog.Product) []int {
	nc := nameColumn(prod)
	names := func(k int) bool {
		return slices.ContainsFunc(a.ms, func(m mention) bool {
			return m.product == prod && m.i <= k && k < m.j && (m.kind == mColumn && m.column == nc || m.kind == mName || m.kind == mNamePart || m.kind == mSynonym)
		})
	}
	upper := func(k int) bool {
		return k >= 0 && k < len(a.toks) && a.toks[k].kind == tokWord && a.toks[k].upper
	}
	var out []int
	for k, t := range a.toks {
		if k == 0 || !upper(k) || t.used || upper(k-1) || upper(k+1) || !names(k+1) || monthNum[t.low] != 0 || stopword[t.low] || questionWord[t.low] {
			continue
		}
		if slices.ContainsFunc(a.ms, func(m mention) bool { return m.i <= k && k < m.j }) {
			continue
		}
		out = append(out, k)
	}
	return out
}

// numericFilters reads comparisons with numbers ("over 500000", "credit
// score above 700", "between 1,000 and 5,000").
func (p *Planner) numericFilters(a *analysis, prod *catalog.Product) []tools.Filter {
	var out []tools.Filter
	measure := func(k int) string {
		// The numeric column named just before the comparison or as the
		// number's unit ("20 minutes"), else the product's measure.
		for _, m := range a.ms {
			if m.product == prod && (m.kind == mColumn || m.kind == mColumnPart) && (m.j <= k && m.j >= k-4 || m.i == k+1) {
				if c, ok := prod.Column(m.column); ok && (c.Type == catalog.TypeNumber || c.Type == catalog.TypeInteger) {
					return c.Name
				}
			}
		}
		return measureColumn(prod)
	}
	for k, t := range a.toks {
		if t.kind != tokNumber || t.used {
			continue
		}
		before := a.free[:t.start]
		// between N and M
		if k+2 < len(a.toks) && a.toks[k+1].low == "and" && a.toks[k+2].kind == tokNumber && strings.HasSuffix(strings.TrimSpace(before), "between") {
			col := measure(k)
			if col == "" {
				continue
			}
			out = append(out, tools.Filter{Column: col, Op: tools.OpBetween, Value: []any{numValue(t.num), numValue(a.toks[k+2].num)}})
			a.toks[k].used, a.toks[k+2].used = true, true
			continue
		}
		m := cmpNumRe.FindStringSubmatch(before)
		if m == nil {
			continue
		}
		if percentAt(a, k) {
			continue // "a conversion rate above 10%": a rate, which no column holds (see unmatchedConcepts)
		}
		op := map[string]string{
			"over": ">", "above": ">", "more than": ">", "greater than": ">", "larger than": ">", "bigger than": ">",
			"higher than": ">", "longer than": ">", "exceeding": ">", "in excess of": ">", "at least": ">=", "no less than": ">=",
			"under": "<", "below": "<", "less than": "<", "smaller than": "<", "lower than": "<", "shorter than": "<", "at most": "<=",
			"no more than": "<=", "up to": "<=", ">": ">", "<": "<", ">=": ">=", "<=": "<=",
		}[m[1]+m[2]]
		col := measure(k)
		if col == "" {
			continue
		}
		v, ok := inColumnUnit(a, k, col)
		if !ok {
			continue // "longer than 2 weeks" of a column in no unit of time: no filter in its place
		}
		a.toks[k].used = true
		out = append(out, tools.Filter{Column: col, Op: op, Value: numValue(v)})
	}
	return out
}

// percentAt reports whether number token k is said as a percentage
// ("10%", "10 percent").
func percentAt(a *analysis, k int) bool {
	rest := strings.TrimLeft(a.free[a.toks[k].end:], " ")
	return strings.HasPrefix(rest, "%") || strings.HasPrefix(rest, "percent") || strings.HasPrefix(rest, "per cent")
}

// timeUnits are lengths of time in seconds, by the words that name them.
// Metric units use them too ("minutes"), and their one-letter forms.
var timeUnits = map[string]float64{"s": 1, "h": 3600, "d": 86400,
	"second": 1, "seconds": 1, "sec": 1, "secs": 1, "minute": 60, "minutes": 60, "min": 60, "mins": 60,
	"hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600, "day": 86400, "days": 86400, "week": 604800, "weeks": 604800}

// inColumnUnit is number token k in col's unit: "2 hours" of
// handle_minutes is 120. A number said in a unit of time compares with a
// column whose name ends in one ("_minutes") after conversion, and with no
// other (false); a number in no unit of time is taken as it is.
func inColumnUnit(a *analysis, k int, col string) (float64, bool) {
	v := a.toks[k].num
	if k+1 >= len(a.toks) {
		return v, true
	}
	said, ok := timeUnits[a.toks[k+1].low]
	if !ok {
		return v, true
	}
	i := strings.LastIndexByte(col, '_')
	colUnit, ok := timeUnits[col[i+1:]]
	if !ok {
		return 0, false
	}
	return v * said / colUnit, true
}

// numValue keeps whole numbers whole in the JSON arguments.
func numValue(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return int64(f)
	}
	return f
}

// measureColumn is the product's main amount: its first decimal column.
func measureColumn(prod *catalog.Product) string {
	for _, c := range prod.Columns {
		if c.Type == catalog.TypeNumber && !c.PrimaryKey {
			return c.Name
		}
	}
	for _, c := range prod.Columns {
		if c.Type == catalog.TypeInteger && !c.PrimaryKey {
			return c.Name
		}
	}
	return ""
}

// metricsOf lists the product's metrics the question names, in order; a
// metric named only by a word that also names the product ("transactions")
// counts only when no other metric is named.
func (p *Planner) metricsOf(a *analysis, prod *catalog.Product) (metrics []string, strongly bool, used map[int]bool) {
	used = map[int]bool{}
	var strong, weak []string
	for _, m := range a.ms {
		if m.product != prod || m.kind != mMetric {
			continue
		}
		alsoName := false
		for _, o := range a.ms {
			if o.product == prod && (o.kind == mName || o.kind == mNamePart || o.kind == mSynonym) && o.i <= m.i && m.j <= o.j {
				alsoName = true
			}
		}
		if alsoName {
			if !slices.Contains(weak, m.metric) {
				weak = append(weak, m.metric)
			}
		} else if !slices.Contains(strong, m.metric) {
			strong = append(strong, m.metric)
		}
		for k := m.i; k < m.j; k++ {
			used[k] = true
		}
	}
	if len(strong) > 0 {
		// "how did spend compare to conversions": a metric said by the
		// product's own word ("conversions") is still asked when it is set
		// against a metric named in full; dropping it would answer half
		// the question. "total amount of transactions" sets nothing against.
		for _, m := range a.ms {
			if m.product == prod && m.kind == mMetric && slices.Contains(weak, m.metric) && !slices.Contains(strong, m.metric) &&
				p.setAgainst(a, prod, m, strong) {
				strong = append(strong, m.metric)
			}
		}
		return strong, true, used
	}
	return weak, false, used
}

// againstWords join two measures set side by side.
var againstWords = map[string]bool{"and": true, "vs": true, "versus": true, "to": true, "with": true, "against": true,
	"compared": true, "compare": true, "the": true, "&": true}

// setAgainst reports whether metric mention m is joined to a mention of
// one of the metrics in strong by against words only ("spend compared to
// conversions", "budget vs conversions").
func (p *Planner) setAgainst(a *analysis, prod *catalog.Product, m mention, strong []string) bool {
	for _, o := range a.ms {
		if o.product != prod || o.kind != mMetric || !slices.Contains(strong, o.metric) {
			continue
		}
		lo, hi := o.j, m.i
		if m.j <= o.i {
			lo, hi = m.j, o.i
		}
		if lo >= hi {
			continue
		}
		only := true
		for k := lo; k < hi; k++ {
			if !againstWords[a.toks[k].low] {
				only = false
			}
		}
		if only {
			return true
		}
	}
	return false
}

// metricBy finds a metric by its expression's shape (count(*), sum(, avg().
func metricBy(prod *catalog.Product, pred func(catalog.Metric) bool) string {
	for _, name := range prod.HeadlineMetrics {
		if m, ok := prod.Metric(name); ok && pred(m) {
			return m.Name
		}
	}
	for _, m := range prod.Metrics {
		if pred(m) {
			return m.Name
		}
	}
	return ""
}

// isSum reports whether a metric totals an amount (sum(amount)).
func isSum(m catalog.Metric) bool {
	return hasPrefixFold(m.Expression, "sum(") && m.Unit == "amount"
}

func isCount(m catalog.Metric) bool {
	e := strings.ReplaceAll(strings.ToLower(m.Expression), " ", "")
	return e == "count(*)"
}

func hasPrefixFold(s, prefix string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), prefix)
}

// columnAt returns the product's column named by the phrase starting at
// token k (a column name or synonym, or "user"/"people" for subject).
func (p *Planner) columnAt(a *analysis, prod *catalog.Product, k int) (string, int, bool) {
	best, end := "", 0
	isValue := false
	for _, m := range a.ms {
		if m.product != prod || m.i != k {
			continue
		}
		switch m.kind {
		case mColumn, mColumnPart:
			if best == "" || m.kind == mColumn {
				best, end = m.column, m.j
			}
		case mValue, mValuePart:
			isValue = true
		}
	}
	if best == "" && k < len(a.toks) {
		if _, ok := prod.Column("subject"); ok && slices.Contains([]string{"user", "person", "people", "asker", "subject", "who"}, a.toks[k].stem) {
			return "subject", k + 1, false
		}
	}
	return best, end, isValue && best == ""
}

// dimensionAt is the dimension named by the phrase at byte pos of a.free,
// with the token it starts at and the one after it ends; col is "" when
// no dimension is named there, k -1 when pos starts no token.
func (p *Planner) dimensionAt(a *analysis, prod *catalog.Product, pos int) (k int, col string, end int) {
	k = tokenAt(a.toks, pos)
	if k < 0 {
		return k, "", 0
	}
	col, end, _ = p.columnAt(a, prod, k)
	if col == "" || !prod.IsDimension(col) {
		return k, "", 0
	}
	return k, col, end
}

// metricAt reports whether a metric of the product is named at token k.
func (p *Planner) metricAt(a *analysis, prod *catalog.Product, k int) bool {
	for _, m := range a.ms {
		if m.product == prod && m.kind == mMetric && m.i == k {
			return true
		}
	}
	return false
}

// groupBy reads "by X", "per X", "for each X", "across X".
func (p *Planner) groupBy(a *analysis, prod *catalog.Product, notes *[]string) []string {
	var out []string
	for _, loc := range groupRe.FindAllStringIndex(a.free, -1) {
		k := tokenAt(a.toks, loc[1])
		if k < 0 || a.toks[k].used {
			continue
		}
		if p.metricAt(a, prod, k) {
			continue // "by conversions": an ordering, not a grouping
		}
		col, end, _ := p.columnAt(a, prod, k)
		if col == "" {
			continue
		}
		if !prod.IsDimension(col) {
			*notes = append(*notes, col+" is not a dimension of "+prod.Name+", so I did not group by it; it can be grouped by "+strings.Join(prod.Dimensions, ", ")+".")
			continue
		}
		for j := k; j < end; j++ {
			a.toks[j].used = true
		}
		if !slices.Contains(out, col) {
			out = append(out, col)
		}
		// "by region and channel"
		if end+1 < len(a.toks) && a.toks[end].low == "and" {
			if c2, e2, _ := p.columnAt(a, prod, end+1); c2 != "" && prod.IsDimension(c2) && !slices.Contains(out, c2) {
				out = append(out, c2)
				for j := end + 1; j < e2; j++ {
					a.toks[j].used = true
				}
			}
		}
	}
	return out
}

// tokenAt is the index of the first token starting at or after byte offset off.
func tokenAt(toks []token, off int) int {
	for k, t := range toks {
		if t.start >= off {
			return k
		}
	}
	return -1
}

// ranking reads "which X had the most ...", "top N X": a grouping column,
// a direction and a limit.
type ranking struct {
	column string
	desc   bool
	limit  int
	found  bool
}

func (p *Planner) rank(a *analysis, prod *catalog.Product, metric string) ranking {
	var r ranking
	dir := func() bool {
		m := bestRe.FindStringSubmatch(a.free)
		if m == nil {
			return true
		}
		desc := !slices.Contains([]string{"worst", "least", "lowest", "fewest", "smallest", "shortest", "min", "minimum", "poorest"}, m[1])
		// For costs, the best is the lowest.
		if strings.Contains(metric, "cost") && (m[1] == "best" || m[1] == "worst") {
			desc = !desc
		}
		return desc
	}
	// which/what X ... best
	for _, m := range whichRe.FindAllStringSubmatchIndex(a.free, -1) {
		k, col, end := p.dimensionAt(a, prod, m[4])
		if col == "" {
			continue
		}
		if !bestRe.MatchString(a.free[m[1]:]) {
			continue
		}
		r = ranking{column: col, desc: dir(), limit: 1, found: true}
		if m[2] >= 0 {
			r.limit, _ = strconv.Atoi(a.free[m[2]:m[3]])
		} else if k < len(a.toks) && a.toks[end-1].low != a.toks[end-1].stem && a.toks[end-1].low == a.toks[end-1].stem+"s" {
			r.limit = 5 // "which channels ..." asks for several
		}
		for j := k; j < end; j++ {
			a.toks[j].used = true
		}
		return r
	}
	// campaigns with the highest ...
	for _, m := range withSuperlativeRe.FindAllStringSubmatchIndex(a.free, -1) {
		k, col, end := p.dimensionAt(a, prod, m[2])
		if col == "" || end != k+1 {
			continue
		}
		r = ranking{column: col, desc: dir(), limit: 1, found: true}
		if t := a.toks[k]; strings.HasSuffix(t.low, "s") && !strings.HasSuffix(t.low, "ss") {
			r.limit = 5
		}
		// "the 3 topics with the shortest ...": as many as said.
		if n := a.toks[max(k-1, 0)]; k > 0 && n.kind == tokNumber && n.num >= 1 && n.num <= 100 && n.num == math.Trunc(n.num) {
			r.limit = int(n.num)
			a.toks[k-1].used = true
		}
		a.toks[k].used = true
		return r
	}
	// top N X / the N best X
	for _, m := range topNRe.FindAllStringSubmatchIndex(a.free, -1) {
		k, col, end := p.dimensionAt(a, prod, m[1])
		if col == "" {
			continue
		}
		r = ranking{column: col, desc: !strings.HasPrefix(a.free[m[0]:], "worst") && !strings.HasPrefix(a.free[m[0]:], "bottom"), limit: 5, found: true}
		if strings.Contains(metric, "cost") {
			r.desc = !r.desc
		}
		if t := a.toks[end-1]; !strings.HasSuffix(t.low, "s") || strings.HasSuffix(t.low, "ss") {
			r.limit = 1 // "the best campaign", "the top channel"
		}
		if m[2] >= 0 {
			r.limit, _ = strconv.Atoi(a.free[m[2]:m[3]])
			a.toks[tokenAt(a.toks, m[2])].used = true
		}
		for j := k; j < end; j++ {
			a.toks[j].used = true
		}
		return r
	}
	// the biggest (marketing) channel by conversions, the largest loan type
	for _, m := range supAdjRe.FindAllStringIndex(a.free, -1) {
		k := tokenAt(a.toks, m[1])
		if k >= 0 && k+1 < len(a.toks) && productWordAt(a, prod, k) {
			k++ // "marketing" of "marketing channel"
		}
		if k < 0 {
			continue
		}
		k, col, end := p.dimensionAt(a, prod, a.toks[k].start)
		if col == "" {
			continue
		}
		r = ranking{column: col, desc: dir(), limit: 1, found: true}
		if t := a.toks[end-1]; strings.HasSuffix(t.low, "s") && !strings.HasSuffix(t.low, "ss") {
			r.limit = 5 // "the largest channels"
		}
		for j := k; j < end; j++ {
			a.toks[j].used = true
		}
		return r
	}
	return r
}

// breakdownDimension is the first dimension of a brief's breakdown: not an
// identifier and not already filtered to one value.
func breakdownDimension(prod *catalog.Product, args tools.QueryMetricsArgs) string {
	for _, d := range prod.Dimensions {
		if strings.HasSuffix(d, "_id") || d == prod.KeyColumn {
			continue
		}
		filtered := false
		for _, f := range args.Filters {
			if f.Column == d {
				filtered = true
			}
		}
		if !filtered {
			return d
		}
	}
	return ""
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func firstOr(ss []string, def string) string {
	if len(ss) > 0 {
		return ss[0]
	}
	return def
}

func dirName(desc bool) string {
	if desc {
		return "desc"
	}
	return "asc"
}

// sortMeasure is the numeric column "largest" refers to: one named in the
// question, else the product's measure.
func (p *Planner) sortMeasure(a *analysis, prod *catalog.Product) string {
	for _, m := range a.ms {
		if m.product == prod && m.kind == mColumn {
			if c, ok := prod.Column(m.column); ok && (c.Type == catalog.TypeNumber || c.Type == catalog.TypeInteger) {
				return c.Name
			}
		}
	}
	return measureColumn(prod)
}

// singularAfter reports whether the noun after a superlative is singular
// ("the largest withdrawal" asks for one).
func singularAfter(a *analysis, off int) bool {
	k := tokenAt(a.toks, off)
	for ; k >= 0 && k < len(a.toks); k++ {
		t := a.toks[k]
		if t.kind != tokWord || stopword[t.low] {
			continue
		}
		if t.low == "one" {
			return true
		}
		// The noun phrase's last word is its noun ("the largest
		// international transfers"): up to a stopword, a time phrase or
		// the end.
		for k+1 < len(a.toks) && a.toks[k+1].kind == tokWord && !stopword[a.toks[k+1].low] && !inTimePhrase(a, k+1) {
			k++
		}
		t = a.toks[k]
		// A noun: singular when stemming left it whole or only dropped an e.
		return !strings.HasSuffix(t.low, "s") || strings.HasSuffix(t.low, "ss")
	}
	return false
}

// inTimePhrase reports whether token k is part of a period the question
// names ("last month").
func inTimePhrase(a *analysis, k int) bool {
	t := a.toks[k]
	return slices.ContainsFunc(a.w.spans, func(sp [2]int) bool { return t.start < sp[1] && t.end > sp[0] })
}

// countAsked is a number of rows asked for ("show me 10 transactions").
func countAsked(a *analysis) int {
	for k, t := range a.toks {
		if t.kind != tokNumber || t.used || t.num != math.Trunc(t.num) || t.num < 1 || t.num > 1000 {
			continue
		}
		if k+1 < len(a.toks) && a.toks[k+1].kind == tokWord && !stopword[a.toks[k+1].low] {
			return int(t.num)
		}
	}
	return 0
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay those of
// the question.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
