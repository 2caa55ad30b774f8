package catalog_test

import (
	"reflect"
	"testing"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/catalog/catalogtest"
	"github.com/askmesh/askmesh/examples/bank"
)

// searchCases are questions people ask and the product they mean.
var searchCases = []struct{ query, top string }{
	{"customer transactions", "customer-transactions"},
	{"What data do we have about customer transactions?", "customer-transactions"},
	{"CUSTOMER-TRANSACTIONS", "customer-transactions"},
	{"payments", "customer-transactions"},
	{"card payments", "customer-transactions"},
	{"deposits in europe", "customer-transactions"},
	{"Total deposits in Europe last week, by channel", "customer-transactions"},
	{"How many transactions did account 123456 make last month?", "customer-transactions"},
	{"Summarize customer acquisition last month vs the month before", "customer-acquisition"},
	{"Who was denied access to loan data this week?", "access-audit"},
	{"unusual withdrawals", "customer-transactions"},
	{"loans", "loan-applications"},
	{"loan", "loan-applications"},
	{"mortgages", "loan-applications"},
	{"approval rate", "loan-applications"},
	{"credit score", "loan-applications"},
	{"campaign performance", "marketing-campaigns"},
	{"campaigns", "marketing-campaigns"},
	{"click through rate", "marketing-campaigns"},
	{"ctr", "marketing-campaigns"},
	{"advertising", "marketing-campaigns"},
	{"new customers", "customer-acquisition"},
	{"signups", "customer-acquisition"},
	{"sign-ups by channel", "customer-acquisition"},
	{"customer acquisition", "customer-acquisition"},
	{"customers", "customers"},
	{"clients", "customers"},
	{"kyc", "customers"},
	{"risk rating", "customers"},
	{"audit log", "access-audit"},
	{"who was denied", "access-audit"},
	{"denials", "access-audit"},
	{"access review", "access-audit"},
	{"support tickets", "customer-interactions"},
	{"complaints", "customer-interactions"},
	{"handle time", "customer-interactions"},
	{"resolution rate", "customer-interactions"},
	// Typos: one edit from 5 letters, two from 8.
	{"transactons", "customer-transactions"},
	{"trnsactins", "customer-transactions"},
	{"mortage", "loan-applications"},
	{"campain performance", "marketing-campaigns"},
	{"suport tickets", "customer-interactions"},
	{"acquisiton", "customer-acquisition"},
}

func TestSearchRanking(t *testing.T) {
	t.Parallel()
	reg := loadBank(t)
	for _, tt := range searchCases {
		t.Run(tt.query, func(t *testing.T) {
			hits := reg.Search(tt.query, 5)
			if len(hits) == 0 {
				t.Fatalf("no hits, want %s first", tt.top)
			}
			if hits[0].Product.Name != tt.top {
				t.Errorf("first hit %s, want %s; hits %s", hits[0].Product.Name, tt.top, hitNames(hits))
			}
		})
	}
}

// In a crowd of a thousand generated products, the demo products still
// come first for the questions that name them.
func TestSearchRankingInACrowd(t *testing.T) {
	t.Parallel()
	products := loadBank(t).List()
	products = append(products, catalogtest.Synthetic(1000, 3)...)
	reg, err := catalog.NewRegistry(products...)
	if err != nil {
		t.Fatal(err)
	}
	// Generic words ("complaints", "deposits") rightly find generated
	// products called so; these name what only the demo products hold.
	for _, tt := range []struct{ query, top string }{
		{"customer transactions", "customer-transactions"},
		{"transactons", "customer-transactions"},
		{"card payments", "customer-transactions"},
		{"loans", "loan-applications"},
		{"loan approval rate", "loan-applications"},
		{"credit score", "loan-applications"},
		{"campaign performance", "marketing-campaigns"},
		{"click through rate", "marketing-campaigns"},
		{"new customers", "customer-acquisition"},
		{"customer acquisition", "customer-acquisition"},
		{"kyc", "customers"},
		{"audit log", "access-audit"},
		{"who was denied", "access-audit"},
		{"customer support tickets", "customer-interactions"},
	} {
		if hits := reg.Search(tt.query, 3); len(hits) == 0 || hits[0].Product.Name != tt.top {
			t.Errorf("%q: hits %s, want %s first", tt.query, hitNames(hits), tt.top)
		}
	}
}

