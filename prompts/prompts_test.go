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
