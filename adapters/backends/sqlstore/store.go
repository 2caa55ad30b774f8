// Package sqlstore is the product backend for data held in SQLite files and
// PostgreSQL databases. One query compiler turns validated plans into
// parameterized SQL for either dialect; results are normalized so that the
// same request gives the same Result on both.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// DefaultQueryTimeout bounds one query when Options.QueryTimeout is zero.
const DefaultQueryTimeout = 30 * time.Second

// Options configure a Store.
type Options struct {
	// SQLiteDir holds one <database>.db file per sqlite binding.
	SQLiteDir string
	// PostgresDSN serves postgres bindings that carry neither a run-time DSN
	// nor a dsnEnv whose variable is set.
	PostgresDSN string
	// MySQLDSN does the same for mysql bindings (a go-sql-driver DSN,
	// user:password@tcp(host:3306)/database).
	MySQLDSN string
	// QueryTimeout bounds every query (default DefaultQueryTimeout).
	QueryTimeout time.Duration
	// Secret looks up a secret a descriptor names (a binding's dsnEnv); the
	// wiring passes the process environment's. Nil: no secrets.
	Secret func(name string) (string, bool)
}

// Store runs plans against SQLite files and PostgreSQL databases. It opens
// each SQLite file (read-only) and each PostgreSQL pool lazily, once, and is
// safe for concurrent use.
type Store struct {
	opts Options

	mu     sync.Mutex
	closed bool
	files  map[string]*sqliteDB     // by binding database (file name)
	pools  map[string]*pgxpool.Pool // by DSN
	mysqls map[string]*sql.DB       // by DSN
}

var _ tools.Backend = (*Store)(nil)

// New returns a Store. Nothing is opened until a product is queried.
func New(opts Options) *Store {
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = DefaultQueryTimeout
	}
	return &Store{opts: opts, files: map[string]*sqliteDB{}, pools: map[string]*pgxpool.Pool{}, mysqls: map[string]*sql.DB{}}
}

// Close closes every open file and pool. Queries after Close fail.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for k, f := range s.files {
		f.close() // read-only handles: nothing to lose
		delete(s.files, k)
	}
	for k, p := range s.pools {
		p.Close()
		delete(s.pools, k)
	}
	for k, db := range s.mysqls {
		_ = db.Close() // read-only transactions: nothing to lose
		delete(s.mysqls, k)
	}
}

// querier runs a compiled statement and returns its raw rows.
type querier interface {
	query(ctx context.Context, st stmt) ([][]any, error)
}

// source finds where a product's data lives and its dialect.
func (s *Store) source(ctx context.Context, p *catalog.Product) (querier, dialect, error) {
	switch p.Binding.Kind {
	case catalog.BackendSQLite:
		db, err := s.sqliteDB(ctx, p)
		return db, sqliteDialect, err
	case catalog.BackendPostgres:
		pool, err := s.pgPool(p)
		return pool, postgresDialect, err
	case catalog.BackendMySQL:
		db, err := s.mysqlDB(p)
		return db, mysqlDialect, err
	}
	return nil, 0, fmt.Errorf("the SQL store serves sqlite, postgres and mysql bindings, not %q", p.Binding.Kind)
}

func (s *Store) sqliteDB(ctx context.Context, p *catalog.Product) (*sqliteDB, error) {
	name := p.Binding.Database
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return nil, fmt.Errorf("binding database %q does not name a data file", name)
	}
	if s.opts.SQLiteDir == "" {
		return nil, errors.New("no SQLite data directory is configured")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("the product store is closed")
	}
	// By the binding's name: the path it leads to is the same every time,
	// and working it out again (filepath.Abs) cost every query.
	if db, ok := s.files[name]; ok {
		return db, nil
	}
	path, err := filepath.Abs(filepath.Join(s.opts.SQLiteDir, name+".db"))
	if err != nil {
		return nil, fmt.Errorf("data file of %s: %w", name, err)
	}
	// Opening read-only never creates a file, but says only "unable to open
	// database file"; a missing file deserves a plainer message.
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("its data file %s does not exist (generate the demo data, or check the data directory)", path)
		}
		return nil, fmt.Errorf("data file %s: %w", path, err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path),
		RawQuery: "mode=ro&_pragma=busy_timeout(5000)&_pragma=query_only(1)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Each connection has its own page cache; a few per core is plenty
	// for read-only queries.
	db.SetMaxOpenConns(max(4, 2*runtime.NumCPU()))
	db.SetMaxIdleConns(max(4, 2*runtime.NumCPU()))
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f := &sqliteDB{db: db, stmts: map[string]*sql.Stmt{}}
	s.files[name] = f
	return f, nil
}

