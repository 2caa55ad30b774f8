package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/channels/web"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
)

const watchedProduct = "customer-transactions"

// txnDB writes new transactions into the harness's private copy of the
// retail-banking SQLite file, as the domain's own systems would.
type txnDB struct {
	t    *testing.T
	db   *sql.DB
	last time.Time // the newest occurred_at, to the second
	seq  int
}

func openTxnDB(t *testing.T, dir string) *txnDB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "retail-banking.db")+"?mode=rw&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	var maxAt string
	if err := db.QueryRow(`SELECT max(occurred_at) FROM transactions`).Scan(&maxAt); err != nil {
		t.Fatal(err)
	}
	last, err := time.Parse(catalog.SQLiteTimeLayout, maxAt)
	if err != nil {
		t.Fatal(err)
	}
	return &txnDB{t: t, db: db, last: last.Truncate(time.Second)}
}

// insert adds one transaction in region at the given offset (seconds) after
// the newest one the data had, and returns its id.
func (x *txnDB) insert(region string, offset int, frac time.Duration) string {
	x.t.Helper()
	x.seq++
	id := fmt.Sprintf("txn-watch-%03d", x.seq)
	at := x.last.Add(time.Duration(offset)*time.Second + frac)
	currency := map[string]string{"europe": "EUR"}[region]
	if currency == "" {
		currency = "USD"
	}
	_, err := x.db.Exec(`INSERT INTO transactions (transaction_id, account_id, customer_id, occurred_at, type, amount, currency, channel, region, counterparty)
		SELECT ?, account_id, customer_id, ?, 'deposit', ?, ?, 'online', ?, counterparty FROM transactions WHERE rowid = 1`,
		id, at.UTC().Format(catalog.SQLiteTimeLayout), 100+x.seq, currency, region)
	if err != nil {
		x.t.Fatal(err)
	}
	return id
}

type watchBatch struct {
	Columns []struct {
		Name string `json:"name"`
	} `json:"columns"`
	Rows    [][]any `json:"rows"`
	AuditID string  `json:"audit_id"`
}

func (b watchBatch) column(row []any, name string) any {
	for i, c := range b.Columns {
		if c.Name == name {
			return row[i]
		}
	}
	return nil
}

// openWatch starts a watch and returns its response (status checked by the
// caller) and a cancel that disconnects it.
func openWatch(t *testing.T, h *harness, user, query string) (*http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.ts.URL+"/v1/watch/"+watchedProduct+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+authz.DemoToken(user))
	req.Header.Set("Accept", "text/event-stream")
	res, err := h.ts.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	return res, cancel
}

func auditByRequest(t *testing.T, store audit.Store, subject, requestID string) []audit.Record {
	t.Helper()
	recs, err := store.Search(context.Background(), audit.Query{Subject: subject})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, r := range recs {
		if r.RequestID == requestID {
			out = append(out, r)
		}
	}
	return out
}

