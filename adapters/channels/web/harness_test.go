package web_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/askmesh/askmesh/adapters/channels/web"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const acquisitionQuestion = "How many new customers did we acquire last month, compared with the month before?"

// harness is the whole stack (demo data, embedded policies, SQLite audit
// log, offline planner unless a model is given) behind a real HTTP server.
type harness struct {
	t       *testing.T
	app     *app.App
	srv     *web.Server
	ts      *httptest.Server
	dir     string
	metrics *web.Metrics
	logs    *syncBuffer
}

type setup struct {
	model assistant.Model
	cfg   func(*app.Config)
	opts  func(*web.Options)
	// served sets options that need the server's own URL (an OIDC redirect URL).
	served func(o *web.Options, url string)
}

func newHarness(t *testing.T, s setup) *harness {
	t.Helper()
	dir := banktest.PrivateDir(t)
	cfg := app.Config{DataDir: dir, Now: banktest.Now.Format(time.RFC3339)}
	if s.cfg != nil {
		s.cfg(&cfg)
	}
	metrics := web.NewMetrics()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	bopts := []app.Option{app.WithObserver(metrics), app.WithLogger(logger)}
	if s.model != nil {
		bopts = append(bopts, app.WithModel(s.model))
	}
	a, err := app.Build(context.Background(), cfg, bopts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	o := web.Options{Agent: a.Agent, Executor: a.Tools, AuditReview: a.Review, Directory: a.Directory, Audit: a.Audit, Catalog: a.Catalog, Access: a.Executor,
		Logger: logger, Metrics: metrics, Demo: true, Feedback: a.Feedback}
	if s.opts != nil {
		s.opts(&o)
	}
	ts := httptest.NewUnstartedServer(nil) // listening already: its URL is known
	if s.served != nil {
		s.served(&o, "http://"+ts.Listener.Addr().String())
	}
	srv, err := web.New(o)
	if err != nil {
		ts.Close()
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &harness{t: t, app: a, srv: srv, ts: ts, dir: dir, metrics: metrics, logs: logs}
}

// do sends a request with a bearer token ("" for none) and returns the
// response with its body read.
func (h *harness) do(method, path, token string, body any, header map[string]string) (*http.Response, []byte) {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.ts.URL+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return res, b
}

// sqlCount runs an independent count on a demo SQLite file.
func (h *harness) sqlCount(db, query string, args ...any) int {
	h.t.Helper()
	return sqlCount(h.t, h.dir, db, query, args...)
}

func sqlCount(t *testing.T, dir, db, query string, args ...any) int {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+filepath.Join(dir, db+".db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// acquisitions counts new customers in [from, to) straight from the demo data.
func acquisitions(t *testing.T, dir, from, to string) int {
	return sqlCount(t, dir, "growth", `SELECT count(*) FROM acquisitions WHERE acquired_at >= ? AND acquired_at < ?`,
		from+"T00:00:00.000000Z", to+"T00:00:00.000000Z")
}

// octSep are the October and September 2026 acquisition counts: the clock
// is pinned to 2026-11-15, so "last month" is October.
func octSep(t *testing.T, dir string) (int, int) {
	return acquisitions(t, dir, "2026-10-01", "2026-11-01"), acquisitions(t, dir, "2026-09-01", "2026-10-01")
}

// errorOf decodes the error envelope.
func errorOf(t *testing.T, body []byte) (code, message string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("not an error envelope: %s", body)
	}
	return e.Error.Code, e.Error.Message
}

type sseEvent struct {
	Type string
	Data json.RawMessage
}

// readSSE reads events until the body ends, calling each (if not nil) as
// events arrive; returning false from each stops reading.
func readSSE(t *testing.T, body io.Reader, each func(sseEvent) bool) []sseEvent {
	t.Helper()
	var out []sseEvent
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	var ev sseEvent
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(data) > 0 {
				ev.Data = json.RawMessage(strings.Join(data, "\n"))
				out = append(out, ev)
				if each != nil && !each(ev) {
					return out
				}
			}
			ev, data = sseEvent{}, nil
		case strings.HasPrefix(line, "event: "):
			ev.Type = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
	return out
}

// syncBuffer is a log sink tests can read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logLines returns the JSON log records with the given message.
func (s *syncBuffer) logLines(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(s.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func newHTTPServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}