// dsn picks the PostgreSQL or MySQL DSN of a binding: one askmesh bound at
// run time, else the binding's environment variable, else the store's default.
func (s *Store) dsn(p *catalog.Product) (string, error) {
	b := p.Binding
	engine, def := "PostgreSQL", s.opts.PostgresDSN
	if b.Kind == catalog.BackendMySQL {
		engine, def = "MySQL", s.opts.MySQLDSN
	}
	if b.DSN != "" {
		return b.DSN, nil
	}
	if b.DSNEnv != "" && s.opts.Secret != nil {
		if v, ok := s.opts.Secret(b.DSNEnv); ok && v != "" {
			return v, nil
		}
	}
	if def != "" {
		return def, nil
	}
	if b.DSNEnv != "" {
		return "", fmt.Errorf("no %s DSN: the environment variable %s is not set and no default DSN is configured", engine, b.DSNEnv)
	}
	return "", fmt.Errorf("no %s DSN is configured", engine)
}

func (s *Store) pgPool(p *catalog.Product) (*pgPool, error) {
	dsn, err := s.dsn(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("the product store is closed")
	}
	if pool, ok := s.pools[dsn]; ok {
		return &pgPool{pool}, nil
	}
	cfg, err := pgxpool.ParseConfig(dsn) // its errors redact passwords
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL DSN: %w", err)
	}
	rp := cfg.ConnConfig.RuntimeParams
	rp["timezone"] = "UTC"
	// The store only reads; the server enforces it too.
	rp["default_transaction_read_only"] = "on"
	// The server stops a query the client has given up on.
	rp["statement_timeout"] = strconv.FormatInt(s.opts.QueryTimeout.Milliseconds(), 10)
	if rp["application_name"] == "" {
		rp["application_name"] = "askmesh"
	}
	// Connections are made on first use, so an unreachable server is
	// reported by the query that needs it.
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL pool: %w", err)
	}
	s.pools[dsn] = pool
	return &pgPool{pool}, nil
}

// sqliteDB is one SQLite file's handle and the statements prepared on it.
type sqliteDB struct {
	db *sql.DB

	mu    sync.Mutex
	stmts map[string]*sql.Stmt // by SQL text
}

// maxStatements bounds the statements kept prepared per file. A query's
// text depends on the shape of its plan, not on its values, so a few shapes
// are most calls; past the bound a new shape is prepared for each call, as
// every statement was before.
const maxStatements = 256

func (q *sqliteDB) query(ctx context.Context, st stmt) ([][]any, error) {
	// Preparing (SQLite parsing the text and planning) was about a tenth
	// of a query's CPU: a statement of a known text is only bound and run.
	if ps := q.prepared(ctx, st.sql); ps != nil {
		rows, err := ps.QueryContext(ctx, st.args...)
		if err != nil {
			return nil, err
		}
		return scanAll(rows)
	}
	rows, err := q.db.QueryContext(ctx, st.sql, st.args...)
	if err != nil {
		return nil, err
	}
	return scanAll(rows)
}

// prepared returns the statement of text prepared on q, preparing it when
// it is new; nil when the cache is full or text does not prepare (the query
// then runs unprepared and reports its own error, as before).
func (q *sqliteDB) prepared(ctx context.Context, text string) *sql.Stmt {
	q.mu.Lock()
	ps, ok := q.stmts[text]
	full := len(q.stmts) >= maxStatements
	q.mu.Unlock()
	if ok || full {
		return ps
	}
	ps, err := q.db.PrepareContext(ctx, text)
	if err != nil {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if had, ok := q.stmts[text]; ok || len(q.stmts) >= maxStatements {
		_ = ps.Close() // another call prepared it first, or filled the cache
		return had
	}
	q.stmts[text] = ps
	return ps
}

func (q *sqliteDB) close() {
	q.mu.Lock()
	for text, ps := range q.stmts {
		_ = ps.Close()
		delete(q.stmts, text)
	}
	q.mu.Unlock()
	_ = q.db.Close()
}

// scanAll reads every row of a database/sql result as driver values.
func scanAll(rows *sql.Rows) ([][]any, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := [][]any{}
	// Scanned into one buffer, then copied: one allocation per row. Scan
	// copies what the driver lends ([]byte), so each row owns its values.
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, slices.Clone(vals))
	}
	return out, rows.Err()
}

type pgPool struct{ pool *pgxpool.Pool }

