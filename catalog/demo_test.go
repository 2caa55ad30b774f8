package catalog_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank"
)

func loadBank(t testing.TB) *catalog.Registry {
	t.Helper()
	reg, err := catalog.LoadFS(bank.Files, bank.ProductsDir)
	if err != nil {
		t.Fatalf("loading the demo descriptors: %v", err)
	}
	return reg
}

func product(t *testing.T, reg *catalog.Registry, name string) *catalog.Product {
	t.Helper()
	p, ok := reg.Get(name)
	if !ok {
		t.Fatalf("product %s not in the registry", name)
	}
	return p
}

func TestDemoCatalogLoads(t *testing.T) {
	t.Parallel()
	reg := loadBank(t)
	var names []string
	for _, p := range reg.List() {
		names = append(names, p.Name)
	}
	want := []string{"access-audit", "customer-acquisition", "customer-interactions", "customer-transactions",
		"customers", "loan-applications", "marketing-campaigns"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("products = %q, want %q", names, want)
	}
	if reg.Len() != 7 {
		t.Errorf("Len = %d, want 7", reg.Len())
	}
	if _, ok := reg.Get("loans"); ok {
		t.Error(`Get("loans") found a product; names are exact`)
	}
}

func TestDemoCustomerTransactions(t *testing.T) {
	t.Parallel()
	p := product(t, loadBank(t), "customer-transactions")
	checks := []struct {
		field     string
		got, want any
	}{
		{"Source", p.Source, "products/customer-transactions.yaml"},
		{"ID", p.ID, "urn:askmesh:bank:retail-banking:customer-transactions"},
		{"Version", p.Version, "1.2.0"},
		{"Status", p.Status, "active"},
		{"Domain", p.Domain, "retail-banking"},
		{"DataProduct", p.DataProduct, "customer-transactions"},
		{"Owner", p.Owner, "retail-data@bank.example"},
		{"Tags", p.Tags, []string{"transactions", "payments", "retail", "banking", "accounts"}},
		{"Freshness", p.Freshness, 24 * time.Hour},
		{"TimeColumn", p.TimeColumn, "occurred_at"},
		{"KeyColumn", p.KeyColumn, "transaction_id"},
		{"Capabilities", p.Capabilities, []string{"records", "metrics", "get", "anomalies"}},
		{"Dimensions", p.Dimensions, []string{"type", "currency", "channel", "region", "customer_id", "account_id"}},
		{"HeadlineMetrics", p.HeadlineMetrics, []string{"transaction_count", "total_amount"}},
		{"Anomalies", *p.Anomalies, catalog.AnomalySpec{Column: "amount", GroupBy: "customer_id", StdDevs: 3}},
		{"Units", p.Units, []catalog.UnitSpec{{Column: "amount", UnitColumn: "currency", Kind: "currency"}}},
		{"ColumnNames", p.ColumnNames(), []string{"transaction_id", "account_id", "customer_id", "occurred_at", "type", "amount", "currency", "channel", "region", "counterparty"}},
		{"MetricNames", p.MetricNames(), []string{"transaction_count", "total_amount", "average_amount"}},
		{"Binding", p.Binding, catalog.Binding{Kind: "sqlite", Database: "retail-banking", Schema: "retail_banking", Table: "transactions"}},
		{"Access", p.Access, []catalog.Grant{
			{Groups: []string{"retail-ops"}, Actions: []string{"records", "metrics"}, See: []string{"confidential"},
				RowFilters: []catalog.GrantRowFilter{{Column: "region", Op: "=", SubjectAttribute: "region"}}},
			{Groups: []string{"executive"}, Actions: []string{"metrics"}},
		}},
		{"Purpose", p.Purpose, "Every transaction on retail customers' accounts - deposits, withdrawals, transfers, card payments and international transfers - with amount, currency, channel and region."},
		{"Description", p.Description, "Every transaction on retail customers' accounts - deposits, withdrawals, transfers, card payments and international transfers - with amount, currency, channel and region. " +
			"Usage: Volumes and amounts by type, channel and region over time; unusual transactions; one account's activity. " +
			"Limitations: Amounts are in the transaction's own currency (USD, EUR, GBP); totals across currencies mix units."},
		{"Classifications", p.Classifications(), map[string]string{"transaction_id": "internal", "account_id": "confidential", "customer_id": "internal",
			"occurred_at": "internal", "type": "internal", "amount": "internal", "currency": "internal", "channel": "internal", "region": "internal", "counterparty": "confidential"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v\n want %#v", c.field, c.got, c.want)
		}
	}
	account, _ := p.Column("account_id")
	wantAccount := catalog.Column{Name: "account_id", Type: "string", Description: "Six-digit account number.", Classification: "confidential",
		Synonyms: []string{"account", "account number"}, Examples: []string{"123456"}}
	if !reflect.DeepEqual(account, wantAccount) {
		t.Errorf("account_id = %#v\n want %#v", account, wantAccount)
	}
	typ, _ := p.Column("type")
	if want := []string{"deposit", "withdrawal", "transfer", "card_payment", "international_transfer"}; !reflect.DeepEqual(typ.Values, want) {
		t.Errorf("type values = %q, want %q", typ.Values, want)
	}
	counterparty, _ := p.Column("counterparty")
	if !counterparty.Nullable || account.Nullable {
		t.Errorf("nullable: counterparty %v (want true, required: false), account_id %v (want false)", counterparty.Nullable, account.Nullable)
	}
	key, _ := p.Column("transaction_id")
	if !key.PrimaryKey || key.Nullable {
		t.Errorf("transaction_id: PrimaryKey %v Nullable %v, want true false", key.PrimaryKey, key.Nullable)
	}
	checkMetrics(t, p, []metricWant{
		{"transaction_count", "count(*)", nil, "count", 0},
		{"total_amount", "sum(amount)", []string{"amount"}, "amount", 2},
		{"average_amount", "avg(amount)", []string{"amount"}, "amount", 2},
	})
	// Amounts are per currency; a count does not depend on the currency.
	for m, want := range map[string]bool{"total_amount": true, "average_amount": true, "transaction_count": false, "no_such_metric": false} {
		u, ok := p.UnitOf(m)
		if ok != want || (ok && u.UnitColumn != "currency") {
			t.Errorf("UnitOf(%s) = %+v, %v; want the currency column: %v", m, u, ok, want)
		}
	}
}

type metricWant struct {
	name, expr string
	columns    []string
	unit       string
	precision  int
}

func checkMetrics(t *testing.T, p *catalog.Product, want []metricWant) {
	t.Helper()
	if len(p.Metrics) != len(want) {
		t.Fatalf("%s has %d metrics, want %d", p.Name, len(p.Metrics), len(want))
	}
	for i, w := range want {
		m := p.Metrics[i]
		if m.Name != w.name || m.Expr == nil || m.Expr.String() != w.expr || !reflect.DeepEqual(m.Columns, w.columns) || m.Unit != w.unit || m.Precision != w.precision {
			got := metricWant{m.Name, "", m.Columns, m.Unit, m.Precision}
			if m.Expr != nil {
				got.expr = m.Expr.String()
			}
			t.Errorf("%s metric %d = %+v, want %+v", p.Name, i, got, w)
		}
	}
}

func TestDemoLoanApplications(t *testing.T) {
	t.Parallel()
	p := product(t, loadBank(t), "loan-applications")
	if p.Owner != "lending-data@bank.example" || p.TimeColumn != "applied_at" || p.KeyColumn != "application_id" {
		t.Errorf("owner %q time %q key %q", p.Owner, p.TimeColumn, p.KeyColumn)
	}
	checkMetrics(t, p, []metricWant{
		{"application_count", "count(*)", nil, "count", 0},
		{"total_requested", "sum(amount)", []string{"amount"}, "amount", 2},
		{"average_amount", "avg(amount)", []string{"amount"}, "amount", 2},
		{"approval_rate", "count_if(status in ('approved', 'funded')) / count_if(status in ('approved', 'funded', 'rejected'))", []string{"status"}, "ratio", 4},
		{"average_credit_score", "avg(credit_score)", []string{"credit_score"}, "score", 1},
	})
	// The approval rate's tree, as the SQL compilers will see it.
	m, _ := p.Metric("approval_rate")
	want := &catalog.Binary{Op: "/",
		Left:  &catalog.Agg{Func: catalog.AggCountIf, Cond: &catalog.InList{Column: "status", Values: []any{"approved", "funded"}}},
		Right: &catalog.Agg{Func: catalog.AggCountIf, Cond: &catalog.InList{Column: "status", Values: []any{"approved", "funded", "rejected"}}}}
	if !reflect.DeepEqual(m.Expr, want) {
		t.Errorf("approval_rate tree = %#v", m.Expr)
	}
	decided, _ := p.Column("decided_at")
	if decided.Type != catalog.TypeTimestamp || !decided.Nullable {
		t.Errorf("decided_at = %+v, want a nullable timestamp", decided)
	}
	score, _ := p.Column("credit_score")
	if score.Type != catalog.TypeInteger || score.Classification != catalog.ClassConfidential {
		t.Errorf("credit_score = %+v, want a confidential integer", score)
	}
	wantAccess := []catalog.Grant{
		{Groups: []string{"lending"}, Actions: []string{"records", "metrics"}, See: []string{"confidential"}},
		{Groups: []string{"executive"}, Actions: []string{"metrics"}},
	}
	if !reflect.DeepEqual(p.Access, wantAccess) {
		t.Errorf("access = %#v", p.Access)
	}
}

func TestDemoOtherProducts(t *testing.T) {
	t.Parallel()
	reg := loadBank(t)
	tests := []struct {
		name, owner, timeCol, key, domain string
		freshness                         time.Duration
		binding                           catalog.Binding
		metrics                           []metricWant
		access                            []catalog.Grant
	}{
		{"customers", "retail-data@bank.example", "joined_at", "customer_id", "retail-banking", 24 * time.Hour,
			catalog.Binding{Kind: "sqlite", Database: "retail-banking", Schema: "retail_banking", Table: "customers"},
			[]metricWant{{"customer_count", "count(*)", nil, "count", 0}},
			[]catalog.Grant{
				{Groups: []string{"executive", "marketing"}, Actions: []string{"metrics"}},
				{Groups: []string{"lending"}, Actions: []string{"records"}, Mask: map[string]string{"pii": "redact"}},
			}},
		{"marketing-campaigns", "marketing-data@bank.example", "start_date", "campaign_id", "marketing", 7 * 24 * time.Hour,
			catalog.Binding{Kind: "sqlite", Database: "marketing", Schema: "marketing", Table: "campaigns"},
			[]metricWant{
				{"conversion_rate", "sum(conversions) / sum(clicks)", []string{"conversions", "clicks"}, "ratio", 4},
				{"click_through_rate", "sum(clicks) / sum(impressions)", []string{"clicks", "impressions"}, "ratio", 4},
				{"cost_per_conversion", "sum(budget) / sum(conversions)", []string{"budget", "conversions"}, "amount", 2},
				// No precision given: a sum of an integer column rounds to 0 places.
				{"total_conversions", "sum(conversions)", []string{"conversions"}, "count", 0},
				{"total_budget", "sum(budget)", []string{"budget"}, "amount", 2},
			},
			[]catalog.Grant{{Groups: []string{"executive", "marketing"}, Actions: []string{"records", "metrics"}}}},
		{"customer-acquisition", "growth-data@bank.example", "acquired_at", "customer_id", "growth", 24 * time.Hour,
			catalog.Binding{Kind: "sqlite", Database: "growth", Schema: "growth", Table: "acquisitions"},
			[]metricWant{{"new_customers", "count(*)", nil, "count", 0}},
			[]catalog.Grant{
				{Groups: []string{"marketing"}, Actions: []string{"records", "metrics"}},
				{Groups: []string{"executive"}, Actions: []string{"metrics"}},
			}},
		{"customer-interactions", "service-data@bank.example", "occurred_at", "interaction_id", "customer-service", 24 * time.Hour,
			catalog.Binding{Kind: "sqlite", Database: "customer-service", Schema: "customer_service", Table: "interactions"},
			[]metricWant{
				{"interaction_count", "count(*)", nil, "count", 0},
				{"resolution_rate", "count_if(resolved) / count(*)", []string{"resolved"}, "ratio", 4},
				{"average_handle_minutes", "avg(handle_minutes)", []string{"handle_minutes"}, "minutes", 2},
			},
			[]catalog.Grant{
				{Groups: []string{"customer-service"}, Actions: []string{"records", "metrics"}},
				{Groups: []string{"executive"}, Actions: []string{"metrics"}},
			}},
		{"access-audit", "governance@bank.example", "at", "id", "governance", 0,
			catalog.Binding{Kind: "audit", Database: "governance", Schema: "governance", Table: "access_audit"},
			[]metricWant{
				{"access_count", "count(*)", nil, "count", 0},
				{"denial_count", "count_if(decision = 'deny')", []string{"decision"}, "count", 0},
			},
			[]catalog.Grant{{Groups: []string{"auditor"}, Actions: []string{"records", "metrics"}, See: []string{"confidential"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := product(t, reg, tt.name)
			if p.Owner != tt.owner || p.TimeColumn != tt.timeCol || p.KeyColumn != tt.key || p.Domain != tt.domain || p.Freshness != tt.freshness {
				t.Errorf("owner %q time %q key %q domain %q freshness %v; want %q %q %q %q %v",
					p.Owner, p.TimeColumn, p.KeyColumn, p.Domain, p.Freshness, tt.owner, tt.timeCol, tt.key, tt.domain, tt.freshness)
			}
			if p.Binding != tt.binding {
				t.Errorf("binding = %+v, want %+v", p.Binding, tt.binding)
			}
			checkMetrics(t, p, tt.metrics)
			if !reflect.DeepEqual(p.Access, tt.access) {
				t.Errorf("access = %#v\n want %#v", p.Access, tt.access)
			}
		})
	}
	customers := product(t, reg, "customers")
	ssn, _ := customers.Column("ssn")
	if ssn.Classification != catalog.ClassRestricted {
		t.Errorf("ssn classification = %q, want restricted", ssn.Classification)
	}
	name, _ := customers.Column("name")
	if name.Name != "" {
		t.Errorf("customers has no column called name, got %+v", name)
	}
	full, _ := customers.Column("full_name")
	if full.Classification != catalog.ClassPII || !reflect.DeepEqual(full.Synonyms, []string{"name"}) {
		t.Errorf("full_name = %+v", full)
	}
	campaigns := product(t, reg, "marketing-campaigns")
	cname, _ := campaigns.Column("name")
	if !cname.Unique || !reflect.DeepEqual(cname.Examples, []string{"Summer Special Offer"}) {
		t.Errorf("campaign name = %+v, want unique with example Summer Special Offer", cname)
	}
	resolved, _ := product(t, reg, "customer-interactions").Column("resolved")
	if resolved.Type != catalog.TypeBoolean {
		t.Errorf("resolved type = %q", resolved.Type)
	}
	audit := product(t, reg, "access-audit")
	decision, _ := audit.Column("decision")
	if !reflect.DeepEqual(decision.Values, []string{"allow", "deny", "error"}) {
		t.Errorf("decision values = %q", decision.Values)
	}
}

// Every demo product passes Validate unchanged (NewRegistry relies on it
// for products rebound at run time).
func TestDemoProductsValidate(t *testing.T) {
	t.Parallel()
	for _, p := range loadBank(t).List() {
		if err := catalog.Validate(p); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
}
