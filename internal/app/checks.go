package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/askmesh/askmesh/adapters/backends/rest"
	"github.com/askmesh/askmesh/adapters/backends/sqlstore"
	"github.com/askmesh/askmesh/catalog"
)

// ErrNoDataDir is the error of a data directory that does not exist.
var ErrNoDataDir = errors.New("the data directory does not exist")

// CheckDataDir refuses a data directory that does not exist instead of
// creating it: an empty directory would get an empty audit log and every
// answer would say "unavailable", hiding a mistyped --data-dir.
func CheckDataDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s\n  create the demo bank mesh there with: askmesh demo generate --data-dir %s (or run make demo)\n  or point --data-dir (ASKMESH_DATA_DIR, data_dir) at an existing one; for your own data create it first: mkdir -p %s",
			ErrNoDataDir, dir, dir, dir)
	case err != nil:
		return fmt.Errorf("data directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	return nil
}

// BackendStatus is one product's backend check.
type BackendStatus struct {
	Product string
	Kind    string // the binding's kind: sqlite, postgres, rest
	// Err is nil when the product's data is there and answers.
	Err error
	// Missing says the data is not where the binding says (a file, table,
	// column or API path): a configuration mistake, not an outage.
	Missing bool
}

// backendChecker is a backend that can check a product's data without
// reading any (sqlstore.Store, rest.Backend).
type backendChecker interface {
	Check(ctx context.Context, p *catalog.Product) error
}

// CheckBackends checks every product's data against its backend, a few at
// a time, in catalog order. Backends that cannot check are skipped.
func (a *App) CheckBackends(ctx context.Context) []BackendStatus {
	products := a.Catalog.List()
	out := make([]BackendStatus, len(products))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, p := range products {
		out[i] = BackendStatus{Product: p.Name, Kind: p.Binding.Kind}
		c, ok := a.backends[p.Binding.Kind].(backendChecker)
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			err := c.Check(ctx, p)
			var sm *sqlstore.MissingError
			var rm *rest.MissingError
			out[i].Err, out[i].Missing = err, errors.As(err, &sm) || errors.As(err, &rm)
		}()
	}
	wg.Wait()
	return out
}

// MissingDataError lists the products whose data is not where their
// bindings say.
type MissingDataError struct{ Products []BackendStatus }

func (e *MissingDataError) Error() string {
	var b strings.Builder
	b.WriteString("the catalog names data that does not exist:")
	for _, s := range e.Products {
		fmt.Fprintf(&b, "\n  %s", s.Err)
	}
	b.WriteString("\n  fix the product's backend binding in its descriptor, or create the data (askmesh demo generate for the demo mesh); askmesh doctor checks everything")
	return b.String()
}

// MissingData is the start-up check over CheckBackends' statuses: an
// error naming every product whose data is missing. Products that are only
// unreachable now are left to answer "unavailable" (and to /readyz): an
// outage is not a mistake.
func MissingData(statuses []BackendStatus) error {
	var missing []BackendStatus
	for _, s := range statuses {
		if s.Missing {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return &MissingDataError{Products: missing}
	}
	return nil
}
