package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/tools"
)

// TestHowWasThisComputed: erin's record listing says how it was computed —
// her own filter and the region filter policy added, marked as policy's,
// the period, the audit record of the call — and the call it names, sent
// to the tools API (MCP tools/call) with her own token, returns exactly
// the rows of the answer's table. carol's metric answer gives the metric's
// definition from its descriptor.
func TestHowWasThisComputed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	ask := func(token, q string) *assistant.Answer {
		t.Helper()
		res, body := h.do("POST", "/v1/web/chat", token, map[string]string{"message": q}, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%q: %d %s", q, res.StatusCode, body)
		}
		var a assistant.Answer
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		return &a
	}

	ans := ask("demo-erin", "show me the 5 largest withdrawals last month")
	if len(ans.Computed) != 1 || len(ans.Tables) != 1 {
		t.Fatalf("computed %+v, tables %d", ans.Computed, len(ans.Tables))
	}
	c := ans.Computed[0]
	wantFilters := []assistant.ProvenanceFilter{
		{Column: "type", Op: "=", Value: "withdrawal", Origin: "question"},
		{Column: "region", Op: "=", Value: "europe", Origin: "policy"},
	}
	if c.Product != "customer-transactions" || c.Tool != tools.ToolQueryRecords || c.Period != "October 2026" || c.Rows != 5 ||
		fmt.Sprint(c.Filters) != fmt.Sprint(wantFilters) {
		t.Errorf("computed %+v", c)
	}
	withdrawals := h.sqlCount("retail-banking", `SELECT count(*) FROM transactions WHERE type = 'withdrawal' AND region = 'europe'
		AND occurred_at >= '2026-10-01T00:00:00.000000Z' AND occurred_at < '2026-11-01T00:00:00.000000Z'`)
	want := fmt.Sprintf("5 of %s matching records, by amount largest first from customer-transactions in October 2026, where type is withdrawal and region is europe (added by policy).", thousands(withdrawals))
	if c.Summary != want {
		t.Errorf("summary %q\nwant    %q", c.Summary, want)
	}
	recs, err := h.app.Audit.Search(context.Background(), audit.Query{Subject: "erin@bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(recs, func(r audit.Record) bool { return r.ID == c.AuditID })
	if i < 0 || recs[i].Decision != audit.DecisionAllow || recs[i].Tool != tools.ToolQueryRecords || recs[i].RowsReturned != 5 {
		t.Fatalf("the audit id %s names no allowed query_records of 5 rows: %+v", c.AuditID, recs)
	}

	// The same call through the API, with erin's own token: the same rows.
	call, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": c.Tool, "arguments": c.Arguments}})
	again := h.mcpResult("demo-erin", string(call))
	if fmt.Sprint(again.Rows) != fmt.Sprint(ans.Tables[0].Rows) {
		t.Errorf("the API call returned\n%v\nthe answer's table holds\n%v", again.Rows, ans.Tables[0].Rows)
	}

	// A metric: its definition, as the descriptor says it.
	ans = ask("demo-carol", acquisitionQuestion)
	if len(ans.Computed) == 0 || len(ans.Computed[0].Metrics) == 0 {
		t.Fatalf("computed %+v", ans.Computed)
	}
	m := ans.Computed[0].Metrics[0]
	if m.Name != "new_customers" || !strings.Contains(m.Definition, "count") {
		t.Errorf("metric %+v", m)
	}
	if ans.Computed[0].Period == "" || !strings.Contains(ans.Computed[0].Summary, "from customer-acquisition") {
		t.Errorf("computed %+v", ans.Computed[0])
	}
}

// FilterText words every operator; policy's filters say so.
func TestFilterText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		f    assistant.ProvenanceFilter
		want string
	}{
		{assistant.ProvenanceFilter{Column: "type", Op: "=", Value: "withdrawal", Origin: "question"}, "type is withdrawal"},
		{assistant.ProvenanceFilter{Column: "region", Op: "=", Value: "europe", Origin: "policy"}, "region is europe (added by policy)"},
		{assistant.ProvenanceFilter{Column: "amount", Op: ">", Value: json.Number("10000")}, "amount is over 10,000"},
		{assistant.ProvenanceFilter{Column: "channel", Op: "in", Value: []any{"web", "branch"}}, "channel is one of web, branch"},
		{assistant.ProvenanceFilter{Column: "amount", Op: "between", Value: []any{json.Number("1"), json.Number("5")}}, "amount is between 1 and 5"},
		{assistant.ProvenanceFilter{Column: "closed_at", Op: "is null"}, "closed at is empty"},
		{assistant.ProvenanceFilter{Column: "applied_at", Op: ">=", Value: "2026-10-01"}, "applied at is at least 1 October 2026"},
	} {
		if got := assistant.FilterText(c.f); got != c.want {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
	}
}
