package catalog

import (
	"encoding/json"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// VerifiedQuestion is a question a product's owners answered and checked:
// its phrasings, the tool calls that answer it, who verified it and when.
// The assistant answers a matching question with these calls, run for the
// asker through policy and audit like any other call, and says the answer
// was verified; it also shows models the most similar ones as examples.
type VerifiedQuestion struct {
	Question   string
	Phrasings  []string // other ways people ask it
	Calls      []VerifiedCall
	VerifiedBy string // the team or person who checked the answer
	VerifiedAt string // YYYY-MM-DD
	// Path is where it is declared in its descriptor, for errors.
	Path string
	Line int
}

// VerifiedCall is one tool call of a verified question. Arguments are JSON;
// the product argument is the declaring product's.
type VerifiedCall struct {
	Tool      string
	Arguments json.RawMessage
}

var verifiedKeys = []string{"question", "phrasings", "calls", "verifiedBy", "verifiedAt"}

// verified decodes the extension's verifiedQuestions.
func (d *decoder) verified(x *node, p *Product) {
	x.list("verifiedQuestions", func(i int, vm *node) {
		vm.strict(verifiedKeys...)
		v := VerifiedQuestion{
			Question:   strings.TrimSpace(vm.str("question", true)),
			Phrasings:  vm.strs("phrasings"),
			VerifiedBy: vm.str("verifiedBy", false),
			VerifiedAt: vm.str("verifiedAt", false),
			Path:       vm.path,
			Line:       d.f.lines[vm.path],
		}
		vm.list("calls", func(j int, cm *node) {
			cm.strict("tool", "arguments")
			c := VerifiedCall{Tool: cm.str("tool", true), Arguments: json.RawMessage(`{}`)}
			if n := cm.get("arguments"); n != nil {
				if n.Kind != yaml.MappingNode {
					d.f.add(dot(cm.path, "arguments"), "expected a mapping of the tool's arguments, found %s", kindName(n))
				} else {
					var args map[string]any
					if err := n.Decode(&args); err != nil {
						d.f.add(dot(cm.path, "arguments"), "%v", err)
					} else if b, err := json.Marshal(args); err != nil {
						d.f.add(dot(cm.path, "arguments"), "cannot be written as JSON: %v", err)
					} else {
						c.Arguments = b
					}
				}
			}
			v.Calls = append(v.Calls, c)
		})
		p.Verified = append(p.Verified, v)
	})
}

// checkVerified checks what can be checked without the tools: text, dates,
// owners, and that each call is about this product. Whether the calls'
// arguments are valid is the tools' to say (tools.CheckVerified), and
// loading a catalog for serving checks it too.
func (r *resolver) verified(fill bool) {
	for i := range r.p.Verified {
		v := &r.p.Verified[i]
		path := v.Path
		if path == "" {
			path = idx(dot(r.ext, "verifiedQuestions"), i)
			if fill {
				v.Path = path
			}
		}
		if strings.TrimSpace(v.Question) == "" {
			r.fl.add(dot(path, "question"), "is required")
		}
		if v.VerifiedBy == "" {
			r.fl.add(dot(path, "verifiedBy"), "is required: the team or person who checked the answer (shown with it)")
		}
		if _, err := time.Parse("2006-01-02", v.VerifiedAt); err != nil {
			r.fl.add(dot(path, "verifiedAt"), "%q is not a date (YYYY-MM-DD): when the answer was checked", v.VerifiedAt)
		}
		if len(v.Calls) == 0 {
			r.fl.add(dot(path, "calls"), "is required: the tool calls that answer the question")
		}
		for j := range v.Calls {
			c := &v.Calls[j]
			cp := idx(dot(path, "calls"), j)
			var args map[string]json.RawMessage
			if err := json.Unmarshal(c.Arguments, &args); err != nil {
				r.fl.add(dot(cp, "arguments"), "must be a JSON object: %v", err)
				continue
			}
			var prod string
			if raw, ok := args["product"]; ok {
				if json.Unmarshal(raw, &prod) != nil || prod != r.p.Name {
					r.fl.add(dot(cp, "arguments.product"), "a verified question of %s calls %s only (found %s); declare it in the other product's descriptor", r.p.Name, r.p.Name, raw)
				}
				continue
			}
			if fill { // the product is implied: its own
				args["product"], _ = json.Marshal(r.p.Name)
				c.Arguments, _ = json.Marshal(args)
			}
		}
	}
}
