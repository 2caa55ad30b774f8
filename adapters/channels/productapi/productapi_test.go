package productapi_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/askmesh/askmesh/adapters/backends/sqlstore"
	"github.com/askmesh/askmesh/adapters/channels/productapi"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank/bankgen"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
)

type env struct {
	srv    *productapi.Server
	http   *httptest.Server
	dir    string
	signer *productapi.Signer
	a      *app.App
	audit  auditStore
}

func newEnv(t *testing.T, names ...string) *env {
	t.Helper()
	return newEnvWith(t, nil, names...)
}

// newEnvWith is newEnv with the server's options adjusted by opt.
func newEnvWith(t *testing.T, opt func(*productapi.Options), names ...string) *env {
	t.Helper()
	ctx := context.Background()
	dir := banktest.PrivateDir(t)
	a, err := app.Build(ctx, app.Config{DataDir: dir, Now: banktest.Now.Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	var products []*catalog.Product
	for _, n := range names {
		p, _ := a.Catalog.Get(n)
		products = append(products, p)
	}
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	signer, _ := productapi.NewSigner(key, 0)
	verifier, _ := productapi.NewVerifier(key.Public().(ed25519.PublicKey))
	st, err := auditlog.OpenSQLite(ctx, filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	store := sqlstore.New(sqlstore.Options{SQLiteDir: dir})
	t.Cleanup(store.Close)
	var ids []string
	for _, u := range a.Directory.Users() {
		ids = append(ids, u.ID)
	}
	o := productapi.Options{Products: products, Backend: store, Authorizer: a.Authz, Audit: st,
		Directory: a.Directory, Verifier: verifier, Demo: true, DemoUsers: ids, Clock: a.Clock,
		Tokens: map[string]string{authz.HashToken("static-secret"): "erin@bank.example"}}
	if opt != nil {
		opt(&o)
	}
	srv, err := productapi.New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &env{srv: srv, http: hs, dir: dir, signer: signer, a: a, audit: st}
}

func (e *env) get(t *testing.T, path, token string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.http.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return resp, []byte(b.String())
}

func count(t *testing.T, dir, q string, args ...any) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "retail-banking.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRefusesWithoutValidToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "customer-transactions", "customers")
	other, _ := e.signer.Sign("erin@bank.example", "customers", productapi.Claims{})
	wrongKey, _ := productapi.NewSigner(ed25519.NewKeyFromSeed([]byte(strings.Repeat("x", 32))), 0)
	forged, _ := wrongKey.Sign("erin@bank.example", "customer-transactions", productapi.Claims{})
	for name, tok := range map[string]string{"none": "", "unknown": "nope", "other audience": other, "forged": forged} {
		resp, body := e.get(t, "/products/customer-transactions/records", tok)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s: %d %s %s", name, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		var p productapi.Problem
		if err := json.Unmarshal(body, &p); err != nil || p.Status != 401 || p.Type != productapi.ProblemBase+"unauthorized" || strings.Contains(string(body), "txn-") {
			t.Fatalf("%s: problem %s", name, body)
		}
	}
	// A valid askmesh token for the product works; frank's is refused by policy.
	ok, _ := e.signer.Sign("erin@bank.example", "customer-transactions", productapi.Claims{})
	if resp, body := e.get(t, "/products/customer-transactions/records?limit=1", ok); resp.StatusCode != 200 {
		t.Fatalf("erin's JWT: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.get(t, "/products/customer-transactions/records?limit=1", "demo-frank"); resp.StatusCode != 403 || !strings.Contains(string(body), "audit_id") {
		t.Fatalf("frank: %d %s", resp.StatusCode, body)
	}
	// The contract is public.
	resp, body := e.get(t, "/products/customer-transactions/openapi.json", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"openapi":"3.1.0"`) || !strings.Contains(string(body), `amount[gte]`) {
		t.Fatalf("openapi: %d %.300s", resp.StatusCode, body)
	}
}

func TestRowFiltersAndMasksForTheSubject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "customer-transactions", "customers")
	// erin (static token and demo token alike): europe only, whatever she asks.
	want := count(t, e.dir, `SELECT count(*) FROM transactions WHERE region = 'europe' AND amount >= 1000 AND occurred_at >= '2026-10-01' AND occurred_at < '2026-11-01'`)
	for _, tok := range []string{"static-secret", "demo-erin"} {
		resp, body := e.get(t, "/products/customer-transactions/records?amount[gte]=1000&start_date=2026-10-01&end_date=2026-10-31&sort=-amount&limit=50", tok)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var r productapi.Response
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		if r.TotalCount == nil || *r.TotalCount != want || len(r.Data) != 50 {
			t.Fatalf("total %v rows %d, want %d rows in all", r.TotalCount, len(r.Data), want)
		}
		for _, row := range r.Data {
			if row["region"] != "europe" {
				t.Fatalf("row outside europe: %v", row)
			}
		}
		if r.Links["next"] == "" {
			t.Fatal("no next link")
		}
		resp, body = e.get(t, r.Links["next"], tok)
		var r2 productapi.Response
		_ = json.Unmarshal(body, &r2)
		if resp.StatusCode != 200 || len(r2.Data) != 50 || r2.Data[0]["transaction_id"] == r.Data[0]["transaction_id"] {
			t.Fatalf("next page: %d %.300s", resp.StatusCode, body)
		}
	}
	// bob: customers with pii masked and ssn withheld.
	resp, body := e.get(t, "/products/customers/records?limit=5", "demo-bob")
	var r productapi.Response
	if err := json.Unmarshal(body, &r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, row := range r.Data {
		if row["full_name"] != "[redacted]" || row["email"] != "[redacted]" {
			t.Fatalf("pii not masked: %v", row)
		}
		if _, ok := row["ssn"]; ok {
			t.Fatalf("ssn returned: %v", row)
		}
	}
	// CSV by Accept.
	resp, body = e.get(t, "/products/customers/records?limit=2&columns=customer_id,full_name", "demo-bob", "Accept", "text/csv")
	if resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(string(body), "customer_id,full_name\ncust-") ||
		!strings.Contains(string(body), ",[redacted]\n") {
		t.Fatalf("csv: %s", body)
	}
}

func TestStreamSendsNewRecordsInOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "customer-transactions")
	p, _ := e.a.Catalog.Get("customer-transactions")
	sim, err := bankgen.NewSimulator(context.Background(), p, e.dir, e.a.Clock.Now, func() { e.srv.Notify(p.Name) })
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // a hang guard, not an assertion
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.http.URL+"/products/customer-transactions/stream", nil)
	req.Header.Set("Authorization", "Bearer demo-erin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Scan() // the opening comment: the stream's start is fixed from here on
	var ids []string
	for range 12 {
		id, err := sim.Insert(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// erin sees the new europe transactions only, oldest first.
	var want []string
	for _, id := range ids {
		if count(t, e.dir, `SELECT count(*) FROM transactions WHERE transaction_id = ? AND region = 'europe'`, id) == 1 {
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		t.Fatal("no europe transaction simulated")
	}
	var got []string
	for len(got) < len(want) && sc.Scan() {
		line := sc.Text()
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var rec map[string]any
			if err := json.Unmarshal([]byte(data), &rec); err != nil {
				t.Fatal(err)
			}
			if rec["region"] != "europe" {
				t.Fatalf("streamed a record outside europe: %v", rec)
			}
			got = append(got, rec["transaction_id"].(string))
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("streamed %v, want %v", got, want)
	}
}
