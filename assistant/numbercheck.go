package assistant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/askmesh/askmesh/tools"
)

// The number check: a language model writes the answer's prose, and a
// number in it that no tool returned (and that cannot be derived from what
// tools returned: a rounding, a percentage, a change between two returned
// values, a column's total) is flagged on the answer, so channels can warn
// and reviewers can see it. Tables, charts and sources are composed from the
// tool results themselves and need no check.

// Grounded is implemented by models that write only numbers they copied
// from tool results (the offline planner); the agent skips the check for
// them.
type Grounded interface {
	Grounded() bool
}

// numberFlags checks a final answer's text against everything the model
// was told in this conversation: questions, tool arguments and results.
func numberFlags(m Model, text string, msgs []Message, results map[string]*tools.Result) []string {
	if g, ok := m.(Grounded); ok && g.Grounded() {
		return nil
	}
	// Both checks go by the figures the text states: with none (an answer
	// that points at its table, a clarification) there is nothing to
	// flag, and nothing to gather the known numbers for.
	stated := statedNumbers(text)
	if len(stated) == 0 {
		return nil
	}
	k := NewKnownNumbers()
	for _, msg := range msgs {
		switch msg.Role {
		case RoleUser, RoleTool:
			k.AddText(msg.Content)
		case RoleAssistant:
			for _, c := range msg.ToolCalls {
				k.AddText(string(c.Arguments))
			}
		}
	}
	ids := make([]string, 0, len(results))
	for id := range results {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		k.AddResult(results[id])
	}
	return append(checkNumbers(stated, k), metricLabelFlags(text, stated, ids, results)...)
}

// KnownNumbers are the numbers an answer may state.
type KnownNumbers struct {
	vals   []float64 // absolute values; sorted once looked up often (has)
	years  map[int]bool
	sorted bool
	scans  int // lookups made by scanning vals
}

// NewKnownNumbers returns an empty set.
func NewKnownNumbers() *KnownNumbers { return &KnownNumbers{years: map[int]bool{}} }

// Limits on derived values, so a large result cannot make the check slow:
// pairwise changes are derived within the first rows, over their first
// numeric cells.
const (
	derivedRows       = 100
	derivedCells      = 10
	derivedColumnRows = 25
)

func (k *KnownNumbers) add(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return
	}
	k.vals = append(k.vals, math.Abs(f))
	k.sorted = false
}

// AddText adds every number written in s (a question, a tool message,
// arguments), read leniently: digits anywhere count, and so do the years of
// any dates in it.
func (k *KnownNumbers) AddText(s string) {
	for m := range numbersIn(s) {
		if f, err := strconv.ParseFloat(strings.ReplaceAll(m, ",", ""), 64); err == nil {
			k.add(f)
		}
	}
	for y := range yearsIn(s) {
		k.years[y] = true
	}
}

// AddText reads every tool message of a conversation, whole results
// included, so it scans by hand: the regular expressions these scanners
// match exactly (numbercheck_test.go holds them as the reference) were
// a third of the check's CPU.

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// numbersIn yields what `\d+(?:,\d{3})*(?:\.\d+)?` finds in s: digits,
// then any groups of a comma and three digits, then a fraction.
func numbersIn(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := 0; i < len(s); {
			if !isDigit(s[i]) {
				i++
				continue
			}
			start := i
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			for i+3 < len(s) && s[i] == ',' && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
				i += 4
			}
			if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
				for i++; i < len(s) && isDigit(s[i]); i++ {
				}
			}
			if !yield(s[start:i]) {
				return
			}
		}
	}
}

// yearsIn yields the years `(?:^|[^0-9])((?:19|20)\d{2})(?:[^0-9]|$)`
// finds in s. Like the expression's matches, a year's surrounding
// characters are consumed: of "1999 2000" only 1999 is found.
func yearsIn(s string) iter.Seq[int] {
	return func(yield func(int) bool) {
		end := 0 // where the last match ended
		for i := 0; i+4 <= len(s); i++ {
			// An ASCII digit is never part of a multi-byte character, so
			// the character before a year is a non-digit exactly when its
			// last byte is, and it belongs to this match when it starts at
			// or after the last match's end.
			if i > 0 && (i-1 < end || isDigit(s[i-1])) {
				continue
			}
			if !(s[i] == '1' && s[i+1] == '9' || s[i] == '2' && s[i+1] == '0') || !isDigit(s[i+2]) || !isDigit(s[i+3]) {
				continue
			}
			after := i + 4
			if after < len(s) {
				if isDigit(s[after]) {
					continue
				}
				_, w := utf8.DecodeRuneInString(s[after:])
				after += w
			}
			if !yield(int(s[i]-'0')*1000 + int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')) {
				return
			}
			end = after
			i = after - 1
		}
	}
}

