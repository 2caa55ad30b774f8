package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
)

// socketScript is a Socket Mode endpoint speaking Slack's envelope format:
// hello on connect, events_api envelopes, acks by envelope id, and a
// disconnect that makes the client reconnect.
type socketScript struct {
	t        *testing.T
	mu       sync.Mutex
	conns    int
	acks     []string
	acked    chan string
	upgrader websocket.Upgrader
}

func (s *socketScript) envelope(id, ts, text string) map[string]any {
	return map[string]any{
		"envelope_id": id, "type": "events_api", "accepts_response_payload": false, "retry_attempt": 0,
		"payload": map[string]any{"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": "Ev" + id,
			"event_time": time.Now().Unix(), "event": mention("UCAROL", text, ts, "")},
	}
}

func (s *socketScript) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.t.Errorf("websocket upgrade: %v", err)
		return
	}
	defer conn.Close()
	s.mu.Lock()
	s.conns++
	n := s.conns
	s.mu.Unlock()
	send := func(v any) {
		if err := conn.WriteJSON(v); err != nil {
			s.t.Logf("write: %v", err)
		}
	}
	send(map[string]any{"type": "hello", "num_connections": 1, "connection_info": map[string]any{"app_id": "A1"},
		"debug_info": map[string]any{"host": "test", "approximate_connection_time": 3600}})
	id := fmt.Sprintf("env-%d", n)
	send(s.envelope(id, fmt.Sprintf("1763200100.%06d", n), "How many new customers did we acquire last month?"))
	// Read until our envelope is acknowledged.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var msg map[string]any
		if err := conn.ReadJSON(&msg); err != nil {
			s.t.Logf("read: %v", err)
			return
		}
		if env, ok := msg["envelope_id"].(string); ok {
			s.mu.Lock()
			s.acks = append(s.acks, env)
			s.mu.Unlock()
			s.acked <- env
			if env == id {
				break
			}
		}
	}
	if n == 1 {
		// Slack asks clients to reconnect now and then.
		send(map[string]any{"type": "disconnect", "reason": "refresh_requested", "debug_info": map[string]any{"host": "test"}})
		time.Sleep(100 * time.Millisecond)
		return
	}
	// Keep the second connection open until the test ends.
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			return
		}
	}
}

func TestSocketModeAcksAnswersAndReconnects(t *testing.T) {
	t.Parallel()
	// slack-go dials with Origin https://api.slack.com, as Slack expects.
	script := &socketScript{t: t, acked: make(chan string, 16),
		upgrader: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}}
	ws := httptest.NewServer(script)
	defer ws.Close()
	wsURL := "ws" + strings.TrimPrefix(ws.URL, "http")

	h := newHarness(t, nil, Config{AppToken: "xapp-test"})
	opens := 0
	var mu sync.Mutex
	// slacktest already serves apps.connections.open (for its RTM socket), so
	// a front mux answers it with our Socket Mode endpoint and passes every
	// other method to the recording fake.
	mux := http.NewServeMux()
	mux.HandleFunc("/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		opens++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": wsURL})
	})
	api, _ := http.NewRequest(http.MethodGet, h.fake.GetAPIURL(), nil)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxy := *r
		proxy.URL.Scheme, proxy.URL.Host, proxy.RequestURI = api.URL.Scheme, api.URL.Host, ""
		resp, err := http.DefaultClient.Do(&proxy)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	front := httptest.NewServer(mux)
	defer front.Close()
	h.bot.client = slack.New("xoxb-test", slack.OptionAPIURL(front.URL+"/"), slack.OptionAppLevelToken("xapp-test"))
	h.bot.ids.client = h.bot.client

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.bot.RunSocketMode(ctx) }()
	for _, want := range []string{"env-1", "env-2"} {
		select {
		case got := <-script.acked:
			if got != want {
				t.Fatalf("acked %s, want %s", got, want)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("no ack for %s (connections %d)", want, script.conns)
		}
	}
	// Both questions are answered, one per connection.
	deadline := time.Now().Add(60 * time.Second)
	for len(answers(h.fake)) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(answers(h.fake)); n != 2 {
		t.Fatalf("%d answers for 2 events", n)
	}
	mu.Lock()
	if opens < 2 {
		t.Fatalf("apps.connections.open called %d times: the client did not reconnect", opens)
	}
	mu.Unlock()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("socket mode ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("socket mode did not stop")
	}
}

func answers(f *fakeSlack) []apiCall {
	var out []apiCall
	for _, c := range f.callsOf("chat.update") {
		if isAnswer("")(c) {
			out = append(out, c)
		}
	}
	return out
}
