package main

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/audit"
)

// benchTagPrefix starts the request id each question's text ends with
// (see drive), by which the scripted model's requests are charged to it.
const benchTagPrefix = "bench-q"

// benchTurns is how many model requests benchScript answers a question in.
const benchTurns = 2

// questionTag finds the question's request id in a model request's body:
// the first benchTagPrefix and the digits after it, or "".
func questionTag(body []byte) string {
	i := bytes.Index(body, []byte(benchTagPrefix))
	if i < 0 {
		return ""
	}
	j := i + len(benchTagPrefix)
	for j < len(body) && body[j] >= '0' && body[j] <= '9' {
		j++
	}
	if j == i+len(benchTagPrefix) {
		return ""
	}
	return string(body[i:j])
}

// modelLedger sums, per question, the time the scripted model server
// reports for the requests it served (receive to last byte written).
type modelLedger struct {
	mu    sync.Mutex
	cond  *sync.Cond
	byQ   map[string]time.Duration
	turns map[string]int // requests served
}

func newModelLedger() *modelLedger {
	l := &modelLedger{byQ: map[string]time.Duration{}, turns: map[string]int{}}
	l.cond = sync.NewCond(&l.mu)
	return l
}

func (l *modelLedger) served(s openaitest.Served) {
	id := questionTag(s.Request.Body)
	if id == "" {
		return
	}
	l.mu.Lock()
	l.byQ[id] += s.Duration
	l.turns[id]++
	l.mu.Unlock()
	l.cond.Broadcast()
}

// take returns and forgets a question's model time and turn count once
// want requests of it are reported. The server reports a request just
// after its last byte, which can be after askmesh has already answered;
// take waits for that report, for 5 s at most (the question's latency is
// already measured).
func (l *modelLedger) take(id string, want int) (time.Duration, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for l.turns[id] < want && time.Now().Before(deadline) {
		// Cond has no timeout: a timer wakes the waiters once at the deadline.
		t := time.AfterFunc(time.Until(deadline), l.cond.Broadcast)
		l.cond.Wait()
		t.Stop()
	}
	d, n := l.byQ[id], l.turns[id]
	delete(l.byQ, id)
	delete(l.turns, id)
	return d, n
}

// phaseProbe times the phases of questions asked one at a time: the web
// handler, each model call as the agent sees it, each tool call, and each
// audit append. It is only meaningful with one question in flight.
type phaseProbe struct {
	mu                       sync.Mutex
	handler, model, tool, ap durations
}

func (p *phaseProbe) add(d *durations, v time.Duration) {
	p.mu.Lock()
	*d = append(*d, v)
	p.mu.Unlock()
}

// wrap times the web server's handler: from the request's headers read to
// the handler's return (answer composed and written).
func (p *phaseProbe) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		if r.URL.Path == "/v1/chat" {
			p.add(&p.handler, time.Since(start))
		}
	})
}

// ModelCall implements assistant.Observer.
func (p *phaseProbe) ModelCall(_ string, d time.Duration, _ assistant.Usage, _ error) {
	p.add(&p.model, d)
}

// ToolCall implements assistant.Observer.
func (p *phaseProbe) ToolCall(_, _ string, d time.Duration) { p.add(&p.tool, d) }

func (p *phaseProbe) reset() {
	p.mu.Lock()
	p.handler, p.model, p.tool, p.ap = nil, nil, nil, nil
	p.mu.Unlock()
}

// timedAudit times each durable append.
type timedAudit struct {
	audit.Store
	p *phaseProbe
}

func (t timedAudit) Append(ctx context.Context, rec *audit.Record) error {
	start := time.Now()
	err := t.Store.Append(ctx, rec)
	t.p.add(&t.p.ap, time.Since(start))
	return err
}
