package tools

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// Spec is a tool as the model sees it: a name, what it does and a JSON
// Schema of its arguments. The schema is inferred from the argument's Go type
// and the same resolved schema validates every call, so the model's contract
// and the decoder cannot drift apart.
type Spec struct {
	Name        string             `json:"name"`
	Description string             `json:"description"`
	Parameters  *jsonschema.Schema `json:"parameters"`
	// Action is what policy decides on when the tool is called.
	Action string `json:"-"`

	resolved   *jsonschema.Resolved
	quick      *quickSchema // nil: every call goes to resolved
	paramsJSON json.RawMessage
	tool       *tool
}

// ParametersJSON is the schema as JSON, for model APIs that take raw JSON.
// It is encoded once at start-up: every model request carries it, and
// encoding it per request was a quarter of the CPU of a question
// (docs/benchmarks.md). Callers must not modify it.
func (s *Spec) ParametersJSON() json.RawMessage { return s.paramsJSON }

var specs = mustSpecs()

// Specs returns the tool specs in a stable order.
func Specs() []*Spec { return specs }

// SpecFor returns the named tool's spec.
func SpecFor(name string) (*Spec, bool) {
	for _, s := range specs {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// ToolNames lists the tools.
func ToolNames() []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return names
}

func mustSpecs() []*Spec {
	out := make([]*Spec, 0, len(registry))
	for i := range registry {
		d := &registry[i]
		s, err := jsonschema.ForType(d.args, nil)
		if err != nil {
			panic(err.Error())
		}
		refine(s)
		r, err := s.Resolve(nil)
		if err != nil {
			panic(fmt.Sprintf("tools: resolve schema of %s: %v", d.name, err))
		}
		params, err := json.Marshal(s)
		if err != nil {
			panic(fmt.Sprintf("tools: marshal schema of %s: %v", d.name, err))
		}
		out = append(out, &Spec{Name: d.name, Description: d.description, Parameters: s, Action: d.action, resolved: r, quick: compileQuick(s), paramsJSON: params, tool: d})
	}
	return out
}

// Progress says in words what a call of the named tool on product is doing,
// for channels that show progress ("querying customer-acquisition").
func Progress(toolName, product string) string {
	if product == "" {
		product = "a data product"
	}
	if s, ok := SpecFor(toolName); ok {
		if strings.Contains(s.tool.progress, "%s") {
			return fmt.Sprintf(s.tool.progress, product)
		}
		return s.tool.progress
	}
	return "working"
}

// NewSpec builds a spec whose schema is inferred from typ, for tools the
// executor does not run: the agent's own ask_clarification and decline.
func NewSpec(name, desc string, typ reflect.Type) (*Spec, error) {
	s, err := jsonschema.ForType(typ, nil)
	if err != nil {
		return nil, fmt.Errorf("tools: infer schema of %s: %w", name, err)
	}
	refine(s)
	r, err := s.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("tools: resolve schema of %s: %w", name, err)
	}
	params, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("tools: marshal schema of %s: %w", name, err)
	}
	return &Spec{Name: name, Description: desc, Parameters: s, resolved: r, quick: compileQuick(s), paramsJSON: params}, nil
}

// Decode validates raw arguments against the spec's schema and decodes
// them into dst; its errors are written for the model.
func (s *Spec) Decode(raw json.RawMessage, dst any) error { return s.decodeArgs(raw, dst) }

