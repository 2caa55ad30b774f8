package opa

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/askmesh/askmesh/authz"
	"github.com/open-policy-agent/opa/v1/ast"
)

// Keys of the input document, built once: input conversion runs on every
// decision and must cost little next to the evaluation itself.
var (
	kSubject      = str("subject")
	kID           = str("id")
	kName         = str("name")
	kGroups       = str("groups")
	kAttributes   = str("attributes")
	kKnown        = str("known")
	kIdP          = str("idp")
	kAction       = str("action")
	kResource     = str("resource")
	kProduct      = str("product")
	kDomain       = str("domain")
	kOwner        = str("owner")
	kColumns      = str("columns")
	kReferenced   = str("referenced")
	kContext      = str("context")
	kChannel      = str("channel")
	kConversation = str("conversation")
	kTime         = str("time")
)

// inputValue converts an Input to the AST value policies see as input,
// directly rather than through JSON, taking the terms of known names from
// syms (may be nil). Every field is present: nil slices and maps become
// empty arrays and objects, so that policies need no defaults. Its JSON
// form is the same as encoding/json's of Input, except that omitted fields
// appear empty.
//
// A subject that is a directory user exactly as Directory.Lookup resolves
// them takes its term from subjects (may be nil), built once when the
// directory was loaded: it is most of an input, and the same on every call
// of that user.
func inputValue(in *authz.Input, syms symbols, subjects subjectTerms) ast.Value {
	s, r, c := &in.Subject, &in.Resource, &in.Context
	subject := subjects.of(s)
	if subject == nil {
		subject = subjectTerm(s, syms)
	}
	return ast.NewObject(
		ast.Item(kSubject, subject),
		ast.Item(kAction, ast.InternedTerm(in.Action)),
		ast.Item(kResource, ast.ObjectTerm(
			ast.Item(kProduct, syms.term(r.Product)),
			ast.Item(kDomain, syms.term(r.Domain)),
			ast.Item(kOwner, syms.term(r.Owner)),
			ast.Item(kColumns, strings2Array(r.Columns, syms)),
			ast.Item(kReferenced, strings2Array(r.Referenced, syms)),
		)),
		ast.Item(kContext, ast.ObjectTerm(
			ast.Item(kChannel, ast.InternedTerm(c.Channel)),
			ast.Item(kConversation, syms.term(c.Conversation)),
			ast.Item(kTime, syms.term(c.Time)),
		)),
	)
}

// subjectTerm is s as input.subject.
func subjectTerm(s *authz.Subject, syms symbols) *ast.Term {
	return ast.ObjectTerm(
		ast.Item(kID, syms.term(s.ID)),
		ast.Item(kName, syms.term(s.Name)),
		ast.Item(kGroups, strings2Array(s.Groups, syms)),
		ast.Item(kAttributes, stringMap(s.Attributes, syms)),
		ast.Item(kKnown, ast.InternedTerm(s.Known)),
		ast.Item(kIdP, ast.InternedTerm(s.IdP)),
	)
}

// subjectTerms are the directory's users as input.subject, by id, as
// Directory.Lookup resolves them (known, not from an identity provider).
// Terms are never changed once built, so decisions share them.
type subjectTerms map[string]resolvedSubject

type resolvedSubject struct {
	subject authz.Subject
	term    *ast.Term
}

// of is s's prebuilt term if s is a directory user exactly as resolved
// (same id, name, groups and attributes), else nil.
func (st subjectTerms) of(s *authz.Subject) *ast.Term {
	if !s.Known || s.IdP {
		return nil
	}
	r, ok := st[s.ID]
	if !ok || r.subject.Name != s.Name || !slices.Equal(r.subject.Groups, s.Groups) || !maps.Equal(r.subject.Attributes, s.Attributes) {
		return nil
	}
	return r.term
}