func hitNames(hits []catalog.Hit) []string {
	names := make([]string, len(hits))
	for i, h := range hits {
		names[i] = h.Product.Name
	}
	return names
}

func TestSearchNoHits(t *testing.T) {
	t.Parallel()
	reg := loadBank(t)
	for _, q := range []string{
		"", "   ", "?!", "xyzzy", "the of and what is", "quantum chromodynamics",
		// Typos in short words are not guessed at: too many words are close.
		"loam", "lons",
		// Two edits away in a 6-letter word is too far.
		"mrtgae",
	} {
		if hits := reg.Search(q, 10); len(hits) != 0 {
			t.Errorf("Search(%q) = %s, want no hits", q, hitNames(hits))
		}
	}
}

func TestSearchExactHits(t *testing.T) {
	t.Parallel()
	reg := loadBank(t)
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"audit log", []string{"access-audit"}},
		{"support tickets", []string{"customer-interactions"}},
		{"fraud complaints", []string{"customer-interactions"}},
		{"loans", []string{"loan-applications", "customer-interactions"}}, // topic value "loan"
	} {
		if got := hitNames(reg.Search(tt.query, 0)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Search(%q) = %s, want %s", tt.query, got, tt.want)
		}
	}
}

func TestSearchLimitAndOrder(t *testing.T) {
	t.Parallel()
	reg := loadBank(t)
	// Six products mention customers; the audit log does not.
	all := reg.Search("customer", 0)
	if len(all) != 6 {
		t.Fatalf("Search(customer) = %s, want the six products but access-audit", hitNames(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Score > all[i-1].Score {
			t.Errorf("hit %d scores %v above hit %d's %v", i, all[i].Score, i-1, all[i-1].Score)
		}
	}
	two := reg.Search("customer", 2)
	if !reflect.DeepEqual(two, all[:2]) {
		t.Errorf("Search(customer, 2) = %s, want the first two of %s", hitNames(two), hitNames(all))
	}
	if all[0].Product.Name != "customers" {
		t.Errorf("Search(customer) first = %s, want customers (its whole name)", all[0].Product.Name)
	}
	// The same query gives the same answer.
	if again := reg.Search("customer", 0); !reflect.DeepEqual(again, all) {
		t.Error("two identical searches differ")
	}
}

func TestClosest(t *testing.T) {
	t.Parallel()
	names := []string{"access-audit", "customer-acquisition", "customer-interactions", "customer-transactions", "customers", "loan-applications", "marketing-campaigns"}
	tests := []struct {
		word       string
		candidates []string
		want       string
		ok         bool
	}{
		{"amout", []string{"region", "amount"}, "amount", true},
		{"Region", []string{"region"}, "region", true},
		{"region", []string{"region", "regions"}, "region", true},
		{"customer_transactions", names, "customer-transactions", true},
		{"customer-transaction", names, "customer-transactions", true},
		{"custmers", names, "customers", true},
		{"teh", []string{"the"}, "the", true},          // transposition is one edit
		{"stauts", []string{"status"}, "status", true}, // transposition
		{"trnsactins", []string{"transactions"}, "transactions", true},
		{"bat", []string{"cat", "hat"}, "cat", true}, // ties go to the first
		{"cat", []string{"car"}, "car", true},
		{"loans", names, "", false},
		{"id", []string{"ad"}, "", false}, // one edit is half of a 2-letter word
		{"xyz", []string{"abc"}, "", false},
		{"abcdefghij", []string{"abcdefxxxx"}, "", false}, // 4 edits
		{"mrtge", []string{"mortgage"}, "", false},        // 3 edits in 5 letters
		{"mrtgae", []string{"mortgage"}, "mortgage", true},
		{"", names, "", false},
		{"amount", nil, "", false},
		{"déposit", []string{"deposit"}, "deposit", true}, // letters, not bytes
	}
	for _, tt := range tests {
		got, ok := catalog.Closest(tt.word, tt.candidates)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Closest(%q, %q) = %q, %v; want %q, %v", tt.word, tt.candidates, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRegistryBasics(t *testing.T) {
	t.Parallel()
	empty, err := catalog.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	if empty.Len() != 0 || len(empty.List()) != 0 || len(empty.Search("customers", 5)) != 0 {
		t.Error("an empty registry is not empty")
	}
	if _, err := catalog.NewRegistry(nil); err == nil || err.Error() != "catalog: product 0 is nil" {
		t.Errorf("nil product: error = %v", err)
	}
	reg := loadBank(t)
	list := reg.List()
	list[0] = nil
	if reg.List()[0] == nil {
		t.Error("List shares its slice with the registry")
	}
	// Products rebound at run time (as the app does) still validate.
	products := reg.List()
	for i, p := range products {
		q := *p
		if q.Binding.Kind == catalog.BackendSQLite {
			q.Binding = catalog.Binding{Kind: catalog.BackendPostgres, Schema: q.Binding.Schema, Table: q.Binding.Table, DSN: "postgres://localhost/bank"}
		}
		products[i] = &q
	}
	if _, err := catalog.NewRegistry(products...); err != nil {
		t.Errorf("rebound products: %v", err)
	}
}

// Products built in code go through the same checks; Resolve fills what a
// descriptor derives, and NewRegistry refuses products that skipped it.
func TestCodeBuiltProducts(t *testing.T) {
	t.Parallel()
	p := &catalog.Product{
		Name:         "tiny",
		Columns:      []catalog.Column{{Name: "id", Type: "string", Classification: "internal", PrimaryKey: true}, {Name: "size", Type: "integer", Classification: "public"}},
		Capabilities: []string{"records", "metrics"},
		Metrics:      []catalog.Metric{{Name: "total_size", Expression: "sum(size)"}},
		Binding:      catalog.Binding{Kind: "sqlite", Database: "test", Table: "things"},
	}
	_, err := catalog.NewRegistry(p)
	want := "product tiny: KeyColumn: is \"\" but the primary key column is \"id\"\n" +
		"product tiny: askmesh.metrics[0].expression: is not resolved (Expr is nil); build products with Parse, or call Resolve"
	if err == nil || err.Error() != want {
		t.Errorf("unresolved product: error = %v\nwant %s", err, want)
	}
	if err := catalog.Resolve(p); err != nil {
		t.Fatal(err)
	}
	if p.KeyColumn != "id" || p.Metrics[0].Expr == nil || !reflect.DeepEqual(p.Metrics[0].Columns, []string{"size"}) {
		t.Errorf("resolved: key %q metric %+v", p.KeyColumn, p.Metrics[0])
	}
	if _, err := catalog.NewRegistry(p); err != nil {
		t.Errorf("resolved product: %v", err)
	}
	p.Metrics[0].Columns = []string{"id"}
	if err := catalog.Validate(p); err == nil || err.Error() != `product tiny: askmesh.metrics[0].columns: are [id] but the expression reads [size]` {
		t.Errorf("stale columns: error = %v", err)
	}
}

func TestSynthetic(t *testing.T) {
	t.Parallel()
	a := catalogtest.Synthetic(300, 7)
	if len(a) != 300 {
		t.Fatalf("Synthetic(300) made %d products", len(a))
	}
	reg, err := catalog.NewRegistry(a...) // validates each, and name uniqueness
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(catalogtest.Synthetic(300, 7), a) {
		t.Error("Synthetic is not deterministic for a seed")
	}
	if reflect.DeepEqual(catalogtest.Synthetic(300, 8), a) {
		t.Error("different seeds give the same products")
	}
	domains := map[string]bool{}
	for _, p := range reg.List() {
		domains[p.Domain] = true
	}
	if len(domains) < 15 {
		t.Errorf("only %d domains in 300 products", len(domains))
	}
	// The demo products and generated ones live together.
	bankReg, err := catalog.LoadFS(bank.Files, bank.ProductsDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.NewRegistry(append(bankReg.List(), a...)...); err != nil {
		t.Errorf("demo + synthetic: %v", err)
	}
}

// The registry serves many goroutines at once (run with -race).
func TestSearchConcurrent(t *testing.T) {
	t.Parallel()
	reg := loadBank(t)
	want := make([][]string, len(searchCases))
	for i, c := range searchCases {
		want[i] = hitNames(reg.Search(c.query, 0))
	}
	errs := make(chan string, 8*len(searchCases))
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i, c := range searchCases {
				if got := hitNames(reg.Search(c.query, 0)); !reflect.DeepEqual(got, want[i]) {
					errs <- c.query
				}
			}
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
	close(errs)
	for q := range errs {
		t.Errorf("concurrent Search(%q) differed from a lone one", q)
	}
}