func (q *pgPool) query(ctx context.Context, st stmt) ([][]any, error) {
	rows, err := q.pool.Query(ctx, st.sql, st.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := [][]any{}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

// call is one tool call's run against a product.
type call struct {
	s    *Store
	tool string
	p    *catalog.Product
	q    querier
	d    dialect
}

// begin routes a plan's product and bounds the call with the query timeout.
func (s *Store) begin(ctx context.Context, tool string, p *catalog.Product) (*call, context.Context, context.CancelFunc, error) {
	if p == nil {
		return nil, nil, nil, fmt.Errorf("%s: the plan has no product", tool)
	}
	ctx, cancel := s.bound(ctx)
	c := &call{s: s, tool: tool, p: p}
	q, d, err := s.source(ctx, p)
	if err != nil {
		cancel()
		return nil, nil, nil, c.unavailable(ctx, err)
	}
	c.q, c.d = q, d
	return c, ctx, cancel, nil
}

// bound bounds ctx by the query timeout. A context that ends sooner (the
// executor's call timeout) is bound enough: another deadline over it, its
// timer and its cancellation would change nothing but cost every call.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.opts.QueryTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.opts.QueryTimeout)
}

// unavailable names the product in a failure to reach or query its data.
func (c *call) unavailable(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("the query did not finish within %s: %w", c.s.opts.QueryTimeout, err)
	}
	return &UnavailableError{Product: c.p.Name, Err: err}
}

// UnavailableError is a product whose data could not be reached or queried:
// a missing SQLite file, an unreachable server, a timeout.
type UnavailableError struct {
	Product string
	Err     error
}

func (e *UnavailableError) Error() string { return e.Product + " is unavailable: " + e.Err.Error() }

func (e *UnavailableError) Unwrap() error { return e.Err }

// run executes a statement and normalizes its rows.
func (c *call) run(ctx context.Context, st stmt, cols []outCol) ([][]any, error) {
	raw, err := c.q.query(ctx, st)
	if err != nil {
		return nil, c.unavailable(ctx, err)
	}
	for _, row := range raw {
		if len(row) != len(cols) {
			return nil, fmt.Errorf("%s: %s returned %d columns, expected %d", c.tool, c.p.Name, len(row), len(cols))
		}
		for i := range row {
			v, err := normalize(row[i], cols[i])
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", c.tool, c.p.Name, err)
			}
			row[i] = v
		}
	}
	return raw, nil
}

func (c *call) compileErr(err error) error {
	return fmt.Errorf("%s on %s: %w", c.tool, c.p.Name, err)
}

func recordColumns(cols []outCol) []tools.ResultColumn {
	out := make([]tools.ResultColumn, len(cols))
	for i, c := range cols {
		out[i] = tools.ResultColumn{Name: c.name, Type: c.typ}
	}
	return out
}

// QueryRecords lists matching records, one page at a time, with the count
// of all matching records.
func (s *Store) QueryRecords(ctx context.Context, plan tools.RecordsPlan) (*tools.Result, error) {
	c, ctx, cancel, err := s.begin(ctx, tools.ToolQueryRecords, plan.Product)
	if err != nil {
		return nil, err
	}
	defer cancel()
	page, count, cols, err := compileRecords(c.d, plan)
	if err != nil {
		return nil, c.compileErr(err)
	}
	rows, err := c.run(ctx, page, cols)
	if err != nil {
		return nil, err
	}
	n, err := c.run(ctx, count, []outCol{{name: "count", typ: catalog.TypeInteger}})
	if err != nil {
		return nil, err
	}
	if len(n) != 1 || n[0][0] == nil {
		return nil, fmt.Errorf("%s: %s: the row count is missing", c.tool, c.p.Name)
	}
	total := n[0][0].(int64)
	return &tools.Result{Tool: c.tool, Product: c.p.Name, Columns: recordColumns(cols), Rows: rows,
		RowCount: len(rows), TotalCount: &total}, nil
}

// GetRecord fetches one record by key; a record the plan's filters exclude
// is not found (an empty result).
func (s *Store) GetRecord(ctx context.Context, plan tools.GetPlan) (*tools.Result, error) {
	c, ctx, cancel, err := s.begin(ctx, tools.ToolGetRecord, plan.Product)
	if err != nil {
		return nil, err
	}
	defer cancel()
	st, cols, ok, err := compileGet(c.d, plan)
	if err != nil {
		return nil, c.compileErr(err)
	}
	rows := [][]any{}
	if ok {
		if rows, err = c.run(ctx, st, cols); err != nil {
			return nil, err
		}
	}
	return &tools.Result{Tool: c.tool, Product: c.p.Name, Columns: recordColumns(cols), Rows: rows, RowCount: len(rows)}, nil
}
