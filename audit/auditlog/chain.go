package auditlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/askmesh/askmesh/audit"
	"github.com/google/uuid"
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("the audit store is closed")

const (
	// maxBatch bounds one group commit. Larger batches amortize the commit
	// further but make every caller in them wait for the slowest insert.
	maxBatch = 512
	// queueSize is how many appends may wait for the writer before Append
	// blocks (still respecting its context).
	queueSize = 4 * maxBatch
	// batchTimeout bounds one batch transaction, so a hung database cannot
	// hold the writer forever; callers' own contexts usually expire first.
	batchTimeout = 30 * time.Second
	// lingerMax bounds how long the writer waits for appends that callers
	// are preparing before it starts a batch.
	lingerMax = 300 * time.Microsecond
)

// storage is what a store gives the shared chain logic: a transaction that
// serializes writers (across processes too), reads the chain head and
// inserts a batch; and ordered reads for Search and Verify.
type storage interface {
	// begin starts a batch transaction holding the chain's writer lock.
	begin(ctx context.Context) (storageTx, error)
	// recordError reports whether err was caused by a record's content
	// (a constraint, a value) rather than by the database being unavailable,
	// so the batch is worth retrying record by record.
	recordError(err error) bool
	// search calls fn for each stored row matching q, in q's order.
	search(ctx context.Context, q audit.Query, fn func(*row) error) error
	// walk calls fn for each row with seq <= upTo (all rows when upTo is 0)
	// in seq order, streaming.
	walk(ctx context.Context, upTo int64, fn func(*row) error) error
	ping(ctx context.Context) error
	close() error
}

type storageTx interface {
	// head returns the last record's seq and hash (0 and "" when empty).
	head(ctx context.Context) (seq int64, hash string, err error)
	insert(ctx context.Context, rows []*row) error
	commit(ctx context.Context) error
	rollback(ctx context.Context) error
}

// headChecker is an optional fast path: a store that can check the head,
// insert and commit in one round trip implements it, and the writer uses it
// while it knows the head (its own last commit).
type headChecker interface {
	// insertIfHead, in one transaction holding the chain lock, inserts rows
	// and commits if the chain's head is still (seq, hash) -- (0, "") for an
	// empty chain. Otherwise it writes nothing and returns false.
	insertIfHead(ctx context.Context, seq int64, hash string, rows []*row) (bool, error)
}

type pending struct {
	ctx  context.Context
	row  *row
	done chan result // buffered: the writer never blocks on a caller that left
}

// pendings are reused once their caller has received the result: two
// allocations fewer per append.
var pendings = sync.Pool{New: func() any { return &pending{done: make(chan result, 1)} }}

type result struct {
	seq            int64
	prevHash, hash string
	err            error
}

// chain is the part shared by every store: preparing records, the group
// commit writer, and the review queries over storage.
type chain struct {
	st storage
	// The head as of the writer's last commit; only the writer touches it.
	headKnown bool
	headSeq   int64
	headHash  string

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan *pending
	// preparing counts appends between entering Append and reaching the
	// queue: the writer waits for them when it has just released callers.
	preparing atomic.Int64
	stopped   chan struct{}
}

func newChain(st storage) *chain {
	c := &chain{st: st, queue: make(chan *pending, queueSize), stopped: make(chan struct{})}
	go c.run()
	return c
}

func notCommitted(err error) error {
	return fmt.Errorf("audit: record not committed: %w", err)
}

