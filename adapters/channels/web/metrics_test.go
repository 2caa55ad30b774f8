package web_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/channels/web"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/audit/auditlog"
)

// TestInstrumentedAuditStore: the wrapper observes append latency and
// changes nothing else: records are chained, failures are returned.
func TestInstrumentedAuditStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := auditlog.OpenSQLite(ctx, filepath.Join(t.TempDir(), "governance.db"))
	if err != nil {
		t.Fatal(err)
	}
	m := web.NewMetrics()
	s := m.InstrumentAudit(store)
	for i := range 3 {
		rec := &audit.Record{At: time.Date(2026, 11, 15, 12, 0, i, 0, time.UTC), RequestID: "r", Channel: "api", Subject: "carol@bank.example",
			Groups: []string{"executive"}, Action: "catalog.search", Tool: "search_data_products", Arguments: json.RawMessage(`{}`), Decision: audit.DecisionAllow}
		if err := s.Append(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if rec.Seq != int64(i+1) || rec.Hash == "" {
			t.Fatalf("record %d not chained through the wrapper: seq %d hash %q", i, rec.Seq, rec.Hash)
		}
	}
	if v, err := s.Verify(ctx); err != nil || !v.OK || v.Records != 3 {
		t.Fatalf("verify through the wrapper: %+v %v", v, err)
	}
	store.Close()
	if err := s.Append(ctx, &audit.Record{At: time.Now(), Tool: "search_data_products", Arguments: json.RawMessage(`{}`), Decision: audit.DecisionAllow}); err == nil {
		t.Fatal("append to a closed store succeeded")
	}
	counts := map[string]uint64{}
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "askmesh_audit_append_duration_seconds" {
			for _, metric := range mf.GetMetric() {
				counts[metric.GetLabel()[0].GetValue()] = metric.GetHistogram().GetSampleCount()
			}
		}
	}
	if len(counts) != 2 || counts["ok"] != 3 || counts["error"] != 1 {
		t.Fatalf("append latency observations %v, want ok 3 and error 1", counts)
	}
}
