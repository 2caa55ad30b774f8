package auditlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// A real outage: the server stops under the store and comes back.
func TestPostgresOutageFailsClosed(t *testing.T) {
	t.Parallel()
	cluster := pgtest.StartCluster(t)
	dsn := cluster.DSN()
	store, err := OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	var acked []string
	appendOne := func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r := sampleRecord(i)
		r.ID = fmt.Sprintf("outage-%d", i)
		err := store.Append(ctx, &r)
		if err == nil {
			acked = append(acked, r.ID)
		}
		return err
	}
	for i := range 2 {
		if err := appendOne(i); err != nil {
			t.Fatal(err)
		}
	}

	cluster.Stop(t)
	for i := 2; i < 5; i++ {
		err := appendOne(i)
		if err == nil || !strings.Contains(err.Error(), "audit: record not committed") {
			t.Fatalf("append %d during the outage: err = %v, want not committed", i, err)
		}
	}
	if err := store.Ping(context.Background()); err == nil {
		t.Error("Ping succeeded during the outage")
	}

	cluster.Start(t)
	// The same store, not reopened.
	if err := appendOne(5); err != nil {
		t.Fatalf("append after the server came back: %v", err)
	}
	if err := store.Ping(context.Background()); err != nil {
		t.Errorf("Ping after the outage: %v", err)
	}

	res, err := store.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	recs, err := store.Search(context.Background(), audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, r := range recs {
		stored = append(stored, r.ID)
	}
	want := []string{"outage-0", "outage-1", "outage-5"}
	if !reflect.DeepEqual(acked, want) || !reflect.DeepEqual(stored, want) {
		t.Errorf("acknowledged %v, stored %v, want both %v", acked, stored, want)
	}
	if !res.OK || res.Records != 3 || res.HeadSeq != 3 {
		t.Errorf("Verify = %+v, want an intact chain of 3", res)
	}
}