// Append chains rec and returns once it is durably committed, filling ID
// (a UUIDv7 when empty), At (now when zero), Seq, PrevHash and Hash. rec is
// normalized to exactly the form Search returns it in: At in UTC truncated
// to microseconds, nil slices and maps empty, Arguments canonical, filter
// values decoded (numbers as json.Number), text made valid UTF-8 without
// NUL. On error the record was not committed -- except when ctx ended while
// its batch was already being committed: the record may then still land,
// which errs on the safe side (a record of data nobody received).
func (c *chain) Append(ctx context.Context, rec *audit.Record) error {
	if err := ctx.Err(); err != nil {
		return notCommitted(err)
	}
	c.preparing.Add(1)
	queued := false
	defer func() {
		if !queued {
			c.preparing.Add(-1)
		}
	}()
	if rec.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return notCommitted(fmt.Errorf("new record id: %w", err))
		}
		rec.ID = id.String()
	}
	if rec.At.IsZero() {
		rec.At = time.Now()
	}
	if err := validate(rec); err != nil {
		return notCommitted(fmt.Errorf("invalid record: %w", err))
	}
	rw, err := toRow(rec)
	if err != nil {
		return notCommitted(fmt.Errorf("invalid record: %w", err))
	}
	norm, err := rw.decode(rec)
	if err != nil {
		return notCommitted(fmt.Errorf("invalid record: %w", err))
	}
	rw.encodeAhead(c.st)
	p := pendings.Get().(*pending)
	p.ctx, p.row = ctx, rw

	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return notCommitted(ErrClosed)
	}
	select {
	case c.queue <- p:
		c.preparing.Add(-1)
		queued = true
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return notCommitted(ctx.Err())
	}

	var res result
	select {
	case res = <-p.done:
	case <-ctx.Done():
		select {
		case res = <-p.done: // committed just as ctx ended: report the truth
		default:
			// The writer still holds p and will send on p.done: it is
			// not reused.
			return notCommitted(ctx.Err())
		}
	}
	// The writer sends on done last and touches p no more.
	p.ctx, p.row = nil, nil
	pendings.Put(p)
	if res.err != nil {
		return res.err
	}
	norm.Seq, norm.PrevHash, norm.Hash = res.seq, res.prevHash, res.hash
	*rec = norm
	return nil
}

// run is the single writer: it takes whatever appends are waiting, commits
// them as one transaction and releases their callers.
func (c *chain) run() {
	defer close(c.stopped)
	released := 0
	for first := range c.queue {
		batch := []*pending{first}
		var linger *time.Timer
		if released > 1 {
			// Callers just released often append again at once; those already
			// preparing a record are microseconds away, and waiting for them
			// (only while there are some, and at most lingerMax) makes the
			// next batch fuller: a commit's fsync is shared by all its records.
			runtime.Gosched()
			linger = time.NewTimer(lingerMax)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case p, ok := <-c.queue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
				continue
			default:
			}
			if linger == nil || c.preparing.Load() == 0 {
				break
			}
			select {
			case p, ok := <-c.queue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			case <-linger.C:
				break fill
			}
		}
		if linger != nil {
			linger.Stop()
		}
		c.commitBatch(batch)
		released = len(batch)
	}
}

func (c *chain) commitBatch(batch []*pending) {
	// Once the batch is done with, its rows' ahead encodings go back to
	// their pool; the rows are taken now, as released callers reuse their
	// pending entries.
	rows := make([]*row, len(batch))
	for i, p := range batch {
		rows[i] = p.row
	}
	defer func() {
		for _, rw := range rows {
			rw.releaseEnc()
		}
	}()
	live := make([]*pending, 0, len(batch))
	for _, p := range batch {
		// A caller that already gave up gets its error and its record is
		// not written, so "error" means "not in the log" wherever possible.
		if err := p.ctx.Err(); err != nil {
			p.done <- result{err: notCommitted(err)}
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	err := c.write(live)
	if err == nil {
		return
	}
	if len(live) > 1 && c.st.recordError(err) {
		// One record (a duplicate caller-supplied ID, say) must not fail
		// the others: retry each alone, the chain head re-read every time.
		slog.Warn("audit: batch rejected by a record constraint; retrying record by record", "records", len(live), "err", err)
		for _, p := range live {
			if err := c.write([]*pending{p}); err != nil {
				p.done <- result{err: notCommitted(err)}
			}
		}
		return
	}
	for _, p := range live {
		p.done <- result{err: notCommitted(err)}
	}
}

// chainRows links rows onto the head (seq, hash).
func chainRows(rows []*row, seq int64, hash string) {
	if seq == 0 {
		hash = GenesisHash
	}
	for _, rw := range rows {
		seq++
		rw.seq, rw.prevHash = seq, hash
		rw.hash = rw.computeHash()
		hash = rw.hash
	}
}

// write commits ps as one transaction and, only once it is committed,
// releases their callers. On error it releases nobody.
func (c *chain) write(ps []*pending) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	rows := make([]*row, len(ps))
	for i, p := range ps {
		rows[i] = p.row
	}
	defer func() {
		if err != nil {
			// The head is unknown after a failure (a lost COMMIT may have
			// landed): the next batch reads it again.
			c.headKnown = false
			return
		}
		last := rows[len(rows)-1]
		c.headKnown, c.headSeq, c.headHash = true, last.seq, last.hash
		for _, p := range ps {
			p.done <- result{seq: p.row.seq, prevHash: p.row.prevHash, hash: p.row.hash}
		}
	}()

	if hc, ok := c.st.(headChecker); ok && c.headKnown {
		chainRows(rows, c.headSeq, c.headHash)
		done, err := hc.insertIfHead(ctx, c.headSeq, c.headHash, rows)
		if err != nil {
			return fmt.Errorf("insert %d record(s): %w", len(rows), err)
		}
		if done {
			return nil
		}
		// Another process appended since: chain onto its head, under the lock.
	}

	tx, err := c.st.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer rcancel()
			_ = tx.rollback(rctx) // the error that matters is err
		}
	}()
	seq, hash, err := tx.head(ctx)
	if err != nil {
		return fmt.Errorf("read the chain head: %w", err)
	}
	chainRows(rows, seq, hash)
	if err := tx.insert(ctx, rows); err != nil {
		return fmt.Errorf("insert %d record(s): %w", len(rows), err)
	}
	if err := tx.commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Search returns the records matching q.
