package auditlog

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFiles embed.FS

// migration is one versioned SQL file, NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the migrations of one dialect, in version order.
func loadMigrations(dir string) ([]migration, error) {
	dir = path.Join("migrations", dir)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".sql")
		if !ok {
			continue
		}
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", e.Name())
		}
		sql, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(sql)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("two migrations with version %d", ms[i].version)
		}
	}
	return ms, nil
}

// countPending counts migrations not applied yet, and warns about versions this
// binary does not know (a newer askmesh migrated; rolling upgrades keep going).
func countPending(ms []migration, applied map[int]bool) int {
	known := map[int]bool{}
	n := 0
	for _, m := range ms {
		known[m.version] = true
		if !applied[m.version] {
			n++
		}
	}
	for v := range applied {
		if !known[v] {
			slog.Warn("audit: the audit schema has a migration this askmesh does not know; a newer version applied it", "version", v)
		}
	}
	return n
}

// applyMigrations runs, in one transaction that exec speaks to, the
// migrations not yet applied, recording each with record (a statement
// taking the version and the name).
func applyMigrations(ctx context.Context, store string, ms []migration, applied map[int]bool,
	exec func(ctx context.Context, sql string, args ...any) error, record string) error {
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if err := exec(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
		if err := exec(ctx, record, m.version, m.name); err != nil {
			return fmt.Errorf("migration %04d_%s: record version: %w", m.version, m.name, err)
		}
		slog.Info("audit: applied migration", "store", store, "version", m.version, "name", m.name)
	}
	return nil
}
