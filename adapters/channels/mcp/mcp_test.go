package mcp_test

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/askmesh/askmesh/adapters/channels/mcp"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// session serves MCP for one user over an in-memory transport, as `askmesh
// mcp --as USER` does over stdio, and connects a go-sdk client to it.
func session(t *testing.T, a *app.App, user string) *sdk.ClientSession {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, ct := sdk.NewInMemoryTransports()
	done := make(chan error, 1)
	go func() { done <- mcp.Serve(ctx, a.Executor, a.Directory.Lookup(user), st, mcp.Options{}) }()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "stdio-test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.Close()
		cancel()
		<-done
	})
	return cs
}

func build(t *testing.T) *app.App {
	t.Helper()
	a, err := app.Build(context.Background(), app.Config{DataDir: banktest.PrivateDir(t), Now: banktest.Now.Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestServeForOneSubject(t *testing.T) {
	t.Parallel()
	a := build(t)
	ctx := context.Background()
	cs := session(t, a, "alice@bank.example")
	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range list.Tools {
		names = append(names, tl.Name)
	}
	want := tools.ToolNames()
	sort.Strings(want)
	sort.Strings(names)
	if !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tools.ToolSearch, Arguments: map[string]any{"query": "marketing campaigns conversion"}})
	if err != nil || res.IsError {
		t.Fatalf("search: %v %+v", err, res)
	}
	var r tools.Result
	if err := json.Unmarshal([]byte(res.Content[0].(*sdk.TextContent).Text), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Products) == 0 || r.Products[0].Name != "marketing-campaigns" {
		t.Fatalf("search result %+v", r.Products)
	}
	// Alice may not read loan applications: an error result, and a deny record.
	res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: tools.ToolQueryRecords,
		Arguments: map[string]any{"product": "loan-applications", "columns": []string{"application_id", "amount"}, "limit": 5}})
	if err != nil || !res.IsError {
		t.Fatalf("alice's loan query: %v %+v", err, res)
	}
	recs, err := a.Audit.Search(ctx, audit.Query{Subject: "alice@bank.example"})
	if err != nil || len(recs) != 2 {
		t.Fatalf("alice's audit records: %d %v", len(recs), err)
	}
	if recs[0].Decision != audit.DecisionAllow || recs[1].Decision != audit.DecisionDeny || recs[1].Product != "loan-applications" ||
		recs[1].Channel != mcp.Channel || recs[1].Model != "mcp:stdio-test" || recs[0].RequestID == recs[1].RequestID {
		t.Fatalf("records %+v", recs)
	}
}
