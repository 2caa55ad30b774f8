package assistanttest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/assistanttest"
)

func user(q string) assistant.ModelRequest {
	return assistant.ModelRequest{Messages: []assistant.Message{{Role: assistant.RoleUser, Content: q}}}
}

func TestScriptPlaysTurnsInOrderAndRecords(t *testing.T) {
	s := &assistanttest.Script{Turns: []assistanttest.Turn{
		assistanttest.Calls(assistanttest.Call("c1", "search", `{"query":"loans"}`)),
		assistanttest.TextFunc(func(req assistant.ModelRequest) string { return "you said " + req.Messages[0].Content }),
	}}
	ctx := context.Background()
	r1, err := s.Generate(ctx, user("first"), nil)
	if err != nil || len(r1.Message.ToolCalls) != 1 || r1.Message.ToolCalls[0].ID != "c1" || string(r1.Message.ToolCalls[0].Arguments) != `{"query":"loans"}` || r1.FinishReason != "tool_calls" {
		t.Fatalf("turn 1: %+v %v", r1, err)
	}
	r2, err := s.Generate(ctx, user("second"), nil)
	if err != nil || r2.Message.Content != "you said second" || r2.Message.Role != assistant.RoleAssistant || r2.FinishReason != "stop" {
		t.Fatalf("turn 2: %+v %v", r2, err)
	}
	_, err = s.Generate(ctx, user("third"), nil)
	if !errors.Is(err, assistanttest.ErrScriptExhausted) || !strings.Contains(err.Error(), "model request 3, but the script has 2 turns") {
		t.Fatalf("a third request: %v", err)
	}
	reqs := s.Requests()
	if len(reqs) != 3 || reqs[0].Messages[0].Content != "first" || reqs[2].Messages[0].Content != "third" {
		t.Fatalf("recorded %+v", reqs)
	}
	if s.Name() != "scripted" {
		t.Fatalf("name %q", s.Name())
	}
}

func TestScriptThenStreamAndNoRecord(t *testing.T) {
	s := &assistanttest.Script{ModelName: "quick", Turns: []assistanttest.Turn{assistanttest.Text("one")},
		Then: assistanttest.Text("again"), Stream: true, NoRecord: true}
	for i, want := range []string{"one", "again", "again"} {
		var streamed []string
		r, err := s.Generate(context.Background(), user("q"), func(s string) { streamed = append(streamed, s) })
		if err != nil || r.Message.Content != want || fmt.Sprint(streamed) != "["+want+"]" {
			t.Fatalf("request %d: %+v %v, streamed %q", i, r, err, streamed)
		}
	}
	if len(s.Requests()) != 0 || s.Name() != "quick" {
		t.Fatalf("NoRecord kept %d requests; name %q", len(s.Requests()), s.Name())
	}
	// Without Stream, the text comes only in the reply.
	q := &assistanttest.Script{Then: assistanttest.Text("quiet")}
	if _, err := q.Generate(context.Background(), user("q"), func(string) { t.Error("a non-streaming script streamed") }); err != nil {
		t.Fatal(err)
	}
}

func TestScriptFailingAndNilTurns(t *testing.T) {
	boom := errors.New("model unavailable")
	s := &assistanttest.Script{Turns: []assistanttest.Turn{
		assistanttest.Fail(boom),
		func(context.Context, assistant.ModelRequest) (*assistant.Reply, error) { return nil, nil },
	}}
	if _, err := s.Generate(context.Background(), user("q"), nil); !errors.Is(err, boom) {
		t.Fatalf("failing turn: %v", err)
	}
	if _, err := s.Generate(context.Background(), user("q"), nil); err == nil || !strings.Contains(err.Error(), "turn 2 of the script returned no reply") {
		t.Fatalf("nil reply: %v", err)
	}
}

// A blocked turn holds up no other request, and concurrent requests each
// get a turn of their own.
func TestScriptConcurrentUse(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	const n = 50
	turns := []assistanttest.Turn{func(ctx context.Context, _ assistant.ModelRequest) (*assistant.Reply, error) {
		close(entered)
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return assistanttest.TextReply("slow"), nil
	}}
	for i := 0; i < n; i++ {
		turns = append(turns, assistanttest.Text(fmt.Sprint(i)))
	}
	s := &assistanttest.Script{Turns: turns}
	slow := make(chan string)
	go func() {
		r, err := s.Generate(context.Background(), user("slow"), nil)
		if err != nil {
			slow <- err.Error()
			return
		}
		slow <- r.Message.Content
	}()
	<-entered
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.Generate(context.Background(), user("fast"), nil)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			seen[r.Message.Content] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(release)
	if got := <-slow; got != "slow" || len(seen) != n {
		t.Fatalf("slow turn %q; %d distinct fast turns, want %d", got, len(seen), n)
	}
	if len(s.Requests()) != n+1 {
		t.Fatalf("recorded %d requests, want %d", len(s.Requests()), n+1)
	}
}

func TestLastToolResults(t *testing.T) {
	req := assistant.ModelRequest{Messages: []assistant.Message{
		{Role: assistant.RoleTool, ToolCallID: "old"},
		{Role: assistant.RoleAssistant},
		{Role: assistant.RoleTool, ToolCallID: "a"},
		{Role: assistant.RoleTool, ToolCallID: "b"},
	}}
	got := assistanttest.LastToolResults(req)
	if len(got) != 2 || got[0].ToolCallID != "a" || got[1].ToolCallID != "b" {
		t.Fatalf("%+v", got)
	}
	if got := assistanttest.LastToolResults(user("q")); got != nil {
		t.Fatalf("no tool results: %+v", got)
	}
}
