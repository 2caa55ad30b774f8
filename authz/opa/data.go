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

func strings2Array(ss []string) *ast.Term {
	terms := make([]*ast.Term, len(ss))
	for i, s := range ss {
		terms[i] = ast.StringTerm(s)
	}
	return ast.ArrayTerm(terms...)
}

func stringMap(m map[string]string) *ast.Term {
	items := make([][2]*ast.Term, 0, len(m))
	for k, v := range m {
		items = append(items, ast.Item(ast.StringTerm(k), ast.StringTerm(v)))
	}
	return ast.ObjectTerm(items...)
}

// productsValue builds data.askmesh.products.
func productsValue(products []*catalog.Product) (ast.Object, error) {
	out := ast.NewObjectWithCapacity(len(products))
	for i, p := range products {
		if p == nil {
			return nil, fmt.Errorf("products[%d] is nil", i)
		}
		if p.Name == "" {
			return nil, fmt.Errorf("products[%d] has no name", i)
		}
		if out.Get(ast.StringTerm(p.Name)) != nil {
			return nil, fmt.Errorf("product %s is given twice", p.Name)
		}
		v, err := productValue(p)
		if err != nil {
			return nil, fmt.Errorf("product %s: %w", p.Name, err)
		}
		out.Insert(ast.StringTerm(p.Name), ast.NewTerm(v))
	}
	return out, nil
}

func productValue(p *catalog.Product) (ast.Object, error) {
	classes := make([][2]*ast.Term, len(p.Columns))
	byClass := map[string][]*ast.Term{}
	for i, c := range p.Columns {
		classes[i] = ast.Item(ast.StringTerm(c.Name), str(c.Classification))
		byClass[c.Classification] = append(byClass[c.Classification], ast.StringTerm(c.Name))
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
			ast.Item(str("groups"), strings2Array(g.Groups)),
			ast.Item(str("actions"), strings2Array(g.Actions)),
			ast.Item(str("see"), strings2Array(g.See)),
			ast.Item(str("mask"), stringMap(g.Mask)),
			ast.Item(str("row_filters"), ast.ArrayTerm(filters...)),
		)
	}
	return ast.NewObject(
		ast.Item(str("name"), ast.StringTerm(p.Name)),
		ast.Item(str("domain"), ast.StringTerm(p.Domain)),
		ast.Item(str("owner"), ast.StringTerm(p.Owner)),
		ast.Item(str("classification"), ast.ObjectTerm(classes...)),
		ast.Item(str("columns"), strings2Array(p.ColumnNames())),
		ast.Item(str("columns_by_class"), ast.ObjectTerm(inverted...)),
		ast.Item(str("access"), ast.ArrayTerm(grants...)),
	), nil
}

// directoryValue builds data.askmesh.directory. A nil directory is an
// empty one: every asker is unknown and denied.
func directoryValue(d *authz.Directory) ast.Object {
	users := ast.NewObject()
	for _, u := range d.Users() {
		users.Insert(ast.StringTerm(strings.ToLower(u.ID)), ast.ObjectTerm(
			ast.Item(str("id"), ast.StringTerm(u.ID)),
			ast.Item(str("name"), ast.StringTerm(u.Name)),
			ast.Item(str("title"), ast.StringTerm(u.Title)),
			ast.Item(str("groups"), strings2Array(u.Groups)),
			ast.Item(str("attributes"), stringMap(u.Attributes)),
		))
	}
	return ast.NewObject(ast.Item(str("users"), ast.NewTerm(users)))
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
