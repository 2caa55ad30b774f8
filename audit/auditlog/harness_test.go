package auditlog

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	// Migrations log at Info on every fresh database; tests only want problems.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(pgtest.Main(m))
}

// harness is one real store plus a raw connection to its database, as the
// database owner, for what an attacker with the owner's rights could do.
type harness struct {
	store audit.Store
	table string
	// reopen opens a second store on the same database.
	reopen func(t *testing.T) audit.Store
	// exec runs sql as the owner, the append-only triggers in force.
	exec func(t *testing.T, sql string) error
	// bypass runs sql as the owner with the append-only triggers switched off.
	bypass func(t *testing.T, sql string)
}

func (h *harness) count(t *testing.T) int64 {
	t.Helper()
	recs, err := h.store.Search(context.Background(), audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(recs))
}

func newSQLiteHarness(t *testing.T) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", SQLiteFile)
	open := func(t *testing.T) audit.Store {
		s, err := OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	store := open(t)
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	return &harness{
		store:  store,
		table:  sqliteTable,
		reopen: open,
		exec: func(t *testing.T, q string) error {
			_, err := raw.Exec(q)
			return err
		},
		bypass: func(t *testing.T, q string) {
			t.Helper()
			var triggers []string
			rows, err := raw.Query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'access_audit' ORDER BY name")
			if err != nil {
				t.Fatal(err)
			}
			var script strings.Builder
			script.WriteString("BEGIN IMMEDIATE;\n")
			for rows.Next() {
				var name, ddl string
				if err := rows.Scan(&name, &ddl); err != nil {
					t.Fatal(err)
				}
				script.WriteString("DROP TRIGGER " + name + ";\n")
				triggers = append(triggers, ddl)
			}
			rows.Close()
			if len(triggers) != 2 {
				t.Fatalf("found %d append-only triggers, want 2", len(triggers))
			}
			script.WriteString(q + ";\n")
			for _, ddl := range triggers {
				script.WriteString(ddl + ";\n")
			}
			script.WriteString("COMMIT;")
			if _, err := raw.Exec(script.String()); err != nil {
				t.Fatalf("tamper %q: %v", q, err)
			}
		},
	}
}

func newPostgresHarness(t *testing.T) *harness {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	return postgresHarness(t, dsn)
}

func postgresHarness(t *testing.T, dsn string) *harness {
	t.Helper()
	open := func(t *testing.T) audit.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	store := open(t)
	raw, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close(context.Background()) })
	return &harness{
		store:  store,
		table:  pgTable,
		reopen: open,
		exec: func(t *testing.T, q string) error {
			_, err := raw.Exec(context.Background(), q)
			return err
		},
		bypass: func(t *testing.T, q string) {
			t.Helper()
			script := "BEGIN; ALTER TABLE governance.access_audit DISABLE TRIGGER access_audit_append_only; " + q +
				"; ALTER TABLE governance.access_audit ENABLE ALWAYS TRIGGER access_audit_append_only; COMMIT"
			if _, err := raw.Exec(context.Background(), script); err != nil {
				t.Fatalf("tamper %q: %v", q, err)
			}
		},
	}
}

var backends = []struct {
	name string
	new  func(t *testing.T) *harness
}{
	{"sqlite", newSQLiteHarness},
	{"postgres", newPostgresHarness},
}

func forEachBackend(t *testing.T, fn func(t *testing.T, h *harness)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.new(t)) })
	}
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func appendAll(t *testing.T, s audit.Store, recs []audit.Record) []audit.Record {
	t.Helper()
	out := make([]audit.Record, len(recs))
	for i := range recs {
		out[i] = recs[i]
		if err := s.Append(context.Background(), &out[i]); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	return out
}
