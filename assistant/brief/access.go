package brief

import (
	"context"
	"fmt"
	"slices"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// Access is what policy lets the asker do with each product of the
// catalog a brief could touch, asked once, before any call is made (see
// tools.Executor.Access). A brief calls only what policy allows and lists
// the rest as withheld, so the audit log holds no refusals of calls nobody
// asked for. Nil: policy was not asked; every call is made and refusals
// are audited as they come.
type Access map[string]tools.Access

// Checker asks policy what a caller may do with many products in one
// evaluation; *tools.Executor implements it.
type Checker interface {
	Access(ctx context.Context, caller tools.Caller, products []string, actions ...string) ([]tools.Access, error)
}

// actions a brief's calls need.
var actions = []string{authz.ActionQueryMetrics, authz.ActionFindAnomalies}

// AskAccess asks policy, in one evaluation, about every product a brief of
// o could call: the products with headline metrics and the related
// products their contributors name.
func AskAccess(ctx context.Context, chk Checker, cat tools.Catalog, caller tools.Caller, o Options) (Access, error) {
	var names []string
	for _, p := range candidates(cat, o) {
		names = append(names, p.Name)
	}
	for _, p := range cat.List() {
		if p.Has(catalog.CapMetrics) && !slices.Contains(names, p.Name) {
			names = append(names, p.Name) // a related product (marketing-campaigns for campaign_name)
		}
	}
	slices.Sort(names)
	acc, err := chk.Access(ctx, caller, names, actions...)
	if err != nil {
		return nil, fmt.Errorf("brief: %w", err)
	}
	out := Access{}
	for _, a := range acc {
		out[a.Product] = a
	}
	return out, nil
}

// refused says whether policy refuses the item's call, and why.
func (a Access) refused(it Item) (string, bool) {
	if a == nil {
		return "", false
	}
	spec, ok := tools.SpecFor(it.Call.Tool)
	if !ok {
		return "", false
	}
	pa, ok := a[ProductOf(it)]
	if !ok {
		return "policy was not asked about this product", true
	}
	if pa.May(spec.Action) {
		return "", false
	}
	return pa.ReasonFor(spec.Action), true
}

// nameable says whether the asker may describe the product, and so be told
// its name.
func (a Access) nameable(product string) bool {
	if a == nil {
		return true
	}
	return a[product].Nameable
}

// ProductOf is the product an item's call queries (a related item queries
// another product than the line it feeds).
func ProductOf(it Item) string {
	return assistant.ProductArg(it.Call.Arguments)
}

// Screen splits items into the calls to make and, for those policy refuses
// (per a), their outcomes: withheld without being called.
func Screen(items []Item, a Access) (call []Item, withheld []Outcome) {
	for _, it := range items {
		if reason, no := a.refused(it); no {
			withheld = append(withheld, Outcome{Item: it, Status: StatusDenied, Message: reason, Withheld: true})
			continue
		}
		call = append(call, it)
	}
	return call, withheld
}

// InPlanOrder orders outcomes as their items are planned.
func InPlanOrder(items []Item, outs []Outcome) []Outcome {
	pos := func(o Outcome) int {
		return slices.IndexFunc(items, func(it Item) bool {
			return it.Kind == o.Item.Kind && it.Product == o.Item.Product && string(it.Call.Arguments) == string(o.Item.Call.Arguments)
		})
	}
	slices.SortStableFunc(outs, func(x, y Outcome) int { return pos(x) - pos(y) })
	return outs
}

// Queryable are the products of ps the asker may query metrics of (all of
// them when policy was not asked).
func (a Access) Queryable(ps []*catalog.Product) []*catalog.Product {
	if a == nil {
		return ps
	}
	var out []*catalog.Product
	for _, p := range ps {
		if a[p.Name].May(authz.ActionQueryMetrics) {
			out = append(out, p)
		}
	}
	return out
}
