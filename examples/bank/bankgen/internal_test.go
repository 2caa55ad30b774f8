package bankgen

import (
	"context"
	"testing"
	"time"
)

// TestOtherSeedsAndDates: what the demo promises holds for any seed and
// as-of date a user may pick, not only the tests' own (generated in
// memory; generation itself fails when the anomaly rule would flag
// anything but the injected transactions).
func TestOtherSeedsAndDates(t *testing.T) {
	t.Parallel()
	cases := []struct {
		seed int64
		asOf string
	}{
		{1, "2024-02-29"},
		{2, "2025-01-01"},
		{3, "2025-12-31"},
		{4, "2026-03-31"},
		{5, "2026-07-15"},
		{6, "2027-08-31"},
		{42, "2028-02-29"},
	}
	for _, c := range cases {
		t.Run(c.asOf, func(t *testing.T) {
			asOf, _ := time.Parse(dateLayout, c.asOf)
			opts, err := Options{Seed: c.seed, AsOf: asOf}.normalized()
			if err != nil {
				t.Fatal(err)
			}
			ds, err := generate(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			// The last two full months differ by at least 10%.
			last := time.Date(asOf.Year(), asOf.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
			before := last.AddDate(0, -1, 0)
			var nLast, nBefore int
			for _, cu := range ds.customers {
				switch time.Unix(cu.acquired, 0).UTC().Format("2006-01") {
				case last.Format("2006-01"):
					nLast++
				case before.Format("2006-01"):
					nBefore++
				}
			}
			if float64(nLast) < 1.1*float64(nBefore) {
				t.Errorf("%d new customers in %s, %d in %s: want at least 10%% more", nLast, last.Format("2006-01"), nBefore, before.Format("2006-01"))
			}
			// Campaigns lie in the window; the Summer Special Offer in summer;
			// a digital campaign runs on the as-of date.
			summer := 0
			for _, cp := range ds.campaigns {
				if cp.start < 0 || cp.end >= ds.days || cp.end < cp.start {
					t.Errorf("%s runs days %d..%d of %d", cp.name, cp.start, cp.end, ds.days)
				}
				if cp.name == SummerSpecialOffer {
					summer++
					s, e := ds.date(cp.start), ds.date(cp.end)
					if s.Year() != e.Year() || s.Month() < time.June || e.Month() > time.August {
						t.Errorf("Summer Special Offer runs %v..%v", s, e)
					}
				}
			}
			final := ds.campaigns[len(ds.campaigns)-1]
			if summer != 1 || final.end != ds.days-1 || campChannels[final.channel] == "tv" || campChannels[final.channel] == "branch" {
				t.Errorf("%d Summer Special Offers; the last campaign %s (%s) ends on day %d of %d", summer, final.name, campChannels[final.channel], final.end, ds.days)
			}
			if len(ds.anomalies) != baseAnomalies {
				t.Errorf("%d injected anomalies, want %d", len(ds.anomalies), baseAnomalies)
			}
			// Every timestamp in [From, Until).
			lo, hi := ds.start, ds.endTime.Unix()
			for _, tx := range ds.txns {
				if tx.at < lo || tx.at >= hi {
					t.Fatalf("transaction %s at %v", tx.id, time.Unix(tx.at, 0).UTC())
				}
			}
			for _, l := range ds.loans {
				if l.applied < lo || l.decided >= hi || (l.decided != 0 && l.decided <= l.applied) {
					t.Fatalf("loan %s applied %d decided %d, window [%d, %d)", l.id, l.applied, l.decided, lo, hi)
				}
			}
		})
	}
}

func TestScale(t *testing.T) {
	t.Parallel()
	d, err := Generate(context.Background(), Options{Seed: 42, AsOf: time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC), Scale: 2})
	if err != nil {
		t.Fatal(err)
	}
	m := d.Manifest()
	want := map[string]int{"customers": 10000, "transactions": 200000, "loan_applications": 16000, "campaigns": 40,
		"acquisitions": 10000, "interactions": 40000}
	for _, tr := range m.Tables {
		if tr.Rows != want[tr.Table] {
			t.Errorf("%s: %d rows at scale 2, want %d", tr.Table, tr.Rows, want[tr.Table])
		}
	}
	if len(m.InjectedAnomalies) != 2*baseAnomalies {
		t.Errorf("%d anomalies at scale 2, want %d", len(m.InjectedAnomalies), 2*baseAnomalies)
	}
	// Ids widen when the counts outgrow them.
	for _, c := range []struct{ n, min, want int }{{5000, 5, 5}, {99999, 5, 5}, {100000, 5, 6}, {5000000, 7, 7}, {10000000, 7, 8}} {
		if got := width(c.n, c.min); got != c.want {
			t.Errorf("width(%d, %d) = %d, want %d", c.n, c.min, got, c.want)
		}
	}
}

func TestAllocate(t *testing.T) {
	t.Parallel()
	got := allocate(10, []float64{1, 1, 1})
	if got[0]+got[1]+got[2] != 10 || got[0] != 4 || got[1] != 3 || got[2] != 3 {
		t.Errorf("allocate(10, 1:1:1) = %v, want [4 3 3]", got)
	}
	got = allocate(7, []float64{0, 2, 5})
	if got[0] != 0 || got[1] != 2 || got[2] != 5 {
		t.Errorf("allocate(7, 0:2:5) = %v, want [0 2 5]", got)
	}
}
