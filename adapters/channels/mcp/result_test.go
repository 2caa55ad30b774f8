package mcp

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/askmesh/askmesh/tools"
)

func TestErrorResultsSayWhatHappened(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		err       error
		kind, msg string
		auditID   string
	}{
		{"denied", &tools.DeniedError{Tool: "query_records", Product: "loan-applications", Reason: "you are not in a group that may query loan-applications", AuditID: "a1"},
			"denied", "you are not in a group that may query loan-applications", "a1"},
		{"bad arguments", &tools.ArgumentError{Tool: "query_metrics", Message: `unknown metric "x"`, AuditID: "a2"}, "invalid_arguments", `unknown metric "x"`, "a2"},
		{"audit down", fmt.Errorf("query_metrics: %w: connection refused", tools.ErrAuditUnavailable), "audit_unavailable", tools.ErrAuditUnavailable.Error(), ""},
		{"store down", &tools.UnavailableError{Tool: "query_records", Product: "customers", Err: errors.New("timeout"), AuditID: "a3"}, "unavailable", "customers is unavailable right now; try again later (audit record a3)", "a3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := toolResult(nil, c.err)
			if !res.IsError || len(res.Content) != 1 {
				t.Fatalf("%+v", res)
			}
			var ce callError
			if err := json.Unmarshal([]byte(res.Content[0].(*sdk.TextContent).Text), &ce); err != nil {
				t.Fatal(err)
			}
			if ce.Error != c.kind || ce.Message != c.msg || ce.AuditID != c.auditID {
				t.Fatalf("got %+v", ce)
			}
		})
	}
	ok := toolResult(&tools.Result{Tool: "search_data_products", RowCount: 0, AuditID: "a4"}, nil)
	if ok.IsError || ok.Content[0].(*sdk.TextContent).Text != `{"tool":"search_data_products","row_count":0,"audit_id":"a4"}` {
		t.Fatalf("result %+v", ok.Content[0])
	}
}
