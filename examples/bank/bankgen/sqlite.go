package bankgen

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/askmesh/askmesh/catalog"
)

// GenerateSQLite writes the mesh as one SQLite file per domain,
// <DataDir>/<domain>.db, and then <DataDir>/demo-manifest.json (see
// Data.WriteSQLite).
func GenerateSQLite(ctx context.Context, opts Options) (Manifest, error) {
	if opts.DataDir == "" {
		return Manifest{}, errors.New("bankgen: no data directory")
	}
	d, err := Generate(ctx, opts)
	if err != nil {
		return Manifest{}, err
	}
	if err := d.WriteSQLite(ctx, opts.DataDir); err != nil {
		return Manifest{}, err
	}
	return d.Manifest(), nil
}

// WriteSQLite writes the mesh as one SQLite file per domain,
// <dataDir>/<domain>.db, and then <dataDir>/demo-manifest.json. Each file
// is written under a temporary name and renamed into place once every
// file is complete; the old manifest is removed before the first rename
// and the new one written after the last, so a directory with a manifest
// always holds a whole, matching mesh. A failure before the renames leaves
// the previous mesh as it was.
func (d *Data) WriteSQLite(ctx context.Context, dataDir string) error {
	if dataDir == "" {
		return errors.New("bankgen: no data directory")
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("bankgen: %w", err)
	}
	domains := d.domains
	// Write the domains' files in parallel: SQLite in pure Go is CPU-bound.
	temps := make([]string, len(domains))
	errs := make([]error, len(domains))
	var wg sync.WaitGroup
	for i, tables := range domains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			temps[i], errs[i] = writeSQLiteTemp(ctx, dataDir, Domains[i], tables)
		}()
	}
	wg.Wait()
	defer func() {
		for _, t := range temps {
			if t != "" {
				_ = os.Remove(t) // gone already once renamed
			}
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// From here on the directory holds a mix of old and new files until the
	// new manifest is written: without a manifest it holds no mesh.
	manifest := filepath.Join(dataDir, ManifestFile)
	if err := os.Remove(manifest); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("bankgen: remove the old manifest: %w", err)
	}
	for i, tmp := range temps {
		final := filepath.Join(dataDir, Domains[i]+".db")
		// A journal or WAL left beside an old file would be replayed onto
		// the new one: remove them before the new file appears.
		for _, suffix := range []string{"-journal", "-wal", "-shm"} {
			if err := os.Remove(final + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("bankgen: remove stale %s: %w", final+suffix, err)
			}
		}
		if err := os.Rename(tmp, final); err != nil {
			return fmt.Errorf("bankgen: %w", err)
		}
	}
	b, err := json.MarshalIndent(d.manifest, "", "  ")
	if err != nil {
		return fmt.Errorf("bankgen: manifest: %w", err)
	}
	if err := writeFileAtomic(manifest, append(b, '\n')); err != nil {
		return err
	}
	syncDir(dataDir)
	return nil
}

// writeSQLiteTemp writes one domain's tables into a new temporary file in
// dir and returns its path.
func writeSQLiteTemp(ctx context.Context, dir, domain string, tables []*table) (path string, err error) {
	f, err := os.CreateTemp(dir, "."+domain+".db.tmp-*")
	if err != nil {
		return "", fmt.Errorf("bankgen: %s: %w", domain, err)
	}
	path = f.Name()
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return path, fmt.Errorf("bankgen: %s: %w", domain, err)
	}
	if err := f.Close(); err != nil {
		return path, fmt.Errorf("bankgen: %s: %w", domain, err)
	}
	if err := writeSQLite(ctx, path, tables); err != nil {
		return path, fmt.Errorf("bankgen: %s: %w", domain, err)
	}
	// synchronous=OFF while writing: make the file durable before it is
	// renamed into place.
	f, err = os.Open(path)
	if err != nil {
		return path, fmt.Errorf("bankgen: %s: %w", domain, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return path, fmt.Errorf("bankgen: %s: sync: %w", domain, err)
	}
	return path, nil
}

