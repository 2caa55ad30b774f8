// Package retry runs calls to model APIs with bounded retries: exponential
// backoff with jitter on 408, 429 and 5xx answers and on connection
// failures, honouring Retry-After, each attempt under its own timeout.
//
// The HTTP client the API library uses must be wrapped in a Doer: it tells
// the retry loop what status came back and whether the connection failed,
// which the libraries' own error values do not reliably say.
package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Policy bounds the retries of one call.
type Policy struct {
	// MaxRetries is how many times a failed attempt is retried; negative
	// means never (0 is taken literally: callers apply their own defaults).
	MaxRetries int
	// Timeout bounds each attempt, the whole streamed response included;
	// 0 means no per-attempt bound.
	Timeout time.Duration
	// BaseDelay is the first backoff (default 500ms); it doubles on each
	// retry up to MaxDelay (default 20s), and a random half of it is jitter.
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

// Error is a call that failed: its last attempt's error, the last HTTP
// status seen (0 when no response came back) and how many attempts were made.
type Error struct {
	Status   int
	Attempts int
	Err      error
}

func (e *Error) Error() string {
	if e.Attempts > 1 {
		return fmt.Sprintf("%v (after %d attempts)", e.Err, e.Attempts)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// StatusOf returns the HTTP status of a failed call, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// Permanent marks an error that must not be retried whatever caused it,
// for example a stream that failed after its text was shown to the user.
func Permanent(err error) error { return permanent{err} }

type transient struct{ error }

func (t transient) Unwrap() error { return t.error }

// Transient marks an error worth retrying that the transport could not
// see, such as a stream that ended before the model finished.
func Transient(err error) error { return transient{err} }

// attempt is what the Doer saw during one attempt. The fields are written
// by whichever goroutine reads the response body, hence the lock.
type attempt struct {
	mu            sync.Mutex
	status        int
	retryAfter    time.Duration
	hasRetryAfter bool
	connErr       error
}

type attemptKey struct{}

func (a *attempt) response(status int, h http.Header) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status = status
	a.retryAfter, a.hasRetryAfter = RetryAfter(h, time.Now())
}

func (a *attempt) failed(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.connErr == nil {
		a.connErr = err
	}
}

func (a *attempt) snapshot() (status int, retryAfter time.Duration, hasRetryAfter bool, connErr error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status, a.retryAfter, a.hasRetryAfter, a.connErr
}

// Doer wraps an HTTP client so that the retry loop learns each attempt's
// status, Retry-After and connection failures. It implements the Do method
// that go-openai and langchaingo accept as their HTTP client.
type Doer struct {
	Client *http.Client // nil: a pooled client without a global timeout (attempts have their own)
}

// Do sends req and records what happened in the attempt carried by its context.
func (d Doer) Do(req *http.Request) (*http.Response, error) {
	c := d.Client
	if c == nil {
		c = defaultClient
	}
	resp, err := c.Do(req)
	a, _ := req.Context().Value(attemptKey{}).(*attempt)
	if a == nil {
		return resp, err
	}
	if err != nil {
		a.failed(err)
		return resp, err
	}
	a.response(resp.StatusCode, resp.Header)
	resp.Body = &watchedBody{ReadCloser: resp.Body, a: a}
	return resp, nil
}

// defaultClient keeps a connection to the model API open for each call in
// flight: http.DefaultTransport keeps 2 idle per host, so under concurrent
// questions nearly every model turn opened a new connection (a TLS handshake
// against a real API; 967 connections for 1,000 requests at 500 clients).
var defaultClient = &http.Client{Transport: pooledTransport()}

// idleModelConns bounds the idle connections kept to the model API; more
// calls than this in flight still work, they open connections as needed.
const idleModelConns = 256

func pooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = idleModelConns
	t.MaxIdleConnsPerHost = idleModelConns
	return t
}

// watchedBody records a connection that fails while the body is read (a
// stream cut off, an attempt that timed out mid-response).
type watchedBody struct {
	io.ReadCloser
	a *attempt
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.a.failed(err)
	}
	return n, err
}

// Do runs fn until it succeeds, fails for a reason retrying cannot fix,
// the retries are spent or ctx ends. fn receives the attempt's context,
// which it must pass to the HTTP request. Failures are returned as *Error.
func Do(ctx context.Context, p Policy, fn func(ctx context.Context) error) error {
	base, maxDelay := p.BaseDelay, p.MaxDelay
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if maxDelay <= 0 {
		maxDelay = 20 * time.Second
	}
	for n := 0; ; n++ {
		a := &attempt{}
		actx := context.WithValue(ctx, attemptKey{}, a)
		cancel := context.CancelFunc(func() {})
		if p.Timeout > 0 {
			actx, cancel = context.WithTimeout(actx, p.Timeout)
		}
		err := fn(actx)
		timedOut := p.Timeout > 0 && errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		status, retryAfter, hasRetryAfter, connErr := a.snapshot()
		if timedOut {
			err = fmt.Errorf("attempt timed out after %s: %w", p.Timeout, err)
		}
		fail := &Error{Status: status, Attempts: n + 1, Err: err}
		if ctx.Err() != nil {
			// The caller gave up: say so first, so errors.Is finds it.
			fail.Err = fmt.Errorf("%w: %w", ctx.Err(), err)
			return fail
		}
		if !retryable(err, status, connErr, timedOut) || p.MaxRetries < 0 || n >= p.MaxRetries {
			return fail
		}
		wait := backoff(base, maxDelay, n)
		if hasRetryAfter {
			wait = retryAfter
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// The server asks for more time than the caller has left.
			return fail
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			fail.Err = fmt.Errorf("%w: %w", ctx.Err(), err)
			return fail
		case <-t.C:
		}
	}
}

func retryable(err error, status int, connErr error, timedOut bool) bool {
	var perm permanent
	if errors.As(err, &perm) {
		return false
	}
	var tr transient
	if errors.As(err, &tr) {
		return true
	}
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout, status >= 500:
		return true
	case connErr != nil, timedOut:
		return true
	}
	return false
}

// backoff is the n-th retry's delay: base doubled n times, capped, with
// "equal jitter" (half fixed, half random) so that clients rejected
// together do not come back together.
func backoff(base, maxDelay time.Duration, n int) time.Duration {
	d := base
	for i := 0; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	half := d / 2
	return half + rand.N(half+1)
}

// RetryAfter reads how long the server asks the client to wait: the
// retry-after-ms header (OpenAI, Azure) or Retry-After in seconds or as an
// HTTP date.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
