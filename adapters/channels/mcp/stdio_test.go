package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/channels/mcp"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// stdioPeer is a raw JSON-RPC client on the pipes `askmesh mcp --as`
// serves: it writes messages as a desktop client would and reads replies.
type stdioPeer struct {
	t   *testing.T
	in  *io.PipeWriter
	dec *json.Decoder
}

func serveStdioPipes(t *testing.T, a *app.App, user string) *stdioPeer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- mcp.ServeIO(ctx, a.Tools, a.Directory.Lookup(user), inR, outW, mcp.Options{}) }()
	t.Cleanup(func() {
		inW.Close()
		cancel()
		outR.Close()
		<-done
	})
	return &stdioPeer{t: t, in: inW, dec: json.NewDecoder(outR)}
}

func (p *stdioPeer) send(msg string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, msg+"\n"); err != nil {
		p.t.Fatal(err)
	}
}

func (p *stdioPeer) read() json.RawMessage {
	p.t.Helper()
	got := make(chan json.RawMessage, 1)
	go func() {
		var m json.RawMessage
		if err := p.dec.Decode(&m); err != nil {
			m = json.RawMessage(fmt.Sprintf(`{"read_error":%q}`, err))
		}
		got <- m
	}()
	select {
	case m := <-got:
		return m
	case <-time.After(time.Minute):
		p.t.Fatal("no reply from the stdio server")
		return nil
	}
}

func (p *stdioPeer) initialize(version string) {
	p.t.Helper()
	p.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`, version))
	if r := p.read(); !strings.Contains(string(r), `"protocolVersion"`) {
		p.t.Fatalf("initialize: %s", r)
	}
	p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

func callBatch(n int) string {
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":{"query":"loans"}}}`, i+1, tools.ToolSearch)
	}
	return "[" + strings.Join(msgs, ",") + "]"
}

// Over stdio, as over HTTP: a JSON-RPC batch is refused for clients of
// 2025-06-18 and later, bounded to 10 messages for older ones, and each
// batched tools/call spends one tool call of the user's budget (burst 5
// here), so only five run and leave audit records.
func TestStdioBatchesAreBoundedAndCounted(t *testing.T) {
	a, err := app.Build(context.Background(), app.Config{DataDir: banktest.PrivateDir(t), Now: banktest.Now.Format(time.RFC3339),
		Limits: tools.Limits{ToolCallBurst: 5, ToolCallsPerMinute: 1}}, app.WithLimits())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	count := func(user string) int {
		recs, err := a.Audit.Search(context.Background(), audit.Query{Subject: user})
		if err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}

	current := serveStdioPipes(t, a, "dave@bank.example")
	current.initialize("2025-06-18")
	current.send(callBatch(2))
	if r := string(current.read()); !strings.Contains(r, `"error"`) || !strings.Contains(r, "not part of MCP 2025-06-18") {
		t.Fatalf("a batch from a 2025-06-18 client: %s", r)
	}
	// The session goes on: one message at a time is served.
	current.send(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search_data_products","arguments":{"query":"audit"}}}`)
	if r := string(current.read()); !strings.Contains(r, `"id":7`) || strings.Contains(r, `"isError":true`) {
		t.Fatalf("a single call after the refused batch: %s", r)
	}
	if n := count("dave@bank.example"); n != 1 {
		t.Fatalf("dave: %d audit records, want the 1 single call", n)
	}

	old := serveStdioPipes(t, a, "carol@bank.example")
	old.initialize("2025-03-26")
	old.send(callBatch(1000))
	if r := string(old.read()); !strings.Contains(r, "at most 10") {
		t.Fatalf("a batch of 1000 from a 2025-03-26 client: %.300s", r)
	}
	if n := count("carol@bank.example"); n != 0 {
		t.Fatalf("a refused batch left %d audit records", n)
	}
	old.send(callBatch(10))
	var replies []struct {
		Result struct {
			IsError bool `json:"isError"`
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"result"`
	}
	r := old.read()
	if err := json.Unmarshal(r, &replies); err != nil || len(replies) != 10 {
		t.Fatalf("batch of 10: %v %.500s", err, r)
	}
	limited := 0
	for _, rep := range replies {
		if rep.Result.IsError && len(rep.Result.Content) == 1 && strings.Contains(rep.Result.Content[0].Text, `"rate_limited"`) {
			limited++
		}
	}
	if limited != 5 || count("carol@bank.example") != 5 {
		t.Errorf("%d of 10 batched calls rate limited and %d audit records; want 5 and 5", limited, count("carol@bank.example"))
	}
}
