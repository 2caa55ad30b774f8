// Package rest is the product backend for data products served by their own
// HTTP APIs (adapters/productapi, or any API with the same contract). It
// turns validated plans into GET requests, signs a short-lived JWT for the
// asker on every call (audience = the product), retries idempotent requests
// on transient failures, and keeps a circuit breaker per product API so one
// slow or dead domain fails fast instead of stalling the assistant.
//
// The executor has authorized the call, merged policy row filters into the
// plan and will mask the result; the product API decides again for the same
// asker (defence in depth), so the rows are those the SQL backend returns.
package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/askmesh/askmesh/adapters/channels/productapi"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/retry"
	"github.com/askmesh/askmesh/tools"
)

// Options configure a Backend.
type Options struct {
	// Signer signs the per-call token for the asker; without it, only
	// bindings with a static token (tokenEnv) can be called.
	Signer *productapi.Signer
	// Client sends the requests (default: a client with no global timeout;
	// each attempt has its own).
	Client *http.Client
	// AttemptTimeout bounds one attempt (default 10s); MaxRetries is how
	// often a failed idempotent request is retried (default 2; negative: never).
	AttemptTimeout time.Duration
	MaxRetries     int
	RetryDelay     time.Duration // first backoff (default 200ms)
	// FailuresToOpen consecutive failures open a product API's circuit
	// (default 5); it stays open for OpenFor (default 30s), then lets one
	// trial request through.
	FailuresToOpen uint32
	OpenFor        time.Duration
	Logger         *slog.Logger
	// Secret looks up a secret a descriptor names (a binding's tokenEnv);
	// the wiring passes the process environment's. Nil: no secrets.
	Secret func(name string) (string, bool)
}

// Backend runs plans against product APIs. It is safe for concurrent use.
type Backend struct {
	o        Options
	mu       sync.Mutex
	breakers map[string]*gobreaker.CircuitBreaker[*reply]
}

var _ tools.Backend = (*Backend)(nil)

// New returns a Backend.
func New(o Options) *Backend {
	if o.Client == nil {
		// No redirects: a product API that redirects a call elsewhere is
		// answering a different resource than the one the call was checked for.
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 10 * time.Second
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 2
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 200 * time.Millisecond
	}
	if o.FailuresToOpen == 0 {
		o.FailuresToOpen = 5
	}
	if o.OpenFor <= 0 {
		o.OpenFor = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Backend{o: o, breakers: map[string]*gobreaker.CircuitBreaker[*reply]{}}
}

// reply is a product API's answer: a status below 500 and its body.
type reply struct {
	status int
	body   []byte
}

// errServer marks answers that count against a product API's health.
var errServer = errors.New("server error")

func (b *Backend) breaker(base string) *gobreaker.CircuitBreaker[*reply] {
	b.mu.Lock()
	defer b.mu.Unlock()
	cb, ok := b.breakers[base]
	if !ok {
		n := b.o.FailuresToOpen
		cb = gobreaker.NewCircuitBreaker[*reply](gobreaker.Settings{
			Name:        base,
			Timeout:     b.o.OpenFor,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= n },
			// The asker giving up says nothing about the product's health.
			IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
			OnStateChange: func(name string, from, to gobreaker.State) {
				b.o.Logger.Warn("product API circuit changed", "api", name, "from", from.String(), "to", to.String())
			},
		})
		b.breakers[base] = cb
	}
	return cb
}

