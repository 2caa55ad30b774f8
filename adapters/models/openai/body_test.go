package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/tools"
)

type oddArgs struct {
	Note string `json:"note" jsonschema:"a <b>bold</b> & \u2028 note"`
}

// Every request body is the one go-openai would have encoded from the same
// request, byte for byte: the adapter only encodes two parts of it itself.
func TestBodyIsWhatGoOpenAIEncodes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.ContentLength != int64(len(b)) {
			t.Errorf("Content-Length %d for %d bytes", r.ContentLength, len(b))
		}
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		if bytes.Contains(b, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}`+"\n\ndata: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`)
	}))
	defer srv.Close()
	odd, err := tools.NewSpec("odd_tool", "A tool <not> in the registry & \"quoted\"", reflect.TypeFor[oddArgs]())
	if err != nil {
		t.Fatal(err)
	}
	all := tools.Specs()
	toolSets := [][]*tools.Spec{nil, all, append(slices.Clip(all), assistant.AskSpecs()...), all[1:3], {odd, all[0]}}
	messages := []assistant.Message{
		{Role: assistant.RoleSystem, Content: "You answer <questions> & \"quote\" \\ them.\nTabs\there, \u2028 \u2029, NUL \x00, \x1f, \x7f, invalid \xff\xfe, é 日本 🙂"},
		{Role: assistant.RoleUser, Content: "How many new customers did we acquire last month?"},
		{Role: assistant.RoleAssistant, ToolCalls: []assistant.ToolCall{
			{ID: "call_0_0", Name: tools.ToolQueryMetrics, Arguments: []byte(`{"product":"customer-acquisition","metrics":["new_customers"]}`)},
			{ID: "call_0_1", Name: tools.ToolDescribe, Arguments: nil},
			{ID: "", Name: "", Arguments: []byte(" {\"a\":\"<&>\"} ")}}},
		{Role: assistant.RoleTool, ToolCallID: "call_0_0", Name: tools.ToolQueryMetrics, Content: `{"rows":[[398,297]],"note":"<b>"}`},
		{Role: assistant.RoleTool, ToolCallID: "call_0_1", Content: "denied: not yours"},
		{Role: assistant.RoleAssistant}, // left out of the request
		{Role: assistant.RoleAssistant, Content: "Thinking…", ToolCalls: []assistant.ToolCall{{ID: "x", Name: "describe_product", Arguments: []byte(`{}`)}}},
		{Role: assistant.RoleUser, Content: ""},
	}
	zero, warm := float32(0), float32(0.7)
	for _, temp := range []*float32{nil, &zero, &warm} {
		for _, stream := range []bool{false, true} {
			m, err := New(Config{APIKey: "k", BaseURL: srv.URL, Model: `gpt-"odd"<model>`, Stream: stream, Temperature: temp, MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			for _, specs := range toolSets {
				for n := 1; n <= len(messages); n++ {
					req := assistant.ModelRequest{Messages: messages[:n], Tools: specs}
					mu.Lock()
					bodies = nil
					mu.Unlock()
					var onText func(string)
					if stream {
						onText = func(string) {}
					}
					if _, err := m.Generate(context.Background(), req, onText); err != nil {
						t.Fatal(err)
					}
					creq := m.request(req)
					creq.Tools = toTools(specs)
					if stream {
						creq.Stream = true
						creq.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
					}
					want, err := json.Marshal(creq)
					if err != nil {
						t.Fatal(err)
					}
					mu.Lock()
					got := bodies
					mu.Unlock()
					if len(got) != 1 || !bytes.Equal(got[0], want) {
						t.Fatalf("temperature %v stream %v, %d tools, %d messages: body\n%s\nwant\n%s", temp, stream, len(specs), n, got, want)
					}
				}
			}
		}
	}
}

// The messages, as the adapter encodes them and as go-openai would: the
// fields the adapter never sets fall back to encoding/json.
func FuzzAppendMessages(f *testing.F) {
	f.Add("user", "hello <there>", "", "", "", "", "")
	f.Add("assistant", "", "call_1", "query_metrics", "{\"a\":1}", "", "")
	f.Add("assistant", "x", "", "", "", "refused", "name")
	f.Add("tool", "{\"rows\":[]}", "", "", "", "", "call_1")
	f.Fuzz(func(t *testing.T, role, content, id, name, args, refusal, extra string) {
		m := goopenai.ChatCompletionMessage{Role: role, Content: content, Refusal: refusal, ToolCallID: extra}
		if id != "" || name != "" || args != "" {
			m.ToolCalls = []goopenai.ToolCall{{ID: id, Type: goopenai.ToolTypeFunction, Function: goopenai.FunctionCall{Name: name, Arguments: args}}}
		}
		msgs := []goopenai.ChatCompletionMessage{m, {Role: "user", Content: name}}
		want, err := json.Marshal(msgs)
		if err != nil {
			t.Skip()
		}
		if got := appendMessages(nil, msgs); !bytes.Equal(got, want) {
			t.Fatalf("appendMessages = %s, want %s", got, want)
		}
	})
}
