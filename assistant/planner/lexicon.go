package planner

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/askmesh/askmesh/catalog"
)

// The lexicon is every phrase the catalog's metadata gives a meaning to:
// product names, synonyms and tags; metric names and synonyms; column names,
// synonyms, declared values and examples. Questions are matched against it
// phrase by phrase; nothing else about the data is known to the planner.

// Mention kinds.
const (
	mName       = iota // the product's full name
	mNamePart          // one word of a product name ("loan" of loan-applications)
	mSynonym           // product synonym, tag, domain
	mMetric            // metric name or synonym
	mColumn            // column name or synonym
	mColumnPart        // one distinctive word of a column name ("risk" of risk_rating)
	mValue             // a declared value of a column
	mValuePart         // one distinctive word of a multi-word value ("asia" of asia-pacific)
	mExample           // a column's example value (a campaign name)
)

type entry struct {
	words   []string
	kind    int
	product *catalog.Product
	metric  string // mMetric
	column  string // column kinds, values and examples
	value   string // values and examples: the value as declared
}

type lexicon struct {
	products []*catalog.Product
	byFirst  map[string][]*entry
	vocab    map[string]bool // every word of every entry, for spelling correction
	vocabAll []string        // sorted, for deterministic correction
	// productsWith counts the products an entry's words (per kind) occur in,
	// so a word every product shares ("region") weighs less than a rare one.
	spread map[string]int
	idRes  []idPattern
	// levels read "the highest risk rating" as the column's value high.
	levels []levelPattern
}

// levelPattern is a categorical column whose values include high and low:
// "highest"/"lowest" before its name asks for rows at that level, not for
// a ranking of the levels.
type levelPattern struct {
	re *regexp.Regexp
}

// whichBeforeRe ranks something else by the level: "which region has the
// highest risk rating" is the region with the most rows at level high.
var whichBeforeRe = regexp.MustCompile(`(?i)\b(?:which|what)\b`)

// rewrite says the level as the column's value: "the highest risk rating"
// is "the risk rating high", "which region has the highest risk rating"
// "which region has the most risk rating high".
func (l levelPattern) rewrite(q string) string {
	ms := l.re.FindAllStringSubmatchIndex(q, -1)
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i]
		with := q[m[4]:m[5]] + " " + strings.ToLower(q[m[2]:m[3]])
		if whichBeforeRe.MatchString(q[:m[0]]) {
			with = "most " + with
		}
		q = q[:m[0]] + with + q[m[1]:]
	}
	return q
}

// idPattern recognises a product's record identifiers from its key
// column's examples: "txn-0000001" gives txn-<digits>.
type idPattern struct {
	re      *regexp.Regexp
	product *catalog.Product
	column  string
	key     bool
}

func newLexicon(products []*catalog.Product) *lexicon {
	lx := &lexicon{products: products, byFirst: map[string][]*entry{}, vocab: map[string]bool{}, spread: map[string]int{}}
	seenLevel := map[string]bool{}
	for _, p := range products {
		for _, c := range p.Columns {
			if !slices.Contains(c.Values, "high") || !slices.Contains(c.Values, "low") {
				continue
			}
			phrases := []string{regexp.QuoteMeta(strings.ReplaceAll(c.Name, "_", " "))}
			if first, _, ok := strings.Cut(c.Name, "_"); ok {
				phrases = append(phrases, regexp.QuoteMeta(first)) // "risk" of risk_rating
			}
			alt := strings.Join(phrases, "|")
			if !seenLevel[alt] {
				seenLevel[alt] = true
				lx.levels = append(lx.levels, levelPattern{re: regexp.MustCompile(`(?i)\b(high|low)est\s+(` + alt + `)\b`)})
			}
		}
	}
	seenSpread := map[string]map[string]bool{}
	add := func(text string, e entry) {
		ws := words(text)
		if len(ws) == 0 {
			return
		}
		// A lone function word ("at", "id") would match everywhere.
		if len(ws) == 1 && (stopword[ws[0]] || len(ws[0]) < 2) {
			return
		}
		e.words = ws
		ep := &e
		lx.byFirst[ws[0]] = append(lx.byFirst[ws[0]], ep)
		for _, w := range ws {
			lx.vocab[w] = true
		}
		k := spreadKey(e.kind, ws)
		if seenSpread[k] == nil {
			seenSpread[k] = map[string]bool{}
		}
		if !seenSpread[k][e.product.Name] {
			seenSpread[k][e.product.Name] = true
			lx.spread[k]++
		}
	}
	for _, p := range products {
		add(p.Name, entry{kind: mName, product: p})
		if p.DataProduct != "" && p.DataProduct != p.Name {
			add(p.DataProduct, entry{kind: mName, product: p})
		}
		for _, w := range words(p.Name) {
			if len(w) >= 4 {
				add(w, entry{kind: mNamePart, product: p})
			}
		}
		for _, s := range p.Synonyms {
			add(s, entry{kind: mSynonym, product: p})
		}
		for _, s := range p.Tags {
			add(s, entry{kind: mSynonym, product: p})
		}
		if p.Domain != "" {
			add(p.Domain, entry{kind: mSynonym, product: p})
		}
		for _, m := range p.Metrics {
			add(m.Name, entry{kind: mMetric, product: p, metric: m.Name})
			for _, s := range m.Synonyms {
				add(s, entry{kind: mMetric, product: p, metric: m.Name})
			}
		}
		for _, c := range p.Columns {
			add(c.Name, entry{kind: mColumn, product: p, column: c.Name})
			for _, s := range c.Synonyms {
				add(s, entry{kind: mColumn, product: p, column: c.Name})
			}
			for _, w := range distinctiveParts(p, c) {
				add(w, entry{kind: mColumnPart, product: p, column: c.Name})
			}
			for _, v := range c.Values {
				add(v, entry{kind: mValue, product: p, column: c.Name, value: v})
				for _, w := range valueParts(p, c, v) {
					add(w, entry{kind: mValuePart, product: p, column: c.Name, value: v})
				}
			}
			for _, v := range valueAliases(c) {
				add(v.alias, entry{kind: mValue, product: p, column: c.Name, value: v.value})
			}
			if !c.PrimaryKey && c.Type == catalog.TypeString && len(c.Values) == 0 {
				for _, ex := range c.Examples {
					if len(words(ex)) >= 2 {
						add(ex, entry{kind: mExample, product: p, column: c.Name, value: ex})
					}
				}
			}
		}
		for _, c := range p.Columns {
			for _, ex := range c.Examples {
				if re := idRegexp(ex); re != nil {
					lx.idRes = append(lx.idRes, idPattern{re: re, product: p, column: c.Name, key: c.Name == p.KeyColumn})
				}
			}
		}
	}
	for w := range lx.vocab {
		lx.vocabAll = append(lx.vocabAll, w)
	}
	sort.Strings(lx.vocabAll)
	return lx
}