func writeSQLite(ctx context.Context, path string, tables []*table) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The file is private until renamed: no journal, no syncs. Page size
	// and the rest stay at their defaults so the files are portable.
	for _, p := range []string{"PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", "PRAGMA locking_mode=EXCLUSIVE",
		"PRAGMA cache_size=-262144", "PRAGMA temp_store=MEMORY"} {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	for _, t := range tables {
		if err := insertSQLite(ctx, tx, t); err != nil {
			return fmt.Errorf("table %s: %w", t.name, err)
		}
	}
	// Indexes after the rows: one sort per index instead of a tree
	// updated row by row.
	for _, t := range tables {
		for _, stmt := range indexStatements(t, "", "") {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func sqliteCreate(t *table) string {
	defs := make([]string, 0, len(t.cols))
	for _, c := range t.cols {
		d := c.name + " " + t.sqliteType(c.kind)
		if c.name == t.key {
			d += " PRIMARY KEY"
		}
		if !c.nullable {
			d += " NOT NULL"
		}
		defs = append(defs, d)
	}
	return "CREATE TABLE " + t.name + " (" + strings.Join(defs, ", ") + ")"
}

// indexStatements creates the time, customer and unique indexes of t;
// prefix qualifies the table (PostgreSQL schema), pk adds the primary key
// when it was not declared with the table.
func indexStatements(t *table, prefix, pk string) []string {
	var out []string
	if pk != "" {
		out = append(out, "ALTER TABLE "+prefix+t.name+" ADD PRIMARY KEY ("+t.key+")")
	}
	for _, c := range t.indexes {
		out = append(out, "CREATE INDEX "+t.name+"_"+c+"_idx ON "+prefix+t.name+" ("+c+")")
	}
	for _, c := range t.unique {
		out = append(out, "CREATE UNIQUE INDEX "+t.name+"_"+c+"_key ON "+prefix+t.name+" ("+c+")")
	}
	return out
}

// batchRows is how many rows one INSERT carries: far fewer statement
// executions, well under SQLite's limit on bound parameters.
const batchRows = 256

func insertSQLite(ctx context.Context, tx *sql.Tx, t *table) error {
	if _, err := tx.ExecContext(ctx, sqliteCreate(t)); err != nil {
		return err
	}
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	prepare := func(n int) (*sql.Stmt, error) {
		if s, ok := stmts[n]; ok {
			return s, nil
		}
		row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(t.cols)), ",") + ")"
		q := "INSERT INTO " + t.name + " VALUES " + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
		s, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return nil, err
		}
		stmts[n] = s
		return s, nil
	}
	args := make([]any, 0, batchRows*len(t.cols))
	row := make([]any, len(t.cols))
	for lo := 0; lo < t.n; lo += batchRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+batchRows, t.n)
		args = args[:0]
		for i := lo; i < hi; i++ {
			t.row(i, row)
			for j, c := range t.cols {
				args = append(args, sqliteValue(c.kind, row[j]))
			}
		}
		s, err := prepare(hi - lo)
		if err != nil {
			return err
		}
		if _, err := s.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// sqliteValue converts a neutral value to the documented SQLite layout.
func sqliteValue(k kind, v any) any {
	if v == nil {
		return nil
	}
	switch k {
	case kTimestamp:
		return time.Unix(v.(int64), 0).UTC().Format(catalog.SQLiteTimeLayout)
	case kDate:
		return time.Unix(v.(int64), 0).UTC().Format(catalog.SQLiteDateLayout)
	case kMoney, kMinutes:
		// The nearest double to the two-decimal value, as if parsed.
		return float64(v.(int64)) / 100
	case kBool:
		if v.(bool) {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

// writeFileAtomic writes data to path through a synced temporary file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("bankgen: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("bankgen: write %s: %w", path, err)
	}
	return nil
}

// syncDir makes renames in dir durable where the platform allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
