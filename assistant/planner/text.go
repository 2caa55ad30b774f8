package planner

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/askmesh/askmesh/catalog"
)

// Token kinds.
const (
	tokWord   = iota // letters, possibly with digits after the first letter
	tokNumber        // 500000, 500,000, 1.5m, $20k
	tokID            // txn-0000042, cust-00001: letters, a hyphen, digits
	tokEmail         // frank@bank.example
	tokDate          // 2026-10-05, 2026-10
	tokQuoted        // "Summer Special Offer"
)

// token is one word of a question. Offsets are bytes into the question.
type token struct {
	kind       int
	raw        string // as written
	low        string // lower case
	stem       string // lower case, stemmed (words only)
	key        string // stem, or the catalog word a misspelling was corrected to
	num        float64
	start, end int
	upper      bool // starts with an upper-case letter
	used       bool // consumed by a time phrase, a comparison or a filter
}

// tokenize splits a question into tokens. Hyphens separate words
// ("loan-applications" is two words, matched as a phrase), except inside
// identifiers (txn-0000042) and ISO dates.
func tokenize(q string) []token {
	var out []token
	i := 0
	for i < len(q) {
		r, w := utf8.DecodeRuneInString(q[i:])
		switch {
		case r == '"' || r == '“' || r == '”' || (r == '\'' && (i == 0 || !isAlnum(prevRune(q, i)))):
			// A quoted name: up to the matching close quote.
			close := closingQuote(r)
			if j := strings.IndexAny(q[i+w:], close); j > 0 {
				inner := strings.TrimSpace(q[i+w : i+w+j])
				if inner != "" {
					out = append(out, token{kind: tokQuoted, raw: inner, low: strings.ToLower(inner), start: i, end: i + w + j + len(close[:1])})
					i += w + j + 1
					continue
				}
			}
			i += w
		case r == '$' || r == '€' || r == '£' || unicode.IsDigit(r):
			t, n := scanNumberish(q, i)
			if n == 0 {
				i += w
				continue
			}
			out = append(out, t)
			i += n
		case unicode.IsLetter(r):
			t, n := scanWordish(q, i)
			out = append(out, t)
			i += n
		default:
			i += w
		}
	}
	for k := range out {
		if out[k].kind == tokWord {
			out[k].stem = catalog.Stem(out[k].low)
			out[k].key = out[k].stem
		}
	}
	return out
}

func closingQuote(r rune) string {
	switch r {
	case '“':
		return "”\""
	case '\'':
		return "'"
	}
	return "\"”"
}

