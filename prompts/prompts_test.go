package prompts

import (
	"strings"
	"testing"
	"time"
)

func TestSystemNamesAskerAndDate(t *testing.T) {
	p, err := System(SystemData{Organization: "Demo Bank", Name: "Carol Chen", ID: "carol@bank.example",
		Groups: []string{"executive"}, Now: time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Demo Bank", "Carol Chen (carol@bank.example)", "member of executive", "Sunday 15 November 2026",
		"search_data_products", "query_metrics", "denied", "Never invent", "source"} {
		if !strings.Contains(p, want) {
			t.Errorf("system prompt lacks %q", want)
		}
	}
}

// System renders what the template makes of SystemData itself, with the
// date and groups as text (the flat struct it is given is for speed only).
func TestSystemIsTheTemplateOverSystemData(t *testing.T) {
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	for _, d := range []SystemData{
		{Organization: "Demo Bank", Name: "Carol Chen", ID: "carol@bank.example", Groups: []string{"executive", "risk"}, Now: now,
			Examples: []Example{{Question: `How many "new" customers?`, Calls: `query_metrics {"product":"customer-acquisition"}`}}},
		{ID: "bob@bank.example", Now: now},
	} {
		got, err := System(d)
		if err != nil {
			t.Fatal(err)
		}
		if d.Organization == "" {
			d.Organization = "the company"
		}
		if d.Name == "" {
			d.Name = d.ID
		}
		var want strings.Builder
		if err := systemTmpl.Execute(&want, struct {
			SystemData
			Today  string
			Groups string
		}{d, d.Now.UTC().Format("Monday 2 January 2006"), strings.Join(d.Groups, ", ")}); err != nil {
			t.Fatal(err)
		}
		if got != want.String() {
			t.Errorf("System(%+v) =\n%s\nwant\n%s", d, got, want.String())
		}
	}
}
