package opa

import (
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
)

// This file turns products and the directory into the OPA data policies
// read, built as AST values directly so that the store never converts them
// again on read:
//
//	data.askmesh.products[name] = {name, domain, owner,
//	    classification: {column: class}, columns: [column],
//	    columns_by_class: {class: set of columns},
//	    access: [{groups, actions, see, mask: {class or column: kind},
//	              row_filters: [{column, op, value, subject_attribute}]}]}
//	data.askmesh.directory.users[lower-cased id] = {id, name, title, groups, attributes}
//	data.askmesh.index[name] = what the policy's index rule derives (engine.go)
//
// Every field is always present (empty when the descriptor leaves it out),
// so policies need no defaults. columns_by_class is classification
// inverted, held as sets: with it a policy finds a grant's visible columns
// with a few set operations instead of a loop over every column, which is
// most of what a decision costs.

func str(s string) *ast.Term { return ast.InternedTerm(s) }

// symbols are the terms of the names an input is made of that the engine
// knows before any call: products, domains, owners and columns from the
// catalog; ids, names, groups and attributes from the directory. The data
// document is built from them, and inputValue takes a name's term from
// them rather than allocating it again on every decision.
type symbols map[string]*ast.Term

// of is s's term, added to syms if new.
func (syms symbols) of(s string) *ast.Term {
	if t, ok := syms[s]; ok {
		return t
	}
	t := ast.StringTerm(s)
	syms[s] = t
	return t
}

// term is s's term: the known one, or OPA's interned one (the empty
// string), or a new one. syms may be nil.
func (syms symbols) term(s string) *ast.Term {
	if t, ok := syms[s]; ok {
		return t
	}
	return ast.InternedTerm(s)
}

// with is a copy of syms with other's terms added.
func (syms symbols) with(other symbols) symbols {
	out := make(symbols, len(syms)+len(other))
	for k, t := range syms {
		out[k] = t
	}
	for k, t := range other {
		out[k] = t
	}
	return out
}

// strings2Array and stringMap take names' terms from syms (nil: none).
// Empty ones are OPA's interned empty array and object: nothing changes
// them, and an input then allocates nothing for its empty fields.
func strings2Array(ss []string, syms symbols) *ast.Term {
	if len(ss) == 0 {
		return ast.InternedEmptyArray
	}
	terms := make([]*ast.Term, len(ss))
	for i, s := range ss {
		terms[i] = syms.term(s)
	}
	return ast.ArrayTerm(terms...)
}

func stringMap(m map[string]string, syms symbols) *ast.Term {
	if len(m) == 0 {
		return ast.InternedEmptyObject
	}
	items := make([][2]*ast.Term, 0, len(m))
	for k, v := range m {
		items = append(items, ast.Item(syms.term(k), syms.term(v)))
	}
	return ast.ObjectTerm(items...)
}

// productsValue builds data.askmesh.products, and the symbols of its names.
func productsValue(products []*catalog.Product) (ast.Object, symbols, error) {
	syms := symbols{}
	out := ast.NewObjectWithCapacity(len(products))
	for i, p := range products {
		if p == nil {
			return nil, nil, fmt.Errorf("products[%d] is nil", i)
		}
		if p.Name == "" {
			return nil, nil, fmt.Errorf("products[%d] has no name", i)
		}
		if out.Get(ast.StringTerm(p.Name)) != nil {
			return nil, nil, fmt.Errorf("product %s is given twice", p.Name)
		}
		v, err := productValue(p, syms)
		if err != nil {
			return nil, nil, fmt.Errorf("product %s: %w", p.Name, err)
		}
		out.Insert(syms.of(p.Name), ast.NewTerm(v))
	}
	return out, syms, nil
}

