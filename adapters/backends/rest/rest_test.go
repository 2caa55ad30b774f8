package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

var users = []string{"carol", "alice", "bob", "erin", "dave", "frank"}

// cases are the calls compared for one product: every data tool, with
// filters, time ranges (including periods that contain today, whose
// comparison the product must derive from the period's name), grains,
// comparisons, sorting, paging and a missing record.
func cases(t *testing.T, h *harness, p *catalog.Product) []map[string]any {
	t.Helper()
	var out []map[string]any
	add := func(tool string, args map[string]any) {
		args["product"] = p.Name
		out = append(out, map[string]any{"tool": tool, "args": args})
	}
	if p.Has(catalog.CapRecords) {
		add(tools.ToolQueryRecords, map[string]any{"limit": 7})
		add(tools.ToolQueryRecords, map[string]any{"limit": 5, "order_by": []any{map[string]any{"field": p.KeyColumn, "direction": "desc"}}})
		if p.TimeColumn != "" {
			add(tools.ToolQueryRecords, map[string]any{"limit": 4, "time_range": "last_month",
				"order_by": []any{map[string]any{"field": p.TimeColumn}, map[string]any{"field": p.KeyColumn}}})
		}
	}
	if p.Has(catalog.CapMetrics) {
		add(tools.ToolQueryMetrics, map[string]any{"metrics": p.MetricNames()})
		if len(p.Dimensions) > 0 {
			add(tools.ToolQueryMetrics, map[string]any{"metrics": p.MetricNames()[:1], "group_by": p.Dimensions[:1],
				"order_by": []any{map[string]any{"field": p.MetricNames()[0], "direction": "desc"}}, "limit": 3})
		}
		if p.TimeColumn != "" {
			add(tools.ToolQueryMetrics, map[string]any{"metrics": p.MetricNames(), "time_range": "last_quarter", "time_grain": "month", "compare_to": "previous_period"})
			add(tools.ToolQueryMetrics, map[string]any{"metrics": p.MetricNames(), "time_range": "this_month", "compare_to": "previous_period"})
			add(tools.ToolQueryMetrics, map[string]any{"metrics": p.MetricNames()[:1], "time_range": "this_year", "time_grain": "quarter", "compare_to": "previous_period"})
			add(tools.ToolQueryMetrics, map[string]any{"metrics": p.MetricNames(), "time_range": "last_month", "compare_to": "previous_year"})
		}
	}
	if p.Has(catalog.CapGet) {
		sp, _ := h.sql.Catalog.Get(p.Name)
		plan := tools.RecordsPlan{Product: sp, Columns: []string{p.KeyColumn}, Limit: 1, Order: []tools.Sort{{Field: p.KeyColumn}}}
		first, err := h.sql.Products.QueryRecords(context.Background(), plan)
		if err != nil || len(first.Rows) != 1 {
			t.Fatalf("first key of %s: %v", p.Name, err)
		}
		add(tools.ToolGetRecord, map[string]any{"id": fmt.Sprint(first.Rows[0][0])})
		add(tools.ToolGetRecord, map[string]any{"id": "no-such-record"})
	}
	if p.Has(catalog.CapAnomalies) {
		add(tools.ToolFindAnomalies, map[string]any{"limit": 10})
		add(tools.ToolFindAnomalies, map[string]any{"time_range": "2026", "limit": 5})
	}
	switch p.Name {
	case "customer-transactions":
		add(tools.ToolQueryRecords, map[string]any{"limit": 20, "time_range": "2026-10-01..2026-10-31",
			"filters": []any{map[string]any{"column": "amount", "op": ">=", "value": 1000},
				map[string]any{"column": "channel", "op": "in", "value": []any{"online", "mobile"}},
				map[string]any{"column": "occurred_at", "op": "=", "value": "2026-10-05"}}})
		add(tools.ToolQueryMetrics, map[string]any{"metrics": []any{"total_amount", "transaction_count"}, "group_by": []any{"region", "type"},
			"filters":    []any{map[string]any{"column": "type", "op": "!=", "value": "transfer"}, map[string]any{"column": "amount", "op": "between", "value": []any{10, 5000.5}}},
			"time_range": "last_7_days", "time_grain": "day", "compare_to": "previous_period"})
	case "loan-applications":
		add(tools.ToolQueryRecords, map[string]any{"limit": 10, "filters": []any{map[string]any{"column": "decided_at", "op": "is null"},
			map[string]any{"column": "credit_score", "op": ">", "value": 700}}})
	case "customers":
		add(tools.ToolQueryRecords, map[string]any{"limit": 10, "filters": []any{map[string]any{"column": "segment", "op": "not in", "value": []any{"mass"}}}})
	case "marketing-campaigns":
		add(tools.ToolQueryRecords, map[string]any{"filters": []any{map[string]any{"column": "name", "op": "contains", "value": "Summer"}}})
	}
	return out
}

