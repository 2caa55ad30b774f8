package assistant

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func turn(q, a string) []Message {
	return []Message{{Role: RoleUser, Content: q}, {Role: RoleAssistant, Content: a}}
}

func TestMemoryBytesBound(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
