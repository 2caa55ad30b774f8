package assistant

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func turn(q, a string) []Message {
	return []Message{{Role: RoleUser, Content: q}, {Role: RoleAssistant, Content: a}}
}

func memories(t *testing.T, limits MemoryLimits) map[string]Memory {
	t.Helper()
	pg, err := OpenPostgresMemory(context.Background(), pgtest.NewDatabase(t), limits)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)
	return map[string]Memory{"in-memory": NewInMemory(limits), "postgres": pg}
}

func TestMemoryIsPerSubject(t *testing.T) {
	for name, m := range memories(t, MemoryLimits{}) {
		t.Run(name, func(t *testing.T) {
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
	}
}

func TestMemoryTrimsWholeTurns(t *testing.T) {
	limits := MemoryLimits{MaxMessages: 5}
	for name, m := range memories(t, limits) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var msgs []Message
			for i := 0; i < 4; i++ {
				msgs = append(msgs, Message{Role: RoleUser, Content: fmt.Sprintf("q%d", i)},
					Message{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "c", Name: "query_metrics", Arguments: []byte(`{}`)}}},
					Message{Role: RoleTool, ToolCallID: "c", Content: "{}"})
			}
			if err := m.Save(ctx, "s", "c", msgs); err != nil {
				t.Fatal(err)
			}
			got, _ := m.Load(ctx, "s", "c")
			if len(got) != 3 || got[0].Role != RoleUser || got[0].Content != "q3" {
				t.Fatalf("want only the last whole turn (3 messages starting at q3), got %+v", got)
			}
		})
	}
}

func TestMemoryBytesBound(t *testing.T) {
	m := NewInMemory(MemoryLimits{MaxBytes: 2000})
	big := strings.Repeat("x", 900)
	var msgs []Message
	for i := 0; i < 10; i++ {
		msgs = append(msgs, turn(fmt.Sprintf("q%d %s", i, big), "a")...)
	}
	_ = m.Save(context.Background(), "s", "c", msgs)
	got, _ := m.Load(context.Background(), "s", "c")
	if len(got) == 0 || len(got) > 4 || !strings.HasPrefix(got[0].Content, "q9") && !strings.HasPrefix(got[0].Content, "q8") {
		t.Fatalf("byte bound not applied: %d messages, first %.5q", len(got), got[0].Content)
	}
}

func TestInMemoryTTLAndLRU(t *testing.T) {
	m := NewInMemory(MemoryLimits{TTL: time.Hour, MaxConversations: 2})
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	ctx := context.Background()
	_ = m.Save(ctx, "s", "a", turn("q", "a"))
	_ = m.Save(ctx, "s", "b", turn("q", "a"))
	_ = m.Save(ctx, "s", "c", turn("q", "a")) // evicts a, the least recently used
	if got, _ := m.Load(ctx, "s", "a"); got != nil {
		t.Fatal("least recently used conversation was not evicted")
	}
	if m.Len() != 2 {
		t.Fatalf("holding %d conversations, bound is 2", m.Len())
	}
	now = now.Add(2 * time.Hour)
	if got, _ := m.Load(ctx, "s", "c"); got != nil {
		t.Fatal("conversation idle past the TTL was returned")
	}
}
