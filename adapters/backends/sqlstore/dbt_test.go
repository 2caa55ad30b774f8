package sqlstore

import (
	"os"
	"testing"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/catalog/dbt"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/tools"
)

// TestDBTImportedMetricsEqualTheirSQL imports the dbt fixture (a semantic
// manifest describing the demo bank's lending and customer-service marts),
// loads the descriptors it writes, and checks every imported metric
// against SQL written by hand from the manifest's meaning, on SQLite and
// PostgreSQL.
func TestDBTImportedMetricsEqualTheirSQL(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../../catalog/dbt/testdata/semantic_manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	imported, reviews, _, err := dbt.Import(data, dbt.Options{Binding: catalog.Binding{Kind: catalog.BackendPostgres}})
	if err != nil {
		t.Fatal(err)
	}
	products := map[string]*catalog.Product{}
	for _, p := range imported {
		b, err := catalog.Encode(p, reviews[p.Name])
		if err != nil {
			t.Fatal(err)
		}
		q, err := catalog.Parse(p.Name+".yaml", b)
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		q.Binding.Database = q.Domain // the SQLite file of the domain
		products[q.Name] = q
	}
	cases := []struct {
		product, metric, group, sql, kind string
	}{
		{"loan-applications", "total_requested", "loan_type", "SUM(amount)", "real2"},
		{"loan-applications", "application_count", "loan_type", "COUNT(*)", "int"},
		{"loan-applications", "approved_applications", "region", "SUM(CASE WHEN status IN ('approved', 'funded') THEN 1 ELSE 0 END)", "int"},
		{"loan-applications", "decided_applications", "region", "SUM(CASE WHEN status IN ('approved', 'funded', 'rejected') THEN 1 ELSE 0 END)", "int"},
		{"loan-applications", "approval_rate", "loan_type",
			"1.0 * SUM(CASE WHEN status IN ('approved', 'funded') THEN 1 ELSE 0 END) / SUM(CASE WHEN status IN ('approved', 'funded', 'rejected') THEN 1 ELSE 0 END)", "real2"},
		{"loan-applications", "average_request", "status", "1.0 * SUM(amount) / COUNT(*)", "real2"},
		{"loan-applications", "average_credit_score", "loan_type", "AVG(credit_score)", "real2"},
		{"loan-applications", "distinct_applicants", "region", "COUNT(DISTINCT customer_id)", "int"},
		{"loan-applications", "largest_loan", "loan_type", "MAX(amount)", "real2"},
		{"customer-interactions", "resolved_interactions", "topic", "SUM(CASE WHEN resolved THEN 1 ELSE 0 END)", "int"},
		{"customer-interactions", "interaction_count", "topic", "COUNT(interaction_id)", "int"},
		{"customer-interactions", "resolution_rate", "channel", "1.0 * SUM(CASE WHEN resolved THEN 1 ELSE 0 END) / COUNT(interaction_id)", "real2"},
		{"customer-interactions", "resolved_calls", "topic", "SUM(CASE WHEN resolved AND channel = 'call' THEN 1 ELSE 0 END)", "int"},
		{"customer-interactions", "average_handle_minutes", "channel", "AVG(handle_minutes)", "real2"},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.product+"/"+c.metric] = true
	}
	for _, p := range products {
		for _, m := range p.MetricNames() {
			if !covered[p.Name+"/"+m] {
				t.Errorf("no case checks the imported metric %s of %s", m, p.Name)
			}
		}
	}
	backends := []*backend{sqliteBackend(t, banktest.SQLiteDir(t))}
	if !testing.Short() { // the short tier has no PostgreSQL
		backends = append(backends, postgresBackend(t, banktest.Postgres(t)))
	}
	for _, b := range backends {
		for _, c := range cases {
			t.Run(c.metric+"/"+b.name, func(t *testing.T) {
				p := products[c.product]
				if p == nil {
					t.Fatalf("%s was not imported", c.product)
				}
				if _, ok := p.Metric(c.metric); !ok {
					t.Fatalf("%s has no imported metric %s", c.product, c.metric)
				}
				want := want(t, b.raw(t, p, "SELECT "+c.group+", "+c.sql+" FROM "+p.Binding.Table+" GROUP BY "+c.group+" ORDER BY "+c.group), "text", c.kind)
				if len(want) < 2 {
					t.Fatalf("the hand-written SQL returns %d rows", len(want))
				}
				assertRows(t, b.metrics(t, p, tools.MetricsPlan{Metrics: []string{c.metric}, GroupBy: []string{c.group}}), want)
			})
		}
	}
}
