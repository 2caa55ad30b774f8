package bankgen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/askmesh/askmesh/catalog"
)

// Simulator adds synthetic new transactions to the customer-transactions
// product's SQLite table, so the demo has a live stream to watch. It writes
// to the product's own store, as the domain's systems would.
type Simulator struct {
	db             *sql.DB
	pickQ, insertQ string // the statements on the product's table
	notify         func()

	mu   sync.Mutex
	rng  *rand.Rand
	seq  int64
	last time.Time
	now  func() time.Time
}

// SimulatedProduct is the product the simulator feeds.
const SimulatedProduct = "customer-transactions"

// The values synthetic transactions are drawn from.
var (
	simTypes      = []string{"deposit", "withdrawal", "transfer", "card_payment"}
	simChannels   = []string{"branch", "online", "mobile", "atm"}
	simRegions    = []string{"north-america", "europe", "asia-pacific"}
	simCurrencies = map[string]string{"north-america": "USD", "europe": "EUR", "asia-pacific": "USD"}
)

// NewSimulator opens p's SQLite file under dataDir for writing. notify is
// called after each insert (Server.Notify).
func NewSimulator(ctx context.Context, p *catalog.Product, dataDir string, now func() time.Time, notify func()) (*Simulator, error) {
	if p.Name != SimulatedProduct || p.Binding.Kind != catalog.BackendSQLite {
		return nil, fmt.Errorf("productapi: only %s on SQLite can be simulated", SimulatedProduct)
	}
	path, err := filepath.Abs(filepath.Join(dataDir, p.Binding.Database+".db"))
	if err != nil {
		return nil, fmt.Errorf("productapi: simulator: %w", err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: "mode=rw&_pragma=busy_timeout(5000)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("productapi: simulator: %w", err)
	}
	db.SetMaxOpenConns(1)
	table := p.Binding.Table
	s := &Simulator{db: db, notify: notify, rng: rand.New(rand.NewPCG(42, 7)), now: now,
		pickQ: fmt.Sprintf(`SELECT account_id, customer_id, counterparty FROM %q WHERE rowid = ?`, table),
		insertQ: fmt.Sprintf(`INSERT INTO %q (transaction_id, account_id, customer_id, occurred_at, type, amount, currency, channel, region, counterparty)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, table)}
	var maxID sql.NullString
	var maxAt sql.NullString
	q := fmt.Sprintf(`SELECT max(transaction_id), max(occurred_at) FROM %q`, table)
	if err := db.QueryRowContext(ctx, q).Scan(&maxID, &maxAt); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("productapi: simulator: read %s: %w", path, err)
	}
	if maxID.Valid {
		_, _ = fmt.Sscanf(maxID.String, "txn-%d", &s.seq)
	}
	if maxAt.Valid {
		s.last, _ = time.Parse(catalog.SQLiteTimeLayout, maxAt.String)
	}
	return s, nil
}

// Close closes the simulator's database handle.
func (s *Simulator) Close() error { return s.db.Close() }

// Insert adds one synthetic transaction and returns its id. Its time is
// now, or just after the last transaction, so new records come in order.
func (s *Simulator) Insert(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var account, customer, counterparty string
	n := s.rng.IntN(1000) + 1
	if err := s.db.QueryRowContext(ctx, s.pickQ, n).Scan(&account, &customer, &counterparty); err != nil {
		return "", fmt.Errorf("simulator: pick an account: %w", err)
	}
	at := s.now().UTC().Truncate(time.Second)
	if !at.After(s.last) {
		at = s.last.Add(time.Second).Truncate(time.Second)
	}
	region := simRegions[s.rng.IntN(len(simRegions))]
	amount := float64(s.rng.IntN(50000)+100) / 100
	id := fmt.Sprintf("txn-%07d", s.seq+1)
	if _, err := s.db.ExecContext(ctx, s.insertQ, id, account, customer, at.Format(catalog.SQLiteTimeLayout),
		simTypes[s.rng.IntN(len(simTypes))], amount, simCurrencies[region], simChannels[s.rng.IntN(len(simChannels))], region, counterparty); err != nil {
		return "", fmt.Errorf("simulator: insert: %w", err)
	}
	s.seq++
	s.last = at
	if s.notify != nil {
		s.notify()
	}
	return id, nil
}

// Run inserts rate transactions per second until ctx ends.
func (s *Simulator) Run(ctx context.Context, rate float64) error {
	if rate <= 0 {
		return errors.New("simulator: the rate must be positive")
	}
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.Insert(ctx); err != nil && ctx.Err() == nil {
				return err
			}
		}
	}
}