// Two processes ("replicas") appending to one database keep one chain.
func TestPostgresTwoReplicasOneChain(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	const perReplica, writers, each = 2, 16, 25
	var stores []*PostgresStore
	for range perReplica {
		s, err := OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, perReplica*writers)
	for r, s := range stores {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					rec := sampleRecord(i)
					rec.ID = fmt.Sprintf("replica%d-w%02d-%02d", r, w, i)
					if err := s.Append(context.Background(), &rec); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					acked[rec.ID] = true
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const total = perReplica * writers * each
	for _, s := range stores {
		res, err := s.Verify(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK || res.Records != total || res.HeadSeq != total {
			t.Errorf("Verify = %+v, want an intact chain of %d", res, total)
		}
	}
	recs, err := stores[0].Search(context.Background(), audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	byReplica := map[byte]int{}
	for i, r := range recs {
		if r.Seq != int64(i+1) || !acked[r.ID] {
			t.Fatalf("record %d: seq %d id %s (acknowledged: %v)", i, r.Seq, r.ID, acked[r.ID])
		}
		delete(acked, r.ID)
		byReplica[r.ID[7]]++
	}
	if len(acked) != 0 || byReplica['0'] != total/2 || byReplica['1'] != total/2 {
		t.Errorf("unstored acknowledged records %d; per replica %v", len(acked), byReplica)
	}
}

func TestPostgresSchema(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	// Replicas starting together migrate once.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := OpenPostgres(context.Background(), dsn)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var versions []int
	rows, _ := conn.Query(context.Background(), "SELECT version FROM governance.schema_migrations ORDER BY version")
	versions, err = pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil || !reflect.DeepEqual(versions, []int{1, 2, 3}) {
		t.Errorf("schema versions %v (%v), want [1 2 3]", versions, err)
	}

	// The table is the access-audit data product: the descriptor's columns,
	// in order, with plain types.
	rows, _ = conn.Query(context.Background(), `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'governance' AND table_name = 'access_audit' ORDER BY ordinal_position`)
	type col struct{ Name, Type string }
	cols, err := pgx.CollectRows(rows, pgx.RowToStructByPos[col])
	if err != nil {
		t.Fatal(err)
	}
	reg, err := catalog.LoadFS(bank.Files, bank.ProductsDir)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := reg.Get("access-audit")
	if !ok {
		t.Fatal("the demo catalog has no access-audit")
	}
	if len(cols) != len(p.Columns) {
		t.Fatalf("table has %d columns, the descriptor %d", len(cols), len(p.Columns))
	}
	pgType := map[string]string{catalog.TypeString: "text", catalog.TypeTimestamp: "timestamp with time zone"}
	for i, c := range p.Columns {
		want := pgType[c.Type]
		if c.Type == catalog.TypeInteger {
			want = map[string]string{"rows_returned": "integer"}[c.Name]
			if want == "" {
				want = "bigint"
			}
		}
		if cols[i].Name != c.Name || cols[i].Type != want {
			t.Errorf("column %d: %s %s, want %s %s", i, cols[i].Name, cols[i].Type, c.Name, want)
		}
	}
	if !reflect.DeepEqual(CSVHeader, func() []string {
		var n []string
		for _, c := range cols {
			n = append(n, c.Name)
		}
		return n
	}()) {
		t.Error("table columns differ from the record's field names")
	}
}

func randomName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func withUser(t *testing.T, dsn, user string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(user)
	return u.String()
}

// The GRANTs docs/audit.md gives, applied as written: the application role
// appends and reads but cannot change history; the auditor only reads.
func TestPostgresInsertOnlyRoles(t *testing.T) {
	t.Parallel()
	admin := pgtest.Admin(t)
	app, auditor := randomName("askmesh_app_"), randomName("askmesh_auditor_")
	ctx := context.Background()
	for _, role := range []string{app, auditor} {
		if err := execSQL(ctx, admin, "CREATE ROLE "+role+" LOGIN"); err != nil {
			t.Fatal(err)
		}
		// Registered before the database, so it runs after the database is dropped.
		t.Cleanup(func() { _ = execSQL(ctx, admin, "DROP ROLE IF EXISTS "+role) })
	}
	dsn := pgtest.NewDatabase(t)
	owner, err := OpenPostgres(ctx, dsn) // the owner migrates
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, owner, []audit.Record{sampleRecord(0)})
	owner.Close()

	grants := strings.NewReplacer("askmesh_app", app, "askmesh_auditor", auditor).Replace(docGrants(t))
	if err := execSQL(ctx, dsn, grants); err != nil {
		t.Fatalf("the documented grants: %v", err)
	}

	appDSN := withUser(t, dsn, app)
	s, err := OpenPostgres(ctx, appDSN)
	if err != nil {
		t.Fatalf("open as the application role: %v", err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping as the application role: %v", err)
	}
	appendAll(t, s, []audit.Record{sampleRecord(1), sampleRecord(2)})
	if res, err := s.Verify(ctx); err != nil || !res.OK || res.Records != 3 {
		t.Errorf("Verify as the application role = %+v, %v", res, err)
	}
	for _, q := range []string{
		`UPDATE governance.access_audit SET "reason" = 'x'`,
		`DELETE FROM governance.access_audit`,
		`TRUNCATE governance.access_audit`,
		`ALTER TABLE governance.access_audit DISABLE TRIGGER access_audit_append_only`,
		`DROP TABLE governance.access_audit`,
	} {
		if err := execSQL(ctx, appDSN, q); err == nil {
			t.Errorf("the application role could: %s", q)
		}
	}

	// A missing migration is not something the application role can apply:
	// opening fails rather than running on an old schema.
	if err := execSQL(ctx, dsn, "DELETE FROM governance.schema_migrations WHERE version = 1"); err != nil {
		t.Fatal(err)
	}
	if bad, err := OpenPostgres(ctx, appDSN); err == nil {
		bad.Close()
		t.Error("the application role opened a store with a migration missing")
	} else if !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("opening with a migration missing: %v, want a permission error", err)
	}
	if err := execSQL(ctx, dsn, "INSERT INTO governance.schema_migrations (version, name) VALUES (1, 'access_audit')"); err != nil {
		t.Fatal(err)
	}

	audDSN := withUser(t, dsn, auditor)
	var n int
	conn, err := pgx.Connect(ctx, audDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM governance.access_audit").Scan(&n); err != nil || n != 3 {
		t.Errorf("auditor reads %d records (%v), want 3", n, err)
	}
	if err := execSQL(ctx, audDSN, `INSERT INTO governance.access_audit SELECT * FROM governance.access_audit LIMIT 0`); err == nil {
		t.Error("the auditor role may insert")
	}
	// An auditor's store opens (nothing to migrate) but is not ready to append.
	rs, err := OpenPostgres(ctx, audDSN)
	if err != nil {
		t.Fatalf("open as the auditor: %v", err)
	}
	defer rs.Close()
	if err := rs.Ping(ctx); err == nil || !strings.Contains(err.Error(), "may not insert") {
		t.Errorf("Ping as the auditor: %v, want it to say the role may not insert", err)
	}
	if res, err := rs.Verify(ctx); err != nil || !res.OK || res.Records != 3 {
		t.Errorf("Verify as the auditor = %+v, %v", res, err)
	}
	r := sampleRecord(9)
	if err := rs.Append(ctx, &r); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("Append as the auditor: %v, want permission denied", err)
	}
}

// docGrants returns the GRANT statements of docs/audit.md, so the test
// runs exactly what the documentation tells people to run on the schema
// (the administrator's database-level GRANT is left out).
func docGrants(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "GRANT ") && strings.Contains(line, " governance.") || strings.HasPrefix(line, "GRANT USAGE ON SCHEMA governance ") {
			stmts = append(stmts, line)
		}
	}
	if len(stmts) == 0 {
		t.Fatal("docs/audit.md has no GRANT statements")
	}
	return strings.Join(stmts, "\n")
}

func execSQL(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func queryRow(ctx context.Context, dsn, sql string, into ...any) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, sql).Scan(into...)
}

// A store whose last known head is stale (another replica appended since)
// chains onto the real head instead.
func TestPostgresChainsOntoAnotherReplicasHead(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	a, err := OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	order := []*PostgresStore{a, a, b, a, b, b, a}
	prev := GenesisHash
	for i, s := range order {
		r := sampleRecord(i)
		if err := s.Append(ctx, &r); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if r.Seq != int64(i+1) || r.PrevHash != prev {
			t.Fatalf("append %d got seq %d prev %s, want seq %d prev %s", i, r.Seq, r.PrevHash, i+1, prev)
		}
		prev = r.Hash
	}
	res, err := b.Verify(ctx)
	if err != nil || !res.OK || res.Records != int64(len(order)) || res.Head != prev {
		t.Errorf("Verify = %+v, %v", res, err)
	}
}
