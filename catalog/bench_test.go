package catalog_test

import (
	"fmt"
	"testing"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/catalog/catalogtest"
)

// benchQueries mix single words, phrases, typos and misses.
var benchQueries = []string{
	"customer transactions",
	"insurance claims by region",
	"transactons",
	"who was denied",
	"average balance of premium accounts",
	"chargebacks",
	"support tickets resolved last month",
	"nothing matches this xyzzy",
}

func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		reg, err := catalog.NewRegistry(catalogtest.Synthetic(n, 1)...)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				reg.Search(benchQueries[i%len(benchQueries)], 5)
				i++
			}
		})
	}
}

func BenchmarkNewRegistry(b *testing.B) {
	products := catalogtest.Synthetic(10000, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := catalog.NewRegistry(products...); err != nil {
			b.Fatal(err)
		}
	}
}