// refine adds what Go types cannot say: enumerations and bounds. It walks the
// inferred schema by property name, so the Go types stay the source.
func refine(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	// Optional slices are inferred as ["null","array"]; models handle a plain
	// array better, and an omitted property already means "none".
	if len(s.Types) == 2 && s.Types[0] == "null" {
		s.Type, s.Types = s.Types[1], nil
	}
	for name, p := range s.Properties {
		switch name {
		case "op":
			p.Enum = toAny(Ops)
		case "direction":
			p.Enum = []any{"asc", "desc"}
		case "time_grain":
			p.Enum = []any{GrainDay, GrainWeek, GrainMonth, GrainQuarter, GrainYear}
		case "compare_to":
			p.Enum = []any{ComparePreviousPeriod, ComparePreviousYear}
		case "limit":
			p.Minimum, p.Maximum = ptr(1.0), ptr(float64(MaxLimit))
		case "product", "query", "id":
			p.MinLength, p.MaxLength = ptr(1), ptr(200)
		case "time_range":
			p.MaxLength = ptr(100)
		case "cursor":
			p.MaxLength = ptr(500)
		case "columns", "metrics", "group_by", "filters", "order_by":
			p.MaxItems = ptr(100)
		}
		refine(p)
	}
	refine(s.Items)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// decodeArgs validates raw JSON against the tool's schema and decodes it
// into the tool's argument type. Its errors are written for the model.
func (s *Spec) decodeArgs(raw json.RawMessage, dst any) error {
	if len(strings.TrimSpace(string(raw))) == 0 {
		raw = json.RawMessage("{}")
	}
	if len(raw) > maxArgumentBytes {
		return fmt.Errorf("arguments are %d bytes; at most %d are accepted", len(raw), maxArgumentBytes)
	}
	var instance any
	if err := json.Unmarshal(raw, &instance); err != nil {
		return fmt.Errorf("arguments are not valid JSON: %v", err)
	}
	if depth(instance, 0) > maxArgumentDepth {
		return fmt.Errorf("arguments are nested more than %d levels deep", maxArgumentDepth)
	}
	// Models write "DESC" as often as "desc"; accept either rather than
	// spend a step on a correction.
	if lowerDirections(instance) {
		normalized, err := json.Marshal(instance)
		if err != nil {
			return fmt.Errorf("arguments: %w", err)
		}
		raw = normalized
	}
	// The quick check accepts most calls; what it does not accept, the
	// general validator decides, and words the error.
	if s.quick == nil || !s.quick.accepts(instance) {
		if err := s.resolved.Validate(instance); err != nil {
			return fmt.Errorf("arguments do not match the schema: %s", schemaMessage(err))
		}
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("arguments do not match the schema: %v", err)
	}
	return nil
}

// lowerDirections lower-cases every "direction" value under order_by and
// reports whether it changed any.
func lowerDirections(instance any) bool {
	obj, ok := instance.(map[string]any)
	if !ok {
		return false
	}
	order, _ := obj["order_by"].([]any)
	changed := false
	for _, o := range order {
		if m, ok := o.(map[string]any); ok {
			if d, ok := m["direction"].(string); ok && d != strings.ToLower(d) {
				m["direction"] = strings.ToLower(d)
				changed = true
			}
		}
	}
	return changed
}

const (
	maxArgumentBytes = 64 << 10
	maxArgumentDepth = 8
)

func depth(v any, d int) int {
	if d > maxArgumentDepth {
		return d
	}
	max := d
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if n := depth(e, d+1); n > max {
				max = n
			}
		}
	case map[string]any:
		for _, e := range t {
			if n := depth(e, d+1); n > max {
				max = n
			}
		}
	}
	return max
}

// schemaMessage shortens the validator's nesting ("validating root:
// validating /properties/x: ...") to the part a model can act on.
func schemaMessage(err error) string {
	msg := err.Error()
	for {
		i := strings.Index(msg, "validating ")
		if i < 0 {
			break
		}
		rest := msg[i+len("validating "):]
		j := strings.Index(rest, ": ")
		if j < 0 {
			break
		}
		where := rest[:j]
		tail := rest[j+2:]
		if strings.HasPrefix(tail, "validating ") {
			msg = tail
			continue
		}
		if where != "root" {
			return strings.TrimPrefix(where, "/properties/") + ": " + tail
		}
		return tail
	}
	return msg
}
