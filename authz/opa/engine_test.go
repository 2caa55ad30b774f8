package opa

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
)

// policyDir copies the embedded policies, and then the given files, into a
// fresh directory.
func policyDir(t *testing.T, withDefaults bool, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if withDefaults {
		if err := os.CopyFS(dir, authz.DefaultPolicies()); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newEngine(t *testing.T, dir string) *Engine {
	t.Helper()
	e, err := New(context.Background(), Options{PolicyDir: dir, Products: demoProducts(t), Directory: demoDirectory(t)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRevision(t *testing.T) {
	t.Parallel()
	def := demoEngine(t)
	// Computed independently: sha256 over "len:name\nlen:" + contents + "\n"
	// for each non-test file in name order.
	h := sha256.New()
	src, err := fs.ReadFile(authz.DefaultPolicies(), "authz.rego")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(h, "%d:%s\n%d:%s\n", len("authz.rego"), "authz.rego", len(src), src)
	if want := hex.EncodeToString(h.Sum(nil)); def.Revision() != want {
		t.Fatalf("revision %s, want %s", def.Revision(), want)
	}
	if files := def.PolicyFiles(); !reflect.DeepEqual(files, []string{"authz.rego"}) {
		t.Fatalf("policy files %v", files)
	}

	// The same policies in a directory: the same revision, wherever it is.
	copyDir := policyDir(t, true, nil)
	if got := newEngine(t, copyDir).Revision(); got != def.Revision() {
		t.Errorf("a copy of the embedded policies has revision %s, want %s", got, def.Revision())
	}
	// Tests do not change what decides.
	withTest := policyDir(t, true, map[string]string{"more_test.rego": "package askmesh.more_test\n\ntest_true if true\n"})
	if got := newEngine(t, withTest).Revision(); got != def.Revision() {
		t.Errorf("adding a test file changed the revision")
	}
	// A module does; and so does any edit.
	withModule := policyDir(t, true, map[string]string{"lending.rego": testdata(t, "extension/lending.rego")})
	if got := newEngine(t, withModule).Revision(); got == def.Revision() {
		t.Errorf("adding a module left the revision unchanged")
	}
	edited := policyDir(t, true, nil)
	b, _ := os.ReadFile(filepath.Join(edited, "authz.rego"))
	os.WriteFile(filepath.Join(edited, "authz.rego"), append(b, "\n# edited\n"...), 0o644)
	if got := newEngine(t, edited).Revision(); got == def.Revision() {
		t.Errorf("editing the policy left the revision unchanged")
	}
	// Every decision carries it.
	d := decideAs(t, def, "frank@bank.example", authz.ActionSearch, "", nil, nil)
	if d.PolicyRevision != def.Revision() {
		t.Errorf("decision revision %q", d.PolicyRevision)
	}
}

// A domain team's module extends deny; the default grants still decide
// the rest, and the module's own tests run with the defaults'.
func TestExtensionModule(t *testing.T) {
	t.Parallel()
	dir := policyDir(t, true, map[string]string{
		"lending/lending.rego":      testdata(t, "extension/lending.rego"),
		"lending/lending_test.rego": testdata(t, "extension/lending_test.rego"),
	})
	e := newEngine(t, dir)
	dirUsers := demoDirectory(t)
	decide := func(user, channel string, columns []string) authz.Decision {
		d, err := e.Decide(context.Background(), authz.Input{Subject: dirUsers.Lookup(user), Action: authz.ActionQueryRecords,
			Resource: authz.Resource{Product: "loan-applications", Columns: columns}, Context: authz.Context{Channel: channel}})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := decide("bob@bank.example", "slack", []string{"application_id", "credit_score"}); d.Allow ||
		!reflect.DeepEqual(d.Reasons, []string{"credit scores are not shown in Slack; ask in the askmesh web app instead"}) {
		t.Errorf("bob in slack: %s", show(d))
	}
	if d := decide("bob@bank.example", "web", []string{"application_id", "credit_score"}); !d.Allow {
		t.Errorf("bob on the web: %s", show(d))
	}
	if d := decide("bob@bank.example", "slack", []string{"application_id", "status"}); !d.Allow {
		t.Errorf("bob in slack without credit scores: %s", show(d))
	}
	// Both reasons when both apply.
	if d := decide("carol@bank.example", "slack", []string{"credit_score"}); !reflect.DeepEqual(d.Reasons, []string{
		"credit scores are not shown in Slack; ask in the askmesh web app instead",
		"you may see metrics of loan-applications, but not individual records",
	}) {
		t.Errorf("carol in slack: %s", show(d))
	}

	results, err := TestPolicies(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	lending := 0
	for _, r := range results {
		if !r.Passed() {
			t.Errorf("%s", r)
		}
		if r.Package == "data.askmesh.lending_test" {
			lending++
		}
	}
	if lending != 3 {
		t.Errorf("ran %d lending tests, want 3", lending)
	}
}

func TestPolicyTestFailuresReported(t *testing.T) {
	t.Parallel()
	dir := policyDir(t, true, map[string]string{"wrong_test.rego": `package askmesh.wrong_test

import data.askmesh.authz

test_strangers_allowed if {
	authz.decision.allow with input as {"subject": {"id": "x", "known": false}, "action": "catalog.search"}
}

test_error if {
	to_number("not a number") == 1
}
`})
	results, err := TestPolicies(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range results {
		if r.Package == "data.askmesh.wrong_test" {
			switch {
			case r.Err != nil:
				got[r.Name] = "error"
			case r.Fail:
				got[r.Name] = "fail"
			default:
				got[r.Name] = "pass"
			}
			if !strings.HasPrefix(r.String(), filepath.Join(dir, "wrong_test.rego")+":") {
				t.Errorf("result %q does not name its file", r)
			}
		}
	}
	if want := map[string]string{"test_strangers_allowed": "fail", "test_error": "error"}; !reflect.DeepEqual(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
}

func TestBadPolicyDirectories(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		dir   func(t *testing.T) string
		error string
	}{
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, "policy directory"},
		{"empty", func(t *testing.T) string { return t.TempDir() }, "no policy files (*.rego)"},
		{"syntax", func(t *testing.T) string {
			return policyDir(t, true, map[string]string{"bad.rego": "package askmesh.authz\n\ndeny contains x if {\n"})
		}, "bad.rego:4"},
		{"v0 syntax", func(t *testing.T) string {
			return policyDir(t, true, map[string]string{"old.rego": "package askmesh.authz\n\ndeny[msg] { msg := \"no\" }\n"})
		}, "old.rego"},
		{"no decision", func(t *testing.T) string {
			return policyDir(t, false, map[string]string{"p.rego": "package askmesh.authz\n\nallow := true\n"})
		}, "do not define data.askmesh.authz.decision"},
		{"only tests", func(t *testing.T) string {
			return policyDir(t, false, map[string]string{"p_test.rego": "package askmesh.authz_test\n\ntest_x if true\n"})
		}, "no policy files (*.rego)"},
		{"decision elsewhere", func(t *testing.T) string {
			return policyDir(t, false, map[string]string{"p.rego": "package askmesh.policy\n\ndecision := {\"allow\": true}\n"})
		}, "do not define data.askmesh.authz.decision"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(context.Background(), Options{PolicyDir: c.dir(t), Products: demoProducts(t), Directory: demoDirectory(t)})
			if err == nil || !strings.Contains(err.Error(), c.error) {
				t.Fatalf("error %v, want one containing %q", err, c.error)
			}
		})
	}
}

// Whatever a policy module does wrong, Decide fails closed: an error,
// never an allow.
func TestDecideFailsClosed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, policy, error string
	}{
		{"undefined", "package askmesh.authz\n\ndecision := {\"allow\": true} if input.action == \"catalog.search\"\n", "gave no decision"},
		{"builtin error", "package askmesh.authz\n\ndecision := {\"allow\": to_number(input.subject.id) > 0}\n", "evaluating the policy"},
		{"conflict", "package askmesh.authz\n\ndecision := {\"allow\": true}\n\ndecision := {\"allow\": false} if input.action != \"\"\n", "evaluating the policy"},
		{"allow not boolean", "package askmesh.authz\n\ndecision := {\"allow\": \"yes\"}\n", "decision.allow is a string, not a boolean"},
		{"no allow", "package askmesh.authz\n\ndecision := {\"reasons\": []}\n", "decision.allow is missing"},
		{"reasons not strings", "package askmesh.authz\n\ndecision := {\"allow\": false, \"reasons\": [1]}\n", "decision.reasons[0] is a number"},
		{"row filter without value", "package askmesh.authz\n\ndecision := {\"allow\": true, \"row_filters\": [{\"column\": \"region\", \"op\": \"=\", \"value\": null}]}\n", "has no value"},
		{"mask not a kind", "package askmesh.authz\n\ndecision := {\"allow\": true, \"column_masks\": {\"email\": true}}\n", "column_masks[\"email\"]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, policyDir(t, false, map[string]string{"p.rego": c.policy}))
			d, err := e.Decide(context.Background(), authz.Input{Subject: demoDirectory(t).Lookup("bob@bank.example"), Action: authz.ActionQueryRecords,
				Resource: authz.Resource{Product: "customers", Columns: []string{"email"}}})
			if err == nil || !strings.Contains(err.Error(), c.error) {
				t.Fatalf("error %v, want one containing %q", err, c.error)
			}
			if d.Allow {
				t.Fatal("an error came with an allow")
			}
		})
	}
}

// Even a policy that allows everything never lets a restricted column out.
func TestRestrictedGuard(t *testing.T) {
	t.Parallel()
	e := newEngine(t, policyDir(t, false, map[string]string{"allow.rego": testdata(t, "permissive/allow.rego")}))
	ctx := context.Background()
	subj := demoDirectory(t).Lookup("frank@bank.example")
	d, err := e.Decide(ctx, authz.Input{Subject: subj, Action: authz.ActionQueryRecords, Resource: authz.Resource{Product: "customers", Columns: []string{"customer_id", "ssn"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (authz.Decision{Allow: true, ColumnMasks: map[string]string{}, DeniedColumns: []string{"ssn"}, PolicyRevision: e.Revision()}); !reflect.DeepEqual(d, want) {
		t.Errorf("records: %s", show(d))
	}
	d, err = e.Decide(ctx, authz.Input{Subject: subj, Action: authz.ActionQueryMetrics, Resource: authz.Resource{Product: "customers", Referenced: []string{"region", "ssn"}}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Allow || !reflect.DeepEqual(d.Reasons, []string{"ssn is restricted and never visible to anyone, so it cannot be used in metrics, filters, grouping or sorting"}) {
		t.Errorf("metrics over ssn: %s", show(d))
	}
	d, err = e.Decide(ctx, authz.Input{Subject: subj, Action: authz.ActionDescribe, Resource: authz.Resource{Product: "customers"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.DeniedColumns, []string{"ssn"}) {
		t.Errorf("describe: %s", show(d))
	}
}

// Descriptor reloads and directory changes reach decisions without a new
// engine.
func TestSetProductsAndDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := demoEngine(t)
	rev := e.Revision()
	frank := demoDirectory(t).Lookup("frank@bank.example")
	ask := func() authz.Decision {
		d, err := e.Decide(ctx, authz.Input{Subject: frank, Action: authz.ActionQueryRecords, Resource: authz.Resource{Product: "marketing-campaigns", Columns: []string{"name"}}})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := ask(); d.Allow {
		t.Fatalf("frank allowed before the grant: %s", show(d))
	}
	products := demoProducts(t)
	for i, p := range products {
		if p.Name == "marketing-campaigns" {
			cp := *p
			cp.Access = append(slices2(p.Access), catalog.Grant{Groups: []string{"intern"}, Actions: []string{"records"}})
			products[i] = &cp
		}
	}
	if err := e.SetProducts(ctx, products); err != nil {
		t.Fatal(err)
	}
	if d := ask(); !d.Allow {
		t.Fatalf("frank denied after the grant: %s", show(d))
	}
	if e.Revision() != rev {
		t.Error("data changed the policy revision")
	}
	// The product gone: unknown.
	var rest []*catalog.Product
	for _, p := range products {
		if p.Name != "marketing-campaigns" {
			rest = append(rest, p)
		}
	}
	if err := e.SetProducts(ctx, rest); err != nil {
		t.Fatal(err)
	}
	if d := ask(); d.Allow || d.Reasons[0] != `askmesh has no data product named "marketing-campaigns"` {
		t.Fatalf("after removal: %s", show(d))
	}
	if err := e.SetProducts(ctx, append(rest, rest[0])); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Fatalf("duplicate products: %v", err)
	}
	// Frank leaves the directory: his searches are denied from then on.
	var users []authz.User
	for _, u := range demoDirectory(t).Users() {
		if u.ID != "frank@bank.example" {
			users = append(users, u)
		}
	}
	d2, err := authz.NewDirectory(users)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetDirectory(ctx, d2); err != nil {
		t.Fatal(err)
	}
	d, err := e.Decide(ctx, authz.Input{Subject: frank, Action: authz.ActionSearch})
	if err != nil {
		t.Fatal(err)
	}
	if d.Allow || d.Reasons[0] != "you are not in the askmesh directory; ask an administrator for access" {
		t.Fatalf("frank after leaving: %s", show(d))
	}
}

func slices2[T any](s []T) []T { return append([]T(nil), s...) }

// Decisions and data updates from many goroutines (run with -race).
func TestConcurrentDecide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := demoEngine(t)
	dir := demoDirectory(t)
	products := demoProducts(t)
	erin := authz.Input{Subject: dir.Lookup("erin@bank.example"), Action: authz.ActionQueryRecords,
		Resource: authz.Resource{Product: "customer-transactions", Columns: []string{"account_id", "amount"}}}
	want, err := e.Decide(ctx, erin)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				d, err := e.Decide(ctx, erin)
				if err != nil {
					errs <- err
					return
				}
				if !reflect.DeepEqual(d, want) {
					errs <- fmt.Errorf("decision changed: %s", show(d))
					return
				}
			}
		}()
	}
	for i := 0; i < 10; i++ {
		if err := e.SetProducts(ctx, products); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The input policies see is the Input's JSON, built without JSON.
func TestInputValueMatchesJSON(t *testing.T) {
	t.Parallel()
	in := authz.Input{
		Subject:  authz.Subject{ID: "erin@bank.example", Name: "Erin", Groups: []string{"retail-ops", "x"}, Attributes: map[string]string{"region": "europe", "desk": "3"}, Known: true},
		Action:   authz.ActionQueryMetrics,
		Resource: authz.Resource{Product: "p", Domain: "d", Owner: "o", Columns: []string{"a", "b"}, Referenced: []string{"c"}},
		Context:  authz.Context{Channel: "slack", Conversation: "C1/1.2", Time: "2026-11-23T10:00:00Z"},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ast.ValueFromReader(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if got := inputValue(&in, nil, nil); got.Compare(want) != 0 {
		t.Errorf("input\n got %v\nwant %v", got, want)
	}
	// Empty fields are present and empty, not missing.
	got := inputValue(&authz.Input{Action: authz.ActionSearch}, nil, nil).(ast.Object)
	for _, path := range [][2]string{{"subject", "groups"}, {"subject", "attributes"}, {"resource", "columns"}, {"resource", "referenced"}, {"resource", "product"}} {
		if v, err := got.Find(ast.Ref{ast.StringTerm(path[0]), ast.StringTerm(path[1])}); err != nil || v == nil {
			t.Errorf("%s.%s is missing", path[0], path[1])
		}
	}
}

// A directory user's prebuilt subject term is taken only for that user
// exactly as resolved; any other subject is converted as it is.
func TestResolvedSubjectTerms(t *testing.T) {
	t.Parallel()
	e := demoEngine(t)
	d := demoDirectory(t)
	erin := d.Lookup("erin@bank.example")
	if (*e.subjects.Load()).of(&erin) == nil {
		t.Fatal("erin's subject has no prebuilt term")
	}
	variants := map[string]func(s *authz.Subject){
		"as resolved":    func(*authz.Subject) {},
		"another group":  func(s *authz.Subject) { s.Groups = append(slices.Clone(s.Groups), "auditor") },
		"no group":       func(s *authz.Subject) { s.Groups = nil },
		"another region": func(s *authz.Subject) { s.Attributes = map[string]string{"region": "asia"} },
		"no attributes":  func(s *authz.Subject) { s.Attributes = nil },
		"another name":   func(s *authz.Subject) { s.Name = "Erin N." },
		"unknown":        func(s *authz.Subject) { s.Known = false },
		"from the idp":   func(s *authz.Subject) { s.IdP = true },
		"other case":     func(s *authz.Subject) { s.ID = "Erin@bank.example" },
	}
	for name, change := range variants {
		in := authz.Input{Subject: d.Lookup("erin@bank.example"), Action: authz.ActionQueryRecords, Resource: authz.Resource{Product: "customer-transactions"}}
		change(&in.Subject)
		if got, want := e.inputValue(&in), inputValue(&in, nil, nil); got.Compare(want) != 0 {
			t.Errorf("%s: input\n got %v\nwant %v", name, got, want)
		}
		if shared := (*e.subjects.Load()).of(&in.Subject) != nil; shared != (name == "as resolved") {
			t.Errorf("%s: prebuilt term taken: %v", name, shared)
		}
	}
	// A new directory replaces the terms.
	nd, err := authz.NewDirectory([]authz.User{{ID: "erin@bank.example", Groups: []string{"auditor"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetDirectory(context.Background(), nd); err != nil {
		t.Fatal(err)
	}
	if (*e.subjects.Load()).of(&erin) != nil {
		t.Error("erin's old subject still has a prebuilt term")
	}
}

func TestRowFilterValues(t *testing.T) {
	t.Parallel()
	// Literal values from a descriptor come back as JSON values (numbers as
	// float64, lists as []any), as the executor decodes tool arguments.
	p := &catalog.Product{Name: "p", Columns: []catalog.Column{{Name: "id", Classification: "internal"}, {Name: "n", Classification: "internal"}, {Name: "r", Classification: "internal"}},
		Access: []catalog.Grant{{Groups: []string{"g"}, Actions: []string{"records"}, RowFilters: []catalog.GrantRowFilter{
			{Column: "n", Op: ">=", Value: int64(3)},
			{Column: "r", Op: "in", Value: []any{"a", "b"}},
		}}}}
	dir, err := authz.NewDirectory([]authz.User{{ID: "u", Groups: []string{"g"}}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), Options{Products: []*catalog.Product{p}, Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.Decide(context.Background(), authz.Input{Subject: dir.Lookup("u"), Action: authz.ActionQueryRecords, Resource: authz.Resource{Product: "p", Columns: []string{"id"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []authz.RowFilter{{Column: "n", Op: ">=", Value: float64(3)}, {Column: "r", Op: "in", Value: []any{"a", "b"}}}
	if !reflect.DeepEqual(d.RowFilters, want) {
		t.Errorf("row filters %#v, want %#v", d.RowFilters, want)
	}
}

func TestBenchmarkRatioRuns(t *testing.T) {
	t.Parallel()
	e := demoEngine(t)
	in := benchInputs(t, e)["erin-records"]
	decide, bare, err := BenchmarkRatio(context.Background(), e, in, 20)
	if err != nil {
		t.Fatal(err)
	}
	if decide <= 0 || bare <= 0 {
		t.Fatalf("durations %v %v", decide, bare)
	}
	if _, _, err := BenchmarkRatio(context.Background(), e, in, 0); err == nil {
		t.Fatal("0 iterations accepted")
	}
}

// Several grants for one asker, through the Go data path: united without
// row filters; the most restrictive combination with one.
func TestSeveralGrants(t *testing.T) {
	t.Parallel()
	p := &catalog.Product{Name: "cards", Domain: "payments", Owner: "cards@x", Columns: []catalog.Column{
		{Name: "id", Classification: catalog.ClassInternal},
		{Name: "card", Classification: catalog.ClassConfidential},
		{Name: "holder", Classification: catalog.ClassPII},
		{Name: "region", Classification: catalog.ClassInternal},
		{Name: "pin", Classification: catalog.ClassRestricted},
	}, Access: []catalog.Grant{
		{Groups: []string{"a"}, Actions: []string{"records"}, See: []string{"confidential"}, Mask: map[string]string{"pii": "redact"}},
		{Groups: []string{"b"}, Actions: []string{"records"}, Mask: map[string]string{"card": "last4", "pii": "hash"}},
		{Groups: []string{"c"}, Actions: []string{"records"}, See: []string{"pii"},
			RowFilters: []catalog.GrantRowFilter{{Column: "region", Op: "=", SubjectAttribute: "region"}}},
	}}
	dir, err := authz.NewDirectory([]authz.User{
		{ID: "ab", Groups: []string{"a", "b"}},
		{ID: "ac", Groups: []string{"a", "c"}, Attributes: map[string]string{"region": "emea"}},
		{ID: "bc", Groups: []string{"b", "c"}, Attributes: map[string]string{"region": "emea"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), Options{Products: []*catalog.Product{p}, Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	emea := []authz.RowFilter{{Column: "region", Op: "=", Value: "emea"}}
	cases := []struct {
		user    string
		masks   map[string]string
		denied  []string
		filters []authz.RowFilter
	}{
		// a shows card in clear, so the union does; both mask holder, and
		// redact is more protective than hash.
		{"ab", map[string]string{"holder": "redact"}, []string{"pin"}, nil},
		// c limits rows: c's filter, and the least of each: c withholds
		// card, a masks holder.
		{"ac", map[string]string{"holder": "redact"}, []string{"card", "pin"}, emea},
		{"bc", map[string]string{"holder": "hash"}, []string{"card", "pin"}, emea},
	}
	for _, c := range cases {
		d, err := e.Decide(context.Background(), authz.Input{Subject: dir.Lookup(c.user), Action: authz.ActionQueryRecords,
			Resource: authz.Resource{Product: "cards", Columns: p.ColumnNames()}})
		if err != nil {
			t.Fatal(err)
		}
		want := authz.Decision{Allow: true, ColumnMasks: c.masks, DeniedColumns: c.denied, RowFilters: c.filters, PolicyRevision: e.Revision()}
		if !reflect.DeepEqual(d, want) {
			t.Errorf("%s:\n got %s\nwant %s", c.user, show(d), show(want))
		}
	}
}
