package catalog

import (
	"errors"
	"fmt"
	"sort"
)

// Registry holds the validated products of the mesh and their search
// index. It is immutable, so any number of goroutines may use it.
type Registry struct {
	byName map[string]*Product
	list   []*Product // by name
	index  *searchIndex
}

// NewRegistry validates the products (see Validate) and indexes them for
// search. Product names must be unique: a duplicate is an error naming
// both sources. Every fault of every product is reported.
func NewRegistry(products ...*Product) (*Registry, error) {
	r := &Registry{byName: make(map[string]*Product, len(products))}
	var errs []error
	for i, p := range products {
		if p == nil {
			errs = append(errs, fmt.Errorf("catalog: product %d is nil", i))
			continue
		}
		if err := Validate(p); err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := r.byName[p.Name]; dup {
			errs = append(errs, &Fault{Source: productSource(p), Path: "name",
				Msg: fmt.Sprintf("product %q is also defined in %s; product names are unique", p.Name, productSource(prev))})
			continue
		}
		r.byName[p.Name] = p
		r.list = append(r.list, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(r.list, func(i, j int) bool { return r.list[i].Name < r.list[j].Name })
	r.index = newSearchIndex(r.list)
	return r, nil
}

// Get returns the named product.
func (r *Registry) Get(name string) (*Product, bool) {
	p, ok := r.byName[name]
	return p, ok
}

// List returns every product, sorted by name. The slice is the caller's.
func (r *Registry) List() []*Product { return append([]*Product(nil), r.list...) }

// Len is the number of products.
func (r *Registry) Len() int { return len(r.list) }

// Search ranks products by relevance to a free-text query, best first, at
// most limit of them (all matches when limit <= 0). Products that match no
// word of the query are not returned: a query about nothing the catalog
// knows gets no hits.
func (r *Registry) Search(query string, limit int) []Hit {
	return r.index.search(query, limit)
}
