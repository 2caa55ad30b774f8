// Package mysqltest gives each MySQL/MariaDB test its own fresh database.
//
// The server is found in this order: MYSQL_TEST_DSN (a go-sql-driver DSN
// with the right to create databases); the machine's server at
// 127.0.0.1:3306 as root with no password. When neither answers, tests are
// skipped, loudly; with go test -short they are always skipped.
package mysqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

const machineDSN = "root@tcp(127.0.0.1:3306)/"

var (
	adminOnce sync.Once
	adminDSN  string
	adminErr  error
)

// NewDatabase creates a fresh, uniquely named database for t and returns a
// DSN whose default database it is; the database is dropped when t ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := Admin(t)
	name := "askmesh_test_" + randomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The binary collation makes text compare and sort by code point, as
	// SQLite and the PostgreSQL store do; tests that want a deployment's
	// case-insensitive collation set it per column.
	if err := exec1(ctx, admin, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("mysqltest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec1(ctx, admin, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Logf("mysqltest: drop database %s: %v", name, err)
		}
	})
	cfg, err := mysql.ParseDSN(admin)
	if err != nil {
		t.Fatalf("mysqltest: %v", err)
	}
	cfg.DBName = name
	return cfg.FormatDSN()
}

// Admin returns a DSN with the right to create databases, or skips t loudly
// when no MySQL or MariaDB server answers. In -short it skips t: the short
// tier needs no database server.
func Admin(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("SKIPPING MySQL/MariaDB TEST %s in -short: the short tier runs without MariaDB (make test runs it)", t.Name())
	}
	adminOnce.Do(func() { adminDSN, adminErr = findServer() })
	if adminErr != nil {
		msg := fmt.Sprintf("\n\n*** SKIPPING MySQL/MariaDB TEST %s: no server: %v ***\n\n", t.Name(), adminErr)
		fmt.Fprint(os.Stderr, msg)
		t.Skip(msg)
	}
	return adminDSN
}

func findServer() (string, error) {
	if dsn := os.Getenv("MYSQL_TEST_DSN"); dsn != "" {
		if err := ping(dsn); err != nil {
			return "", fmt.Errorf("MYSQL_TEST_DSN is set but does not answer: %w", err)
		}
		return dsn, nil
	}
	if err := ping(machineDSN); err != nil {
		return "", fmt.Errorf("127.0.0.1:3306: %w", err)
	}
	return machineDSN, nil
}

func open(dsn string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = 3 * time.Second
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

func ping(dsn string) error {
	db, err := open(dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

func exec1(ctx context.Context, dsn, stmt string) error {
	db, err := open(dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
