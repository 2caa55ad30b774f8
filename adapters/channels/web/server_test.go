package web_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/internal/pgtest"
)

func TestHealthAndReadinessFailClosed(t *testing.T) {
	t.Parallel()
	cluster := pgtest.StartCluster(t)
	h := newHarness(t, setup{cfg: func(c *app.Config) { c.Audit.Postgres = cluster.DSN() }})
	for _, path := range []string{"/healthz", "/readyz"} {
		if res, body := h.do("GET", path, "", nil, nil); res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
	}
	cluster.Stop(t)
	res, body := h.do("GET", "/readyz", "", nil, nil)
	if res.StatusCode != 503 {
		t.Fatalf("readyz with the audit store down: %d %s", res.StatusCode, body)
	}
	var ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal(body, &ready); err != nil || ready.Status != "unavailable" || ready.Checks["audit"] != "unavailable" {
		t.Fatalf("readyz body %s", body)
	}
	if res, _ := h.do("GET", "/healthz", "", nil, nil); res.StatusCode != 200 {
		t.Fatalf("healthz follows the process, not its dependencies: %d", res.StatusCode)
	}
	cluster.Start(t)
	waitFor(t, "readiness after the audit store is back", func() bool {
		res, _ := h.do("GET", "/readyz", "", nil, nil)
		return res.StatusCode == 200
	})
}

// TestGracefulShutdown: once Run's context ends, new connections are
// refused while a streaming answer in flight completes; then Run returns.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	script := openaitest.NewServer(t, openaitest.Step{Text: "The answer is 42."})
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	model := newFrontedModel(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		script.Config.Handler.ServeHTTP(w, r)
	}))
	h := newHarness(t, setup{model: model})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.srv.Serve(ctx, ln) }()

	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat", strings.NewReader(`{"message":"What is the answer?"}`))
	req.Header.Set("Authorization", "Bearer demo-carol")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	<-arrived
	cancel()
	waitFor(t, "the listener to close", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-done:
		t.Fatalf("Run returned while a stream was in flight: %v", err)
	default:
	}
	close(release)
	events := readSSE(t, res.Body, nil)
	last := events[len(events)-1]
	var ev assistant.Event
	if err := json.Unmarshal(last.Data, &ev); err != nil || last.Type != assistant.EventAnswer || ev.Answer.Text != "The answer is 42." {
		t.Fatalf("the in-flight stream did not complete: %s %s", last.Type, last.Data)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after the last stream ended")
	}
}

func TestWebChatAssets(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	cases := []struct {
		path, ctype, contains string
	}{
		{"/", "text/html", `<script src="/static/app.js"`},
		{"/static/app.js", "javascript", "text/event-stream"},
		{"/static/app.css", "text/css", "--brand"},
	}
	for _, c := range cases {
		res, body := h.do("GET", c.path, "", nil, nil)
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), c.ctype) || !strings.Contains(string(body), c.contains) {
			t.Errorf("%s: %d %s", c.path, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", c.path, csp)
		}
	}
	res, body := h.do("GET", "/no/such/page", "", nil, nil)
	if code, _ := errorOf(t, body); res.StatusCode != 404 || code != "not_found" {
		t.Fatalf("unknown path: %d %s", res.StatusCode, body)
	}
}
