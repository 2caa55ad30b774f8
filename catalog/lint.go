package catalog

import (
	"fmt"
	"strings"
)

// Finding is something in a loadable descriptor that still needs a person.
type Finding struct {
	Product string `json:"product"`
	Source  string `json:"source,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (f Finding) String() string {
	where := f.Product
	if f.Source != "" {
		where = f.Source
	}
	return where + ": " + f.Field + ": " + f.Message
}

// Lint lists what a valid descriptor still needs from a person: an owner,
// grants, a real description, a check of every classification a generator
// guessed, and a classification for columns whose names look personal but
// are classified as if they were not.
func Lint(p *Product) []Finding {
	var out []Finding
	add := func(field, format string, a ...any) {
		out = append(out, Finding{Product: p.Name, Source: p.Source, Field: field, Message: fmt.Sprintf(format, a...)})
	}
	if p.Owner == "" || p.Owner == Unassigned {
		add("team", "no owner: name the person or team accountable for %s (role owner)", p.Name)
	}
	if len(p.Access) == 0 && p.Binding.Kind != BackendAudit {
		add("access", "no grants: nobody may query %s until its owner writes who may see what", p.Name)
	}
	if strings.HasPrefix(p.Purpose, "Scaffolded from") || strings.HasPrefix(p.Purpose, "Imported from") {
		add("description.purpose", "still the generated text: say what the product holds and what it is for")
	}
	for _, c := range p.Columns {
		if c.Review != "" {
			add("schema[0].properties."+c.Name, "%s (then remove %s)", c.Review, ReviewProperty)
			continue
		}
		if class, why := GuessClassification(p.Binding.Table, c.Name); class != "" && rank(c.Classification) < rank(class) {
			add("schema[0].properties."+c.Name, "classified %s but %s: should it be %s?", c.Classification, why, class)
		}
	}
	if p.Has(CapMetrics) && p.TimeColumn == "" {
		add("timeColumn", "no time column: questions about periods (last month, by week) cannot be answered")
	}
	return out
}

func rank(class string) int {
	switch class {
	case ClassPublic:
		return 0
	case ClassInternal:
		return 1
	case ClassConfidential:
		return 2
	case ClassPII:
		return 3
	case ClassRestricted:
		return 4
	}
	return -1
}
