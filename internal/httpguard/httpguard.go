// Package httpguard holds the limits askmesh's HTTP servers share against
// clients that abuse the connection rather than the API: bodies sent slowly
// or without end, floods from one address on endpoints that authenticate
// nobody, and request ids chosen to bloat or forge the audit log.
package httpguard

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ErrSlowBody is a body that did not arrive within the read timeout.
var ErrSlowBody = errors.New("the request body did not arrive in time")

// ReadBody reads r's whole body, at most limit bytes, within timeout, then
// lifts the read deadline again so a long answer (a stream) is not cut by
// it. A slow client holds a connection for timeout at most, not forever.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64, timeout time.Duration) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	rc := http.NewResponseController(w)
	deadline := timeout > 0 && rc.SetReadDeadline(time.Now().Add(timeout)) == nil
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		// The rest of the body is never read: net/http would otherwise read
		// it before answering, to keep the connection, and wait again.
		w.Header().Set("Connection", "close")
		return nil, readError(err, timeout)
	}
	if deadline {
		_ = rc.SetReadDeadline(time.Time{})
	}
	return b, nil
}

func readError(err error, timeout time.Duration) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w (%s)", ErrSlowBody, timeout)
	}
	return err
}

// IPLimiter keeps a token bucket per client address, for endpoints that
// cannot limit per user because they have not identified one yet.
type IPLimiter struct {
	limit rate.Limit
	burst int

	mu        sync.Mutex
	ips       map[string]*ipBucket
	lastSweep time.Time
}

type ipBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewIPLimiter allows perMinute requests per address, burst at once; nil
// (no limit) when perMinute is negative.
func NewIPLimiter(perMinute float64, burst int) *IPLimiter {
	if perMinute < 0 {
		return nil
	}
	return &IPLimiter{limit: rate.Limit(perMinute / 60), burst: burst, ips: map[string]*ipBucket{}, lastSweep: time.Now()}
}

// Allow takes a token for r's address, or says how long until one is free.
func (l *IPLimiter) Allow(r *http.Request) (bool, time.Duration) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return l.AllowKey(ip)
}

// AllowKey takes a token for key (an address, a user id), or says how long
// until one is free. Idle buckets are dropped so the map does not grow with
// every key ever seen.
func (l *IPLimiter) AllowKey(ip string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := time.Now()
	l.mu.Lock()
	b, ok := l.ips[ip]
	if !ok {
		b = &ipBucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.ips[ip] = b
	}
	b.seen = now
	if now.Sub(l.lastSweep) > 10*time.Minute {
		for k, v := range l.ips {
			if now.Sub(v.seen) > 10*time.Minute {
				delete(l.ips, k)
			}
		}
		l.lastSweep = now
	}
	l.mu.Unlock()
	res := b.lim.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Minute
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// validID is what a client-chosen request id may look like.
var validID = regexp.MustCompile(`^[A-Za-z0-9._:@-]{1,128}$`)

// ValidID reports whether a client-chosen id (request, conversation) is
// 1 to 128 letters, digits or . _ : @ -.
func ValidID(s string) bool { return validID.MatchString(s) }

// ClientID is a client-sent request id as it may be recorded, in a field
// of its own beside the id the server issues: the id if valid, else "".
func ClientID(client string) string {
	if !ValidID(client) {
		return ""
	}
	return client
}