// AddResult adds a tool result's values, and what can be derived from
// them: within a row, the difference, percent change and share of any two
// numbers; per column, the total and the average.
func (k *KnownNumbers) AddResult(res *tools.Result) {
	if res == nil {
		return
	}
	k.add(float64(res.RowCount))
	if res.TotalCount != nil {
		k.add(float64(*res.TotalCount))
	}
	for _, r := range []*tools.Range{res.TimeRange, res.CompareRange} {
		if r != nil && !r.IsZero() {
			k.AddText(r.From.Format("2006-01-02") + " " + r.To.Format("2006-01-02"))
		}
	}
	for _, n := range res.Notes {
		k.AddText(n)
	}
	if res.Description != nil || len(res.Products) > 0 {
		b, _ := json.Marshal(struct {
			D *tools.ProductDescription
			P []tools.ProductSummary
		}{res.Description, res.Products})
		k.AddText(string(b))
	}
	sums := make([]float64, len(res.Columns))
	counts := make([]int, len(res.Columns))
	for i, row := range res.Rows {
		var nums []float64
		for j, v := range row {
			f, ok := numberOf(v)
			if !ok {
				if s, isStr := v.(string); isStr {
					k.AddText(s)
				}
				continue
			}
			k.add(f)
			if j < len(sums) {
				sums[j] += f
				counts[j]++
			}
			if len(nums) < derivedCells {
				nums = append(nums, f)
			}
		}
		if i >= derivedRows {
			continue
		}
		for a := range nums {
			for b := range nums {
				if a == b {
					continue
				}
				k.derive(nums[a], nums[b])
			}
		}
	}
	// Across rows, within a column: "23.4% more than the runner-up".
	for j := range res.Columns {
		var col []float64
		for _, row := range res.Rows[:min(len(res.Rows), derivedColumnRows)] {
			if j < len(row) {
				if f, ok := numberOf(row[j]); ok {
					col = append(col, f)
				}
			}
		}
		for a := range col {
			for b := range col {
				if a != b {
					k.derive(col[a], col[b])
				}
			}
		}
	}
	for j := range sums {
		if counts[j] < 2 {
			continue
		}
		if j < len(res.Columns) && res.Columns[j].UnitColumn != "" {
			continue // amounts in several currencies have no total
		}
		k.add(sums[j])
		k.add(sums[j] / float64(counts[j]))
		if sums[j] == 0 {
			continue
		}
		// Each value's share of the column's total: "email brought 35%".
		for _, row := range res.Rows[:min(len(res.Rows), derivedRows)] {
			if j < len(row) {
				if f, ok := numberOf(row[j]); ok {
					k.add(f / sums[j] * 100)
				}
			}
		}
	}
}

// derive adds what a writer computes from two figures: the difference,
// the percent change, the share and the multiple.
func (k *KnownNumbers) derive(a, b float64) {
	k.add(a - b)
	if b != 0 {
		k.add((a - b) / b * 100)
		k.add(a / b * 100)
		k.add(a / b)
	}
}

