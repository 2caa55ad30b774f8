package sqlstore

import (
	"context"
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/catalog"
)

// Check finds the product's data or names what is missing (file, table,
// column) as a MissingError; an unreachable server is an UnavailableError.
func TestCheckNamesWhatIsMissing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, b := range demoBackends(t) {
		loans := b.bind(demoProduct(t, "loan-applications"))
		if err := b.store.Check(ctx, loans); err != nil {
			t.Errorf("%s: the demo's loan-applications: %v", b.name, err)
		}
		table := *loans
		table.Binding.Table = "loan_aplications"
		column := *loans
		column.Columns = append(append([]catalog.Column(nil), loans.Columns...), catalog.Column{Name: "credit_scor", Type: catalog.TypeInteger})
		// The restricted ssn is never read, so its absence is not checked.
		restricted := *loans
		restricted.Columns = append(append([]catalog.Column(nil), loans.Columns...), catalog.Column{Name: "ssn", Type: catalog.TypeString, Classification: catalog.ClassRestricted})
		if err := b.store.Check(ctx, &restricted); err != nil {
			t.Errorf("%s: a restricted column was read: %v", b.name, err)
		}
		wantTable, wantColumn := "sqlite table: no such table: loan_aplications", "sqlite column: no such column: credit_scor (table loan_applications)"
		switch b.name {
		case "postgres":
			wantTable, wantColumn = `postgres table: relation "lending.loan_aplications" does not exist`, `postgres column: column "credit_scor" does not exist`
		case "mysql":
			// The test's own database (named by the DSN) holds the tables.
			wantTable, wantColumn = "mysql table: Table '*.loan_aplications' doesn't exist", "mysql column: Unknown column 'credit_scor' in 'SELECT'"
		}
		for _, c := range []struct {
			p    *catalog.Product
			want string
		}{{&table, wantTable}, {&column, wantColumn}} {
			err := b.store.Check(ctx, c.p)
			var missing *MissingError
			matched := false
			if err != nil {
				matched, _ = path.Match("loan-applications: "+c.want, err.Error())
			}
			if !errors.As(err, &missing) || !matched {
				t.Errorf("%s: %v, want a MissingError %q", b.name, err, c.want)
			}
		}
	}

	s := New(Options{SQLiteDir: t.TempDir()})
	defer s.Close()
	var missing *MissingError
	if err := s.Check(ctx, demoProduct(t, "loan-applications")); !errors.As(err, &missing) || !strings.Contains(err.Error(), "lending.db does not exist") {
		t.Errorf("no data file: %v", err)
	}

	down := *demoProduct(t, "loan-applications")
	down.Binding = catalog.Binding{Kind: catalog.BackendPostgres, Schema: "lending", Table: "loan_applications",
		DSN: "postgres://postgres@127.0.0.1:1/bank?sslmode=disable&connect_timeout=2"}
	var unavailable *UnavailableError
	if err := s.Check(ctx, &down); !errors.As(err, &unavailable) || errors.As(err, &missing) {
		t.Errorf("an unreachable server: %v, want an UnavailableError", err)
	}
}
