package retry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		header map[string]string
		want   time.Duration
		ok     bool
	}{
		{"none", nil, 0, false},
		{"seconds", map[string]string{"Retry-After": "7"}, 7 * time.Second, true},
		{"zero", map[string]string{"Retry-After": "0"}, 0, true},
		{"fractional", map[string]string{"Retry-After": "1.5"}, 1500 * time.Millisecond, true},
		{"HTTP date", map[string]string{"Retry-After": "Sun, 15 Nov 2026 12:00:30 GMT"}, 30 * time.Second, true},
		{"date in the past", map[string]string{"Retry-After": "Sun, 15 Nov 2026 11:00:00 GMT"}, 0, true},
		{"milliseconds win", map[string]string{"Retry-After": "2", "retry-after-ms": "250"}, 250 * time.Millisecond, true},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0, false},
		{"negative", map[string]string{"Retry-After": "-3"}, 0, false},
	}
	for _, c := range cases {
		h := http.Header{}
		for k, v := range c.header {
			h.Set(k, v)
		}
		got, ok := RetryAfter(h, now)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: got %v %v, want %v %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	base, maxDelay := 100*time.Millisecond, time.Second
	// Retry n waits between half and all of min(base*2^n, max).
	want := []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}
	for n, full := range want {
		full *= time.Millisecond
		for i := 0; i < 200; i++ {
			d := backoff(base, maxDelay, n)
			if d < full/2 || d > full {
				t.Fatalf("retry %d waited %v, want within [%v, %v]", n, d, full/2, full)
			}
		}
	}
}

// server answers with the given statuses in turn.
func server(t *testing.T, statuses ...int) (*httptest.Server, *int) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := statuses[min(n, len(statuses)-1)]
		n++
		w.WriteHeader(s)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func call(url string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := Doer{}.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			return errors.New(resp.Status)
		}
		return nil
	}
}

func TestDoClassifies(t *testing.T) {
	p := Policy{MaxRetries: 3, BaseDelay: time.Millisecond}
	cases := []struct {
		statuses []int
		attempts int
		status   int
	}{
		{[]int{200}, 1, 0},
		{[]int{429, 200}, 2, 0},
		{[]int{503, 502, 200}, 3, 0},
		{[]int{500}, 4, 500},
		{[]int{400}, 1, 400},
		{[]int{403}, 1, 403},
		{[]int{409}, 1, 409},
	}
	for _, c := range cases {
		srv, n := server(t, c.statuses...)
		err := Do(context.Background(), p, call(srv.URL))
		if *n != c.attempts || StatusOf(err) != c.status || (c.status == 0) != (err == nil) {
			t.Errorf("%v: %d attempts, err %v; want %d attempts, status %d", c.statuses, *n, err, c.attempts, c.status)
		}
	}
}

func TestDoMarkers(t *testing.T) {
	p := Policy{MaxRetries: 2, BaseDelay: time.Millisecond}
	srv, n := server(t, 503)
	err := Do(context.Background(), p, func(ctx context.Context) error { return Permanent(call(srv.URL)(ctx)) })
	if *n != 1 || StatusOf(err) != 503 {
		t.Fatalf("permanent: %d attempts, %v", *n, err)
	}
	attempts := 0
	err = Do(context.Background(), p, func(context.Context) error { attempts++; return Transient(errors.New("cut short")) })
	if attempts != 3 || !strings.Contains(err.Error(), "cut short (after 3 attempts)") {
		t.Fatalf("transient: %d attempts, %v", attempts, err)
	}
	attempts = 0
	err = Do(context.Background(), p, func(context.Context) error { attempts++; return errors.New("bad request body") })
	if attempts != 1 || err.Error() != "bad request body" {
		t.Fatalf("plain error: %d attempts, %v", attempts, err)
	}
}

func TestDoStopsWhenCallerCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	attempts := 0
	err := Do(ctx, Policy{MaxRetries: 5, BaseDelay: time.Hour}, func(context.Context) error {
		attempts++
		cancel()
		return Transient(errors.New("flaky"))
	})
	if attempts != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("%d attempts, %v", attempts, err)
	}
}

// TestDoerReusesConnectionsUnderConcurrency: after a round of concurrent
// calls, the next round of as many reuses their connections rather than
// opening new ones (the default transport keeps only 2 idle per host).
func TestDoerReusesConnectionsUnderConcurrency(t *testing.T) {
	t.Parallel()
	const inFlight = 32
	// Each round's calls are answered only once all of them have arrived,
	// so every call of a round holds a connection of its own at once.
	type barrier struct {
		arrived atomic.Int64
		all     chan struct{}
	}
	var current atomic.Pointer[barrier]
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := current.Load()
		if b.arrived.Add(1) == inFlight {
			close(b.all)
		}
		select {
		case <-b.all:
		case <-time.After(10 * time.Second):
		}
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	round := func() {
		current.Store(&barrier{all: make(chan struct{})})
		var wg sync.WaitGroup
		for range inFlight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
				resp, err := Doer{}.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}()
		}
		wg.Wait()
	}
	round()
	first := opened.Load()
	round()
	if again := opened.Load() - first; first != inFlight || again > inFlight/4 {
		t.Errorf("the first round of %d calls opened %d connections, the second %d more: idle ones were dropped", inFlight, first, again)
	}
}
