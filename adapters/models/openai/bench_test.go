package openai_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/models/openai"
	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/prompts"
	"github.com/askmesh/askmesh/tools"
)

// benchTurn is the second turn of the HTTP benchmark's question as the agent
// sends it: system prompt, question, the model's query_metrics call and its
// result, with every tool offered (the agent's own included).
func benchTurn(b *testing.B) assistant.ModelRequest {
	system, err := prompts.System(prompts.SystemData{Organization: "Example Bank", Name: "Carol", ID: "carol@bank.example",
		Groups: []string{"marketing"}, Now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	return assistant.ModelRequest{Messages: []assistant.Message{
		{Role: assistant.RoleSystem, Content: system},
		{Role: assistant.RoleUser, Content: "How many new customers did we acquire last month, compared with the month before? (bench-1)"},
		{Role: assistant.RoleAssistant, ToolCalls: []assistant.ToolCall{{ID: "call_0_0", Name: tools.ToolQueryMetrics,
			Arguments: []byte(`{"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month","compare_to":"previous_period"}`)}}},
		{Role: assistant.RoleTool, ToolCallID: "call_0_0", Name: tools.ToolQueryMetrics,
			Content: `{"product":"customer-acquisition","columns":["new_customers","previous_new_customers","change","change_pct"],"rows":[[398,297,101,34.01]],"row_count":1,"period":{"from":"2026-10-01","to":"2026-10-31","label":"October 2026"},"compared_with":{"from":"2026-09-01","to":"2026-09-30","label":"September 2026"},"audit_id":"01JF3Q7Z8X9Y0A1B2C3D4E5F6G","masked_columns":[],"note":"new_customers counts customers whose first account opened in the period <not before>"}`},
	}, Tools: append(slices.Clip(tools.Specs()), assistant.AskSpecs()...)}
}

// BenchmarkGenerateTurn is one model turn of the HTTP benchmark through the
// adapter, against the lean scripted server in this process (whose own cost
// is in the figures too): the request encoded, sent over loopback, the
// answer decoded, as JSON and as a stream.
func BenchmarkGenerateTurn(b *testing.B) {
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			srv := openaitest.NewServer(b)
			srv.SetLean(true)
			srv.SetResponder(func(openaitest.Request) openaitest.Step {
				return openaitest.Step{Text: "Here are last month's new customers, compared with the month before; the table has the figures."}
			})
			m, err := openai.New(openai.Config{APIKey: "bench", BaseURL: srv.BaseURL(), Model: "gpt-bench", Stream: mode.stream, MaxRetries: -1})
			if err != nil {
				b.Fatal(err)
			}
			req := benchTurn(b)
			var onText func(string)
			if mode.stream {
				onText = func(string) {}
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Generate(ctx, req, onText); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
