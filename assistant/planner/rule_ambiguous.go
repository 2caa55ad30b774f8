package planner

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
)

// ruleAmbiguous asks back when two or more products fit a question equally
// ("average amount last month": loan-applications or customer-
// transactions) instead of taking the first the search ranks. Each choice
// is the question with the product named, which the table reads without
// asking again.
var ruleAmbiguous = rule{
	name: "ambiguous-product",
	applies: func(f *features) bool {
		return f.product != nil && f.audit == nil && len(f.scores) >= 2 && math.Abs(f.scores[0].score-f.scores[1].score) < 1e-9 &&
			metricTie(f)
	},
	plan: func(p *Planner, a *analysis, f *features) *intent {
		c := &assistant.Clarification{}
		var names []string
		q := strings.TrimRight(strings.TrimSpace(a.q), "?.! ")
		for _, s := range f.scores {
			if math.Abs(s.score-f.scores[0].score) >= 1e-9 || len(c.Options) == 3 {
				break
			}
			names = append(names, s.product.Name)
			c.Options = append(c.Options, assistant.ClarificationOption{
				Label:    s.product.Name,
				Question: fmt.Sprintf("%s (%s)?", q, s.product.Name),
			})
		}
		c.Question = "That question fits more than one data product: " + strings.Join(names, " or ") + ". Which do you mean?"
		return &intent{kind: kindNote, outcome: assistant.OutcomeClarify, clarify: c, notes: []string{c.Question + optionsText(c)}}
	},
}

// ruleAmbiguousWord asks back when the question's one word for what it
// wants is a synonym in two products the asker may query ("total
// spending": customer-transactions' spending, or the spend of marketing-
// campaigns' budget) and nothing else in it points at one of them: the
// longer phrase the search prefers ("total spend") is no reason to pick.
var ruleAmbiguousWord = rule{
	name: "ambiguous-word",
	applies: func(f *features) bool {
		return f.product != nil && f.audit == nil && f.prev == nil
	},
	plan: func(p *Planner, a *analysis, f *features) *intent {
		k, prods := p.sharedSynonym(a, f)
		if k < 0 {
			return nil
		}
		c := &assistant.Clarification{}
		var names []string
		q := strings.TrimRight(strings.TrimSpace(a.q), "?.! ")
		for _, prod := range prods {
			names = append(names, prod.Name)
			c.Options = append(c.Options, assistant.ClarificationOption{
				Label:    prod.Name,
				Question: fmt.Sprintf("%s (%s)?", q, prod.Name),
			})
		}
		c.Question = fmt.Sprintf("%q fits more than one data product: %s. Which do you mean?", a.toks[k].raw, strings.Join(names, " or "))
		return &intent{kind: kindNote, outcome: assistant.OutcomeClarify, clarify: c, notes: []string{c.Question + optionsText(c)}}
	},
}

// sharedSynonym is the token of a that is, on its own, a product or metric
// synonym in two or more products the asker may query, with those
// products, when no other word of the question names one of them but not
// the others; -1 otherwise.
func (p *Planner) sharedSynonym(a *analysis, f *features) (int, []*catalog.Product) {
	return p.sharedWord(a, f.product, f.may)
}

// sharedWord is sharedSynonym over the products keep admits, one of them
// prod.
func (p *Planner) sharedWord(a *analysis, prod *catalog.Product, keep func(*catalog.Product) bool) (int, []*catalog.Product) {
	for k, t := range a.toks {
		if t.kind != tokWord || t.used {
			continue
		}
		var prods []*catalog.Product
		for _, e := range p.lex.byFirst[t.key] {
			if len(e.words) == 1 && (e.kind == mSynonym || e.kind == mMetric) && !slices.Contains(prods, e.product) {
				prods = append(prods, e.product)
			}
		}
		// keep may ask policy: only of a word that could be shared once
		// kept, never of every product a common word names.
		if len(prods) < 2 || !slices.Contains(prods, prod) {
			continue
		}
		prods = slices.DeleteFunc(prods, func(x *catalog.Product) bool { return !keep(x) })
		if len(prods) < 2 || !slices.Contains(prods, prod) {
			continue
		}
		// "which customers spent": another word naming some of them, not
		// all, settles which.
		settled := slices.ContainsFunc(a.ms, func(m mention) bool {
			if m.i <= k && k < m.j {
				return false
			}
			n := 0
			for _, x := range prods {
				if slices.ContainsFunc(a.ms, func(o mention) bool { return o.product == x && o.i == m.i }) {
					n++
				}
			}
			return n > 0 && n < len(prods)
		})
		if !settled {
			return k, prods
		}
	}
	return -1, nil
}

// queryableReading is the product to read the question by when the one
// it points at is one the asker may not query but its word for what it
// wants fits others she may ("how much did we spend": customer-
// transactions' spending, or marketing-campaigns' spend): the best scored
// of those, so she is answered from data she may see, or asked back by
// ruleAmbiguousWord when two fit. f.product otherwise, and when policy was
// not asked.
func (p *Planner) queryableReading(f *features) *catalog.Product {
	prod := f.product
	if prod == nil || f.queryable == nil {
		return prod
	}
	k, prods := p.sharedWord(f.a, prod, func(*catalog.Product) bool { return true })
	// Policy is asked only when a word is shared, as the rules ask it.
	if k < 0 || f.may(prod) {
		return prod
	}
	for _, s := range f.scores {
		if s.product != prod && slices.Contains(prods, s.product) && f.may(s.product) {
			return s.product
		}
	}
	return prod
}

// optionsText lists the choices in the text too, for channels that show
// only text.
func optionsText(c *assistant.Clarification) string {
	var b strings.Builder
	for _, o := range c.Options {
		fmt.Fprintf(&b, "\n- %s: %q", o.Label, o.Question)
	}
	return b.String()
}

// metricTie reports whether the tied products fit by what the question
// asks of them (a metric or column each: "average amount"), not by their
// names: a question naming products is about the products it names.
func metricTie(f *features) bool {
	for _, s := range f.scores {
		if math.Abs(s.score-f.scores[0].score) >= 1e-9 {
			break
		}
		asked, named := false, false
		for _, m := range f.a.ms {
			if m.product != s.product {
				continue
			}
			switch m.kind {
			case mMetric, mColumn:
				asked = true
			case mName, mNamePart, mSynonym:
				named = true
			}
		}
		if !asked || named {
			return false
		}
	}
	return true
}
