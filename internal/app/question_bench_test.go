package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// BenchmarkQuestion is one question through the whole stack (offline
// planner, OPA, SQLite products, SQLite audit log with its fsync): its
// allocations per question are the figure to compare releases by.
func BenchmarkQuestion(b *testing.B) {
	cfg := app.Config{DataDir: banktest.PrivateDir(b), Now: banktest.Now.Format(time.RFC3339)}
	cfg.Limits.ToolCallsPerMinute, cfg.Limits.ModelTurnsPerMinute = -1, -1 // one user asks back to back
	a, err := app.Build(context.Background(), cfg, app.WithLogger(discardLogger()))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	req := assistant.Request{Caller: tools.Caller{Subject: a.Directory.Lookup("carol@bank.example"), Channel: "api"},
		Question: "How many new customers did we acquire last month, by channel?"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ans, err := a.Agent.Answer(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if len(ans.ToolCalls) == 0 {
			b.Fatalf("no tool calls: %q", ans.Text)
		}
	}
}

// BenchmarkToolCall is one query_metrics call through the executor (decode,
// OPA, compile, SQLite, mask, SQLite audit log with its fsync): erin's call
// of the tool call overhead section, whose policy adds a row filter, and
// carol's of the end-to-end HTTP chat section (two queries: a month and the
// month before).
func BenchmarkToolCall(b *testing.B) {
	cfg := app.Config{DataDir: banktest.PrivateDir(b), Now: banktest.Now.Format(time.RFC3339)}
	a, err := app.Build(context.Background(), cfg, app.WithLogger(discardLogger()))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	for _, c := range []struct{ name, user, args string }{
		{"erin", "erin@bank.example", `{"product":"customer-transactions","metrics":["transaction_count","total_amount"],"group_by":["channel"],"filters":[{"column":"type","op":"=","value":"deposit"}],"time_range":"last_7_days"}`},
		{"carol", "carol@bank.example", `{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month","compare_to":"previous_period"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			caller := tools.Caller{Subject: a.Directory.Lookup(c.user), Channel: "api", RequestID: "bench"}
			call := tools.Call{Tool: tools.ToolQueryMetrics, Arguments: []byte(c.args)}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				res, err := a.Executor.Call(ctx, caller, call)
				if err != nil {
					b.Fatal(err)
				}
				if res.RowCount == 0 {
					b.Fatal("no rows")
				}
			}
		})
	}
}
