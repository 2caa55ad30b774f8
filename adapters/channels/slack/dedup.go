package slack

import (
	"context"
	"sync"
	"time"
)

// Deduper remembers event ids, so that Slack's retries of an event (it
// retries when an ack is slow or lost) never produce a second answer.
type Deduper interface {
	// FirstSeen records id and reports whether this is its first delivery.
	FirstSeen(ctx context.Context, id string) (bool, error)
}

// memoryDeduper is the single-replica default.
type memoryDeduper struct {
	mu   sync.Mutex
	ttl  time.Duration
	seen map[string]time.Time
	now  func() time.Time
}

func newMemoryDeduper(ttl time.Duration) *memoryDeduper {
	return &memoryDeduper{ttl: ttl, seen: map[string]time.Time{}, now: time.Now}
}

func (d *memoryDeduper) FirstSeen(_ context.Context, id string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if t, ok := d.seen[id]; ok && now.Sub(t) < d.ttl {
		return false, nil
	}
	d.seen[id] = now
	if len(d.seen) > 10000 { // sweep occasionally; Slack retries within minutes
		for k, t := range d.seen {
			if now.Sub(t) >= d.ttl {
				delete(d.seen, k)
			}
		}
	}
	return true, nil
}