// numberOf reads a result cell as a number.
func numberOf(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// linearLookups is how many lookups scan the values before they are
// sorted for binary search. An answer states a handful of figures, while
// a result's derived values run to thousands: sorting them took half the
// check's CPU (BenchmarkNumberCheck), a scan takes about 1/50th of a sort.
const linearLookups = 16

// has reports whether some known value is within tol of target.
func (k *KnownNumbers) has(target, tol float64) bool {
	if !k.sorted && k.scans < linearLookups {
		k.scans++
		for _, v := range k.vals {
			if v >= target-tol && v <= target+tol {
				return true
			}
		}
		return false
	}
	if !k.sorted {
		slices.Sort(k.vals)
		k.sorted = true
	}
	i, _ := slices.BinarySearch(k.vals, target-tol)
	return i < len(k.vals) && k.vals[i] <= target+tol
}

// statedNumber is a number as the answer writes it.
type statedNumber struct {
	raw      string  // as written, e.g. "1,234", "34.2%", "1.2k"
	value    float64 // the digits' value, unscaled
	decimals int
	scale    float64 // 1, 1e3, 1e6, 1e9 from a suffix
	percent  bool
	hedged   bool // "about 400": a rounded figure
	start    int  // byte offset in the text
}

const monthNames = `jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?`

var (
	// Dates and periods are not figures: "1-15 November 2026", "October 5,
	// 2026", "Q3 2026", "2026-10-01", "10:30", "H1".
	// Each expression goes with a character every match of it holds (0:
	// none to go by), so that text without it is not run through it.
	dateRes = []struct {
		re   *regexp.Regexp
		need byte
	}{
		{regexp.MustCompile(`(?i)\b\d{4}-\d{2}(?:-\d{2})?(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?)?\b`), '-'},
		{regexp.MustCompile(`(?i)\b\d{1,2}(?:st|nd|rd|th)?(?:\s*[-–]\s*\d{1,2}(?:st|nd|rd|th)?)?\s+(?:of\s+)?(?:` + monthNames + `)\b\.?(?:,?\s+\d{4})?`), 0},
		{regexp.MustCompile(`(?i)\b(?:` + monthNames + `)\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:\s*[-–]\s*\d{1,2})?\b(?:,?\s+\d{4})?`), 0},
		{regexp.MustCompile(`(?i)\b(?:` + monthNames + `)\.?,?\s+\d{4}\b`), 0},
		{regexp.MustCompile(`(?i)\b(?:q[1-4]|h[12]|fy)\s*'?\d{2,4}\b|\b\d{4}\s*[-/ ]?\s*(?:q[1-4]|h[12])\b`), 0},
		{regexp.MustCompile(`\b\d{1,2}:\d{2}(?::\d{2})?\b`), ':'},
		{regexp.MustCompile(`\b\d{1,2}/\d{1,2}/\d{2,4}\b`), '/'},
	}
	statedRe = regexp.MustCompile(`\d+(?:,\d{3})*(?:\.\d+)?|\.\d+`)
	hedgeRe  = regexp.MustCompile(`(?i)(?:about|around|roughly|approximately|approx\.?|nearly|almost|over|under|more than|less than|some|~|≈)\s*[$€£]?$`)
	suffixRe = regexp.MustCompile(`^(?:\s?(%|percent\b|per cent\b|pct\b|percentage points?\b|points?\b|pts?\b|pp\b|k\b|K\b|thousand\b|m\b|M\b|mn\b|million\b|bn\b|B\b|billion\b))?`)
)

// statedNumbers finds the figures in an answer's text, skipping dates,
// identifiers (camp-001, txn-0000042, uuids), versions and list markers.
func statedNumbers(text string) []statedNumber {
	if !strings.ContainsAny(text, "0123456789") {
		return nil // every figure has a digit; spare the date expressions
	}
	b := []byte(text)
	for _, d := range dateRes {
		if d.need != 0 && bytes.IndexByte(b, d.need) < 0 {
			continue
		}
		for _, loc := range d.re.FindAllIndex(b, -1) {
			for i := loc[0]; i < loc[1]; i++ {
				b[i] = ' '
			}
		}
	}
	s := string(b)
	var out []statedNumber
	for _, loc := range statedRe.FindAllStringIndex(s, -1) {
		start, end := loc[0], loc[1]
		if start > 0 {
			prev := rune(s[start-1])
			if unicode.IsLetter(prev) || prev == '_' || prev == '#' {
				continue // x2, v1, #3
			}
			if (prev == '-' || prev == '.' || prev == '/') && start > 1 {
				if pp := rune(s[start-2]); unicode.IsLetter(pp) || unicode.IsDigit(pp) {
					continue // camp-001, 1.2.3, a/2
				}
			}
		}
		if end < len(s) {
			next := rune(s[end])
			if (next == '-' || next == '.' || next == '/' || next == ':' || next == '_') && end+1 < len(s) {
				if nn := rune(s[end+1]); unicode.IsLetter(nn) || unicode.IsDigit(nn) {
					continue // 001-abc, 1.2.3, 3/4, ids
				}
			}
		}
		raw := s[start:end]
		n := statedNumber{raw: raw, scale: 1, start: start}
		digits := strings.ReplaceAll(raw, ",", "")
		if _, frac, ok := strings.Cut(digits, "."); ok {
			n.decimals = len(frac)
		}
		f, err := strconv.ParseFloat(digits, 64)
		if err != nil {
			continue
		}
		n.value = f
		suffix := suffixRe.FindStringSubmatch(s[end:])
		word := ""
		if suffix != nil {
			word = suffix[1]
		}
		switch word {
		case "%", "percent", "per cent", "pct":
			n.percent = true
			n.raw += "%"
		case "percentage point", "percentage points", "point", "points", "pt", "pts", "pp":
			n.percent = true // points of a rate: compared as a percentage
		case "k", "K", "thousand":
			n.scale, n.raw = 1e3, n.raw+word
		case "m", "M", "mn", "million":
			n.scale, n.raw = 1e6, n.raw+word
		case "bn", "B", "billion":
			n.scale, n.raw = 1e9, n.raw+word
		default:
			if end < len(s) && unicode.IsLetter(rune(s[end])) {
				continue // 3rd, 2x, 4th, 10am: not a figure
			}
		}
		n.hedged = hedgedBefore(s[:start])
		// A list marker at the start of a line ("1. ", "2) ").
		lineStart := strings.LastIndexByte(s[:start], '\n') + 1
		if strings.TrimSpace(s[lineStart:start]) == "" && end < len(s) && (s[end] == '.' || s[end] == ')') && n.decimals == 0 {
			continue
		}
		out = append(out, n)
	}
	return out
}

// hedgedBefore reports whether hedgeRe matches s, the text before a
// figure. The expression is anchored at the end only, so run over all of s
// it was tried at every earlier position, for every figure (two fifths of
// statedNumbers' time); a match is a hedge word (13 letters at most)
// followed by what TrimRight strips here, so the last 64 bytes before that
// hold every match there is.
func hedgedBefore(s string) bool {
	k := len(strings.TrimRight(s, " \t\n\f\r$€£"))
	return hedgeRe.MatchString(s[max(0, k-64):])
}

// CheckNumbers returns a flag for every figure in text that no known
// number accounts for. Small whole numbers (0-10) are taken as counting
// words ("2 products"), and years as periods when a known date has them.
func CheckNumbers(text string, k *KnownNumbers) []string {
	return checkNumbers(statedNumbers(text), k)
}

// checkNumbers is CheckNumbers over the figures statedNumbers found.
func checkNumbers(stated []statedNumber, k *KnownNumbers) []string {
	var flags []string
	seen := map[string]bool{}
	for _, n := range stated {
		if k.accounts(n) || seen[n.raw] {
			continue
		}
		seen[n.raw] = true
		flags = append(flags, fmt.Sprintf("the number %s in the answer is not in any tool result", n.raw))
	}
	return flags
}

func (k *KnownNumbers) accounts(n statedNumber) bool {
	if n.decimals == 0 && n.scale == 1 && !n.percent {
		if n.value <= 10 {
			return true
		}
		if n.value >= 1900 && n.value <= 2100 && k.years[int(n.value)] {
			return true
		}
	}
	// The figure as written stands for any value that rounds to it.
	tol := 0.5*math.Pow(10, -float64(n.decimals))*(1+1e-9) + 1e-12
	targets := []float64{n.value * n.scale}
	if n.percent {
		targets = append(targets, n.value/100) // a ratio written as a percentage
	}
	for _, t := range targets {
		tt := tol * n.scale
		if n.percent && t != n.value*n.scale {
			tt = tol / 100
		}
		if n.hedged {
			tt = math.Max(tt, t*0.05)
		}
		if k.has(t, tt) {
			return true
		}
	}
	return false
}

// The label check: a figure a tool returned can still be passed off as
// another metric ("default rate 50.61%" when the 50.61% is the approval
// rate). A figure that is a metric's value, labelled with a rate whose
// qualifier names nothing in that metric's name or definition, is flagged.

// labelRe finds rate labels: "default rate", "approval ratio", "churn
// percentage"; the qualifier is the word before the noun.
var labelRe = regexp.MustCompile(`(?i)\b([a-z][a-z-]+)[\s_]+(rate|ratio|percentage)\b`)

// genericQualifiers say nothing about which metric a rate is.
var genericQualifiers = map[string]bool{"the": true, "a": true, "an": true, "its": true, "their": true, "this": true, "that": true,
	"overall": true, "average": true, "total": true, "current": true, "monthly": true, "weekly": true, "yearly": true, "annual": true,
	"daily": true, "quarterly": true, "same": true, "previous": true, "whose": true, "and": true, "our": true, "your": true, "is": true, "was": true}

type metricValue struct {
	metric, product string
	words           []string // lower-case words of the name and definition
	value           float64
}

// MetricLabelFlags flags figures in text that equal a metric's value from
// a result but are labelled as a rate of something else. ids orders the
// results so flags are stable.
func MetricLabelFlags(text string, ids []string, results map[string]*tools.Result) []string {
	return metricLabelFlags(text, statedNumbers(text), ids, results)
}

// metricLabelFlags is MetricLabelFlags with text's figures, as
// statedNumbers found them.
func metricLabelFlags(text string, stated []statedNumber, ids []string, results map[string]*tools.Result) []string {
	var vals []metricValue
	for _, id := range ids {
		res := results[id]
		if res == nil || len(res.Metrics) == 0 {
			continue
		}
		words := map[string][]string{}
		for _, m := range res.Metrics {
			words[m.Name] = strings.FieldsFunc(strings.ToLower(m.Name+" "+m.Description), func(r rune) bool { return !unicode.IsLetter(r) })
		}
		for i, c := range res.Columns {
			metric := c.Name
			switch c.Role {
			case tools.RoleMetric:
			case tools.RolePrevious:
				metric = c.Metric
			default:
				continue
			}
			for _, row := range res.Rows[:min(len(res.Rows), derivedRows)] {
				if i < len(row) {
					if f, ok := numberOf(row[i]); ok {
						vals = append(vals, metricValue{metric: metric, product: res.Product, words: words[metric], value: f})
					}
				}
			}
		}
	}
	if len(vals) == 0 {
		return nil
	}
	var flags []string
	for _, n := range stated {
		var producers []metricValue
		for _, v := range vals {
			if statedMatches(n, v.value) {
				producers = append(producers, v)
			}
		}
		if len(producers) == 0 {
			continue
		}
		// The label is the nearest rate named before the figure, within
		// its sentence.
		from := max(0, n.start-120)
		window := text[from:n.start]
		if from > 0 { // start at a whole word
			if i := strings.IndexByte(window, ' '); i >= 0 {
				window = window[i+1:]
			}
		}
		if i := strings.LastIndexByte(window, '\n'); i >= 0 {
			window = window[i+1:]
		}
		for _, sep := range []string{". ", "; "} {
			if i := strings.LastIndex(window, sep); i >= 0 {
				window = window[i+len(sep):]
			}
		}
		ms := labelRe.FindAllStringSubmatchIndex(window, -1)
		if len(ms) == 0 {
			continue
		}
		m := ms[len(ms)-1]
		if strings.ContainsAny(window[m[1]:], "0123456789") {
			continue // the label is another figure's: "conversion rate 2.38%, ... 398"
		}
		label := strings.ToLower(window[m[0]:m[1]])
		qualifier := strings.ToLower(window[m[2]:m[3]])
		if genericQualifiers[qualifier] {
			continue
		}
		named := false
		for _, p := range producers {
			if namesMetric(qualifier, p.words) {
				named = true
				break
			}
		}
		if !named {
			p := producers[0]
			flags = append(flags, fmt.Sprintf("the number %s is labelled %q but it is %s of %s", n.raw, label, p.metric, p.product))
		}
	}
	return flags
}

// statedMatches reports whether a figure as written stands for v.
func statedMatches(n statedNumber, v float64) bool {
	tol := 0.5*math.Pow(10, -float64(n.decimals))*(1+1e-9) + 1e-12
	if math.Abs(n.value*n.scale-math.Abs(v)) <= tol*n.scale {
		return true
	}
	return n.percent && math.Abs(n.value/100-math.Abs(v)) <= tol/100
}

// namesMetric reports whether a qualifier word is one of the metric's
// words, allowing for inflection (approval, approved).
func namesMetric(q string, words []string) bool {
	for _, w := range words {
		if w == q || (len(q) >= 5 && len(w) >= 5 && q[:5] == w[:5]) {
			return true
		}
	}
	return false
}
