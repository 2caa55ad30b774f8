// Package bankgen generates the data of the demo bank mesh whose product
// descriptors are in examples/bank/products: customers, transactions, loan
// applications, marketing campaigns, acquisitions and service interactions,
// deterministically from a seed, an as-of date and a scale, into one SQLite
// file per domain or one PostgreSQL schema per domain. The governance
// domain's product is askmesh's own audit log and is not generated.
//
// The data has structure worth asking about: weekly and seasonal patterns
// in transactions, a growing customer base with last month clearly above
// the month before, campaigns that differ in conversion rate, loan
// approval that depends on loan type and credit score, fraud contacts that
// skew negative, and about 50 injected anomalies (the only transactions
// above their customer's mean + 3 standard deviations).
package bankgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Version identifies the generator's output. Bump it whenever the data a
// given seed, as-of date and scale produce changes, so that caches of
// generated data (banktest, `askmesh demo`) know they are stale.
const Version = "1"

// ManifestFile is the name of the manifest GenerateSQLite writes into the
// data directory, after every database file is in place.
const ManifestFile = "demo-manifest.json"

// Defaults of Options.
const (
	DefaultSeed  int64 = 42
	DefaultScale       = 1
	// MaxScale bounds Scale: account ids are six digits, so the number of
	// customers (and their accounts) cannot grow without limit.
	MaxScale = 50
)

// Domains of the generated mesh, in the order they are written. The
// governance domain (the audit log) is not generated.
var Domains = []string{"retail-banking", "lending", "marketing", "growth", "customer-service"}

// Options say what to generate. The zero value of each field means its
// default.
type Options struct {
	// DataDir is where GenerateSQLite writes <domain>.db files and the
	// manifest. GeneratePostgres ignores it.
	DataDir string
	// Seed of the pseudo-random generator; 0 means DefaultSeed (42).
	Seed int64
	// AsOf is the last day of the data (its calendar date is used, the
	// time of day is ignored); zero means today in UTC.
	AsOf time.Time
	// Scale multiplies the row counts of customers, acquisitions,
	// transactions, loan applications and interactions; 0 means 1.
	Scale int
}

// normalized applies the defaults and validates the options.
func (o Options) normalized() (Options, error) {
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Scale == 0 {
		o.Scale = DefaultScale
	}
	if o.Scale < 1 || o.Scale > MaxScale {
		return o, fmt.Errorf("bankgen: scale %d is out of range 1..%d", o.Scale, MaxScale)
	}
	if o.AsOf.IsZero() {
		// The documented default; the only use of the wall clock.
		o.AsOf = time.Now().UTC()
	}
	y, m, d := o.AsOf.Date()
	o.AsOf = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if y < 1900 || y > 9000 {
		return o, fmt.Errorf("bankgen: as-of date %s is out of range", o.AsOf.Format(dateLayout))
	}
	return o, nil
}

const dateLayout = "2006-01-02"

// Manifest describes generated data: what produced it and how many rows
// each table holds.
type Manifest struct {
	GeneratorVersion string `json:"generator_version"`
	Seed             int64  `json:"seed"`
	AsOf             string `json:"as_of"` // the last day of the data, YYYY-MM-DD
	Scale            int    `json:"scale"`
	// From and Until bound every timestamp of the data: [From, Until), UTC.
	From   time.Time   `json:"from"`
	Until  time.Time   `json:"until"`
	Tables []TableRows `json:"tables"`
	// InjectedAnomalies are the transaction ids of the unusually large
	// transactions the generator injected; find_anomalies flags each.
	InjectedAnomalies []string `json:"injected_anomalies"`
}

// TableRows is the row count of one generated table.
type TableRows struct {
	Domain string `json:"domain"`
	Table  string `json:"table"`
	Rows   int    `json:"rows"`
}

// Rows returns the row count of a domain's table.
func (m Manifest) Rows(domain, table string) (int, bool) {
	for _, t := range m.Tables {
		if t.Domain == domain && t.Table == table {
			return t.Rows, true
		}
	}
	return 0, false
}

// Matches reports whether the manifest describes the data opts would
// generate with this version of the generator (defaults applied).
func (m Manifest) Matches(opts Options) bool {
	o, err := opts.normalized()
	if err != nil {
		return false
	}
	return m.GeneratorVersion == Version && m.Seed == o.Seed && m.Scale == o.Scale && m.AsOf == o.AsOf.Format(dateLayout)
}

// AsOfDate returns AsOf as a UTC date.
func (m Manifest) AsOfDate() (time.Time, error) {
	t, err := time.Parse(dateLayout, m.AsOf)
	if err != nil {
		return time.Time{}, fmt.Errorf("bankgen: manifest as_of %q: %w", m.AsOf, err)
	}
	return t, nil
}

// ReadManifest reads the manifest of the data in dataDir. When there is no
// complete generated mesh there (no manifest, or a database file missing)
// the error wraps fs.ErrNotExist.
func ReadManifest(dataDir string) (Manifest, error) {
	var m Manifest
	path := filepath.Join(dataDir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return m, fmt.Errorf("bankgen: read manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("bankgen: manifest %s: %w", path, err)
	}
	if m.GeneratorVersion == "" || m.AsOf == "" {
		return m, fmt.Errorf("bankgen: manifest %s: missing generator_version or as_of", path)
	}
	for _, d := range Domains {
		if _, err := os.Stat(filepath.Join(dataDir, d+".db")); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return m, fmt.Errorf("bankgen: %s lists %s.db, which is missing: %w", path, d, err)
			}
			return m, fmt.Errorf("bankgen: %w", err)
		}
	}
	return m, nil
}

// SchemaFor is the PostgreSQL schema holding a domain's tables: the domain
// name with '-' replaced by '_' ("retail-banking" -> "retail_banking").
func SchemaFor(domain string) string {
	return strings.ReplaceAll(domain, "-", "_")
}
