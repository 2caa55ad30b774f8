package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/tools"
)

// bearer adds a token to every request of an MCP client.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	r.Header.Set("X-Request-Id", "mcp-"+strings.TrimPrefix(b.token, "demo-"))
	return b.base.RoundTrip(r)
}

func (h *harness) mcpSession(t *testing.T, token string) (*sdk.ClientSession, error) {
	t.Helper()
	client := sdk.NewClient(&sdk.Implementation{Name: "web-test", Version: "1"}, nil)
	tr := &sdk.StreamableClientTransport{Endpoint: h.ts.URL + "/mcp", MaxRetries: -1,
		HTTPClient: &http.Client{Transport: bearer{token: token, base: h.ts.Client().Transport}}}
	cs, err := client.Connect(context.Background(), tr, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

func TestMCPOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	ctx := context.Background()
	cs, err := h.mcpSession(t, "demo-carol")
	if err != nil {
		t.Fatal(err)
	}

	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Tools) != len(tools.Specs()) {
		t.Fatalf("%d tools, want %d", len(list.Tools), len(tools.Specs()))
	}
	byName := map[string]*sdk.Tool{}
	for _, tl := range list.Tools {
		byName[tl.Name] = tl
	}
	for _, spec := range tools.Specs() {
		got, ok := byName[spec.Name]
		if !ok || got.Description != spec.Description {
			t.Errorf("tool %s missing or described differently: %+v", spec.Name, got)
			continue
		}
		var want any
		_ = json.Unmarshal(spec.ParametersJSON(), &want)
		if !reflect.DeepEqual(got.InputSchema, want) {
			t.Errorf("%s: input schema differs from the agent's:\n%v\n%v", spec.Name, got.InputSchema, want)
		}
	}

	args := map[string]any{"product": "customer-acquisition", "metrics": []string{"new_customers"}, "time_range": "last_month"}
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tools.ToolQueryMetrics, Arguments: args})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || len(res.Content) != 1 {
		t.Fatalf("carol's query_metrics: error=%v %+v", res.IsError, res.Content)
	}
	var result tools.Result
	if err := json.Unmarshal([]byte(res.Content[0].(*sdk.TextContent).Text), &result); err != nil {
		t.Fatal(err)
	}
	oct, _ := octSep(t, h.dir)
	col := -1
	for i, c := range result.Columns {
		if c.Name == "new_customers" {
			col = i
		}
	}
	if col < 0 || len(result.Rows) != 1 || result.Rows[0][col] != float64(oct) || result.AuditID == "" {
		t.Fatalf("result %+v, want new_customers %d", result, oct)
	}
	recs, err := h.app.Audit.Search(ctx, audit.Query{Subject: "carol@bank.example"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("carol's audit records: %d %v", len(recs), err)
	}
	// The request id is the server's, never the client's X-Request-Id.
	if r := recs[0]; r.ID != result.AuditID || r.Channel != "mcp" || r.Decision != audit.DecisionAllow || r.RequestID == "" || strings.Contains(r.RequestID, "mcp-carol") || r.Model != "mcp:web-test" {
		t.Fatalf("audit record %+v", r)
	}

	// Frank is an intern: every data query is denied, recorded, and the
	// client's model is told why.
	fs, err := h.mcpSession(t, "demo-frank")
	if err != nil {
		t.Fatal(err)
	}
	res, err = fs.CallTool(ctx, &sdk.CallToolParams{Name: tools.ToolQueryMetrics, Arguments: args})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError {
		t.Fatalf("frank's query_metrics was not an error: %+v", res.Content)
	}
	var denied struct {
		Error   string `json:"error"`
		Message string `json:"message"`
		Product string `json:"product"`
		AuditID string `json:"audit_id"`
	}
	text := res.Content[0].(*sdk.TextContent).Text
	if err := json.Unmarshal([]byte(text), &denied); err != nil {
		t.Fatal(err)
	}
	if denied.Error != "denied" || denied.Message == "" || denied.Product != "customer-acquisition" {
		t.Fatalf("denial %s", text)
	}
	recs, err = h.app.Audit.Search(ctx, audit.Query{Subject: "frank@bank.example"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("frank's audit records: %d %v", len(recs), err)
	}
	if r := recs[0]; r.ID != denied.AuditID || r.Decision != audit.DecisionDeny || r.Channel != "mcp" || r.Reason != denied.Message || r.Product != "customer-acquisition" {
		t.Fatalf("deny record %+v", r)
	}

	// Bad arguments are the client's to fix: an error result, recorded.
	res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: tools.ToolQueryMetrics, Arguments: map[string]any{"product": "no-such-product", "metrics": []string{"x"}}})
	if err != nil || !res.IsError || !strings.Contains(res.Content[0].(*sdk.TextContent).Text, "invalid_arguments") {
		t.Fatalf("unknown product: %v %+v", err, res)
	}

	// No token, no session.
	if _, err := h.mcpSession(t, ""); err == nil {
		t.Fatal("an MCP client without a token connected")
	}
	r, body := h.do("POST", "/mcp", "", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{"Accept": "application/json, text/event-stream"})
	if r.StatusCode != 401 {
		t.Fatalf("tools/list without a token: %d %s", r.StatusCode, body)
	}
}
