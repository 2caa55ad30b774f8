package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// Watch bounds.
const (
	watchDefaultInterval = 2 * time.Second
	watchMinInterval     = time.Second
	watchMaxInterval     = 30 * time.Second
	watchMaxPerUser      = 3
	// watchBatch is the page one poll asks for; a full page is followed at
	// once by the next, so a burst is released in several audited batches.
	watchBatch = 100
	// watchMaxSeenKeys bounds the "not in" filter that keeps already sent
	// rows of the last second out of the next poll.
	watchMaxSeenKeys = 200
)

// watcher serves GET /v1/watch/{product}: new records of a product as
// server-sent events. Every poll is an executor call (query_records) made
// for the watcher, so policy's row filters, masks and denials apply exactly
// as in the chat, and every batch released has its audit record.
type watcher struct {
	s      *Server
	mu     sync.Mutex
	active map[string]int // subject -> open watches
}

func (s *Server) watchHandler() http.HandlerFunc {
	w := &watcher{s: s, active: map[string]int{}}
	return w.serve
}

// watchRecords is the data of an "records" event.
type watchRecords struct {
	Product string               `json:"product"`
	Columns []tools.ResultColumn `json:"columns"`
	Rows    [][]any              `json:"rows"`
	// Display is each cell as people read it (times as dates, amounts with
	// their currency), as in an answer's tables.
	Display [][]string        `json:"display"`
	Masked  map[string]string `json:"masked,omitempty"`
	Notes   []string          `json:"notes,omitempty"`
	AuditID string            `json:"audit_id"`
}

// watchProblem is the data of "denied" and "error" events.
type watchProblem struct {
	Product string `json:"product"`
	Reason  string `json:"reason"`
	AuditID string `json:"audit_id,omitempty"`
}

func (wt *watcher) acquire(subject string) bool {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if wt.active[subject] >= watchMaxPerUser {
		return false
	}
	wt.active[subject]++
	return true
}

func (wt *watcher) release(subject string) {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if wt.active[subject]--; wt.active[subject] <= 0 {
		delete(wt.active, subject)
	}
}

// parseInterval reads ?interval= as seconds ("5") or a duration ("5s").
func parseInterval(v string) (time.Duration, error) {
	if v == "" {
		return watchDefaultInterval, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.ParseFloat(v, 64)
		if nerr != nil {
			return 0, fmt.Errorf("interval %q is neither seconds nor a duration", v)
		}
		d = time.Duration(n * float64(time.Second))
	}
	if d < watchMinInterval || d > watchMaxInterval {
		return 0, fmt.Errorf("interval must be between %s and %s", watchMinInterval, watchMaxInterval)
	}
	return d, nil
}

func (wt *watcher) product(name string) *catalog.Product {
	if wt.s.o.Catalog == nil {
		return nil
	}
	for _, p := range wt.s.o.Catalog.List() {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func (wt *watcher) serve(w http.ResponseWriter, r *http.Request) {
	s := wt.s
	if s.o.Executor == nil || s.o.Catalog == nil {
		writeError(w, http.StatusNotImplemented, "not_implemented", "this server cannot watch products (no executor or catalog)")
		return
	}
	name := r.PathValue("product")
	p := wt.product(name)
	if p == nil {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no data product %q", name))
		return
	}
	if p.TimeColumn == "" || !p.Has(catalog.CapRecords) {
		writeError(w, http.StatusBadRequest, "invalid_request", p.Name+" has no time-ordered records to watch")
		return
	}
	interval, err := parseInterval(r.URL.Query().Get("interval"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	subj := subjectOf(r)
	if !wt.acquire(subj.ID) {
		writeError(w, http.StatusTooManyRequests, "too_many_watches",
			fmt.Sprintf("%s already has %d watches open; close one first", subj.ID, watchMaxPerUser))
		return
	}
	defer wt.release(subj.ID)

	c := callerOf(r, channelOf(r))
	c.Question = "watch new records of " + p.Name
	ctx := r.Context()
	s.metrics.Question(c.Channel)

	// Start from now: the newest time the watcher may see, through the
	// executor like every other read, so history is not replayed.
	cur := &watchCursor{p: p}
	start, err := wt.call(ctx, c, tools.QueryRecordsArgs{Product: p.Name, Columns: []string{p.TimeColumn},
		OrderBy: []tools.OrderBy{{Field: p.TimeColumn, Direction: "desc"}}, Limit: 1})
	if err != nil {
		wt.refuse(w, r, p, err)
		return
	}
	if len(start.Rows) == 1 && len(start.Rows[0]) == 1 {
		if t, ok := parseResultTime(start.Rows[0][0]); ok {
			// Results carry times to the second: what is in that second is
			// history too, so the first poll starts at the next one.
			cur.from = t.Add(time.Second)
		}
	}

	w.Header().Set("X-Askmesh-Request-Id", c.RequestID)
	out := startSSE(w)
	stop := out.keepAlive(s.lim.KeepAlive)
	defer stop()
	out.comment(fmt.Sprintf("new records of %s from %s, every %s", p.Name, cur.fromText(), interval))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if done := wt.poll(ctx, out, c, cur); done {
			return
		}
	}
}

// refuse answers a watch that cannot start.
func (wt *watcher) refuse(w http.ResponseWriter, r *http.Request, p *catalog.Product, err error) {
	var d *tools.DeniedError
	var u *tools.UnavailableError
	var a *tools.ArgumentError
	var body errorBody
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &d):
		status, body = http.StatusForbidden, newError(http.StatusForbidden, "denied", d.Reason)
	case errors.As(err, &u):
		status, body = http.StatusServiceUnavailable, newError(http.StatusServiceUnavailable, "unavailable", u.Error())
	case errors.As(err, &a):
		status, body = http.StatusBadRequest, newError(http.StatusBadRequest, "invalid_request", a.Message)
	default:
		wt.s.log.ErrorContext(r.Context(), "watch could not start", "product", p.Name, "err", err)
		body = newError(status, "internal", "the watch could not start; quote request id "+RequestID(r.Context()))
	}
	writeJSON(w, status, struct {
		errorBody
		AuditID string `json:"audit_id,omitempty"`
	}{body, tools.AuditIDOf(err)})
}

func (wt *watcher) call(ctx context.Context, c tools.Caller, a tools.QueryRecordsArgs) (*tools.Result, error) {
	return wt.s.call(ctx, c, tools.ToolQueryRecords, a)
}

// poll releases the records added since the last poll, page by page, and
// reports whether the stream is over.
func (wt *watcher) poll(ctx context.Context, out *sse, c tools.Caller, cur *watchCursor) bool {
	for ctx.Err() == nil {
		res, err := wt.call(ctx, c, cur.args())
		if err != nil {
			if ctx.Err() != nil {
				return true
			}
			var d *tools.DeniedError
			var u *tools.UnavailableError
			switch {
			case errors.As(err, &d):
				// Policy changed while watching: the denial is audited; stop.
				out.send("denied", mustJSON(watchProblem{Product: cur.p.Name, Reason: d.Reason, AuditID: d.AuditID}))
				return true
			case errors.As(err, &u):
				// The product's store is down: say so, and keep trying.
				out.send("error", mustJSON(watchProblem{Product: cur.p.Name, Reason: u.Error(), AuditID: u.AuditID}))
				return false
			default:
				wt.s.log.ErrorContext(ctx, "watch poll failed", "product", cur.p.Name, "err", err)
				out.send("error", mustJSON(watchProblem{Product: cur.p.Name, Reason: "the watch stopped: " + err.Error(), AuditID: tools.AuditIDOf(err)}))
				return true
			}
		}
		fresh, err := cur.advance(res)
		if err != nil {
			out.send("error", mustJSON(watchProblem{Product: cur.p.Name, Reason: err.Error(), AuditID: res.AuditID}))
			return true
		}
		if len(fresh) > 0 {
			out.send("records", mustJSON(watchRecords{Product: cur.p.Name, Columns: res.Columns, Rows: fresh,
				Display: assistant.DisplayRows(res.Columns, fresh), Masked: res.Masked, Notes: res.Notes, AuditID: res.AuditID}))
		}
		if out.isClosed() {
			return true
		}
		if len(res.Rows) < watchBatch || len(fresh) == 0 {
			return false
		}
	}
	return true
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"reason": "the event could not be encoded"})
	}
	return b
}

