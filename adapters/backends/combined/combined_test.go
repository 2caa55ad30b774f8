package combined_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// stack builds askmesh over the demo data with the demo catalog plus the
// acquisition-cost product; edit rewrites descriptor files before loading.
func stack(t *testing.T, edit map[string][2]string) *app.App {
	t.Helper()
	dir := t.TempDir()
	entries, err := bank.Files.ReadDir(bank.ProductsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := bank.Files.ReadFile(bank.ProductsDir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := edit[e.Name()]; ok {
			if !strings.Contains(string(b), r[0]) {
				t.Fatalf("%s has no %q", e.Name(), r[0])
			}
			b = []byte(strings.Replace(string(b), r[0], r[1], 1))
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile("../../../examples/bank/combined/acquisition-cost.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acquisition-cost.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := app.Config{DataDir: banktest.PrivateDir(t), CatalogDir: dir, Now: banktest.Now.Format(time.RFC3339)}
	a, err := app.Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func caller(t *testing.T, a *app.App, id string) tools.Caller {
	t.Helper()
	s := a.Directory.Lookup(id)
	if !s.Known {
		t.Fatalf("no user %s", id)
	}
	return tools.Caller{Subject: s, Channel: "cli", RequestID: "req-" + id}
}

func ask(t *testing.T, a *app.App, who string, args map[string]any) (*tools.Result, error) {
	t.Helper()
	raw, _ := json.Marshal(args)
	return a.Executor.Call(context.Background(), caller(t, a, who), tools.Call{Tool: tools.ToolQueryMetrics, Arguments: raw})
}

// truth computes cost per acquired customer by campaign with SQL of its
// own across the two domains' SQLite files.
func truth(t *testing.T, dataDir, campaignWhere, acquiredWhere string) [][]any {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "marketing.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("ATTACH DATABASE ? AS g", "file:"+filepath.Join(dataDir, "growth.db")+"?mode=ro"); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT c.campaign_id, c.spend / a.n FROM
		(SELECT campaign_id, SUM(budget) AS spend FROM campaigns WHERE ` + campaignWhere + ` GROUP BY campaign_id) c
		JOIN (SELECT campaign_id, COUNT(*) AS n FROM g.acquisitions WHERE campaign_id IS NOT NULL AND ` + acquiredWhere + ` GROUP BY campaign_id) a
		ON a.campaign_id = c.campaign_id ORDER BY c.campaign_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		var id string
		var v float64
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, []any{id, math.Round(v*100) / 100})
	}
	return out
}

func TestCostPerAcquiredCustomerEqualsSQLAcrossBothFiles(t *testing.T) {
	t.Parallel()
	a := stack(t, nil)
	for _, c := range []struct {
		name, timeRange, campaignWhere, acquiredWhere string
	}{
		{"all time", "", "1 = 1", "1 = 1"},
		{"2025", "2025", "start_date >= '2025-01-01' AND start_date < '2026-01-01'",
			"acquired_at >= '2025-01-01T00:00:00.000000Z' AND acquired_at < '2026-01-01T00:00:00.000000Z'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := truth(t, a.Config.DataDir, c.campaignWhere, c.acquiredWhere)
			if len(want) < 5 {
				t.Fatalf("the SQL finds %d campaigns: the case tests little", len(want))
			}
			args := map[string]any{"product": "acquisition-cost", "metrics": []string{"cost_per_acquired_customer"},
				"group_by": []string{"campaign_id"}, "limit": 1000}
			if c.timeRange != "" {
				args["time_range"] = c.timeRange
			}
			res, err := ask(t, a, "carol@bank.example", args)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Rows, want) {
				t.Fatalf("rows:\ngot  %v\nwant %v", res.Rows, want)
			}
			joined := strings.Join(res.Notes, " | ")
			for _, s := range []string{"marketing-campaigns.total_budget", "customer-acquisition.new_customers"} {
				if !strings.Contains(joined, s) {
					t.Errorf("notes %q do not say the answer combined %s", joined, s)
				}
			}
			// One audit record per call: the combined one and each side's,
			// all for carol.
			recs, err := a.Audit.Search(context.Background(), audit.Query{Subject: "carol@bank.example", Desc: true, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range recs {
				got[r.Product] = r.Decision
			}
			wantRecs := map[string]string{"acquisition-cost": "allow", "marketing-campaigns": "allow", "customer-acquisition": "allow"}
			if !reflect.DeepEqual(got, wantRecs) {
				t.Errorf("last audit records %v, want %v", got, wantRecs)
			}
		})
	}
}

// carol may query growth's metrics but, here, not marketing's: the combined
// metric is denied naming marketing-campaigns and its reason, and no value
// of the side she may see comes back.
func TestDeniedSideDeniesTheCombination(t *testing.T) {
	t.Parallel()
	a := stack(t, map[string][2]string{"marketing-campaigns.yaml": {"groups: [executive, marketing]", "groups: [marketing]"}})
	res, err := ask(t, a, "carol@bank.example", map[string]any{"product": "acquisition-cost",
		"metrics": []string{"cost_per_acquired_customer"}, "group_by": []string{"campaign"}})
	var denied *tools.DeniedError
	if !errors.As(err, &denied) {
		t.Fatalf("err = %v (result %v), want a denial", err, res)
	}
	if res != nil {
		t.Fatalf("a denied call returned %v", res)
	}
	if !strings.Contains(denied.Reason, "marketing-campaigns") || !strings.Contains(denied.Reason, "not in a group") {
		t.Errorf("reason %q does not name the denied side and why", denied.Reason)
	}
	if strings.Contains(denied.Reason, "customer-acquisition (new_customers):") {
		t.Errorf("reason %q blames the side carol may see", denied.Reason)
	}
	recs, err := a.Audit.Search(context.Background(), audit.Query{Subject: "carol@bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range recs {
		got[r.Product] = r.Decision
	}
	want := map[string]string{"acquisition-cost": "deny", "marketing-campaigns": "deny", "customer-acquisition": "allow"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("audit decisions %v, want %v", got, want)
	}
}

// bob is refused at the combined product itself, and no side is queried.
func TestCombinedProductHasItsOwnGrants(t *testing.T) {
	t.Parallel()
	a := stack(t, nil)
	_, err := ask(t, a, "bob@bank.example", map[string]any{"product": "acquisition-cost", "metrics": []string{"cost_per_acquired_customer"}})
	var denied *tools.DeniedError
	if !errors.As(err, &denied) || !strings.Contains(denied.Reason, "acquisition-cost") {
		t.Fatalf("err = %v, want a denial naming acquisition-cost", err)
	}
	recs, err := a.Audit.Search(context.Background(), audit.Query{Subject: "bob@bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Product != "acquisition-cost" {
		t.Fatalf("audit records %+v, want the one denial of acquisition-cost", recs)
	}
}
