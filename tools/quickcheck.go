package tools

import (
	"encoding/json"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
)

// quickSchema is a tool's argument schema compiled for a check of the
// common case: arguments a model wrote right. The general validator
// (jsonschema-go) walked the decoded arguments through reflection, about
// 110 allocations per call, a tenth of a tool call's; this check walks them
// with type switches and allocates nothing. It only ever says "valid" for
// arguments the general validator accepts: anything it does not accept, or
// a schema using a keyword it does not know, goes to the general validator,
// which decides and writes the error, so the model's messages are its.
type quickSchema struct {
	typ              string // "" (any), object, array, string, integer, number, boolean, null
	enum             []string
	minLen, maxLen   int // -1: none
	maxItems         int // -1: none
	minimum, maximum *float64
	props            map[string]*quickSchema
	required         []string
	closed           bool // additionalProperties: false
	items            *quickSchema
}

// quickKeywords are the keywords quickSchema implements; description and
// title only annotate.
var quickKeywords = []string{"type", "properties", "required", "additionalProperties", "items",
	"enum", "minLength", "maxLength", "maxItems", "minimum", "maximum", "description", "title"}

// compileQuick compiles s, or returns nil when s uses anything quickSchema
// does not implement exactly (then every call is checked by the general
// validator).
func compileQuick(s *jsonschema.Schema) *quickSchema {
	if s == nil {
		return nil
	}
	// The keywords s uses, as it is written to the model: a keyword added
	// to the schemas later, unknown here, turns the quick check off.
	b, err := json.Marshal(s)
	if err != nil {
		return nil
	}
	var kw map[string]json.RawMessage
	if json.Unmarshal(b, &kw) != nil {
		return nil
	}
	for k := range kw {
		if !slices.Contains(quickKeywords, k) {
			return nil
		}
	}
	if len(s.Types) > 0 {
		return nil
	}
	q := &quickSchema{typ: s.Type, minLen: -1, maxLen: -1, maxItems: -1, minimum: s.Minimum, maximum: s.Maximum, required: s.Required}
	switch q.typ {
	case "", "object", "array", "string", "integer", "number", "boolean", "null":
	default:
		return nil
	}
	for _, e := range s.Enum {
		str, ok := e.(string)
		if !ok {
			return nil
		}
		q.enum = append(q.enum, str)
	}
	if s.Enum != nil && q.enum == nil {
		return nil // an empty enum accepts nothing: leave it to the validator
	}
	if s.MinLength != nil {
		q.minLen = *s.MinLength
	}
	if s.MaxLength != nil {
		q.maxLen = *s.MaxLength
	}
	if s.MaxItems != nil {
		q.maxItems = *s.MaxItems
	}
	if raw, ok := kw["additionalProperties"]; ok {
		if string(raw) != "false" {
			return nil
		}
		q.closed = true
	}
	if len(s.Properties) > 0 {
		q.props = make(map[string]*quickSchema, len(s.Properties))
		for name, p := range s.Properties {
			if q.props[name] = compileQuick(p); q.props[name] == nil {
				return nil
			}
		}
	}
	if s.Items != nil {
		if q.items = compileQuick(s.Items); q.items == nil {
			return nil
		}
	}
	return q
}

// accepts reports whether v (as encoding/json decodes into any) surely
// satisfies the schema; false means "ask the general validator".
func (q *quickSchema) accepts(v any) bool {
	switch q.typ {
	case "":
	case "null":
		if v != nil {
			return false
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return false
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return false
		}
	case "integer":
		// As the validator: a number with no fractional part.
		f, ok := v.(float64)
		if !ok {
			return false
		}
		if _, frac := math.Modf(f); frac != 0 {
			return false
		}
	case "string":
		if _, ok := v.(string); !ok {
			return false
		}
	case "array":
		if _, ok := v.([]any); !ok {
			return false
		}
	case "object":
		if _, ok := v.(map[string]any); !ok {
			return false
		}
	}
	if q.enum != nil {
		s, ok := v.(string)
		if !ok || !slices.Contains(q.enum, s) {
			return false
		}
	}
	switch t := v.(type) {
	case float64:
		if (q.minimum != nil && t < *q.minimum) || (q.maximum != nil && t > *q.maximum) {
			return false
		}
	case string:
		if q.minLen >= 0 || q.maxLen >= 0 {
			n := utf8.RuneCountInString(t)
			if (q.minLen >= 0 && n < q.minLen) || (q.maxLen >= 0 && n > q.maxLen) {
				return false
			}
		}
	case []any:
		if q.maxItems >= 0 && len(t) > q.maxItems {
			return false
		}
		if q.items != nil {
			for _, e := range t {
				if !q.items.accepts(e) {
					return false
				}
			}
		}
	case map[string]any:
		for _, r := range q.required {
			if _, ok := t[r]; !ok {
				return false
			}
		}
		for k, e := range t {
			p, ok := q.props[k]
			if !ok {
				if q.closed {
					return false
				}
				continue
			}
			if !p.accepts(e) {
				return false
			}
		}
	}
	return true
}
