package catalog_test

import (
	"strings"
	"testing"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank"
)

func TestVerifiedQuestionsParse(t *testing.T) {
	t.Parallel()
	data, err := bank.Files.ReadFile(bank.ProductsDir + "/loan-applications.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := catalog.Parse("loan-applications.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Verified) != 1 {
		t.Fatalf("verified %+v", p.Verified)
	}
	v := p.Verified[0]
	if v.VerifiedBy != "Lending data team" || v.VerifiedAt != "2026-11-02" || len(v.Phrasings) != 2 || len(v.Calls) != 1 || v.Line == 0 ||
		string(v.Calls[0].Arguments) != `{"group_by":["loan_type"],"metrics":["approval_rate","application_count"],"product":"loan-applications","time_range":"this_quarter"}` {
		t.Errorf("verified question %+v, arguments %s", v, v.Calls[0].Arguments)
	}

	// Every fault of a broken one is reported with its line.
	broken := strings.NewReplacer(
		"verifiedAt: 2026-11-02", "verifiedAt: last tuesday",
		"verifiedBy: Lending data team", "verifedBy: Lending data team",
		"{metrics: [approval_rate", "{product: customers, metrics: [approval_rate",
	).Replace(string(data))
	_, err = catalog.Parse("loan-applications.yaml", []byte(broken))
	for _, want := range []string{
		`verifiedQuestions[0].verifedBy: unknown key "verifedBy"; did you mean "verifiedBy"?`,
		`verifiedQuestions[0].verifiedBy: is required: the team or person who checked the answer`,
		`verifiedQuestions[0].verifiedAt: "last tuesday" is not a date (YYYY-MM-DD)`,
		`verifiedQuestions[0].calls[0].arguments.product: a verified question of loan-applications calls loan-applications only`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("broken verified question: %v\nlacks %q", err, want)
		}
	}
}
