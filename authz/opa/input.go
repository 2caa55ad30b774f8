package opa

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/askmesh/askmesh/authz"
	"github.com/open-policy-agent/opa/v1/ast"
)

// Keys of the input document, built once: input conversion runs on every
// decision and must cost little next to the evaluation itself.
var (
	kSubject        = str("subject")
	kID             = str("id")
	kName           = str("name")
	kGroups         = str("groups")
	kAttributes     = str("attributes")
	kKnown          = str("known")
	kAction         = str("action")
	kResource       = str("resource")
	kProduct        = str("product")
	kDomain         = str("domain")
	kOwner          = str("owner")
	kColumns        = str("columns")
	kReferenced     = str("referenced")
	kClassification = str("classification")
	kContext        = str("context")
	kChannel        = str("channel")
	kConversation   = str("conversation")
	kTime           = str("time")
)

// inputValue converts an Input to the AST value policies see as input,
// directly rather than through JSON. Every field is present: nil slices
// and maps become empty arrays and objects, so that policies need no
// defaults. Its JSON form is the same as encoding/json's of Input, except
// that omitted fields appear empty.
func inputValue(in *authz.Input) ast.Value {
	s, r, c := &in.Subject, &in.Resource, &in.Context
	return ast.NewObject(
		ast.Item(kSubject, ast.ObjectTerm(
			ast.Item(kID, ast.StringTerm(s.ID)),
			ast.Item(kName, ast.StringTerm(s.Name)),
			ast.Item(kGroups, strings2Array(s.Groups)),
			ast.Item(kAttributes, stringMap(s.Attributes)),
			ast.Item(kKnown, ast.InternedTerm(s.Known)),
		)),
		ast.Item(kAction, ast.InternedTerm(in.Action)),
		ast.Item(kResource, ast.ObjectTerm(
			ast.Item(kProduct, ast.StringTerm(r.Product)),
			ast.Item(kDomain, ast.StringTerm(r.Domain)),
			ast.Item(kOwner, ast.StringTerm(r.Owner)),
			ast.Item(kColumns, strings2Array(r.Columns)),
			ast.Item(kReferenced, strings2Array(r.Referenced)),
			ast.Item(kClassification, stringMap(r.Classification)),
		)),
		ast.Item(kContext, ast.ObjectTerm(
			ast.Item(kChannel, ast.StringTerm(c.Channel)),
			ast.Item(kConversation, ast.StringTerm(c.Conversation)),
			ast.Item(kTime, ast.StringTerm(c.Time)),
		)),
	)
}

// parseDecision reads the policy's decision document. Anything malformed is
// an error, so that the executor refuses the call: a decision that cannot
// be read is never taken for an allow.
func parseDecision(v any) (authz.Decision, error) {
	doc, ok := v.(map[string]any)
	if !ok {
		return authz.Decision{}, fmt.Errorf("the decision is %s, not an object", jsonKind(v))
	}
	var d authz.Decision
	allow, ok := doc["allow"].(bool)
	if !ok {
		return authz.Decision{}, fmt.Errorf("decision.allow is %s, not a boolean", jsonKind(doc["allow"]))
	}
	d.Allow = allow
	var err error
	if d.Reasons, err = stringList(doc["reasons"], "decision.reasons"); err != nil {
		return authz.Decision{}, err
	}
	if d.DeniedColumns, err = stringList(doc["denied_columns"], "decision.denied_columns"); err != nil {
		return authz.Decision{}, err
	}
	if m := doc["column_masks"]; m != nil {
		obj, ok := m.(map[string]any)
		if !ok {
			return authz.Decision{}, fmt.Errorf("decision.column_masks is %s, not an object", jsonKind(m))
		}
		if len(obj) > 0 {
			d.ColumnMasks = make(map[string]string, len(obj))
			for col, kind := range obj {
				s, ok := kind.(string)
				if !ok || s == "" {
					return authz.Decision{}, fmt.Errorf("decision.column_masks[%q] is %s, not a mask kind", col, jsonKind(kind))
				}
				d.ColumnMasks[col] = s
			}
		}
	}
	if rf := doc["row_filters"]; rf != nil {
		list, ok := rf.([]any)
		if !ok {
			return authz.Decision{}, fmt.Errorf("decision.row_filters is %s, not an array", jsonKind(rf))
		}
		for i, item := range list {
			f, err := rowFilter(item)
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

func rowFilter(v any) (authz.RowFilter, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return authz.RowFilter{}, fmt.Errorf("is %s, not an object", jsonKind(v))
	}
	col, _ := obj["column"].(string)
	op, _ := obj["op"].(string)
	if col == "" || op == "" {
		return authz.RowFilter{}, fmt.Errorf("needs a column and an op")
	}
	// A filter without a value would match nothing or, worse, be dropped
	// by a backend: refuse it rather than guess.
	if obj["value"] == nil {
		return authz.RowFilter{}, fmt.Errorf("filter on %s has no value", col)
	}
	return authz.RowFilter{Column: col, Op: op, Value: plainJSON(obj["value"])}, nil
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

func stringList(v any, what string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	var list []any
	switch t := v.(type) {
	case []any:
		list = t
	default:
		return nil, fmt.Errorf("%s is %s, not an array", what, jsonKind(v))
	}
	if len(list) == 0 {
		return nil, nil
	}
	out := make([]string, len(list))
	for i, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%s[%d] is %s, not a string", what, i, jsonKind(x))
		}
		out[i] = s
	}
	return out, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "missing"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number, float64, int, int64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
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
