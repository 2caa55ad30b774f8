package catalog

import (
	"strings"
	"unicode/utf8"
)

// Closest returns the candidate nearest to word by Damerau-Levenshtein
// distance (optimal string alignment: insertions, deletions, substitutions
// and transpositions of adjacent letters), ignoring case, for "did you
// mean" messages. It suggests only what is genuinely close: at most one
// edit for words up to 4 letters, two up to 8, three beyond, and never
// half the word or more. Ties go to the earliest candidate.
func Closest(word string, candidates []string) (string, bool) {
	w := []rune(strings.ToLower(word))
	if len(w) == 0 {
		return "", false
	}
	limit := 1
	switch n := len(w); {
	case n > 8:
		limit = 3
	case n > 4:
		limit = 2
	}
	if limit >= (len(w)+1)/2 {
		limit = (len(w)+1)/2 - 1
	}
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if c == "" || abs(utf8.RuneCountInString(c)-len(w)) >= bestDist {
			continue
		}
		if d := editDistance(w, []rune(strings.ToLower(c)), bestDist); d < bestDist {
			best, bestDist = c, d
			if d == 0 {
				break
			}
		}
	}
	return best, best != ""
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// EditDistance is the optimal-string-alignment distance between a and b
// (insertions, deletions, substitutions, adjacent transpositions), or a
// value >= bound once it is certain to reach bound.
func EditDistance(a, b string, bound int) int { return editDistance([]rune(a), []rune(b), bound) }

func editDistance(a, b []rune, bound int) int {
	if abs(len(a)-len(b)) >= bound {
		return bound
	}
	// Three rolling rows: two back (for transpositions), previous, current.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin >= bound {
			return bound
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
