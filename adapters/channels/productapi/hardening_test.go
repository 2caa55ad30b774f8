package productapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/channels/productapi"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/tools"
)

// The request id is always the server's; a client's is bounded, validated
// and recorded as the client's, in a field of its own.
func TestRequestIDsAreBoundedAndMarked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "marketing-campaigns")
	e.get(t, "/products/marketing-campaigns/records?limit=1", "demo-alice", "X-Request-ID", strings.Repeat("A", 100_000))
	e.get(t, "/products/marketing-campaigns/records?limit=1", "demo-alice", "X-Request-ID", "trace-42")
	e.get(t, "/products/marketing-campaigns/records?limit=1", "demo-alice", "X-Request-ID", "<script>")
	recs, err := e.audit.Search(context.Background(), audit.Query{Subject: "alice@bank.example"})
	if err != nil || len(recs) != 3 {
		t.Fatalf("alice's records: %d %v", len(recs), err)
	}
	if id := recs[0].RequestID; len(id) > 64 || strings.Contains(id, "AAAA") {
		t.Errorf("a 100,000-character request id was recorded as %.80q (%d bytes)", id, len(id))
	}
	// The client's own id is recorded beside the server's, never as it.
	if r := recs[1]; r.ClientRequestID != "trace-42" || strings.Contains(r.RequestID, "trace-42") || r.RequestID == "" {
		t.Errorf("a client's request id was recorded as request %q, client %q; want the server's and trace-42", r.RequestID, r.ClientRequestID)
	}
	for _, r := range []audit.Record{recs[0], recs[2]} {
		if strings.ContainsAny(r.RequestID, "<>A") || r.RequestID == "" || r.ClientRequestID != "" {
			t.Errorf("an invalid request id was recorded as request %q, client %q", r.RequestID, r.ClientRequestID)
		}
	}
	if recs[0].RequestID == recs[1].RequestID || recs[1].RequestID == recs[2].RequestID {
		t.Errorf("requests share the id %q", recs[1].RequestID)
	}
}

// Each request is one tool call of the caller's budget, and streams are
// capped per caller.
func TestPerUserLimitsAndStreamCap(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(o *productapi.Options) {
		o.Limits = tools.Limits{ToolCallBurst: 3, ToolCallsPerMinute: 1}
		o.MaxStreamsPerUser = 1
		o.PollInterval = time.Hour
	}, "customer-transactions")
	var codes []int
	for range 4 {
		res, _ := e.get(t, "/products/customer-transactions/metrics?metrics=transaction_count", "demo-erin")
		codes = append(codes, res.StatusCode)
	}
	if codes[3] != http.StatusTooManyRequests || codes[0] != http.StatusOK {
		t.Errorf("erin's 4 requests with a burst of 3: %v", codes)
	}
	// Another caller's budget is their own.
	if res, body := e.get(t, "/products/customer-transactions/metrics?metrics=transaction_count", "demo-carol"); res.StatusCode != http.StatusOK {
		t.Errorf("carol: %d %s", res.StatusCode, body)
	}
	// Streams: erin's first holds her one slot; the second is refused.
	e = newEnvWith(t, func(o *productapi.Options) { o.MaxStreamsPerUser = 1; o.PollInterval = time.Hour }, "customer-transactions")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.http.URL+"/products/customer-transactions/stream", nil)
	req.Header.Set("Authorization", "Bearer demo-erin")
	first, err := http.DefaultClient.Do(req)
	if err != nil || first.StatusCode != http.StatusOK {
		t.Fatalf("first stream: %v %v", first, err)
	}
	defer first.Body.Close()
	if res, body := e.get(t, "/products/customer-transactions/stream", "demo-erin"); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a second stream: %d %s", res.StatusCode, body)
	}
}

// Ids that are path segments of another resource are refused, not sent on.
func TestRecordIDsCannotWalkThePath(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "loan-applications")
	for _, id := range []string{".", "..", "%2E", "%2e%2e"} {
		res, body := e.get(t, "/products/loan-applications/records/"+id, "demo-bob")
		if res.StatusCode == http.StatusOK {
			t.Errorf("record id %q answered 200: %.200s", id, body)
		}
	}
}

// auditStore is what the tests read of the product API's audit log.
type auditStore interface {
	Search(ctx context.Context, q audit.Query) ([]audit.Record, error)
}
