package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/askmesh/askmesh/catalog"
)

// mysqlSession is the session every MySQL/MariaDB connection of the store
// runs with, whatever the server's defaults: ANSI_QUOTES so identifiers are
// double-quoted as in the other dialects, NO_BACKSLASH_ESCAPES so the LIKE
// escape literal '\' means what it says, and UTC so TIMESTAMP columns read
// and compare as UTC (DATETIME columns are stored as UTC wall-clock time).
var mysqlSession = map[string]string{
	"sql_mode":  "'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'",
	"time_zone": "'+00:00'",
}

// MySQLConfig parses a go-sql-driver DSN and sets what the store and its
// tools rely on: the session above, times parsed in UTC, and a connect
// timeout. Errors never echo the password.
func MySQLConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, errors.New("MySQL DSN: not a DSN of the form user:password@tcp(host:3306)/database")
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	for k, v := range mysqlSession {
		cfg.Params[k] = v
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	return cfg, nil
}

func (s *Store) mysqlDB(p *catalog.Product) (*mysqlDB, error) {
	dsn, err := s.dsn(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("the product store is closed")
	}
	if db, ok := s.mysqls[dsn]; ok {
		return &mysqlDB{db}, nil
	}
	cfg, err := MySQLConfig(dsn)
	if err != nil {
		return nil, err
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("MySQL connector: %w", err)
	}
	// Connections are made on first use, so an unreachable server is
	// reported by the query that needs it.
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(max(4, 2*runtime.NumCPU()))
	db.SetMaxIdleConns(max(4, 2*runtime.NumCPU()))
	db.SetConnMaxLifetime(30 * time.Minute)
	s.mysqls[dsn] = db
	return &mysqlDB{db}, nil
}

type mysqlDB struct{ db *sql.DB }

// query runs the statement in a read-only transaction: the store only
// reads, and the server enforces it too (MySQL has no session-wide switch
// that MariaDB and MySQL spell alike; START TRANSACTION READ ONLY is).
func (q *mysqlDB) query(ctx context.Context, st stmt) ([][]any, error) {
	tx, err := q.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	rows, err := tx.QueryContext(ctx, st.sql, st.args...)
	if err != nil {
		return nil, err
	}
	return scanAll(rows)
}