func productValue(p *catalog.Product, syms symbols) (ast.Object, error) {
	classes := make([][2]*ast.Term, len(p.Columns))
	byClass := map[string][]*ast.Term{}
	for i, c := range p.Columns {
		classes[i] = ast.Item(syms.of(c.Name), str(c.Classification))
		byClass[c.Classification] = append(byClass[c.Classification], syms.of(c.Name))
	}
	inverted := make([][2]*ast.Term, 0, len(byClass))
	for _, class := range sortedKeys(byClass) {
		inverted = append(inverted, ast.Item(str(class), ast.SetTerm(byClass[class]...)))
	}
	grants := make([]*ast.Term, len(p.Access))
	for i, g := range p.Access {
		filters := make([]*ast.Term, len(g.RowFilters))
		for j, rf := range g.RowFilters {
			var value *ast.Term
			if rf.Value == nil {
				value = ast.NullTerm()
			} else {
				v, err := ast.InterfaceToValue(rf.Value)
				if err != nil {
					return nil, fmt.Errorf("access[%d].rowFilters[%d].value: %w", i, j, err)
				}
				value = ast.NewTerm(v)
			}
			filters[j] = ast.ObjectTerm(
				ast.Item(str("column"), ast.StringTerm(rf.Column)),
				ast.Item(str("op"), ast.StringTerm(rf.Op)),
				ast.Item(str("value"), value),
				ast.Item(str("subject_attribute"), ast.StringTerm(rf.SubjectAttribute)),
			)
		}
		grants[i] = ast.ObjectTerm(
			ast.Item(str("groups"), strings2Array(g.Groups, nil)),
			ast.Item(str("actions"), strings2Array(g.Actions, nil)),
			ast.Item(str("see"), strings2Array(g.See, nil)),
			ast.Item(str("mask"), stringMap(g.Mask, nil)),
			ast.Item(str("row_filters"), ast.ArrayTerm(filters...)),
		)
	}
	return ast.NewObject(
		ast.Item(str("name"), syms.of(p.Name)),
		ast.Item(str("domain"), syms.of(p.Domain)),
		ast.Item(str("owner"), syms.of(p.Owner)),
		ast.Item(str("classification"), ast.ObjectTerm(classes...)),
		ast.Item(str("columns"), strings2Array(p.ColumnNames(), syms)),
		ast.Item(str("columns_by_class"), ast.ObjectTerm(inverted...)),
		ast.Item(str("access"), ast.ArrayTerm(grants...)),
	), nil
}

// directoryValue builds data.askmesh.directory, the symbols of its names
// and its users' terms as input.subject. A nil directory is an empty one:
// every asker is unknown and denied.
func directoryValue(d *authz.Directory) (ast.Object, symbols, subjectTerms) {
	syms := symbols{}
	users := ast.NewObject()
	subjects := subjectTerms{}
	for _, u := range d.Users() {
		for _, g := range u.Groups {
			syms.of(g)
		}
		for k, v := range u.Attributes {
			syms.of(k)
			syms.of(v)
		}
		users.Insert(ast.StringTerm(strings.ToLower(u.ID)), ast.ObjectTerm(
			ast.Item(str("id"), syms.of(u.ID)),
			ast.Item(str("name"), syms.of(u.Name)),
			ast.Item(str("title"), ast.StringTerm(u.Title)),
			ast.Item(str("groups"), strings2Array(u.Groups, syms)),
			ast.Item(str("attributes"), stringMap(u.Attributes, syms)),
		))
		s := d.Lookup(u.ID)
		subjects[s.ID] = resolvedSubject{subject: s, term: subjectTerm(&s, syms)}
	}
	return ast.NewObject(ast.Item(str("users"), ast.NewTerm(users))), syms, subjects
}

// classesOf keeps each product's classifications on the Go side, for the
// restricted-column guard that runs after every policy decision.
func classesOf(products []*catalog.Product) map[string]map[string]string {
	out := make(map[string]map[string]string, len(products))
	for _, p := range products {
		out[p.Name] = p.Classifications()
	}
	return out
}