// outcome is a call's result or error, without its audit id (each side
// writes its own audit log).
func outcome(res *tools.Result, err error) string {
	if err != nil {
		var de *tools.DeniedError
		var ae *tools.ArgumentError
		switch {
		case errors.As(err, &de):
			return "denied: " + de.Reason
		case errors.As(err, &ae):
			return "argument: " + ae.Message
		}
		return "error: " + err.Error()
	}
	res.AuditID = ""
	b, err := json.Marshal(res)
	if err != nil {
		return "marshal: " + err.Error()
	}
	return string(b)
}

// TestRESTEqualsSQL: every data tool, on every demo product, for every demo
// user, gives the same result through the product APIs as from the stores:
// same rows, masks, row filters, denials, totals, cursors and notes.
func TestRESTEqualsSQL(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	compared, withRows, denied := 0, 0, 0
	for _, p := range h.mesh.Catalog.List() {
		if p.Binding.Kind != catalog.BackendREST {
			continue
		}
		for _, c := range cases(t, h, p) {
			args, _ := json.Marshal(c["args"])
			call := tools.Call{Tool: c["tool"].(string), Arguments: args}
			for _, u := range users {
				caller := tools.Caller{Subject: h.sql.Directory.Lookup(u + "@bank.example"), Channel: "test"}
				sres, serr := h.sql.Executor.Call(ctx, caller, call)
				var cursor string
				if sres != nil {
					cursor = sres.NextCursor
				}
				want := outcome(sres, serr)
				got := outcome(h.mesh.Executor.Call(ctx, caller, call))
				if got != want {
					t.Errorf("%s %s as %s:\n sql:  %.600s\n rest: %.600s", call.Tool, args, u, want, got)
				}
				compared++
				if serr == nil && sres.RowCount > 0 {
					withRows++
				}
				if serr != nil {
					denied++
				}
				if cursor == "" {
					continue
				}
				// The next page: the cursor becomes an offset on the product API.
				var a map[string]any
				_ = json.Unmarshal(args, &a)
				a["cursor"] = cursor
				next, _ := json.Marshal(a)
				call2 := tools.Call{Tool: call.Tool, Arguments: next}
				want2 := outcome(h.sql.Executor.Call(ctx, caller, call2))
				got2 := outcome(h.mesh.Executor.Call(ctx, caller, call2))
				if got2 != want2 || strings.HasPrefix(want2, "argument") {
					t.Errorf("page 2 of %s as %s:\n sql:  %.600s\n rest: %.600s", args, u, want2, got2)
				}
				compared++
			}
		}
	}
	t.Logf("compared %d calls: %d with rows, %d refused", compared, withRows, denied)
	if withRows < 80 || denied < 50 {
		t.Fatalf("too few meaningful comparisons: %d with rows, %d refused", withRows, denied)
	}
	// The product APIs decided and recorded every call again, for the same asker.
	recs, err := h.apiAudit.Search(ctx, audit.Query{Subject: "erin@bank.example", Product: "customer-transactions", Decision: audit.DecisionAllow})
	if err != nil || len(recs) == 0 {
		t.Fatalf("product API audit for erin: %d records, %v", len(recs), err)
	}
	if len(recs[0].RowFilters) == 0 || recs[0].RowFilters[0].Column != "region" {
		t.Fatalf("product API did not apply erin's row filter: %+v", recs[0].RowFilters)
	}
}

// TestDomainDown: with the lending domain's API stopped, the assistant still
// answers from the other domains, says which product was unreachable, and
// the failure is in askmesh's audit log.
func TestDomainDown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.apis.Stop("lending")
	ask := func(user, q string) *assistant.Answer {
		t.Helper()
		ans, err := h.mesh.Agent.Answer(ctx, assistant.Request{Caller: tools.Caller{Subject: h.mesh.Directory.Lookup(user + "@bank.example"), Channel: "test"}, Question: q})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return ans
	}
	down := ask("bob", "How many loan applications were there last month, by status?")
	if !strings.Contains(down.Text, "loan-applications") || !strings.Contains(strings.ToLower(down.Text), "unavailable") {
		t.Fatalf("answer does not say loan-applications is unavailable:\n%s", down.Text)
	}
	recs, err := h.mesh.Audit.Search(ctx, audit.Query{Product: "loan-applications", Decision: audit.DecisionError})
	if err != nil || len(recs) == 0 {
		t.Fatalf("no error record for loan-applications: %v", err)
	}
	if !strings.Contains(recs[0].Reason, "loan-applications is unavailable") {
		t.Fatalf("audit reason: %q", recs[0].Reason)
	}
	// Another domain answers, with the numbers its store holds.
	up := ask("alice", "How many new customers did we acquire in October 2026?")
	if !figure("398").MatchString(up.Text) {
		t.Fatalf("growth answer lacks 398:\n%s", up.Text)
	}
}

// figure matches a number as a word of its own: audit ids (hex) in the
// answer may hold its digits, which must not count as the figure.
func figure(n string) *regexp.Regexp { return regexp.MustCompile(`\b` + n + `\b`) }