func prevRune(s string, i int) rune {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// scanWordish reads a word, an identifier (txn-0000042) or an email.
func scanWordish(q string, i int) (token, int) {
	j := i
	for j < len(q) {
		r, w := utf8.DecodeRuneInString(q[j:])
		if !isAlnum(r) && r != '_' {
			break
		}
		j += w
	}
	// Email: word chars, '.', '-', '+' before '@', a domain after it.
	if k := j; k < len(q) && (q[k] == '@' || q[k] == '.' || q[k] == '-' || q[k] == '+') {
		e := k
		for e < len(q) && (isAlnum(rune(q[e])) || strings.IndexByte("._-+@", q[e]) >= 0) {
			e++
		}
		cand := strings.TrimRight(q[i:e], ".-")
		if at := strings.IndexByte(cand, '@'); at > 0 && strings.Contains(cand[at:], ".") {
			n := len(cand)
			// "frank@bank.example's"
			for _, poss := range []string{"'s", "’s"} {
				if strings.HasPrefix(q[i+n:], poss) {
					n += len(poss)
					break
				}
			}
			return token{kind: tokEmail, raw: cand, low: strings.ToLower(cand), start: i, end: i + len(cand)}, n
		}
	}
	// Identifier: letters, '-', digits (txn-0000042, loan-000123).
	if j < len(q) && q[j] == '-' && j+1 < len(q) && q[j+1] >= '0' && q[j+1] <= '9' && isLetters(q[i:j]) {
		e := j + 1
		for e < len(q) && q[e] >= '0' && q[e] <= '9' {
			e++
		}
		if e == len(q) || !isAlnum(rune(q[e])) {
			raw := q[i:e]
			return token{kind: tokID, raw: raw, low: strings.ToLower(raw), start: i, end: e}, e - i
		}
	}
	raw := q[i:j]
	t := token{kind: tokWord, raw: raw, low: strings.ToLower(raw), start: i, end: j}
	r, _ := utf8.DecodeRuneInString(raw)
	t.upper = unicode.IsUpper(r)
	// "frank's" -> "frank"
	if j+1 < len(q) && (q[j] == '\'' || strings.HasPrefix(q[j:], "’")) {
		rest := q[j+1:]
		if strings.HasPrefix(q[j:], "’") {
			rest = q[j+len("’"):]
		}
		if strings.HasPrefix(strings.ToLower(rest), "s") && (len(rest) == 1 || !isAlnum(rune(rest[1]))) {
			return t, len(q[i:]) - len(rest) + 1
		}
	}
	return t, j - i
}

func isLetters(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// scanNumberish reads an ISO date or month, or a number with optional
// currency sign, thousands separators, decimals and a k/m/bn suffix.
func scanNumberish(q string, i int) (token, int) {
	if m := isoDateRe.FindString(q[i:]); m != "" {
		return token{kind: tokDate, raw: m, low: m, start: i, end: i + len(m)}, len(m)
	}
	j := i
	if r, w := utf8.DecodeRuneInString(q[j:]); r == '$' || r == '€' || r == '£' {
		j += w
	}
	start := j
	for j < len(q) {
		c := q[j]
		if c >= '0' && c <= '9' {
			j++
			continue
		}
		// A separator counts only between digits: "500,000" but not "2026, and".
		if (c == ',' || c == '.') && j+1 < len(q) && q[j+1] >= '0' && q[j+1] <= '9' && j > start {
			j++
			continue
		}
		break
	}
	if j == start {
		return token{}, 0
	}
	digits := q[start:j]
	// Commas are thousands separators only in groups of three.
	val, ok := parseNumber(digits)
	if !ok {
		return token{}, 0
	}
	end := j
	// Suffixes: k, m, bn, million, thousand, billion.
	rest := strings.ToLower(q[j:])
	mult := 1.0
	for _, s := range []struct {
		suffix string
		mult   float64
	}{{" thousand", 1e3}, {" million", 1e6}, {" billion", 1e9}, {"bn", 1e9}, {"k", 1e3}, {"m", 1e6}} {
		if strings.HasPrefix(rest, s.suffix) {
			after := len(s.suffix)
			if after < len(rest) && isAlnum(rune(rest[after])) {
				continue
			}
			mult = s.mult
			end = j + after
			break
		}
	}
	raw := q[i:end]
	// A letter glued to the number ("3rd", "2nd") makes it an ordinal word.
	if end < len(q) && unicode.IsLetter(rune(q[end])) {
		e := end
		for e < len(q) && unicode.IsLetter(rune(q[e])) {
			e++
		}
		raw = q[i:e]
		return token{kind: tokWord, raw: raw, low: strings.ToLower(raw), start: i, end: e}, e - i
	}
	return token{kind: tokNumber, raw: raw, low: strings.ToLower(raw), num: val * mult, start: i, end: end}, end - i
}

func parseNumber(s string) (float64, bool) {
	if strings.Contains(s, ",") {
		parts := strings.Split(strings.SplitN(s, ".", 2)[0], ",")
		for k, p := range parts[1:] {
			_ = k
			if len(p) != 3 {
				return 0, false
			}
		}
		s = strings.ReplaceAll(s, ",", "")
	}
	var v float64
	var frac float64 = 0
	var scale float64 = 1
	seenDot := false
	for _, c := range s {
		switch {
		case c == '.':
			if seenDot {
				return 0, false
			}
			seenDot = true
		case c >= '0' && c <= '9':
			if seenDot {
				scale /= 10
				frac += float64(c-'0') * scale
			} else {
				v = v*10 + float64(c-'0')
			}
		default:
			return 0, false
		}
	}
	return v + frac, true
}

// words splits catalog text (names, synonyms, values) into stemmed words,
// the way questions are split.
func words(s string) []string {
	s = strings.NewReplacer("_", " ", "-", " ").Replace(s)
	var out []string
	for _, t := range tokenize(s) {
		switch t.kind {
		case tokWord:
			out = append(out, t.stem)
		case tokNumber, tokDate:
			out = append(out, t.low)
		}
	}
	return out
}

// typoLimit is how many edits a misspelt word of n letters may be from the
// word meant: none below five letters, where a typo is as likely another word.
func typoLimit(n int) int {
	switch {
	case n >= 8:
		return 2
	case n >= 5:
		return 1
	}
	return 0
}