// spreadKey identifies a phrase of one kind, to count the products sharing it.
func spreadKey(kind int, ws []string) string {
	return string(rune('0'+kind)) + strings.Join(ws, " ")
}

// distinctiveParts are the words of a multi-word column name that no other
// column of the product shares: "risk" and "rating" of risk_rating.
func distinctiveParts(p *catalog.Product, c catalog.Column) []string {
	parts := words(c.Name)
	if len(parts) < 2 {
		return nil
	}
	var out []string
	for _, w := range parts {
		if len(w) < 3 || genericColumnWord[w] {
			continue
		}
		shared := false
		for _, o := range p.Columns {
			if o.Name == c.Name {
				continue
			}
			for _, ow := range words(o.Name) {
				if ow == w {
					shared = true
				}
			}
		}
		if !shared {
			out = append(out, w)
		}
	}
	return out
}

var genericColumnWord = map[string]bool{"date": true, "time": true, "start": true, "end": true}

// valueParts are the distinctive words of a multi-word value: "asia" of
// asia-pacific, "international" of international_transfer. A word that is
// itself a value, a column or a product synonym of the product is not
// distinctive ("transfer", "payment").
func valueParts(p *catalog.Product, c catalog.Column, v string) []string {
	parts := words(v)
	if len(parts) < 2 {
		return nil
	}
	taken := map[string]bool{}
	for _, o := range p.Columns {
		for _, w := range words(o.Name) {
			taken[w] = true
		}
		for _, ov := range o.Values {
			if ws := words(ov); len(ws) == 1 {
				taken[ws[0]] = true
			}
		}
	}
	for _, s := range p.Synonyms {
		for _, w := range words(s) {
			taken[w] = true
		}
	}
	var out []string
	for _, w := range parts {
		if len(w) < 4 || taken[w] || stopword[w] {
			continue
		}
		// Shared with a sibling value ("north" if there were north-europe too).
		shared := false
		for _, ov := range c.Values {
			if ov == v {
				continue
			}
			for _, ow := range words(ov) {
				if ow == w {
					shared = true
				}
			}
		}
		if !shared {
			out = append(out, w)
		}
	}
	return out
}

type alias struct{ alias, value string }

