package brief_test

import (
	"strings"
	"testing"

	"github.com/askmesh/askmesh/assistant/brief"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/catalog/catalogtest"
	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/tools"
)

// TestPlanOfTheDemoMesh: one headline call per product with headline
// metrics, a top-contributor call where a product has something to rank by,
// anomalies where a product offers them; arguments as the model would send.
func TestPlanOfTheDemoMesh(t *testing.T) {
	t.Parallel()
	reg, err := catalog.LoadFS(bank.Files, bank.ProductsDir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range brief.Plan(reg, brief.Options{}) {
		if it.Product == "customer-acquisition" || it.Kind == brief.KindAnomalies {
			got = append(got, it.Kind+" "+it.Call.Tool+" "+string(it.Call.Arguments))
		}
	}
	want := []string{
		`headline query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month","compare_to":"previous_period"}`,
		`contributor query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"group_by":["campaign_name"],"filters":[{"column":"campaign_name","op":"is not null"}],"time_range":"last_month","order_by":[{"field":"new_customers","direction":"desc"},{"field":"campaign_name","direction":"asc"}],"limit":3}`,
		`anomalies find_anomalies {"product":"customer-transactions","time_range":"last_month","limit":50}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Every planned call is valid as the executor's schema reads it.
	for _, it := range brief.Plan(reg, brief.Options{Period: "2026-Q3", Compare: tools.ComparePreviousYear}) {
		if _, ok := tools.SpecFor(it.Call.Tool); !ok {
			t.Errorf("unknown tool %s", it.Call.Tool)
		}
	}
}

// TestPlanIsBoundedOnALargeCatalog: ten thousand products do not make ten
// thousand calls; the brief says what it left out.
func TestPlanIsBoundedOnALargeCatalog(t *testing.T) {
	t.Parallel()
	reg, err := catalog.NewRegistry(catalogtest.Synthetic(10000, 1)...)
	if err != nil {
		t.Fatal(err)
	}
	items := brief.Plan(reg, brief.Options{})
	headlines := 0
	for _, it := range items {
		if it.Kind == brief.KindHeadline {
			headlines++
		}
	}
	if headlines != brief.DefaultMaxProducts || len(items) > 3*brief.DefaultMaxProducts {
		t.Fatalf("%d calls, %d headline calls for 10,000 products", len(items), headlines)
	}
	ans := brief.Compose(reg, brief.Options{}, nil)
	if !strings.Contains(ans.Text, "covers the first 25 of the 10,000 products") {
		t.Errorf("the brief does not say what it left out: %s", ans.Text)
	}
}