// UnavailableError is a product API that could not answer: unreachable,
// failing, too slow, or its circuit open after repeated failures.
type UnavailableError struct {
	Product string
	URL     string
	Err     error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%s is unavailable: its API at %s: %v", e.Product, e.URL, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// get sends one GET to the product's API and returns the reply (any status
// below 500). Transient failures are retried; the breaker sees the outcome.
func (b *Backend) get(ctx context.Context, p *catalog.Product, path string, q url.Values) (*reply, error) {
	base := strings.TrimRight(p.Binding.URL, "/")
	if base == "" {
		return nil, fmt.Errorf("%s has a rest binding without a url", p.Name)
	}
	u := base + "/products/" + url.PathEscape(p.Name) + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	auth, err := b.authorization(ctx, p)
	if err != nil {
		return nil, err
	}
	caller, _ := tools.CallerFromContext(ctx)
	cb := b.breaker(base)
	rep, err := cb.Execute(func() (*reply, error) {
		var out *reply
		err := retry.Do(ctx, retry.Policy{MaxRetries: b.o.MaxRetries, Timeout: b.o.AttemptTimeout, BaseDelay: b.o.RetryDelay, MaxDelay: 2 * time.Second},
			func(actx context.Context) error {
				req, err := http.NewRequestWithContext(actx, http.MethodGet, u, nil)
				if err != nil {
					return retry.Permanent(err)
				}
				req.Header.Set("Authorization", auth)
				req.Header.Set("Accept", "application/json")
				if caller.RequestID != "" {
					req.Header.Set("X-Request-ID", caller.RequestID)
				}
				resp, err := retry.Doer{Client: b.o.Client}.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
				if err != nil {
					return fmt.Errorf("read the answer: %w", err)
				}
				if resp.StatusCode >= 500 {
					return fmt.Errorf("%w: %s", errServer, problemText(resp.StatusCode, body))
				}
				if resp.StatusCode == http.StatusTooManyRequests {
					return fmt.Errorf("%s", problemText(resp.StatusCode, body))
				}
				out = &reply{status: resp.StatusCode, body: body}
				return nil
			})
		return out, err
	})
	if err != nil {
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			err = errors.New("it failed repeatedly, so it is not called for a while (circuit open)")
		}
		return nil, &UnavailableError{Product: p.Name, URL: base, Err: err}
	}
	return rep, nil
}

// authorization is the Authorization header of a call: a token signed for
// the asker when there is one, else the binding's static token.
func (b *Backend) authorization(ctx context.Context, p *catalog.Product) (string, error) {
	if c, ok := tools.CallerFromContext(ctx); ok && c.Subject.ID != "" && b.o.Signer != nil {
		tok, err := b.o.Signer.Sign(c.Subject.ID, p.Name, productapi.Claims{Channel: c.Channel, RequestID: c.RequestID, ConversationID: c.ConversationID})
		if err != nil {
			return "", err
		}
		return "Bearer " + tok, nil
	}
	if env := p.Binding.TokenEnv; env != "" {
		if b.o.Secret != nil {
			if v, ok := b.o.Secret(env); ok && v != "" {
				return "Bearer " + v, nil
			}
		}
		return "", fmt.Errorf("%s: the environment variable %s holds no token", p.Name, env)
	}
	return "", fmt.Errorf("%s: no identity to call its API with (no asker and no tokenEnv)", p.Name)
}