// TestWatchReleasesOnlyWhatPolicyAllows: erin (retail-ops, europe) watches
// customer-transactions while transactions of every region are added; she
// receives exactly the new European ones, oldest first, each batch with its
// audit record; frank is refused and that is audited; a disconnected watch
// stops polling.
func TestWatchReleasesOnlyWhatPolicyAllows(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{opts: func(o *web.Options) { o.Limits.RatePerMinute = -1 }})
	const erin, frank = "erin@bank.example", "frank@bank.example"
	x := openTxnDB(t, h.dir)
	// History in the newest second must not be replayed either.
	x.insert("europe", 0, 0)

	res, cancelA := openWatch(t, h, erin, "?interval=1")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("watch: status %d", res.StatusCode)
	}
	reqA := res.Header.Get("X-Request-Id")
	batches := make(chan watchBatch, 64)
	go func() {
		defer close(batches)
		readSSE(t, res.Body, func(ev sseEvent) bool {
			if ev.Type != "records" {
				t.Errorf("unexpected %s event: %s", ev.Type, ev.Data)
				return true
			}
			var b watchBatch
			if err := json.Unmarshal(ev.Data, &b); err != nil {
				t.Errorf("records event: %v", err)
			}
			batches <- b
			return true
		})
	}()

	// The subscription is open (its start was read before the headers), so
	// everything inserted now is new. Two rounds: the second adds a row in
	// the same second as the last one already sent.
	var want []string
	round := func(rows []struct {
		region string
		offset int
		frac   time.Duration
	}) {
		for _, r := range rows {
			id := x.insert(r.region, r.offset, r.frac)
			if r.region == "europe" {
				want = append(want, id)
			}
		}
	}
	type row = struct {
		region string
		offset int
		frac   time.Duration
	}
	var got []string
	deadline := time.After(60 * time.Second)
	receive := func() {
		for len(got) < len(want) {
			select {
			case b, ok := <-batches:
				if !ok {
					t.Fatalf("the stream ended after %q", got)
				}
				if b.AuditID == "" || len(b.Rows) == 0 {
					t.Fatalf("batch without audit id or rows: %+v", b)
				}
				recs := auditByRequest(t, h.app.Audit, erin, reqA)
				i := slices.IndexFunc(recs, func(r audit.Record) bool { return r.ID == b.AuditID })
				if i < 0 {
					t.Fatalf("batch audit record %s not in the audit store", b.AuditID)
				}
				rec := recs[i]
				if rec.Decision != audit.DecisionAllow || rec.Product != watchedProduct || rec.RowsReturned != len(b.Rows) ||
					len(rec.RowFilters) != 1 || rec.RowFilters[0].Column != "region" || rec.RowFilters[0].Value != "europe" {
					t.Errorf("audit record of a batch of %d rows: %+v", len(b.Rows), rec)
				}
				for _, r := range b.Rows {
					if region := b.column(r, "region"); region != "europe" {
						t.Errorf("erin received a %v transaction", region)
					}
					got = append(got, fmt.Sprint(b.column(r, "transaction_id")))
				}
			case <-deadline:
				t.Fatalf("received %q, want %q", got, want)
			}
		}
	}
	round([]row{{"north-america", 2, 0}, {"europe", 3, 0}, {"asia-pacific", 4, 0}, {"europe", 5, 100 * time.Millisecond}})
	receive()
	round([]row{{"europe", 5, 600 * time.Millisecond}, {"north-america", 6, 0}, {"europe", 7, 0}, {"asia-pacific", 8, 0}, {"europe", 9, 0}})
	receive()
	// The last row inserted is European: once it is in, every earlier row
	// was considered, so "exactly" holds.
	if !slices.Equal(got, want) {
		t.Errorf("erin received %q, want %q (in order)", got, want)
	}
	europe := sqlCount(t, h.dir, "retail-banking", `SELECT count(*) FROM transactions WHERE transaction_id LIKE 'txn-watch-%' AND region = 'europe'`)
	if len(got) != europe-1 { // less the one inserted before the watch began
		t.Errorf("erin received %d rows; SQL counts %d new European ones", len(got), europe-1)
	}

	// frank may not read transactions: refused, and the refusal is audited.
	fres, fbody := h.do(http.MethodGet, "/v1/watch/"+watchedProduct, authz.DemoToken(frank), nil, nil)
	if fres.StatusCode != http.StatusForbidden {
		t.Fatalf("frank: status %d: %s", fres.StatusCode, fbody)
	}
	var denied struct {
		Error   struct{ Code string } `json:"error"`
		AuditID string                `json:"audit_id"`
	}
	if err := json.Unmarshal(fbody, &denied); err != nil || denied.Error.Code != "denied" || denied.AuditID == "" {
		t.Fatalf("frank's refusal: %s", fbody)
	}
	frecs, err := h.app.Audit.Search(context.Background(), audit.Query{Subject: frank, Decision: audit.DecisionDeny, Product: watchedProduct})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(frecs, func(r audit.Record) bool { return r.ID == denied.AuditID }) {
		t.Errorf("frank's denial %s is not in the audit store", denied.AuditID)
	}

	// At most three watches per person.
	resB, _ := openWatch(t, h, erin, "?interval=1")
	resC, _ := openWatch(t, h, erin, "?interval=1")
	if resB.StatusCode != http.StatusOK || resC.StatusCode != http.StatusOK {
		t.Fatalf("second and third watch: %d, %d", resB.StatusCode, resC.StatusCode)
	}
	if r, body := h.do(http.MethodGet, "/v1/watch/"+watchedProduct, authz.DemoToken(erin), nil, nil); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth watch: status %d: %s", r.StatusCode, body)
	}

	// Disconnect A: its slot comes back once its handler has returned.
	cancelA()
	for {
		r, cancelD := openWatch(t, h, erin, "?interval=1")
		if r.StatusCode == http.StatusOK {
			cancelD()
			break
		}
		cancelD()
		select {
		case <-deadline:
			t.Fatal("the disconnected watch never gave its slot back")
		case <-time.After(50 * time.Millisecond):
		}
	}
	after := len(auditByRequest(t, h.app.Audit, erin, reqA))
	// Let watch B poll three times (three audit records of its own), then
	// check that A recorded nothing more.
	reqB := resB.Header.Get("X-Request-Id")
	base := len(auditByRequest(t, h.app.Audit, erin, reqB))
	for len(auditByRequest(t, h.app.Audit, erin, reqB)) < base+3 {
		select {
		case <-deadline:
			t.Fatal("watch B stopped polling")
		case <-time.After(100 * time.Millisecond):
		}
	}
	if n := len(auditByRequest(t, h.app.Audit, erin, reqA)); n != after {
		t.Errorf("the disconnected watch went on polling: %d audit records, then %d", after, n)
	}
}

func TestWatchRejectsBadRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	tok := authz.DemoToken("erin@bank.example")
	for _, c := range []struct {
		path string
		code int
	}{
		{"/v1/watch/" + watchedProduct + "?interval=0", http.StatusBadRequest},
		{"/v1/watch/" + watchedProduct + "?interval=31", http.StatusBadRequest},
		{"/v1/watch/no-such-product", http.StatusNotFound},
	} {
		if r, body := h.do(http.MethodGet, c.path, tok, nil, nil); r.StatusCode != c.code {
			t.Errorf("%s: status %d, want %d: %s", c.path, r.StatusCode, c.code, body)
		}
	}
	if r, _ := h.do(http.MethodGet, "/v1/watch/"+watchedProduct, "", nil, nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: status %d", r.StatusCode)
	}
}