// parseDecision reads the policy's decision document, as OPA's AST (see
// asTerm) or as Go values. Anything malformed is an error, so that the
// executor refuses the call: a decision that cannot be read is never taken
// for an allow.
func parseDecision(v any) (authz.Decision, error) {
	var val ast.Value
	switch t := v.(type) {
	case *ast.Term:
		val = t.Value
	default:
		var err error
		if val, err = ast.InterfaceToValue(v); err != nil {
			return authz.Decision{}, fmt.Errorf("the decision cannot be read: %w", err)
		}
	}
	doc, ok := val.(ast.Object)
	if !ok {
		return authz.Decision{}, fmt.Errorf("the decision is %s, not an object", astKind(val))
	}
	var d authz.Decision
	allow, ok := get(doc, kAllow).(ast.Boolean)
	if !ok {
		return authz.Decision{}, fmt.Errorf("decision.allow is %s, not a boolean", astKind(get(doc, kAllow)))
	}
	d.Allow = bool(allow)
	var err error
	if d.Reasons, err = stringList(get(doc, kReasons), "decision.reasons"); err != nil {
		return authz.Decision{}, err
	}
	if d.DeniedColumns, err = stringList(get(doc, kDeniedColumns), "decision.denied_columns"); err != nil {
		return authz.Decision{}, err
	}
	if m := get(doc, kColumnMasks); m != nil {
		obj, ok := m.(ast.Object)
		if !ok {
			return authz.Decision{}, fmt.Errorf("decision.column_masks is %s, not an object", astKind(m))
		}
		if obj.Len() > 0 {
			d.ColumnMasks = make(map[string]string, obj.Len())
			err := obj.Iter(func(k, kind *ast.Term) error {
				col, _ := k.Value.(ast.String)
				s, ok := kind.Value.(ast.String)
				if !ok || s == "" {
					return fmt.Errorf("decision.column_masks[%q] is %s, not a mask kind", string(col), astKind(kind.Value))
				}
				d.ColumnMasks[string(col)] = string(s)
				return nil
			})
			if err != nil {
				return authz.Decision{}, err
			}
		}
	}
	if rf := get(doc, kRowFilters); rf != nil {
		list, ok := rf.(*ast.Array)
		if !ok {
			return authz.Decision{}, fmt.Errorf("decision.row_filters is %s, not an array", astKind(rf))
		}
		for i := 0; i < list.Len(); i++ {
			f, err := rowFilter(list.Elem(i).Value)
			if err != nil {
				return authz.Decision{}, fmt.Errorf("decision.row_filters[%d]: %w", i, err)
			}
			d.RowFilters = append(d.RowFilters, f)
		}
	}
	if !d.Allow && len(d.Reasons) == 0 {
		d.Reasons = []string{"the policy denied this without giving a reason"}
	}
	return d, nil
}

var (
	kAllow         = str("allow")
	kReasons       = str("reasons")
	kDeniedColumns = str("denied_columns")
	kColumnMasks   = str("column_masks")
	kRowFilters    = str("row_filters")
	kColumn        = str("column")
	kOp            = str("op")
	kValue         = str("value")
)

// get is obj[key], nil if missing.
func get(obj ast.Object, key *ast.Term) ast.Value {
	if t := obj.Get(key); t != nil {
		return t.Value
	}
	return nil
}

func rowFilter(v ast.Value) (authz.RowFilter, error) {
	obj, ok := v.(ast.Object)
	if !ok {
		return authz.RowFilter{}, fmt.Errorf("is %s, not an object", astKind(v))
	}
	col, _ := get(obj, kColumn).(ast.String)
	op, _ := get(obj, kOp).(ast.String)
	if col == "" || op == "" {
		return authz.RowFilter{}, fmt.Errorf("needs a column and an op")
	}
	// A filter without a value would match nothing or, worse, be dropped
	// by a backend: refuse it rather than guess.
	value := get(obj, kValue)
	if value == nil || value.Compare(ast.Null{}) == 0 {
		return authz.RowFilter{}, fmt.Errorf("filter on %s has no value", col)
	}
	x, err := ast.JSON(value)
	if err != nil {
		return authz.RowFilter{}, fmt.Errorf("filter on %s: %w", col, err)
	}
	return authz.RowFilter{Column: string(col), Op: string(op), Value: plainJSON(x)}, nil
}

// plainJSON turns OPA's json.Number into float64, as encoding/json decodes
// numbers, so that row filter values look like tool arguments.
func plainJSON(v any) any {
	switch t := v.(type) {
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return t.String()
		}
		return f
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = plainJSON(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = plainJSON(x)
		}
		return out
	}
	return v
}

func stringList(v ast.Value, what string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.(*ast.Array)
	if !ok {
		return nil, fmt.Errorf("%s is %s, not an array", what, astKind(v))
	}
	if list.Len() == 0 {
		return nil, nil
	}
	out := make([]string, list.Len())
	for i := range out {
		s, ok := list.Elem(i).Value.(ast.String)
		if !ok {
			return nil, fmt.Errorf("%s[%d] is %s, not a string", what, i, astKind(list.Elem(i).Value))
		}
		out[i] = string(s)
	}
	return out, nil
}

func astKind(v ast.Value) string {
	switch v.(type) {
	case nil:
		return "missing"
	case ast.Null:
		return "null"
	case ast.Boolean:
		return "a boolean"
	case ast.String:
		return "a string"
	case ast.Number:
		return "a number"
	case *ast.Array:
		return "an array"
	case ast.Object:
		return "an object"
	case ast.Set:
		return "a set"
	}
	return fmt.Sprintf("a %T", v)
}

// sortedKeys lists a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
