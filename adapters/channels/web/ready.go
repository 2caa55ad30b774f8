package web

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Readiness states, in /readyz's JSON.
const (
	ReadyOK          = "ok"
	ReadyDegraded    = "degraded"    // some of it works: traffic still helps
	ReadyUnavailable = "unavailable" // nothing can be answered: send traffic elsewhere
)

// ReadyCheck is one of /readyz's checks beside the audit store's.
type ReadyCheck struct {
	Name string
	// Check reports ReadyOK, ReadyDegraded or ReadyUnavailable. Its error
	// is logged, never shown: causes may name internal hosts. Detail, if
	// any, is shown (counts, never names or causes).
	Check func(ctx context.Context) (state string, detail any, err error)
}

// readiness runs the checks, remembering which passed and when, so that a
// load balancer probing every second costs the model one request per
// cache period, while a failure is looked at again on every probe.
type readiness struct {
	checks []ReadyCheck
	ttl    time.Duration
	mu     sync.Mutex
	passed map[string]passed
}

type passed struct {
	at     time.Time
	detail any
}

func newReadiness(checks []ReadyCheck, ttl time.Duration) *readiness {
	return &readiness{checks: checks, ttl: ttl, passed: map[string]passed{}}
}

type checkResult struct {
	state  string
	detail any
	err    error
}

func (r *readiness) run(ctx context.Context, c ReadyCheck) checkResult {
	r.mu.Lock()
	p, ok := r.passed[c.Name]
	r.mu.Unlock()
	if ok && r.ttl > 0 && time.Since(p.at) < r.ttl {
		return checkResult{state: ReadyOK, detail: p.detail}
	}
	state, detail, err := c.Check(ctx)
	r.mu.Lock()
	if state == ReadyOK {
		r.passed[c.Name] = passed{at: time.Now(), detail: detail}
	} else {
		delete(r.passed, c.Name)
	}
	r.mu.Unlock()
	return checkResult{state: state, detail: detail, err: err}
}

// readyz fails closed: a server whose audit log cannot take appends, or
// whose model does not answer, could answer nothing, so a load balancer
// should send traffic elsewhere. A check that is degraded (one product's
// database down, the others up) keeps the server ready: it still answers.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.lim.ReadyTimeout)
	defer cancel()
	checks := map[string]string{}
	body := map[string]any{"checks": checks}
	results := make([]checkResult, len(s.ready.checks)+1)
	var wg sync.WaitGroup
	wg.Add(len(s.ready.checks))
	for i, c := range s.ready.checks {
		go func() {
			defer wg.Done()
			results[i+1] = s.ready.run(ctx, c)
		}()
	}
	// The audit store is pinged on every probe: it is what fails closed.
	if err := s.o.Audit.Ping(ctx); err != nil {
		results[0] = checkResult{state: ReadyUnavailable, err: err}
	} else {
		results[0] = checkResult{state: ReadyOK}
	}
	wg.Wait()
	status, code := "ready", http.StatusOK
	for i, res := range results {
		name := "audit"
		if i > 0 {
			name = s.ready.checks[i-1].Name
			if res.detail != nil {
				body[name] = res.detail
			}
		}
		checks[name] = res.state
		switch res.state {
		case ReadyOK:
			continue
		case ReadyDegraded:
			if code == http.StatusOK {
				status = "degraded"
			}
		default:
			checks[name] = ReadyUnavailable
			status, code = "unavailable", http.StatusServiceUnavailable
		}
		s.log.WarnContext(ctx, "readiness: "+name+" is "+checks[name], "err", res.err)
	}
	body["status"] = status
	writeJSON(w, code, body)
}