func (c *chain) Search(ctx context.Context, q audit.Query) ([]audit.Record, error) {
	if q.Limit < 0 {
		return nil, fmt.Errorf("audit: search: negative limit %d", q.Limit)
	}
	recs := []audit.Record{}
	err := c.st.search(ctx, q, func(rw *row) error {
		rec, err := rw.toRecord()
		if err != nil {
			return err
		}
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit: search: %w", err)
	}
	return recs, nil
}

// Verify walks the whole chain.
func (c *chain) Verify(ctx context.Context) (audit.VerifyResult, error) {
	return verifyChain(ctx, c.st, 0)
}

// Ping reports whether the store can take appends.
func (c *chain) Ping(ctx context.Context) error {
	c.mu.RLock()
	closed := c.closed
	c.mu.RUnlock()
	if closed {
		return fmt.Errorf("audit: ping: %w", ErrClosed)
	}
	if err := c.st.ping(ctx); err != nil {
		return fmt.Errorf("audit: ping: %w", err)
	}
	return nil
}

// Close stops taking appends, commits those already queued, and closes the
// database. It is safe to call more than once.
func (c *chain) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.queue)
	c.mu.Unlock()
	<-c.stopped
	if err := c.st.close(); err != nil {
		return fmt.Errorf("audit: close: %w", err)
	}
	return nil
}

var errStopWalk = errors.New("stop")

// verifyChain checks, record by record in seq order, that seqs run 1, 2, 3...
// without gaps, that each prev_hash is the previous record's hash (the
// genesis hash for the first) and that each stored hash is the hash of the
// stored bytes. It stops at the first broken record and names it.
func verifyChain(ctx context.Context, st storage, upTo int64) (audit.VerifyResult, error) {
	res := audit.VerifyResult{OK: true, Head: GenesisHash}
	prevSeq, prevHash := int64(0), GenesisHash
	err := st.walk(ctx, upTo, func(rw *row) error {
		res.Records++
		var problem string
		switch {
		case rw.seq != prevSeq+1 && prevSeq == 0:
			problem = fmt.Sprintf("the chain starts at seq %d: records with seq 1 to %d are missing", rw.seq, rw.seq-1)
		case rw.seq > prevSeq+1:
			problem = fmt.Sprintf("seq %d follows seq %d: %d record(s) missing", rw.seq, prevSeq, rw.seq-prevSeq-1)
		case rw.seq != prevSeq+1:
			problem = fmt.Sprintf("seq %d follows seq %d: duplicated or out of order", rw.seq, prevSeq)
		case rw.prevHash != prevHash && prevSeq == 0:
			problem = fmt.Sprintf("prev_hash %s is not the genesis hash", rw.prevHash)
		case rw.prevHash != prevHash:
			problem = fmt.Sprintf("prev_hash %s does not link to seq %d, whose hash is %s", rw.prevHash, prevSeq, prevHash)
		default:
			if h := rw.computeHash(); h != rw.hash {
				problem = fmt.Sprintf("stored hash %s does not match the recomputed hash %s: the record was altered", rw.hash, h)
			}
		}
		if problem != "" {
			res.OK, res.BrokenSeq, res.BrokenID, res.Problem = false, rw.seq, rw.id, problem
			return errStopWalk
		}
		prevSeq, prevHash = rw.seq, rw.hash
		res.HeadSeq, res.Head = rw.seq, rw.hash
		return nil
	})
	if err != nil && !errors.Is(err, errStopWalk) {
		return audit.VerifyResult{}, fmt.Errorf("audit: verify: %w", err)
	}
	return res, nil
}

// verifyUpTo walks the chain only as far as seq (for checkpoints).
func (c *chain) verifyUpTo(ctx context.Context, seq int64) (audit.VerifyResult, error) {
	return verifyChain(ctx, c.st, seq)
}
