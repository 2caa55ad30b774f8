package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/brief"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

func TestParsePlace(t *testing.T) {
	t.Parallel()
	got, err := parsePlace([]string{"lending=mysql:root@tcp(127.0.0.1:3306)/lending?a=1,b=2,customer-service=postgres:postgres://h/db?sslmode=disable"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]placement{"lending": {"mysql", "root@tcp(127.0.0.1:3306)/lending?a=1,b=2"},
		"customer-service": {"postgres", "postgres://h/db?sslmode=disable"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"lending=oracle:x", "treasury=mysql:x", "lending"} {
		if _, err := parsePlace([]string{bad}); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// meshRun asks carol's brief and erin's europe-only question of the demo
// as a mesh, domains placed as where says, and returns the answers' text
// and the calls recorded by askmesh and by the product APIs.
func meshRun(t *testing.T, where map[string]placement) (texts []string, askmesh, products map[string]int) {
	t.Helper()
	dir := banktest.PrivateDir(t)
	for d := range where {
		// Placed domains' files are gone: their answers can only come from
		// their engines.
		if err := os.Remove(filepath.Join(dir, d+".db")); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := &cobra.Command{}
	cmd.SetContext(ctx)
	cfg := app.Config{DataDir: dir, Now: banktest.Now.Format(time.RFC3339)}
	g := &globals{dataDir: dir}
	opts, stop, err := g.startMesh(cmd, cfg, true, where)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(ctx, cfg, opts...)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	carol := tools.Caller{Subject: a.Directory.Lookup("carol@bank.example"), Channel: "test"}
	ans, err := brief.Build(ctx, a.Executor, a.Catalog, carol, brief.Options{Period: "2026-10"})
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, ans.Text)
	for _, q := range []string{"Total deposits in Europe last week, by channel", "How many loan applications were approved last month?",
		"Customer interactions by topic last month"} {
		who := "erin@bank.example"
		if q != "Total deposits in Europe last week, by channel" {
			who = "carol@bank.example"
		}
		ans, err := a.Agent.Answer(ctx, assistant.Request{Caller: tools.Caller{Subject: a.Directory.Lookup(who), Channel: "test"}, Question: q})
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, ans.Text)
	}
	count := func(st audit.Store) map[string]int {
		recs, err := st.Search(ctx, audit.Query{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, r := range recs {
			if r.Product != "" && r.Tool != tools.ToolDescribe && r.Tool != tools.ToolSearch {
				out[r.Subject+" "+r.Tool+" "+r.Product+" "+r.Decision]++
			}
		}
		return out
	}
	askmesh = count(a.Audit)
	a.Close()
	stop()
	st, err := auditlog.OpenSQLite(ctx, filepath.Join(dir, "product-api", "governance.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return texts, askmesh, count(st)
}

var auditIDs = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// TestMeshPlacesDomainsOnTheirEngines: with lending on MariaDB and
// customer-service on PostgreSQL, each behind its own product API, carol's
// brief and erin's europe-only question come out exactly as from the
// all-SQLite mesh, and every data call askmesh records is recorded once by
// the product API that served it.
func TestMeshPlacesDomainsOnTheirEngines(t *testing.T) {
	t.Parallel()
	where := map[string]placement{"lending": {"mysql", banktest.MySQL(t)}, "customer-service": {"postgres", banktest.Postgres(t)}}
	placedText, placedAsk, placedAPI := meshRun(t, where)
	baseText, _, _ := meshRun(t, nil)
	for i := range baseText {
		if auditIDs.ReplaceAllString(placedText[i], "ID") != auditIDs.ReplaceAllString(baseText[i], "ID") {
			t.Errorf("answer %d differs:\nplaced: %s\nsqlite: %s", i, placedText[i], baseText[i])
		}
	}
	if !regexp.MustCompile(`(?i)europe`).MatchString(placedText[1]) {
		t.Errorf("erin's answer does not say it is Europe's: %s", placedText[1])
	}
	// Calls askmesh itself denies (access-audit, tools a grant does not
	// cover) never reach a product API; every allowed one does, once.
	allowed := map[string]int{}
	for k, n := range placedAsk {
		if strings.HasSuffix(k, " allow") {
			allowed[k] = n
		}
	}
	if !reflect.DeepEqual(allowed, placedAPI) {
		t.Errorf("calls recorded by askmesh and by the product APIs differ:\naskmesh: %v\napis:    %v", placedAsk, placedAPI)
	}
	for _, k := range []string{"carol@bank.example query_metrics loan-applications allow", "carol@bank.example query_metrics customer-interactions allow",
		"erin@bank.example query_metrics customer-transactions allow"} {
		if placedAPI[k] == 0 {
			t.Errorf("no product API recorded %q: %v", k, placedAPI)
		}
	}
}
