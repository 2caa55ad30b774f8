// Package pgtest gives each PostgreSQL test its own fresh database.
//
// The server is found in this order: DATABASE_URL; the machine's server at
// 127.0.0.1:5432 as user postgres; a throwaway cluster started from the
// installed binaries (initdb/pg_ctl under /usr/lib/postgresql/*/bin). Only
// when none of these works are tests skipped, loudly; with go test -short
// they are always skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const machineDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var (
	adminOnce sync.Once
	adminDSN  string
	adminErr  error
	shared    *Cluster // the throwaway cluster, when one had to be started
)

// Main runs the package's tests and stops a throwaway cluster afterwards.
// Use it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	return code
}

// NewDatabase creates a fresh, uniquely named database for t and returns its
// DSN; the database is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := Admin(t)
	name := "askmesh_test_" + randomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := exec1(ctx, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec1(ctx, admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(admin, name)
}

// Admin returns a DSN with the right to create databases, or skips t loudly
// when no PostgreSQL server can be found or started. In -short it skips t:
// the short tier needs no database server.
func Admin(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("SKIPPING PostgreSQL TEST %s in -short: the short tier runs without PostgreSQL (make test runs it)", t.Name())
	}
	adminOnce.Do(func() { adminDSN, adminErr = findServer() })
	if adminErr != nil {
		msg := fmt.Sprintf("\n\n*** SKIPPING PostgreSQL TEST %s: no PostgreSQL server: %v ***\n\n", t.Name(), adminErr)
		fmt.Fprint(os.Stderr, msg)
		t.Skip(msg)
	}
	return adminDSN
}

func findServer() (string, error) {
	var tried []string
	if dsn := os.Getenv("DATABASE_URL"); dsn != "" {
		if err := ping(dsn); err != nil {
			return "", fmt.Errorf("DATABASE_URL is set but does not answer: %w", err)
		}
		return dsn, nil
	}
	if err := ping(machineDSN); err == nil {
		return machineDSN, nil
	} else {
		tried = append(tried, "127.0.0.1:5432: "+err.Error())
	}
	c, err := startCluster()
	if err != nil {
		tried = append(tried, "throwaway cluster: "+err.Error())
		return "", errors.New(strings.Join(tried, "; "))
	}
	shared = c
	return c.DSN(), nil
}

func ping(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
}

func exec1(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func withDatabase(dsn, db string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		// keyword/value DSN
		return dsn + " dbname=" + db
	}
	u.Path = "/" + db
	return u.String()
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Cluster is a PostgreSQL server of the test's own, started from the
// installed binaries in a temporary directory. Fault tests use one so they
// can stop and restart it without touching the machine's server.
type Cluster struct {
	bin  string
	dir  string
	port int
	run  func(name string, args ...string) *exec.Cmd
	mu   sync.Mutex
	up   bool
}

// StartCluster starts a throwaway cluster for t, stopped when the test ends.
// It skips t loudly when the PostgreSQL binaries are not installed, and in
// -short.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skipf("SKIPPING %s in -short: starts a PostgreSQL cluster (make test runs it)", t.Name())
	}
	c, err := startCluster()
	if err != nil {
		msg := fmt.Sprintf("\n\n*** SKIPPING %s: cannot start a throwaway PostgreSQL cluster: %v ***\n\n", t.Name(), err)
		fmt.Fprint(os.Stderr, msg)
		t.Skip(msg)
	}
	t.Cleanup(c.stop)
	return c
}

// DSN connects to the cluster's postgres database.
func (c *Cluster) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", c.port)
}

// Stop shuts the server down immediately (fast mode), as an outage would.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if err := c.ctl("stop", "-m", "fast"); err != nil {
		t.Fatalf("pgtest: stop cluster: %v", err)
	}
}

// Start starts the server again on the same port and data directory.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	if err := c.start(); err != nil {
		t.Fatalf("pgtest: start cluster: %v", err)
	}
}

func startCluster() (*Cluster, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "askmesh-pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, dir: dir, run: exec.Command}
	// PostgreSQL refuses to run as root: run its binaries as the postgres user.
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root and there is no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		c.run = func(name string, args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c.port = port
	data := filepath.Join(dir, "data")
	out, err := c.run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	if err := c.start(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", c.port, c.dir)
	out, err := c.run(filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	c.up = true
	return nil
}

func (c *Cluster) ctl(args ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	full := append([]string{"-D", filepath.Join(c.dir, "data"), "-w", "-t", "60"}, args...)
	out, err := c.run(filepath.Join(c.bin, "pg_ctl"), full...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	c.up = args[0] != "stop"
	return nil
}

func (c *Cluster) stop() {
	if c.up {
		_ = c.ctl("stop", "-m", "immediate")
	}
	_ = os.RemoveAll(c.dir)
}

func findBinaries() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // newest major version first
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no initdb under /usr/lib/postgresql/*/bin")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
