// Package prompts holds the system prompt and answer templates, embedded and
// versioned. The prompt names the asker and the date but never lists the
// catalog: the model discovers products through search_data_products, so
// the prompt is the same size for 10 products or 10,000.
package prompts

import (
	_ "embed"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Version changes whenever a template's wording changes; it is reported with
// answers so a change in behaviour can be traced to a prompt change.
const Version = "2026-12-03.1"

//go:embed system.tmpl
var systemText string

var systemTmpl = template.Must(template.New("system").Parse(systemText))

// SystemData fills the system prompt.
type SystemData struct {
	Organization string
	Name         string // the asker's display name
	ID           string // the asker's directory id
	Groups       []string
	Now          time.Time
	// Examples are verified questions like the one asked, with the calls
	// their owners checked; a few at most, so the prompt stays small.
	Examples []Example
}

// Example is a verified question and its calls (JSON).
type Example struct {
	Question string
	Calls    string
}

// System renders the system prompt for one asker.
func System(d SystemData) (string, error) {
	if d.Organization == "" {
		d.Organization = "the company"
	}
	if d.Name == "" {
		d.Name = d.ID
	}
	// The fields the template reads, flat: through an embedded SystemData
	// each field lookup took reflect's slow path (16 allocations a prompt).
	var b strings.Builder
	b.Grow(len(systemText) + 1024)
	err := systemTmpl.Execute(&b, struct {
		Organization, Name, ID string
		Examples               []Example
		Today, Groups          string
	}{d.Organization, d.Name, d.ID, d.Examples, d.Now.UTC().Format("Monday 2 January 2006"), strings.Join(d.Groups, ", ")})
	if err != nil {
		return "", fmt.Errorf("prompts: render system prompt: %w", err)
	}
	return b.String(), nil
}
