package auditlog

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// The embedded store is durable (WAL, synchronous=FULL), waits for other
// writers instead of failing, and is readable by its owner only.
func TestSQLiteSettings(t *testing.T) {
	t.Parallel()
	path := DefaultSQLitePath(filepath.Join(t.TempDir(), "data"))
	if filepath.Base(path) != "governance.db" {
		t.Fatalf("DefaultSQLitePath = %s", path)
	}
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "10000"},
	} {
		var got string
		if err := s.db.QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %s, want %s", c.pragma, got, c.want)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := OpenSQLite(context.Background(), path+"?mode=ro"); err == nil {
		t.Error("a path with a query string was accepted")
	}
}

// Two processes' worth of stores on one SQLite file keep one chain.
func TestSQLiteTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), SQLiteFile)
	var stores []*SQLiteStore
	for range 2 {
		s, err := OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	done := make(chan error, 2)
	for _, s := range stores {
		go func() {
			_, err := BenchmarkAppends(context.Background(), s, 8, 200)
			done <- err
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	res, err := stores[1].Verify(context.Background())
	if err != nil || !res.OK || res.Records != 400 || res.HeadSeq != 400 {
		t.Errorf("Verify = %+v, %v; want 400 intact records", res, err)
	}
}
