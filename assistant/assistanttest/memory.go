// Package assistanttest holds what tests of the assistant's ports share: the
// contract every conversation Memory must keep, whatever stores it, and
// Script, the one scripted language model.
package assistanttest

import (
	"context"
	"fmt"
	"testing"

	"github.com/askmesh/askmesh/assistant"
)

// MemoryContract checks the behaviour every assistant.Memory must have:
// conversations are private to their subject, and trimming drops whole
// turns (a tool result never loses the call it answers).
func MemoryContract(t *testing.T, open func(t *testing.T, limits assistant.MemoryLimits) assistant.Memory) {
	t.Run("per subject", func(t *testing.T) {
		m := open(t, assistant.MemoryLimits{})
		ctx := context.Background()
		if err := m.Save(ctx, "carol@bank.example", "thread-1", turn("how many new customers last month?", "231")); err != nil {
			t.Fatal(err)
		}
		got, err := m.Load(ctx, "carol@bank.example", "thread-1")
		if err != nil || len(got) != 2 || got[1].Content != "231" {
			t.Fatalf("carol's own conversation: %v %+v", err, got)
		}
		// Another person with the same conversation id sees nothing.
		other, err := m.Load(ctx, "frank@bank.example", "thread-1")
		if err != nil || other != nil {
			t.Fatalf("frank loaded carol's conversation: %v %+v", err, other)
		}
	})
	t.Run("trims whole turns", func(t *testing.T) {
		m := open(t, assistant.MemoryLimits{MaxMessages: 5})
		ctx := context.Background()
		var msgs []assistant.Message
		for i := 0; i < 4; i++ {
			msgs = append(msgs, assistant.Message{Role: assistant.RoleUser, Content: fmt.Sprintf("q%d", i)},
				assistant.Message{Role: assistant.RoleAssistant, ToolCalls: []assistant.ToolCall{{ID: "c", Name: "query_metrics", Arguments: []byte(`{}`)}}},
				assistant.Message{Role: assistant.RoleTool, ToolCallID: "c", Content: "{}"})
		}
		if err := m.Save(ctx, "s", "c", msgs); err != nil {
			t.Fatal(err)
		}
		got, _ := m.Load(ctx, "s", "c")
		if len(got) != 3 || got[0].Role != assistant.RoleUser || got[0].Content != "q3" {
			t.Fatalf("want only the last whole turn (3 messages starting at q3), got %+v", got)
		}
	})
}

func turn(q, a string) []assistant.Message {
	return []assistant.Message{{Role: assistant.RoleUser, Content: q}, {Role: assistant.RoleAssistant, Content: a}}
}
