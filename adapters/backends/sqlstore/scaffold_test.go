package sqlstore

import (
	"context"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/tools"
)

// TestScaffoldDemoPostgresSchemas drafts descriptors from the demo's live
// PostgreSQL schemas: they load, find keys, time columns and personal
// columns, grant nothing, answer a metric as SQL does, and lint says what a
// person still has to do.
func TestScaffoldDemoPostgresSchemas(t *testing.T) {
	t.Parallel()
	dsn := banktest.Postgres(t)
	tables, err := Introspect(context.Background(), catalog.BackendPostgres, dsn, "retail_banking")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*catalog.Product{}
	for _, ti := range tables {
		p, review := catalog.Scaffold(ti, "retail-banking", catalog.Binding{Kind: catalog.BackendPostgres, Schema: "retail_banking"})
		b, err := catalog.Encode(p, review)
		if err != nil {
			t.Fatal(err)
		}
		q, err := catalog.Parse(ti.Name+".yaml", b)
		if err != nil {
			t.Fatalf("the scaffold of %s does not load: %v\n%s", ti.Name, err, b)
		}
		got[q.Name] = q
	}
	if len(got) != 2 || got["customers"] == nil || got["transactions"] == nil {
		t.Fatalf("scaffolded %v, want customers and transactions", got)
	}
	cu, tx := got["customers"], got["transactions"]
	for _, c := range []struct {
		p                 *catalog.Product
		key, time         string
		classes, typeWant map[string]string
	}{
		{cu, "customer_id", "joined_at",
			map[string]string{"ssn": "restricted", "email": "pii", "full_name": "pii", "date_of_birth": "pii", "segment": "internal"},
			map[string]string{"joined_at": "date", "customer_id": "string"}},
		{tx, "transaction_id", "occurred_at",
			map[string]string{"account_id": "confidential", "counterparty": "confidential", "region": "internal"},
			map[string]string{"occurred_at": "timestamp", "amount": "number"}},
	} {
		if c.p.KeyColumn != c.key || c.p.TimeColumn != c.time {
			t.Errorf("%s: key %q time %q, want %q %q", c.p.Name, c.p.KeyColumn, c.p.TimeColumn, c.key, c.time)
		}
		for col, class := range c.classes {
			if cc, _ := c.p.Column(col); cc.Classification != class {
				t.Errorf("%s.%s classified %q, want %q", c.p.Name, col, cc.Classification, class)
			}
		}
		for col, typ := range c.typeWant {
			if cc, _ := c.p.Column(col); cc.Type != typ {
				t.Errorf("%s.%s type %q, want %q", c.p.Name, col, cc.Type, typ)
			}
		}
		if len(c.p.Access) != 0 {
			t.Errorf("%s has grants %v; a scaffold has none", c.p.Name, c.p.Access)
		}
		var lint []string
		for _, f := range catalog.Lint(c.p) {
			lint = append(lint, f.Field+": "+f.Message)
		}
		joined := strings.Join(lint, "\n")
		for _, want := range []string{"team: no owner", "access: no grants", "description.purpose: still the generated text"} {
			if !strings.Contains(joined, want) {
				t.Errorf("%s: lint does not say %q:\n%s", c.p.Name, want, joined)
			}
		}
		for col := range c.classes {
			if cc, _ := c.p.Column(col); cc.Classification != "internal" && !strings.Contains(joined, "properties."+col+": classification") {
				t.Errorf("%s: lint does not ask to confirm %s:\n%s", c.p.Name, col, joined)
			}
		}
	}
	// The scaffold answers as SQL does.
	b := postgresBackend(t, dsn)
	want := want(t, b.raw(t, tx, "SELECT region, COUNT(*), SUM(amount) FROM transactions GROUP BY region ORDER BY region"), "text", "int", "real2")
	assertRows(t, b.metrics(t, tx, tools.MetricsPlan{Metrics: []string{"transactions_count", "total_amount"}, GroupBy: []string{"region"}}), want)
}
