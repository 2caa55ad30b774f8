package assistant

import (
	"container/list"
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Memory keeps conversations between questions. A conversation belongs to
// one subject: the key is (subject, conversation id), so a person can never
// load another person's history by guessing or sharing an id.
type Memory interface {
	Load(ctx context.Context, subject, conversationID string) ([]Message, error)
	Save(ctx context.Context, subject, conversationID string, msgs []Message) error
}

// MemoryLimits bound what a conversation keeps.
type MemoryLimits struct {
	TTL              time.Duration // idle conversations are forgotten (default 24h)
	MaxMessages      int           // per conversation; oldest turns are dropped first (default 60)
	MaxBytes         int           // per conversation, JSON size (default 256 KiB)
	MaxConversations int           // in-memory store only; least recently used dropped (default 10,000)
	// MaxPerUser bounds one user's conversations in the in-memory store
	// (default 50): a user's new conversation drops their own least recently
	// used one, never another user's.
	MaxPerUser int
}

// WithDefaults fills the limits left at zero; every Memory applies it.
func (l MemoryLimits) WithDefaults() MemoryLimits {
	if l.TTL <= 0 {
		l.TTL = 24 * time.Hour
	}
	if l.MaxMessages <= 0 {
		l.MaxMessages = 60
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 256 << 10
	}
	if l.MaxConversations <= 0 {
		l.MaxConversations = 10000
	}
	if l.MaxPerUser <= 0 {
		l.MaxPerUser = 50
	}
	return l
}

// Trim drops whole turns from the front until the conversation fits the
// limits. A turn starts at a user message, so the model never sees a tool
// result without the call that produced it.
func (l MemoryLimits) Trim(msgs []Message) []Message {
	l = l.WithDefaults()
	for len(msgs) > 0 && (len(msgs) > l.MaxMessages || jsonSize(msgs) > l.MaxBytes) {
		next := 1
		for next < len(msgs) && msgs[next].Role != RoleUser {
			next++
		}
		msgs = msgs[next:]
	}
	return msgs
}

// jsonSize is len(json.Marshal(ms)), 0 when that fails, without keeping
// the encoding (a conversation's, on every Save): Encode writes it, and a
// newline, only once it succeeded.
func jsonSize(ms []Message) int {
	var n byteCounter
	if json.NewEncoder(&n).Encode(ms) != nil {
		return 0
	}
	return int(n) - 1
}

// byteCounter is a writer that counts what it is given.
type byteCounter int

func (c *byteCounter) Write(p []byte) (int, error) { *c += byteCounter(len(p)); return len(p), nil }

// InMemory is the default Memory: one process, bounded, with a TTL.
type InMemory struct {
	mu     sync.Mutex
	limits MemoryLimits
	now    func() time.Time
	lru    *list.List // of *memEntry, most recent at front
	byKey  map[string]*list.Element
	users  map[string]int // conversations held per subject
}

type memEntry struct {
	key     string
	subject string
	msgs    []Message
	touched time.Time
}

// NewInMemory returns an in-memory conversation store.
func NewInMemory(limits MemoryLimits) *InMemory {
	return &InMemory{limits: limits.WithDefaults(), now: time.Now, lru: list.New(), byKey: map[string]*list.Element{}, users: map[string]int{}}
}

func memKey(subject, id string) string { return subject + "\x00" + id }

// Load returns a copy of the conversation, or nil if it is unknown or expired.
func (m *InMemory) Load(_ context.Context, subject, id string) ([]Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.byKey[memKey(subject, id)]
	if !ok {
		return nil, nil
	}
	e := el.Value.(*memEntry)
	if m.now().Sub(e.touched) > m.limits.TTL {
		m.remove(el)
		return nil, nil
	}
	return append([]Message(nil), e.msgs...), nil
}

// Save replaces the conversation, trimmed to the limits.
func (m *InMemory) Save(_ context.Context, subject, id string, msgs []Message) error {
	msgs = m.limits.Trim(append([]Message(nil), msgs...))
	m.mu.Lock()
	defer m.mu.Unlock()
	key := memKey(subject, id)
	if el, ok := m.byKey[key]; ok {
		e := el.Value.(*memEntry)
		e.msgs, e.touched = msgs, m.now()
		m.lru.MoveToFront(el)
		return nil
	}
	if m.users[subject] >= m.limits.MaxPerUser {
		for el := m.lru.Back(); el != nil; el = el.Prev() {
			if el.Value.(*memEntry).subject == subject {
				m.remove(el)
				break
			}
		}
	}
	m.byKey[key] = m.lru.PushFront(&memEntry{key: key, subject: subject, msgs: msgs, touched: m.now()})
	m.users[subject]++
	for m.lru.Len() > m.limits.MaxConversations {
		m.remove(m.lru.Back())
	}
	return nil
}

func (m *InMemory) remove(el *list.Element) {
	e := el.Value.(*memEntry)
	m.lru.Remove(el)
	delete(m.byKey, e.key)
	if m.users[e.subject]--; m.users[e.subject] <= 0 {
		delete(m.users, e.subject)
	}
}

// Len is the number of conversations held.
func (m *InMemory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}
