package planner

import (
	"slices"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// ruleGetRecord reads a question naming a record by its key
// ("transaction txn-0000042", "customer cust-00042").
var ruleGetRecord = rule{
	name:    "get-record",
	applies: func(f *features) bool { return hasID(f.a) },
	plan:    func(p *Planner, a *analysis, _ *features) *intent { return p.getRecord(a) },
}

func hasID(a *analysis) bool {
	return slices.ContainsFunc(a.toks, func(t token) bool { return t.kind == tokID })
}

// getRecord handles questions naming a record by its key ("transaction
// txn-0000042"). A question asking for particular columns of it becomes a
// records query for those columns only, so policy can refuse exactly them.
func (p *Planner) getRecord(a *analysis) *intent {
	for k, t := range a.toks {
		if t.kind != tokID {
			continue
		}
		var cands []idPattern
		for _, m := range p.lex.idMatches(t) {
			if m.key && m.product.Has(catalog.CapGet) {
				cands = append(cands, m)
			}
		}
		if len(cands) == 0 {
			continue
		}
		chosen := cands[0]
		if len(cands) > 1 {
			scores := p.scoreProducts(a)
			best := -1.0
			for _, s := range scores {
				for _, c := range cands {
					if c.product == s.product && s.score > best {
						best, chosen = s.score, c
					}
				}
			}
			if best < 0 {
				for _, h := range p.cat.Search(a.q, 0) {
					if i := slices.IndexFunc(cands, func(c idPattern) bool { return c.product == h.Product }); i >= 0 {
						chosen = cands[i]
						break
					}
				}
			}
		}
		// "transactions of customer cust-00042", "loans of customer
		// cust-00042": records of another product that has the identifier
		// as an ordinary column.
		if best, _ := p.chooseProduct(a, false); best != nil && best != chosen.product && p.idColumn(t, best) != "" {
			return nil
		}
		// "how many customers did camp-001 bring": a count over a product
		// that holds the identifier as an ordinary column, when the
		// question points at it more than at the record's own product.
		if a.has(howManyRe) || a.has(aggRe) {
			if alt := p.idHolder(a, t, chosen.product); alt != nil {
				in := p.metricsIntent(a, p.shape(a, p.base(a, alt)))
				in.rule = "metrics"
				return in
			}
		}
		a.toks[k].used = true
		prod := chosen.product
		if cols := p.requestedColumns(a, prod); len(cols) > 0 && prod.Has(catalog.CapRecords) {
			return &intent{kind: kindData, product: prod, calls: []plannedCall{{tools.ToolQueryRecords, tools.QueryRecordsArgs{
				Product: prod.Name, Columns: cols,
				Filters: []tools.Filter{{Column: prod.KeyColumn, Op: tools.OpEq, Value: t.raw}}}}}}
		}
		return &intent{kind: kindData, product: prod, calls: []plannedCall{{tools.ToolGetRecord, tools.GetRecordArgs{Product: prod.Name, ID: t.raw}}}}
	}
	return nil
}

// idHolder is the product, other than the identifier's own, that a count
// about the identifier is over: the question points at a product that has
// no such column ("customers"), and exactly one other product holds it as
// an ordinary column (customer-acquisition's campaign_id); else nil.
func (p *Planner) idHolder(a *analysis, t token, own *catalog.Product) *catalog.Product {
	best, _ := p.chooseProduct(a, false)
	if best == nil || best == own || p.idColumn(t, best) != "" {
		return nil
	}
	var holders []*catalog.Product
	for _, prod := range p.lex.products {
		if prod != own && prod.Has(catalog.CapMetrics) && p.idColumn(t, prod) != "" {
			holders = append(holders, prod)
		}
	}
	if len(holders) != 1 {
		return nil
	}
	return holders[0]
}
