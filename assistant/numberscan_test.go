package assistant

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
	checkRandomStrings(t, alphabet, 1, checkScan)
}

// checkRandomStrings runs check on 50,000 strings of up to 24 pieces of
// alphabet, drawn from a generator seeded with seed (the same strings on
// every run).
func checkRandomStrings(t *testing.T, alphabet []string, seed uint64, check func(*testing.T, string)) {
	r := rand.New(rand.NewPCG(seed, seed+1))
	for range 50000 {
		var b []byte
		for range r.IntN(24) {
			b = append(b, alphabet[r.IntN(len(alphabet))]...)
		}
		check(t, string(b))
	}
}

func FuzzNumberScanners(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add(s)
	}
	f.Fuzz(checkScan)
}

// TestKnownNumbersLookupsAgree: lookups answer the same whether they scan
// the values (the first linearLookups) or search them sorted (the rest).
func TestKnownNumbersLookupsAgree(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	k := NewKnownNumbers()
	var vals []float64
	for range 500 {
		f := float64(r.IntN(2000)) / 4
		k.add(f)
		vals = append(vals, f)
	}
	hits := 0
	for i := range 4 * linearLookups {
		target, tol := float64(r.IntN(2400))/4, []float64{0, 0.05, 0.125, 0.5}[i%4]
		want := slices.ContainsFunc(vals, func(v float64) bool { return v >= target-tol && v <= target+tol })
		if got := k.has(target, tol); got != want {
			t.Fatalf("lookup %d: has(%v, %v) = %v, want %v", i, target, tol, got, want)
		}
		if want {
			hits++
		}
	}
	if !k.sorted || hits == 0 || hits == 4*linearLookups {
		t.Fatalf("sorted %v, %d hits of %d: the lookups did not cover both ways and both answers", k.sorted, hits, 4*linearLookups)
	}
}

// statedNumbers' shortcuts must not change what it finds: hedgedBefore
// answers as hedgeRe over the whole text does, a date expression finds
// nothing in text without the character it needs, and nothing is a figure
// in text without a digit.
func checkStatedShortcuts(t *testing.T, s string) {
	t.Helper()
	if got, want := hedgedBefore(s), hedgeRe.MatchString(s); got != want {
		t.Fatalf("hedgedBefore(%q) = %v, hedgeRe says %v", s, got, want)
	}
	for _, d := range dateRes {
		if d.need != 0 && !strings.Contains(s, string(d.need)) && d.re.MatchString(s) {
			t.Fatalf("%s matches %q, which has no %q", d.re, s, d.need)
		}
	}
	if !strings.ContainsAny(s, "0123456789") && statedRe.MatchString(s) {
		t.Fatalf("statedRe matches %q, which has no digit", s)
	}
}

var hedgeSeeds = []string{
	"", "about", "About ", "roughly $", "nearly  \n€", "approx.", "approx. £", "some more than", "LESS THAN ", "ſome", "almoſt ",
	"~", "≈ ", "x≈", "over $ $", "under$", strings.Repeat(" ", 100) + "about", "about" + strings.Repeat(" ", 100),
	"around" + strings.Repeat("\t", 70) + "$", strings.Repeat("é", 40) + "approximately", "\xffabout", "abou\xe2", "10:30", "3/4/2026", "2026-10",
}

func TestStatedNumbersShortcuts(t *testing.T) {
	t.Parallel()
	for _, s := range hedgeSeeds {
		checkStatedShortcuts(t, s)
	}
	alphabet := []string{"about", "over", "some", "ſ", "approx", ".", " ", "\t", "\n", "$", "€", "£", "~", "≈", "a", "x", "\xe2", "\xff", "1", "-", ":", "/"}
	checkRandomStrings(t, alphabet, 3, checkStatedShortcuts)
}

func FuzzStatedNumbersShortcuts(f *testing.F) {
	for _, s := range hedgeSeeds {
		f.Add(s)
	}
	f.Fuzz(checkStatedShortcuts)
}
