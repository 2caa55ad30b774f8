package dbt_test

import (
	"os"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/catalog/dbt"
)

// Import reads the documented manifest shape, binds every product to the
// named connection, and names everything it could not import.
func TestImportBindsAndReportsWhatItCannotExpress(t *testing.T) {
	data, err := os.ReadFile("testdata/semantic_manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	products, reviews, skipped, err := dbt.Import(data, dbt.Options{Binding: catalog.Binding{Kind: catalog.BackendPostgres, DSNEnv: "WAREHOUSE_DSN"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(products) != 2 {
		t.Fatalf("%d products, want 2", len(products))
	}
	for _, p := range products {
		b, err := catalog.Encode(p, reviews[p.Name])
		if err != nil {
			t.Fatal(err)
		}
		q, err := catalog.Parse(p.Name+".yaml", b)
		if err != nil {
			t.Fatalf("the generated descriptor does not load: %v\n%s", err, b)
		}
		if q.Binding.Kind != catalog.BackendPostgres || q.Binding.DSNEnv != "WAREHOUSE_DSN" || q.Binding.Schema == "" || q.Binding.Table == "" {
			t.Errorf("%s binding %+v, want the warehouse connection with the model's schema and table", q.Name, q.Binding)
		}
		if len(q.Access) != 0 {
			t.Errorf("%s has grants %v; imports write none", q.Name, q.Access)
		}
	}
	joined := strings.Join(skipped, "\n")
	for _, want := range []string{
		`dimension is_large is the SQL expression "amount > 100000"`,
		"measure median_request: aggregation median has no askmesh equivalent",
		"metric cumulative_requested: cumulative metrics are not imported",
		"metric interactions_per_application: it divides interaction_count of customer-interactions by application_count of loan-applications",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("skipped does not say %q:\n%s", want, joined)
		}
	}
	if len(skipped) != 4 {
		t.Errorf("%d skipped, want 4:\n%s", len(skipped), joined)
	}
}