func problemText(status int, body []byte) string {
	var pr productapi.Problem
	if json.Unmarshal(body, &pr) == nil && (pr.Detail != "" || pr.Title != "") {
		if pr.Detail == "" {
			return fmt.Sprintf("%d %s", status, pr.Title)
		}
		return fmt.Sprintf("%d %s: %s", status, pr.Title, pr.Detail)
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return fmt.Sprintf("%d %s %s", status, http.StatusText(status), s)
}

// page is the JSON body of a product API answer (productapi.Response);
// numbers stay json.Number until their column's type is known.
type page struct {
	Columns    []tools.ResultColumn `json:"columns"`
	Data       []map[string]any     `json:"data"`
	TotalCount *int64               `json:"total_count"`
	Notes      []string             `json:"notes"`
}

// decode turns an answer into a Result, or a refusal into an error.
func decode(p *catalog.Product, tool string, rep *reply) (*tools.Result, error) {
	var pg page
	if rep.status != http.StatusOK {
		return nil, fmt.Errorf("%s refused %s: %s", p.Name, tool, problemText(rep.status, rep.body))
	}
	dec := json.NewDecoder(bytes.NewReader(rep.body))
	dec.UseNumber()
	if err := dec.Decode(&pg); err != nil {
		return nil, fmt.Errorf("%s: its API's answer to %s is not valid: %w", p.Name, tool, err)
	}
	res := &tools.Result{Tool: tool, Product: p.Name, Columns: pg.Columns, Rows: make([][]any, 0, len(pg.Data)), TotalCount: pg.TotalCount}
	for _, obj := range pg.Data {
		row := make([]any, len(pg.Columns))
		for i, c := range pg.Columns {
			v, err := value(obj[c.Name], c.Type)
			if err != nil {
				return nil, fmt.Errorf("%s: column %s: %w", p.Name, c.Name, err)
			}
			row[i] = v
		}
		res.Rows = append(res.Rows, row)
	}
	res.RowCount = len(res.Rows)
	res.Notes = backendNotes(pg.Notes)
	return res, nil
}

// value converts a decoded JSON value to the Go type the SQL backend gives
// the column's logical type: int64, float64, bool, string or nil.
func value(v any, typ string) (any, error) {
	switch t := v.(type) {
	case nil, string, bool:
		return t, nil
	case json.Number:
		if typ == catalog.TypeInteger {
			return t.Int64()
		}
		return t.Float64()
	}
	raw, _ := json.Marshal(v)
	return nil, fmt.Errorf("unexpected value %s", raw)
}

// backendNotes keeps the notes a product's store wrote and drops those its
// executor wrote about policy and limits: askmesh's executor writes the
// same ones itself, and saying them twice says nothing more.
func backendNotes(notes []string) []string {
	var out []string
	for _, n := range notes {
		switch {
		case strings.HasPrefix(n, "withheld by policy: "), strings.HasSuffix(n, " (policy)"),
			strings.HasPrefix(n, "no ") && strings.HasSuffix(n, " that you may see"),
			strings.HasPrefix(n, "limit ") && strings.Contains(n, " lowered to the maximum"):
			continue
		}
		out = append(out, n)
	}
	return out
}

// params encodes conditions as filter parameters: column=value,
// column[op]=value, lists as repeated parameters.
func params(q url.Values, cs []tools.Condition) error {
	for _, c := range cs {
		switch c.Op {
		case tools.OpIsNull, tools.OpIsNotNull:
			q.Add(c.Column+"[null]", strconv.FormatBool(c.Op == tools.OpIsNull))
			continue
		}
		op, ok := productapi.ParamOp(c.Op)
		if !ok {
			return fmt.Errorf("filter operator %q has no query parameter", c.Op)
		}
		key := c.Column + "[" + op + "]"
		if c.Op == tools.OpEq {
			key = c.Column
		}
		vals, isList := c.Value.([]any)
		if !isList {
			q.Add(key, text(c.Value))
			continue
		}
		if q.Has(key) {
			// Repeated list parameters would merge into one list.
			return fmt.Errorf("two %s filters on %s cannot be sent to a product API", c.Op, c.Column)
		}
		for _, v := range vals {
			q.Add(key, text(v))
		}
		if len(vals) == 1 && strings.Contains(text(vals[0]), ",") {
			q.Add(key, text(vals[0])) // a lone value with a comma would be split
		}
	}
	return nil
}

func text(v any) string {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Format(time.RFC3339Nano)
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(t, 10)
	case bool:
		return strconv.FormatBool(t)
	case string:
		return t
	}
	return fmt.Sprint(v)
}

// rangeParams sends a resolved range as exact instants: the product
// resolves "FROM..TO" instants to the same half-open range.
func rangeParams(q url.Values, r tools.Range) {
	if !r.From.IsZero() {
		q.Set("start_date", r.From.UTC().Format(time.RFC3339Nano))
	}
	if !r.To.IsZero() {
		q.Set("end_date", r.To.UTC().Format(time.RFC3339Nano))
	}
}

func sortParam(q url.Values, order []tools.Sort) {
	if len(order) == 0 {
		return
	}
	fs := make([]string, len(order))
	for i, s := range order {
		fs[i] = s.Field
		if s.Desc {
			fs[i] = "-" + s.Field
		}
	}
	q.Set("sort", strings.Join(fs, ","))
}

// QueryRecords fetches one page of records.
func (b *Backend) QueryRecords(ctx context.Context, plan tools.RecordsPlan) (*tools.Result, error) {
	q := url.Values{}
	if err := params(q, plan.Filters); err != nil {
		return nil, err
	}
	q.Set("columns", strings.Join(plan.Columns, ","))
	rangeParams(q, plan.Range)
	sortParam(q, plan.Order)
	if plan.Limit > 0 {
		q.Set("limit", strconv.Itoa(plan.Limit))
	}
	if plan.Offset > 0 {
		q.Set("offset", strconv.Itoa(plan.Offset))
	}
	rep, err := b.get(ctx, plan.Product, "/records", q)
	if err != nil {
		return nil, err
	}
	return decode(plan.Product, tools.ToolQueryRecords, rep)
}

