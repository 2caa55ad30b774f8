package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/channels/web"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/assistanttest"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
)

// fuzzChatModel answers at once, so a fuzz iteration that gets a question
// through costs microseconds, not a model turn; it keeps no requests, as a
// fuzz run asks without end.
func fuzzChatModel() *assistanttest.Script {
	return &assistanttest.Script{ModelName: "quick", Then: assistanttest.Text("ok"), Stream: true, NoRecord: true}
}

// FuzzChatBody: POST /v1/chat with arbitrary bytes never panics, never gets
// a 5xx, and gets either a valid answer or the one JSON error shape.
func FuzzChatBody(f *testing.F) {
	for _, s := range []string{
		`{"message":"How many new customers did we acquire last month?"}`,
		`{"message":"hi","conversation_id":"conv-1"}`,
		`{"message":"hi","conversation_id":"../../etc/passwd"}`,
		`{"message":""}`, `{"message":null}`, `{"message":42}`, `{"message":["a"]}`,
		`{"message":"hi","temperature":1}`, `{"message":"hi"} {"message":"again"}`,
		`{"message":"\u0000\ud800"}`, `{"message":"` + strings.Repeat("é", 8001) + `"}`,
		`[]`, `null`, `"hi"`, `{`, ``, "\xff\xfe", `{"MESSAGE":"hi"}`, `{"message":"hi","message":""}`,
		strings.Repeat("[", 5000),
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
	}
	f.Add([]byte(`message=hi`), uint8(2))

	dir := banktest.PrivateDir(f)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.Build(context.Background(), app.Config{DataDir: dir, Now: banktest.Now.Format(time.RFC3339)},
		app.WithModel(fuzzChatModel()), app.WithLogger(logger))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close() })
	srv, err := web.New(web.Options{Agent: a.Agent, Executor: a.Tools, AuditReview: a.Review, Directory: a.Directory, Audit: a.Audit, Catalog: a.Catalog,
		Logger: logger, Demo: true, Limits: web.Limits{RatePerMinute: -1, MaxBodyBytes: 64 << 10}})
	if err != nil {
		f.Fatal(err)
	}
	handler := srv.Handler()

	f.Fuzz(func(t *testing.T, body []byte, variant uint8) {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer demo-carol")
		stream := variant&1 == 1
		switch {
		case variant&2 == 2:
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		default:
			req.Header.Set("Content-Type", "application/json")
		}
		if stream {
			req.Header.Set("Accept", "text/event-stream")
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		res := rec.Result()
		out := rec.Body.Bytes()
		if res.StatusCode >= 500 {
			t.Fatalf("status %d for %q: %s", res.StatusCode, body, out)
		}
		if res.StatusCode == http.StatusOK {
			if stream {
				// An event stream that ends with the answer or an error.
				if !bytes.Contains(out, []byte("event: answer")) && !bytes.Contains(out, []byte("event: error")) {
					t.Fatalf("stream without an answer or error event: %s", out)
				}
				return
			}
			var ans assistant.Answer
			if err := json.Unmarshal(out, &ans); err != nil || ans.ConversationID == "" || ans.Text == "" {
				t.Fatalf("200 without a valid answer: %v %s", err, out)
			}
			return
		}
		// Every error has the one shape, and nothing else.
		var e map[string]map[string]string
		dec := json.NewDecoder(bytes.NewReader(out))
		if err := dec.Decode(&e); err != nil || len(e) != 1 || e["error"]["code"] == "" || e["error"]["message"] == "" {
			t.Fatalf("status %d: not the JSON error shape: %v %s", res.StatusCode, err, out)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("error with content type %q", ct)
		}
	})
}
