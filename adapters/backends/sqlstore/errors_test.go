package sqlstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/pgtest"
	"github.com/askmesh/askmesh/tools"
)

func TestMissingSQLiteFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := New(Options{SQLiteDir: dir})
	defer s.Close()
	p := demoProduct(t, "customer-transactions")
	_, err := s.QueryRecords(ctx(t), tools.RecordsPlan{Product: p, Columns: []string{"transaction_id"}})
	path := filepath.Join(dir, "retail-banking.db")
	want := "customer-transactions is unavailable: its data file " + path + " does not exist"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want it to start with %q", err, want)
	}
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.Product != "customer-transactions" {
		t.Errorf("err is not an UnavailableError for the product: %#v", err)
	}
	if _, statErr := os.Stat(path); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("querying created %s: a read-only store must not", path)
	}
	// The file appearing later is picked up: failures are not cached.
	createSQLite(t, dir, p, nil)
	res, err := s.QueryRecords(ctx(t), tools.RecordsPlan{Product: p, Columns: []string{"transaction_id"}})
	if err != nil {
		t.Fatal(err)
	}
	if *res.TotalCount != 0 {
		t.Errorf("TotalCount = %d, want 0", *res.TotalCount)
	}
}

func TestConfigurationErrors(t *testing.T) {
	t.Parallel()
	p := demoProduct(t, "loan-applications")
	pg := *p
	pg.Binding = catalog.Binding{Kind: catalog.BackendPostgres, Schema: "lending", Table: "loan_applications", DSNEnv: "ASKMESH_TEST_UNSET_DSN"}
	rest := *p
	rest.Binding = catalog.Binding{Kind: catalog.BackendREST, URL: "https://loans.bank.example"}
	cases := []struct {
		name    string
		opts    Options
		product *catalog.Product
		want    string
	}{
		{"no data dir", Options{}, p, "loan-applications is unavailable: no SQLite data directory is configured"},
		{"no DSN", Options{SQLiteDir: t.TempDir()}, &pg,
			"loan-applications is unavailable: no PostgreSQL DSN: the environment variable ASKMESH_TEST_UNSET_DSN is not set and no default DSN is configured"},
		{"rest binding", Options{}, &rest, `loan-applications is unavailable: the SQL store serves sqlite, postgres and mysql bindings, not "rest"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := New(c.opts)
			defer s.Close()
			_, err := s.QueryMetrics(ctx(t), tools.MetricsPlan{Product: c.product, Metrics: []string{"application_count"}})
			if err == nil || err.Error() != c.want {
				t.Fatalf("err = %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestClosedStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := fixtureProduct(t, "fixture-events", "at")
	createSQLite(t, dir, p, [][]any{events[0].values()})
	s := New(Options{SQLiteDir: dir})
	if _, err := s.GetRecord(ctx(t), tools.GetPlan{Product: p, ID: "e01", Columns: []string{"event_id"}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := s.GetRecord(ctx(t), tools.GetPlan{Product: p, ID: "e01", Columns: []string{"event_id"}})
	if err == nil || err.Error() != "fixture-events is unavailable: the product store is closed" {
		t.Fatalf("err = %v", err)
	}
}

func TestQueryTimeout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := fixtureProduct(t, "fixture-events", "at")
	createSQLite(t, dir, p, [][]any{events[0].values()})
	// A deadline that has always passed by the time the query runs.
	s := New(Options{SQLiteDir: dir, QueryTimeout: time.Nanosecond})
	defer s.Close()
	_, err := s.QueryRecords(ctx(t), tools.RecordsPlan{Product: p, Columns: []string{"event_id"}})
	if err == nil || !strings.HasPrefix(err.Error(), "fixture-events is unavailable: ") || !strings.Contains(err.Error(), "did not finish within 1ns") {
		t.Fatalf("err = %v, want the product named and the time limit", err)
	}
}

// TestDSNChoice: a run-time DSN beats the binding's environment variable,
// which beats the store's default.
func TestDSNChoice(t *testing.T) {
	t.Parallel()
	good := pgtest.NewDatabase(t)
	p := fixtureProduct(t, "fixture-events", "at")
	createPostgres(t, good, p, [][]any{events[0].values()})
	bad := "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"
	secrets := map[string]string{"ASKMESH_TEST_EVENTS_DSN": good, "ASKMESH_TEST_BAD_DSN": bad}
	secret := func(name string) (string, bool) { v, ok := secrets[name]; return v, ok }
	cases := []struct {
		name    string
		binding catalog.Binding
		def     string
	}{
		{"run-time DSN", catalog.Binding{DSN: good, DSNEnv: "ASKMESH_TEST_BAD_DSN"}, bad},
		{"environment", catalog.Binding{DSNEnv: "ASKMESH_TEST_EVENTS_DSN"}, bad},
		{"environment unset: default", catalog.Binding{DSNEnv: "ASKMESH_TEST_UNSET_DSN"}, good},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := *p
			q.Binding = c.binding
			q.Binding.Kind, q.Binding.Schema, q.Binding.Table = catalog.BackendPostgres, "testing", "events"
			s := New(Options{PostgresDSN: c.def, Secret: secret})
			defer s.Close()
			res, err := s.GetRecord(ctx(t), tools.GetPlan{Product: &q, ID: "e01", Columns: []string{"event_id"}})
			if err != nil {
				t.Fatal(err)
			}
			assertRows(t, res, [][]any{{"e01"}})
		})
	}
}

// TestPostgresOutage: while the server is down, calls fail naming the
// product; when it is back, the same store answers again.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	cl := pgtest.StartCluster(t)
	p := fixtureProduct(t, "fixture-events", "at")
	createPostgres(t, cl.DSN(), p, [][]any{events[0].values()})
	s := New(Options{PostgresDSN: cl.DSN(), QueryTimeout: 10 * time.Second})
	defer s.Close()
	pp := *p
	pp.Binding = catalog.Binding{Kind: catalog.BackendPostgres, Schema: "testing", Table: "events"}
	plan := tools.MetricsPlan{Product: &pp, Metrics: []string{"event_count"}}
	if _, err := s.QueryMetrics(ctx(t), plan); err != nil {
		t.Fatal(err)
	}
	cl.Stop(t)
	_, err := s.QueryMetrics(ctx(t), plan)
	if err == nil || !strings.HasPrefix(err.Error(), "fixture-events is unavailable: ") {
		t.Fatalf("err = %v, want the product named as unavailable", err)
	}
	cl.Start(t)
	res, err := s.QueryMetrics(ctx(t), plan)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	assertRows(t, res, [][]any{{int64(1)}})
}

// TestPlanErrors: plans naming what the catalog does not have fail with an
// error and run nothing.
func TestPlanErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := fixtureProduct(t, "fixture-events", "at")
	createSQLite(t, dir, p, nil)
	s := New(Options{SQLiteDir: dir})
	defer s.Close()
	inject := `kind"; DROP TABLE events; --`
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"unknown column", func() error {
			_, err := s.QueryRecords(ctx(t), tools.RecordsPlan{Product: p, Columns: []string{inject}})
			return err
		}, `fixture-events has no column "kind\"; DROP TABLE events; --"`},
		{"unknown filter column", func() error {
			_, err := s.QueryRecords(ctx(t), tools.RecordsPlan{Product: p, Columns: []string{"event_id"}, Filters: []tools.Condition{{Column: inject, Op: "=", Value: "x"}}})
			return err
		}, "has no column"},
		{"unknown operator", func() error {
			_, err := s.QueryRecords(ctx(t), tools.RecordsPlan{Product: p, Columns: []string{"event_id"}, Filters: []tools.Condition{{Column: "kind", Op: "LIKE", Value: "x"}}})
			return err
		}, `unknown operator "LIKE"`},
		{"wrong value type", func() error {
			_, err := s.QueryRecords(ctx(t), tools.RecordsPlan{Product: p, Columns: []string{"event_id"}, Filters: []tools.Condition{{Column: "n", Op: "=", Value: "1 OR 1=1"}}})
			return err
		}, `n holds integer values; "1 OR 1=1" is not one`},
		{"unknown metric", func() error {
			_, err := s.QueryMetrics(ctx(t), tools.MetricsPlan{Product: p, Metrics: []string{inject}})
			return err
		}, "has no metric"},
		{"unknown order", func() error {
			_, err := s.QueryMetrics(ctx(t), tools.MetricsPlan{Product: p, Metrics: []string{"event_count"}, Order: []tools.Sort{{Field: inject}}})
			return err
		}, "cannot order by"},
		{"unknown grain", func() error {
			_, err := s.QueryMetrics(ctx(t), tools.MetricsPlan{Product: p, Metrics: []string{"event_count"}, Grain: "decade"})
			return err
		}, `unknown time grain "decade"`},
		{"no columns", func() error {
			_, err := s.GetRecord(ctx(t), tools.GetPlan{Product: p, ID: "e01"})
			return err
		}, "no columns to return"},
		{"no columns for anomalies", func() error {
			_, err := s.FindAnomalies(ctx(t), tools.AnomaliesPlan{Product: p})
			return err
		}, "no columns to return"},
		{"no product", func() error {
			_, err := s.QueryMetrics(ctx(t), tools.MetricsPlan{Metrics: []string{"event_count"}})
			return err
		}, "query_metrics: the plan has no product"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestConcurrentUse: many goroutines share one store and its lazily opened
// handles (run with -race).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	backends := fixtureBackends(t)
	p := fixtureProduct(t, "fixture-events", "at")
	want := refGroups(events, "month", []string{"kind"}, []string{"event_count", "total_amount"})
	for _, b := range backends {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := b.store.QueryMetrics(ctx(t), tools.MetricsPlan{Product: b.bind(p), Metrics: []string{"event_count", "total_amount"},
					GroupBy: []string{"kind"}, Grain: "month"})
				if err == nil && len(res.Rows) != len(want) {
					err = errors.New("wrong row count")
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("%s: %v", b.name, err)
			}
		}
	}
}

// TestRestrictedColumns: a restricted column (customers.ssn) is refused
// whether it is asked for, filtered on or sorted by, on every tool.
func TestRestrictedColumns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := demoProduct(t, "customers")
	createSQLite(t, dir, p, nil)
	s := New(Options{SQLiteDir: dir})
	defer s.Close()
	byName := []tools.Condition{{Column: "ssn", Op: "=", Value: "900-00-0001"}}
	calls := map[string]func() error{
		"select": func() error {
			_, err := s.QueryRecords(ctx(t), tools.RecordsPlan{Product: p, Columns: []string{"customer_id", "ssn"}})
			return err
		},
		"filter": func() error {
			_, err := s.QueryRecords(ctx(t), tools.RecordsPlan{Product: p, Columns: []string{"customer_id"}, Filters: byName})
			return err
		},
		"order": func() error {
			_, err := s.QueryRecords(ctx(t), tools.RecordsPlan{Product: p, Columns: []string{"customer_id"}, Order: []tools.Sort{{Field: "ssn"}}})
			return err
		},
		"metric filter": func() error {
			_, err := s.QueryMetrics(ctx(t), tools.MetricsPlan{Product: p, Metrics: []string{"customer_count"}, Filters: byName})
			return err
		},
		"group": func() error {
			_, err := s.QueryMetrics(ctx(t), tools.MetricsPlan{Product: p, Metrics: []string{"customer_count"}, GroupBy: []string{"ssn"}})
			return err
		},
		"get": func() error {
			_, err := s.GetRecord(ctx(t), tools.GetPlan{Product: p, ID: "cust-00001", Columns: []string{"ssn"}})
			return err
		},
		"get filter": func() error {
			_, err := s.GetRecord(ctx(t), tools.GetPlan{Product: p, ID: "cust-00001", Columns: []string{"customer_id"}, Filters: byName})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); err == nil || !strings.Contains(err.Error(), "customers.ssn is restricted and is never read through askmesh") {
			t.Errorf("%s: err = %v, want the restricted column refused", name, err)
		}
	}
}
