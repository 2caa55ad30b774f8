package catalog_test

import (
	"strings"
	"testing"

	"github.com/askmesh/askmesh/catalog"
)

// Lint flags a hand-written descriptor's personal-looking columns that are
// classified as if they were not, and nothing on a reviewed one.
func TestLintFlagsPersonalColumnsClassifiedLow(t *testing.T) {
	t.Parallel()
	p := &catalog.Product{Name: "members", Owner: "crm@bank.example", Purpose: "Club members.",
		Access:  []catalog.Grant{{Groups: []string{"crm"}, Actions: []string{catalog.ActionRecords}}},
		Binding: catalog.Binding{Kind: catalog.BackendSQLite, Database: "crm", Table: "members"},
		Columns: []catalog.Column{
			{Name: "member_id", Classification: catalog.ClassInternal},
			{Name: "email", Classification: catalog.ClassInternal},
			{Name: "phone_number", Classification: catalog.ClassPII},
			{Name: "national_id", Classification: catalog.ClassConfidential},
			{Name: "name", Classification: catalog.ClassPublic},
		}}
	var got []string
	for _, f := range catalog.Lint(p) {
		got = append(got, f.Field+": "+f.Message)
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{
		"properties.email: classified internal but named like personal data",
		"properties.national_id: classified confidential but named like a national identifier or secret: should it be restricted?",
		"properties.name: classified public but a name in a table of people",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("lint does not say %q:\n%s", want, joined)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d findings, want 3:\n%s", len(got), joined)
	}
}