// aliasTable lists everyday words for declared values; an alias applies
// only to a column that declares its value.
var aliasTable = map[string][]string{
	"deny":   {"denied", "denial", "denials", "refused", "refusal", "refusals", "blocked", "rejected access"},
	"allow":  {"allowed", "granted", "permitted", "successful", "succeeded"},
	"error":  {"errors", "failed", "failures", "failure"},
	"EUR":    {"euro", "euros"},
	"USD":    {"dollar", "dollars", "us dollars"},
	"GBP":    {"pound", "pounds", "sterling"},
	"mobile": {"mobile app", "app", "phone app"},
	"call":   {"phone", "phone calls", "telephone"},
	"chat":   {"live chat"},
	"atm":    {"atms", "cash machine", "cash machines"},
	// An application still submitted is one no decision was made on yet.
	"submitted": {"pending", "pending a decision", "pending decision", "awaiting a decision", "awaiting decision",
		"waiting for a decision", "undecided", "in progress", "not yet decided", "still open", "under review", "in review"},
	// "declined" alone is a figure that fell (rule_growth); declined with
	// an auxiliary ("how many loans were declined") is a decision.
	"rejected": {"turned down", "were declined", "was declined", "been declined", "got declined", "get declined"},
	"funded":   {"disbursed", "paid out"},
}

func valueAliases(c catalog.Column) []alias {
	var out []alias
	for _, v := range c.Values {
		for _, a := range aliasTable[v] {
			out = append(out, alias{alias: a, value: v})
		}
	}
	return out
}

// idRegexp turns an identifier example into a pattern: letters, a hyphen
// and digits ("txn-0000001") match any digits of that prefix.
var idShape = regexp.MustCompile(`^([A-Za-z]+)-(\d+)$`)

func idRegexp(example string) *regexp.Regexp {
	m := idShape.FindStringSubmatch(example)
	if m == nil {
		return nil
	}
	return regexp.MustCompile(`^(?i)` + regexp.QuoteMeta(m[1]) + `-\d+$`)
}

// mention is an entry found in a question, covering tokens [i, j).
type mention struct {
	*entry
	i, j int
}

// correct maps misspelt words to catalog words: a word the catalog does
// not know, that is not a word of questions' own vocabulary, and that is
// within typoLimit edits of exactly one best catalog word with the same
// first letter.
func (lx *lexicon) correct(toks []token) {
	for k := range toks {
		t := &toks[k]
		if t.kind != tokWord || lx.vocab[t.stem] || questionWord[t.stem] || stopword[t.stem] || t.used {
			continue
		}
		limit := typoLimit(len([]rune(t.low)))
		if limit == 0 {
			continue
		}
		best, bestD := "", limit+1
		for _, w := range lx.vocabAll {
			if w == "" || w[0] != t.stem[0] || len(w) < 4 {
				continue
			}
			// Compare the word as written with the stem and with the stem's
			// likely spellings, so "transactons" meets "transaction".
			d := min(catalog.EditDistance(t.stem, w, bestD), catalog.EditDistance(t.low, w, bestD))
			if d < bestD {
				best, bestD = w, d
			}
		}
		if best != "" {
			t.key = best
		}
	}
}

// find returns the catalog phrases in the question, longest first at each
// place; a phrase inside a longer one is dropped ("customers" inside "new
// customers"), phrases with the same span are all kept.
func (lx *lexicon) find(toks []token) []mention {
	var all []mention
	for i := range toks {
		if toks[i].kind != tokWord || toks[i].used {
			continue
		}
		for _, e := range lx.byFirst[toks[i].key] {
			j := i
			ok := true
			for _, w := range e.words {
				if j >= len(toks) || toks[j].kind != tokWord || toks[j].used || toks[j].key != w {
					ok = false
					break
				}
				j++
			}
			if ok {
				all = append(all, mention{entry: e, i: i, j: j})
			}
		}
	}
	var kept []mention
	for _, m := range all {
		inside := false
		for _, o := range all {
			// Only another product's longer phrase hides this one: "new
			// customers" (customer-acquisition) hides "customers", but "who
			// was denied" keeps "denied" (a decision value of the same product).
			if (o.product != m.product || isValueKind(o.kind) && isValueKind(m.kind)) && o.i <= m.i && m.j <= o.j && (o.j-o.i) > (m.j-m.i) {
				inside = true
				break
			}
		}
		if !inside {
			kept = append(kept, m)
		}
	}
	return kept
}

// quotedExamples matches quoted names against columns' examples ("Summer
// Special Offer" in quotes still names a campaign).
func (lx *lexicon) quotedExamples(toks []token) []mention {
	var out []mention
	for k, t := range toks {
		if t.kind != tokQuoted {
			continue
		}
		for _, es := range lx.byFirst {
			for _, e := range es {
				if e.kind == mExample && strings.EqualFold(e.value, t.raw) {
					out = append(out, mention{entry: e, i: k, j: k + 1})
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].product.Name < out[j].product.Name })
	return out
}

func isValueKind(k int) bool { return k == mValue || k == mValuePart || k == mExample }

// ids returns the identifier tokens and the columns they fit.
func (lx *lexicon) idMatches(t token) []idPattern {
	var out []idPattern
	for _, p := range lx.idRes {
		if p.re.MatchString(t.raw) {
			out = append(out, p)
		}
	}
	return out
}
