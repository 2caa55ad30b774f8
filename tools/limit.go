package tools

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits bound the work one user can make askmesh do, counted in what costs:
// tool calls and model turns, not HTTP requests. One JSON-RPC batch of a
// thousand tools/call, or one chat request the model turns into forty calls,
// spends as many tokens as the calls it makes, whatever the surface (chat,
// OpenAI-compatible, MCP over HTTP or stdio, Slack, product API, CLI).
type Limits struct {
	// ToolCallsPerMinute is each user's sustained tool call rate (default
	// 300; negative: no limit). ToolCallBurst is how many may come at once
	// (default 100).
	ToolCallsPerMinute float64 `yaml:"tool_calls_per_minute"`
	ToolCallBurst      int     `yaml:"tool_call_burst"`
	// ConcurrentToolCalls caps one user's calls in flight (default 8;
	// negative: no cap); more are refused at once rather than queued, so
	// they hold nothing.
	ConcurrentToolCalls int `yaml:"concurrent_tool_calls"`
	// ModelTurnsPerMinute and ModelTurnBurst bound each user's model turns
	// (defaults 120 and 40; negative: no limit).
	ModelTurnsPerMinute float64 `yaml:"model_turns_per_minute"`
	ModelTurnBurst      int     `yaml:"model_turn_burst"`
}

// NoLimits is no budget at all: in-process runs of one operator (suites,
// evaluations, benchmarks, the CLI), never a served surface.
var NoLimits = Limits{ToolCallsPerMinute: -1, ConcurrentToolCalls: -1, ModelTurnsPerMinute: -1}

func (l Limits) withDefaults() Limits {
	if l.ToolCallsPerMinute == 0 {
		l.ToolCallsPerMinute = 300
	}
	if l.ToolCallBurst <= 0 {
		l.ToolCallBurst = 100
	}
	if l.ConcurrentToolCalls == 0 {
		l.ConcurrentToolCalls = 8
	}
	if l.ModelTurnsPerMinute == 0 {
		l.ModelTurnsPerMinute = 120
	}
	if l.ModelTurnBurst <= 0 {
		l.ModelTurnBurst = 40
	}
	return l
}

// LimitError is a call or model turn refused because its user spent their
// budget. Nothing ran, so nothing was read and there is no audit record:
// the log records access decisions, and an attacker must not be able to
// grow it at will with refusals.
type LimitError struct {
	Subject    string
	What       string // "tool calls", "tool calls in flight", "model turns"
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("rate limited: %s made too many %s; retry in %d s", e.Subject, e.What, e.RetrySeconds())
}

// RetrySeconds is RetryAfter rounded up to whole seconds, at least 1.
func (e *LimitError) RetrySeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// Runner runs tool calls; *Executor and *Limited implement it.
type Runner interface {
	Call(ctx context.Context, caller Caller, call Call) (*Result, error)
}

// Limiter keeps each user's budgets. One Limiter is shared by every surface
// of a process, so a user cannot multiply their budget by switching surface.
type Limiter struct {
	l Limits

	mu        sync.Mutex
	users     map[string]*userBudget
	lastSweep time.Time
	refused   func(what string)
}

type userBudget struct {
	calls, turns *rate.Limiter
	inFlight     int
	seen         time.Time
}

// NewLimiter returns a Limiter with l's budgets (zero fields: defaults).
func NewLimiter(l Limits) *Limiter {
	return &Limiter{l: l.withDefaults(), users: map[string]*userBudget{}, lastSweep: time.Now()}
}

// OnRefused is told about every refusal (metrics).
func (l *Limiter) OnRefused(f func(what string)) { l.refused = f }

// Limits are the budgets in force.
func (l *Limiter) Limits() Limits { return l.l }

func newBucket(perMinute float64, burst int) *rate.Limiter {
	if perMinute < 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	return rate.NewLimiter(rate.Limit(perMinute/60), burst)
}

func (l *Limiter) budget(subject string, now time.Time) *userBudget {
	b, ok := l.users[subject]
	if !ok {
		b = &userBudget{calls: newBucket(l.l.ToolCallsPerMinute, l.l.ToolCallBurst), turns: newBucket(l.l.ModelTurnsPerMinute, l.l.ModelTurnBurst)}
		l.users[subject] = b
	}
	b.seen = now
	if now.Sub(l.lastSweep) > 10*time.Minute {
		for id, u := range l.users {
			// Idle long enough to have refilled: the same as a new budget.
			if u.inFlight == 0 && now.Sub(u.seen) > 10*time.Minute {
				delete(l.users, id)
			}
		}
		l.lastSweep = now
	}
	return b
}

func take(lim *rate.Limiter, now time.Time) (bool, time.Duration) {
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Minute
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (l *Limiter) refuse(subject, what string, wait time.Duration) error {
	if l.refused != nil {
		l.refused(what)
	}
	return &LimitError{Subject: subject, What: what, RetryAfter: wait}
}

// acquire takes one tool call from subject's budget; release must be called
// when the call ends.
func (l *Limiter) acquire(subject string) (release func(), err error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.budget(subject, now)
	if l.l.ConcurrentToolCalls > 0 && b.inFlight >= l.l.ConcurrentToolCalls {
		return nil, l.refuse(subject, "tool calls in flight", time.Second)
	}
	if ok, wait := take(b.calls, now); !ok {
		return nil, l.refuse(subject, "tool calls", wait)
	}
	b.inFlight++
	return func() {
		l.mu.Lock()
		b.inFlight--
		l.mu.Unlock()
	}, nil
}

// Turn takes one model turn from subject's budget.
func (l *Limiter) Turn(subject string) error {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if ok, wait := take(l.budget(subject, now).turns, now); !ok {
		return l.refuse(subject, "model turns", wait)
	}
	return nil
}

// Limited runs tool calls through next within each caller's budget.
type Limited struct {
	next Runner
	lim  *Limiter
}

// Admit lets next say whether the caller may use the catalog at all, when
// next can (the executor); it spends no budget, as it reads nothing.
func (t *Limited) Admit(ctx context.Context, caller Caller) error {
	if a, ok := t.next.(interface {
		Admit(context.Context, Caller) error
	}); ok {
		return a.Admit(ctx, caller)
	}
	return nil
}

// Wrap returns next with l's budgets applied to every call.
func (l *Limiter) Wrap(next Runner) *Limited { return &Limited{next: next, lim: l} }

// Call refuses the call with a *LimitError when its caller is over budget,
// else runs it.
func (t *Limited) Call(ctx context.Context, caller Caller, call Call) (*Result, error) {
	release, err := t.lim.acquire(caller.Subject.ID)
	if err != nil {
		return nil, err
	}
	defer release()
	return t.next.Call(ctx, caller, call)
}
