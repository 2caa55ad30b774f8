package productapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// Notify tells the streams of a product that records were added, so they
// send them at once instead of at their next poll.
func (s *Server) Notify(product string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs[product] {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

func (s *Server) subscribe(product string) (chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	if s.subs[product] == nil {
		s.subs[product] = map[chan struct{}]struct{}{}
	}
	s.subs[product][ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.subs[product], ch)
		s.mu.Unlock()
	}
}

// position is the last record a stream sent: its time (RFC 3339, to the
// second, as results carry it) and key. Records are sent in (time, key) order.
type position struct{ time, key string }

func (a position) before(b position) bool {
	if a.time != b.time {
		return a.time < b.time
	}
	return a.key < b.key
}

func (p position) String() string { return p.time + "|" + p.key }

// stream sends the product's new records as Server-Sent Events ("record"
// events, id = time|key, so a client reconnecting with Last-Event-ID resumes
// where it was). Every fetch goes through the executor: the caller sees only
// the rows and columns policy allows, and each fetch that returns rows is audited.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, p *catalog.Product, c tools.Caller) {
	if p.TimeColumn == "" || p.KeyColumn == "" || !p.Has(catalog.CapRecords) {
		writeProblem(w, r, http.StatusBadRequest, "bad-request", "Bad request", p.Name+" has no time-ordered records to stream")
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeProblem(w, r, http.StatusInternalServerError, "internal", "Internal error", "streaming is not supported by this server")
		return
	}
	release, ok := s.openStream(c.Subject.ID)
	if !ok {
		w.Header().Set("Retry-After", "30")
		writeProblem(w, r, http.StatusTooManyRequests, "rate-limited", "Too many requests",
			fmt.Sprintf("too many open streams (at most %d per caller, %d in all); close one first", s.maxUserStreams, s.maxStreams))
		return
	}
	defer release()
	ctx := r.Context()
	// Subscribe before finding the start, so nothing added in between is missed.
	wake, unsubscribe := s.subscribe(p.Name)
	defer unsubscribe()
	var last position
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		t, k, _ := strings.Cut(id, "|")
		last = position{t, k}
	} else {
		res, err := s.call(ctx, c, tools.ToolQueryRecords, tools.QueryRecordsArgs{Product: p.Name,
			Columns: []string{p.TimeColumn, p.KeyColumn},
			OrderBy: []tools.OrderBy{{Field: p.TimeColumn, Direction: "desc"}, {Field: p.KeyColumn, Direction: "desc"}}, Limit: 1})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(res.Rows) == 1 {
			last = position{fmt.Sprint(res.Rows[0][0]), fmt.Sprint(res.Rows[0][1])}
		}
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, ": new records of %s after %s\nretry: 2000\n\n", p.Name, last)
	flusher.Flush()
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
		next, err := s.sendNew(ctx, w, p, c, last)
		if err != nil {
			// The stream already started: report in-band and end it.
			b, _ := json.Marshal(map[string]string{"detail": err.Error(), "audit_id": tools.AuditIDOf(err)})
			fmt.Fprintf(w, "event: error\ndata: %s\n\n", b)
			flusher.Flush()
			return
		}
		last = next
		flusher.Flush()
	}
}

// sendNew sends the records after last, page by page, and returns the new position.
func (s *Server) sendNew(ctx context.Context, w http.ResponseWriter, p *catalog.Product, c tools.Caller, last position) (position, error) {
	for {
		a := tools.QueryRecordsArgs{Product: p.Name,
			OrderBy: []tools.OrderBy{{Field: p.TimeColumn}, {Field: p.KeyColumn}}, Limit: tools.MaxLimit}
		if last.time != "" {
			// Results carry times to the second: re-read that second and skip what was sent.
			a.Filters = []tools.Filter{{Column: p.TimeColumn, Op: tools.OpGe, Value: last.time}}
		}
		res, err := s.call(ctx, c, tools.ToolQueryRecords, a)
		if err != nil {
			return last, err
		}
		ti, ki := -1, -1
		for i, col := range res.Columns {
			switch col.Name {
			case p.TimeColumn:
				ti = i
			case p.KeyColumn:
				ki = i
			}
		}
		if ti < 0 || ki < 0 {
			return last, fmt.Errorf("the time and key columns of %s must be visible to stream it", p.Name)
		}
		sent := 0
		for _, row := range res.Rows {
			pos := position{fmt.Sprint(row[ti]), fmt.Sprint(row[ki])}
			if !last.before(pos) {
				continue
			}
			b, err := json.Marshal(rowObject(res.Columns, row))
			if err != nil {
				return last, fmt.Errorf("encode record: %w", err)
			}
			if _, err := fmt.Fprintf(w, "id: %s\nevent: record\ndata: %s\n\n", pos, b); err != nil {
				return last, fmt.Errorf("write event: %w", err)
			}
			last, sent = pos, sent+1
		}
		if len(res.Rows) < tools.MaxLimit || sent == 0 {
			return last, nil
		}
	}
}

// openStream counts a caller's stream in, or refuses it past the caps: a
// stream holds a connection and a poller for as long as the client likes.
func (s *Server) openStream(caller string) (release func(), ok bool) {
	s.streamsMu.Lock()
	defer s.streamsMu.Unlock()
	if s.openStreams >= s.maxStreams || s.streams[caller] >= s.maxUserStreams {
		return nil, false
	}
	s.openStreams++
	s.streams[caller]++
	return func() {
		s.streamsMu.Lock()
		defer s.streamsMu.Unlock()
		s.openStreams--
		if s.streams[caller]--; s.streams[caller] <= 0 {
			delete(s.streams, caller)
		}
	}, true
}
