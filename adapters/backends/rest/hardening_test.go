package rest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/tools"
)

// get_record ids that are path segments (".", "..") or not of the key's
// type reach no product API resource: no record, one audit record, and
// the product API was never called for them.
func TestGetRecordIDsCannotWalkTheProductAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	bob := tools.Caller{Subject: h.mesh.Directory.Lookup("bob@bank.example"), Channel: "api", RequestID: "walk"}
	before, err := h.apiAudit.Search(ctx, audit.Query{Subject: "bob@bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{".", "..", "./..", "../loan-applications", "loan-000001/..", "\u0000", "%2e%2e"} {
		args, _ := json.Marshal(map[string]string{"product": "loan-applications", "id": id})
		res, err := h.mesh.Tools.Call(ctx, bob, tools.Call{Tool: tools.ToolGetRecord, Arguments: args})
		if err != nil {
			t.Errorf("id %q: %v", id, err)
			continue
		}
		if len(res.Rows) != 0 || res.Description != nil {
			t.Errorf("id %q returned %d rows (description %v)", id, len(res.Rows), res.Description != nil)
		}
	}
	after, err := h.apiAudit.Search(ctx, audit.Query{Subject: "bob@bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range after[len(before):] {
		if r.Tool != tools.ToolGetRecord || r.RowsReturned > 1 {
			t.Errorf("the product API served %s (%d rows) for a get_record", r.Tool, r.RowsReturned)
		}
	}
	// A real id still works end to end.
	res, err := h.mesh.Tools.Call(ctx, bob, tools.Call{Tool: tools.ToolGetRecord, Arguments: json.RawMessage(`{"product":"loan-applications","id":"loan-000001"}`)})
	if err != nil || len(res.Rows) != 1 {
		t.Fatalf("loan-000001: %v %v", res, err)
	}
}
