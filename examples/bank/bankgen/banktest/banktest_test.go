package banktest

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/askmesh/askmesh/examples/bank/bankgen"
)

// TestCache: concurrent creators (as several test binaries would be) settle
// on one complete cache directory, replacing a damaged one, and leave no
// temporary directories behind.
func TestCache(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	final := cacheDir()
	if filepath.Dir(final) != tmp {
		t.Fatalf("cache dir %s is not under TMPDIR %s", final, tmp)
	}
	// A damaged cache: a directory without a manifest.
	if err := os.MkdirAll(final, 0o755); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(final, "retail-banking.db")
	if err := os.WriteFile(junk, []byte("half a file"), 0o644); err != nil {
		t.Fatal(err)
	}

	const creators = 2
	dirs := make([]string, creators)
	errs := make([]error, creators)
	var wg sync.WaitGroup
	for i := range creators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs[i], _, errs[i] = cached()
		}()
	}
	wg.Wait()
	for i := range creators {
		if errs[i] != nil || dirs[i] != final {
			t.Fatalf("creator %d: %q, %v; want %q", i, dirs[i], errs[i], final)
		}
	}
	m, err := bankgen.ReadManifest(final)
	if err != nil || !m.Matches(Options()) {
		t.Fatalf("cache manifest %+v, %v", m, err)
	}
	b, err := os.ReadFile(junk)
	if err != nil || bytes.Equal(b, []byte("half a file")) {
		t.Errorf("the damaged file is still there (%v)", err)
	}
	for _, d := range bankgen.Domains {
		info, err := os.Stat(filepath.Join(final, d+".db"))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm()&0o222 != 0 {
			t.Errorf("%s.db is writable: %v", d, info.Mode())
		}
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("TMPDIR holds %v, want only the cache directory", names)
	}
	// A second look finds it without generating.
	before, _ := os.Stat(filepath.Join(final, bankgen.ManifestFile))
	if dir, _, err := cached(); err != nil || dir != final {
		t.Fatalf("cached again: %q, %v", dir, err)
	}
	after, _ := os.Stat(filepath.Join(final, bankgen.ManifestFile))
	if !before.ModTime().Equal(after.ModTime()) {
		t.Error("the cache was generated again")
	}
}

func TestPrivateDir(t *testing.T) {
	t.Parallel()
	shared := SQLiteDir(t)
	own := PrivateDir(t)
	if own == shared {
		t.Fatal("PrivateDir returned the shared directory")
	}
	for _, name := range []string{"retail-banking.db", "growth.db", bankgen.ManifestFile} {
		a, err := os.ReadFile(filepath.Join(shared, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(own, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from the shared copy", name)
		}
		info, err := os.Stat(filepath.Join(own, name))
		if err != nil || info.Mode().Perm()&0o200 == 0 {
			t.Errorf("%s is not writable: %v %v", name, info.Mode(), err)
		}
	}
	if got := InjectedAnomalies(t); len(got) == 0 {
		t.Error("no injected anomalies")
	}
}

func TestFilesQuery(t *testing.T) {
	t.Parallel()
	f := OpenFiles(t, SQLiteDir(t))
	rows := f.Query(t, "retail-banking", "SELECT count(*), ? FROM customers", "x")
	if len(rows) != 1 || rows[0][0] != int64(5000) || rows[0][1] != "x" {
		t.Fatalf("rows = %v, want [[5000 x]]", rows)
	}
	if f.DB(t, "retail-banking") != f.DB(t, "retail-banking") {
		t.Error("a database is opened more than once")
	}
}
