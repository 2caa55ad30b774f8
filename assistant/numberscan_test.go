package assistant

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// The expressions numbersIn and yearsIn stand for: they must find exactly
// what these find, or the number check would know other numbers.
var (
	anyNumberRe = regexp.MustCompile(`\d+(?:,\d{3})*(?:\.\d+)?`)
	yearInRe    = regexp.MustCompile(`(?:^|[^0-9])((?:19|20)\d{2})(?:[^0-9]|$)`)
)

func checkScan(t *testing.T, s string) {
	t.Helper()
	if got, want := slices.Collect(numbersIn(s)), anyNumberRe.FindAllString(s, -1); !slices.Equal(got, want) {
		t.Fatalf("numbersIn(%q) = %q, want %q", s, got, want)
	}
	var want []int
	for _, m := range yearInRe.FindAllStringSubmatch(s, -1) {
		y, _ := strconv.Atoi(m[1])
		want = append(want, y)
	}
	if got := slices.Collect(yearsIn(s)); !slices.Equal(got, want) {
		t.Fatalf("yearsIn(%q) = %v, want %v", s, got, want)
	}
}

var scanSeeds = []string{
	"", "1", "1999", "1999 2000", "a1999b2000c", "19999", "x2026-10-01", "2026-10-01..2026-10-31",
	"1,234", "1,23", "1,2345", "1,234,567.89", "1.", ".5", "1.2.3", "12,345.67,890", "€2026€", "\xe22026", "2026\xe2\x82",
	"é1999é", "1999€2000", `{"rows":[["2026-10-01","online",1037,12447.17]],"row_count":50}`, "20 26 1900 2099 2100",
}

func TestNumberScannersMatchTheirExpressions(t *testing.T) {
	t.Parallel()
	for _, s := range scanSeeds {
		checkScan(t, s)
	}
	// Strings dense in what the expressions turn on: digits, years' first
	// digits, separators, multi-byte and invalid UTF-8.
	alphabet := []string{"0", "1", "2", "9", "19", "20", ",", ".", " ", "a", "-", "é", "€", "\xe2", "\x82", "\xff"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50000 {
		var b []byte
		for range r.IntN(24) {
			b = append(b, alphabet[r.IntN(len(alphabet))]...)
		}
		checkScan(t, string(b))
	}
}

func FuzzNumberScanners(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add(s)
	}
	f.Fuzz(checkScan)
}