// QueryMetrics computes metrics on the product's side.
func (b *Backend) QueryMetrics(ctx context.Context, plan tools.MetricsPlan) (*tools.Result, error) {
	q := url.Values{}
	if err := params(q, plan.Filters); err != nil {
		return nil, err
	}
	q.Set("metrics", strings.Join(plan.Metrics, ","))
	if len(plan.GroupBy) > 0 {
		q.Set("group_by", strings.Join(plan.GroupBy, ","))
	}
	if plan.Grain != "" {
		q.Set("time_grain", plan.Grain)
	}
	rangeParams(q, plan.Range)
	if plan.CompareTo != "" {
		q.Set("compare_to", plan.CompareTo)
		if !sameCompare(plan) {
			// Instants cannot say "this month so far": a calendar period that
			// contains today compares with the same part of the previous
			// period, which only its name conveys.
			q.Del("start_date")
			q.Del("end_date")
			q.Set("time_range", plan.Range.Label)
		}
	}
	sortParam(q, plan.Order)
	if plan.Limit > 0 {
		q.Set("limit", strconv.Itoa(plan.Limit))
	}
	rep, err := b.get(ctx, plan.Product, "/metrics", q)
	if err != nil {
		return nil, err
	}
	return decode(plan.Product, tools.ToolQueryMetrics, rep)
}

// sameCompare reports whether the product, given the range as instants,
// derives the plan's comparison range.
func sameCompare(plan tools.MetricsPlan) bool {
	r := plan.Range
	if r.From.IsZero() || r.To.IsZero() {
		return false
	}
	s := r.From.UTC().Format(time.RFC3339Nano) + ".." + r.To.UTC().Format(time.RFC3339Nano)
	c, err := tools.CompareRange(s, r.To, plan.CompareTo)
	return err == nil && c.From.Equal(plan.Compare.From) && c.To.Equal(plan.Compare.To)
}

// GetRecord fetches one record; one the product does not show is not found.
func (b *Backend) GetRecord(ctx context.Context, plan tools.GetPlan) (*tools.Result, error) {
	notFound := func() *tools.Result {
		cols := make([]tools.ResultColumn, 0, len(plan.Columns))
		for _, name := range plan.Columns {
			c, _ := plan.Product.Column(name)
			cols = append(cols, tools.ResultColumn{Name: name, Type: c.Type})
		}
		return &tools.Result{Tool: tools.ToolGetRecord, Product: plan.Product.Name, Columns: cols, Rows: [][]any{}}
	}
	// An id that cannot be a key is no record; it is never put in a path,
	// where "." or ".." would name another resource.
	if productapi.ValidRecordID(plan.Product, plan.ID) != nil {
		return notFound(), nil
	}
	rep, err := b.get(ctx, plan.Product, "/records/"+url.PathEscape(plan.ID), nil)
	if err != nil {
		return nil, err
	}
	if rep.status == http.StatusNotFound {
		var pr productapi.Problem
		if json.Unmarshal(rep.body, &pr) == nil && pr.Type == productapi.ProblemBase+"record-not-found" {
			return notFound(), nil
		}
	}
	res, err := decode(plan.Product, tools.ToolGetRecord, rep)
	if err == nil && len(res.Rows) > 1 {
		// One id is one record: more is another resource's answer.
		return nil, &UnavailableError{Product: plan.Product.Name, URL: plan.Product.Binding.URL,
			Err: fmt.Errorf("it answered one record id with %d rows", len(res.Rows))}
	}
	return res, err
}

// FindAnomalies asks the product for its anomalies.
func (b *Backend) FindAnomalies(ctx context.Context, plan tools.AnomaliesPlan) (*tools.Result, error) {
	q := url.Values{}
	if err := params(q, plan.Filters); err != nil {
		return nil, err
	}
	rangeParams(q, plan.Range)
	if plan.Limit > 0 {
		q.Set("limit", strconv.Itoa(plan.Limit))
	}
	rep, err := b.get(ctx, plan.Product, "/anomalies", q)
	if err != nil {
		return nil, err
	}
	return decode(plan.Product, tools.ToolFindAnomalies, rep)
}
