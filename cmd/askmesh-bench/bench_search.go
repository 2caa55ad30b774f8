package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/catalog/catalogtest"
)

// searchQueries mix single words, phrases, a typo and a miss.
var searchQueries = []string{
	"customer transactions",
	"insurance claims by region",
	"transactons",
	"who was denied",
	"average balance of premium accounts",
	"chargebacks",
	"support tickets resolved last month",
	"nothing matches this xyzzy",
}

// linearScan is the baseline: a case-insensitive substring scan of every
// product name for each word of the query, keeping the first limit hits.
// It ranks nothing and forgives no typo; it is the least a search can do.
func linearScan(names []string, query string, limit int) int {
	words := strings.Fields(strings.ToLower(query))
	hits := 0
	for _, n := range names {
		for _, w := range words {
			if strings.Contains(n, w) {
				hits++
				break
			}
		}
		if hits == limit {
			break
		}
	}
	return hits
}

func (e *benchEnv) benchSearch() *benchSection {
	sec := &benchSection{Title: "Catalog search",
		What: "`catalog.Registry.Search` (ranked, typo-tolerant, over names, descriptions, columns, metrics and tags; top 5) on synthetic catalogs (`catalogtest.Synthetic`) of 10, 1,000 and 10,000 products, with a mix of 8 queries (phrases, a typo, a miss). Baseline: a linear, case-insensitive substring scan over the product names only (any query word; first 5 hits, unranked), i.e. the naive search a catalog of that size would otherwise get."}
	var worst *catalog.Registry
	for _, n := range []int{10, 1000, 10000} {
		reg, err := catalog.NewRegistry(catalogtest.Synthetic(n, 1)...)
		if err != nil {
			sec.Err = err
			return sec
		}
		names := make([]string, 0, n)
		for _, p := range reg.List() {
			names = append(names, strings.ToLower(p.Name))
		}
		iters := e.n(4000)
		if n == 10 {
			iters = e.n(40000)
		}
		i, j := 0, 0
		ds, dl, err := alternate(iters, func() error {
			reg.Search(searchQueries[i%len(searchQueries)], 5)
			i++
			return nil
		}, func() error {
			linearScan(names, searchQueries[j%len(searchQueries)], 5)
			j++
			return nil
		})
		if err != nil {
			sec.Err = err
			return sec
		}
		row := benchRow{Case: fmt.Sprintf("%s products", fmtCount(int64(n))),
			Value:    fmt.Sprintf("mean %s (p99 %s)", fmtDur(ds.mean()), fmtDur(ds.pct(99))),
			Baseline: fmt.Sprintf("mean %s (p99 %s)", fmtDur(dl.mean()), fmtDur(dl.pct(99))),
			Ratio:    fmtRatio(ratio(float64(ds.mean()), float64(dl.mean())))}
		if n == 10000 {
			row.Target, row.Met = "< 2 ms per search (p99)", met(ds.pct(99) < 2*time.Millisecond)
			worst = reg
		}
		sec.Rows = append(sec.Rows, row)
	}
	if sec.missed() {
		k := 0
		sec.Profile = e.profile("search", 4*time.Second, "", func(ctx context.Context) error {
			for range 100 {
				worst.Search(searchQueries[k%len(searchQueries)], 5)
				k++
			}
			return nil
		})
	}
	return sec
}