// watchCursor is how far a watch has got: the second of the last record
// sent and what was sent in that second. Results carry times to the second,
// so each poll re-reads that second (>=) and leaves out what was sent: by
// key with a "not in" filter when the key is visible in clear, else by
// comparing whole rows.
type watchCursor struct {
	p    *catalog.Product
	from time.Time       // poll from this second (inclusive)
	seen map[string]bool // identities of rows sent in that second
	keys []any           // their keys, when the key column is visible in clear
	// keyed is whether the key column came back unmasked in the last result.
	keyed bool
}

func (c *watchCursor) fromText() string {
	if c.from.IsZero() {
		return "the start"
	}
	return c.from.UTC().Format(time.RFC3339)
}

func (c *watchCursor) args() tools.QueryRecordsArgs {
	a := tools.QueryRecordsArgs{Product: c.p.Name, OrderBy: []tools.OrderBy{{Field: c.p.TimeColumn}}, Limit: watchBatch}
	if !c.from.IsZero() {
		a.Filters = append(a.Filters, tools.Filter{Column: c.p.TimeColumn, Op: tools.OpGe, Value: c.from.UTC().Format(time.RFC3339)})
	}
	if c.keyed && len(c.keys) > 0 && len(c.keys) <= watchMaxSeenKeys {
		a.Filters = append(a.Filters, tools.Filter{Column: c.p.KeyColumn, Op: tools.OpNotIn, Value: c.keys})
	}
	return a
}

// advance returns res's rows not sent yet and moves the cursor past them.
func (c *watchCursor) advance(res *tools.Result) ([][]any, error) {
	ti, ki := -1, -1
	for i, col := range res.Columns {
		switch col.Name {
		case c.p.TimeColumn:
			ti = i
		case c.p.KeyColumn:
			ki = i
		}
	}
	if ti < 0 {
		return nil, fmt.Errorf("%s must be visible to you to watch %s", c.p.TimeColumn, c.p.Name)
	}
	_, keyMasked := res.Masked[c.p.KeyColumn]
	keyed := ki >= 0 && !keyMasked
	var fresh [][]any
	for _, row := range res.Rows {
		t, ok := parseResultTime(row[ti])
		if !ok {
			return nil, fmt.Errorf("%s returned a time that is not RFC 3339: %v", c.p.Name, row[ti])
		}
		id := rowIdentity(row, ki, keyed)
		if t.Equal(c.from) && c.seen[id] {
			continue
		}
		if !t.Equal(c.from) || c.seen == nil {
			c.from, c.seen, c.keys = t, map[string]bool{}, nil
		}
		c.seen[id] = true
		if keyed {
			c.keys = append(c.keys, row[ki])
		}
		fresh = append(fresh, row)
	}
	c.keyed = keyed
	return fresh, nil
}

func rowIdentity(row []any, ki int, keyed bool) string {
	if keyed {
		return "k:" + fmt.Sprint(row[ki])
	}
	b, _ := json.Marshal(row)
	return "r:" + string(b)
}

func parseResultTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}
