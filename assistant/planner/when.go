package planner

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/askmesh/askmesh/tools"
)

// when is what a question says about time: the range, a comparison, a
// grain, and (for follow-ups) a shift of the previous range.
type when struct {
	rangeArg  string // a time_range argument; "" when none was said
	allTime   bool   // "ever", "all time": explicitly no range
	compare   string // tools.ComparePreviousPeriod or tools.ComparePreviousYear
	cmpUnit   string // the unit a comparison named ("month" of "month over month")
	grain     string
	autoGrain bool   // "trend", "over time": a grain fitting the range
	shift     string // "the month before" in a follow-up: previous_period or previous_year
	defaulted bool   // rangeArg was supplied for a bare comparison, not said
	spans     [][2]int
}

var isoDateRe = regexp.MustCompile(`^\d{4}-(?:[Qq][1-4]|\d{2}(?:-\d{2})?)\b`)

const monthAlt = `january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec`

var monthNum = map[string]int{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
	"september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}

var (
	cmpYearRe = regexp.MustCompile(`\b(?:vs\.?|versus|compared (?:with|to)|compare (?:it )?(?:with|to)|against|relative to|than) (?:the )?(?:same (?:period|time|month|week|quarter|day) )?(?:(?:of |in )?last year|(?:a|one|the) year (?:before|earlier|ago)|the (?:previous|prior) year)\b`)
	cmpPrevRe = regexp.MustCompile(`\b(?:vs\.?|versus|compared (?:with|to)|compare (?:it )?(?:with|to)|against|relative to|than) (?:the )?(?:same (?:days?|dates|period|time|stretch) (?:of |in )?(?:the )?)?(?:(?:previous|prior|preceding) (day|week|month|quarter|period)|(day|week|month|quarter|period) (?:before|earlier)|(?:last|the last) (week|month|quarter))\b`)
	overRe    = regexp.MustCompile(`\b(day|week|month|quarter|year)[- ]over[- ](?:day|week|month|quarter|year)\b|\b(mom|wow|qoq|dod|yoy)\b|\by/y\b|\bm/m\b`)

	shiftRe = regexp.MustCompile(`\b(?:the |a |one )?(?:(day|week|month|quarter|year|period) (?:before|earlier|prior)|(?:previous|prior|preceding) (day|week|month|quarter|year|period))\b`)

	todayRe     = regexp.MustCompile(`\b(?:so far )?today\b`)
	yesterdayRe = regexp.MustCompile(`\byesterday\b`)
	thisRe      = regexp.MustCompile(`\b(?:so far )?(?:this|the current|current) (week|month|quarter|year)(?: so far| to date)?\b`)
	toDateRe    = regexp.MustCompile(`\b(week|month|quarter|year)[- ]to[- ]date\b|\b(ytd|mtd|qtd|wtd)\b`)
	lastNRe     = regexp.MustCompile(`\b(?:in |over |during |for )?(?:the )?(?:last|past|previous|prior) (\d{1,4}) (days?|weeks?|months?|quarters?|years?)\b`)
	pastRe      = regexp.MustCompile(`\b(?:in |over |during )?the past (week|month|quarter|year)\b`)
	lastRe      = regexp.MustCompile(`\b(?:last|previous|prior) (week|month|quarter|year)\b`)
	allTimeRe   = regexp.MustCompile(`\b(?:of all time|all[- ]time|ever|overall)\b`)

	grainRe    = regexp.MustCompile(`\b(?:per|by|each|every|a|by the) (day|week|month|quarter|year)\b|\b(daily|weekly|monthly|quarterly|yearly|annually|annual)\b|\b(day|week|month|quarter|year) by (?:day|week|month|quarter|year)\b`)
	trendRe    = regexp.MustCompile(`\b(?:trends?|trending|over time|evolution|time series|history|going (?:up|down)|up or down|rising|falling|improving|worsening|getting (?:better|worse))\b`)
	atomRes    []atomRe
	prepBefore = map[string]bool{"in": true, "during": true, "for": true, "of": true, "since": true, "from": true, "to": true,
		"until": true, "till": true, "through": true, "between": true, "and": true, "before": true, "after": true, "on": true, "vs": true, "versus": true}
)

// atomRe is one form of a calendar date, month, quarter or year.
type atomRe struct {
	re *regexp.Regexp
	// build returns the ISO period, or "" to reject the match.
	build func(m []string, now time.Time, prev string) string
}

func init() {
	atomRes = []atomRe{
		{regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})\b`), func(m []string, _ time.Time, _ string) string { return m[0] }},
		{regexp.MustCompile(`\b(\d{4})-q([1-4])\b`), func(m []string, _ time.Time, _ string) string { return m[1] + "-Q" + m[2] }},
		{regexp.MustCompile(`\b(\d{4})-(\d{2})\b`), func(m []string, _ time.Time, _ string) string { return m[0] }},
		// 5 October 2026, 5th of October
		{regexp.MustCompile(`\b(\d{1,2})(?:st|nd|rd|th)? (?:of )?(` + monthAlt + `)\b(?:,? (\d{4})\b)?`), func(m []string, now time.Time, _ string) string {
			return dayISO(m[3], monthNum[m[2]], m[1], now)
		}},
		// October 5, 2026
		{regexp.MustCompile(`\b(` + monthAlt + `) (\d{1,2})(?:st|nd|rd|th)?\b(?:,? (\d{4})\b)?`), func(m []string, now time.Time, _ string) string {
			return dayISO(m[3], monthNum[m[1]], m[2], now)
		}},
		// October 2026
		{regexp.MustCompile(`\b(` + monthAlt + `),? (\d{4})\b`), func(m []string, _ time.Time, _ string) string {
			return fmt.Sprintf("%s-%02d", m[2], monthNum[m[1]])
		}},
		// Q3 2026, Q3
		{regexp.MustCompile(`\bq([1-4])(?:,? (\d{4}))?\b`), func(m []string, now time.Time, _ string) string {
			return quarterISO(m[2], m[1], now)
		}},
		{regexp.MustCompile(`\b(first|second|third|fourth|1st|2nd|3rd|4th) quarter(?: of)?(?: (\d{4}))?\b`), func(m []string, now time.Time, _ string) string {
			q := map[string]string{"first": "1", "1st": "1", "second": "2", "2nd": "2", "third": "3", "3rd": "3", "fourth": "4", "4th": "4"}[m[1]]
			return quarterISO(m[2], q, now)
		}},
		// October (the latest one not in the future); "may", "mar" and other
		// words that are also ordinary words only after a preposition.
		{regexp.MustCompile(`\b(` + monthAlt + `)\b`), func(m []string, now time.Time, prev string) string {
			full := len(m[1]) > 4 || m[1] == "june" || m[1] == "july"
			if (!full || m[1] == "march") && !prepBefore[prev] {
				return ""
			}
			mo := monthNum[m[1]]
			y := now.Year()
			if mo > int(now.Month()) {
				y--
			}
			return fmt.Sprintf("%d-%02d", y, mo)
		}},
		// 2025, after a preposition ("in 2025"), so amounts are not years.
		{regexp.MustCompile(`\b((?:19|20)\d{2})\b`), func(m []string, _ time.Time, prev string) string {
			if !prepBefore[prev] && prev != "year" {
				return ""
			}
			return m[1]
		}},
	}
}

func dayISO(year string, month int, day string, now time.Time) string {
	d, _ := strconv.Atoi(day)
	if d < 1 || d > 31 || month == 0 {
		return ""
	}
	y := now.Year()
	if year != "" {
		y, _ = strconv.Atoi(year)
	} else if time.Date(y, time.Month(month), d, 0, 0, 0, 0, time.UTC).After(now) {
		y--
	}
	t := time.Date(y, time.Month(month), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return "" // 31 September
	}
	return t.Format("2006-01-02")
}

func quarterISO(year, q string, now time.Time) string {
	n, _ := strconv.Atoi(q)
	y := now.Year()
	if year != "" {
		y, _ = strconv.Atoi(year)
	} else if (n-1)*3+1 > int(now.Month()) {
		y--
	}
	return fmt.Sprintf("%d-Q%d", y, n)
}

// atom is a date expression found in the question.
type atom struct {
	start, end int
	iso        string // ISO period, or a named period
}

// parseWhen reads the time expressions of a lower-cased question.
func parseWhen(s string, now time.Time) when {
	var w when
	used := make([]bool, len(s)+1)
	free := func(a, b int) bool {
		for k := a; k < b; k++ {
			if used[k] {
				return false
			}
		}
		return true
	}
	take := func(a, b int) {
		for k := a; k < b; k++ {
			used[k] = true
		}
		w.spans = append(w.spans, [2]int{a, b})
	}
	each := func(re *regexp.Regexp, f func(m []int) bool) {
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			if free(m[0], m[1]) && f(m) {
				take(m[0], m[1])
			}
		}
	}
	group := func(m []int, g int) string {
		if m[2*g] < 0 {
			return ""
		}
		return s[m[2*g]:m[2*g+1]]
	}

	// Comparisons first, so "compared with last year" is not the range.
	each(cmpYearRe, func(m []int) bool { w.compare, w.cmpUnit = tools.ComparePreviousYear, "year"; return true })
	each(cmpPrevRe, func(m []int) bool {
		w.compare = tools.ComparePreviousPeriod
		w.cmpUnit = group(m, 1) + group(m, 2) + group(m, 3)
		return true
	})
	each(overRe, func(m []int) bool {
		unit := group(m, 1)
		switch group(m, 2) {
		case "mom":
			unit = "month"
		case "wow":
			unit = "week"
		case "qoq":
			unit = "quarter"
		case "dod":
			unit = "day"
		case "yoy":
			unit = "year"
		}
		if strings.HasPrefix(s[m[0]:m[1]], "y/y") {
			unit = "year"
		}
		if strings.HasPrefix(s[m[0]:m[1]], "m/m") {
			unit = "month"
		}
		w.cmpUnit = unit
		if unit == "year" {
			w.compare = tools.ComparePreviousYear
		} else {
			w.compare = tools.ComparePreviousPeriod
		}
		return true
	})

	// Named periods.
	named := []atom{}
	addNamed := func(m []int, name string) bool {
		named = append(named, atom{start: m[0], end: m[1], iso: name})
		return true
	}
	each(lastNRe, func(m []int) bool {
		n, _ := strconv.Atoi(group(m, 1))
		if n < 1 {
			return false
		}
		unit := strings.TrimSuffix(group(m, 2), "s")
		return addNamed(m, lastN(n, unit, now))
	})
	each(pastRe, func(m []int) bool {
		return addNamed(m, map[string]string{"week": "last_7_days", "month": "last_30_days", "quarter": "last_90_days", "year": "last_365_days"}[group(m, 1)])
	})
	each(todayRe, func(m []int) bool { return addNamed(m, "today") })
	each(yesterdayRe, func(m []int) bool { return addNamed(m, "yesterday") })
	each(thisRe, func(m []int) bool { return addNamed(m, "this_"+group(m, 1)) })
	each(toDateRe, func(m []int) bool {
		u := group(m, 1)
		if u == "" {
			u = map[string]string{"ytd": "year", "mtd": "month", "qtd": "quarter", "wtd": "week"}[group(m, 2)]
		}
		return addNamed(m, "this_"+u)
	})
	each(lastRe, func(m []int) bool { return addNamed(m, "last_"+group(m, 1)) })
	each(allTimeRe, func(m []int) bool { w.allTime = true; return true })

	// Calendar atoms.
	atoms := named
	for _, ar := range atomRes {
		for _, m := range ar.re.FindAllStringSubmatchIndex(s, -1) {
			if !free(m[0], m[1]) {
				continue
			}
			sub := make([]string, len(m)/2)
			for g := range sub {
				sub[g] = group(m, g)
			}
			iso := ar.build(sub, now, prevWord(s, m[0]))
			if iso == "" {
				continue
			}
			take(m[0], m[1])
			atoms = append(atoms, atom{start: m[0], end: m[1], iso: iso})
		}
	}
	sortAtoms(atoms)

	// Shifts ("the month before") matter only to follow-ups; a question
	// that also names a range has already used them as a comparison.
	each(shiftRe, func(m []int) bool {
		unit := group(m, 1) + group(m, 2)
		if unit == "year" {
			w.shift = tools.ComparePreviousYear
		} else {
			w.shift = tools.ComparePreviousPeriod
		}
		return true
	})

	w.rangeArg = combineAtoms(s, atoms, now, &w)
	// "last month and the month before": with a range, a shift is a comparison.
	if w.shift != "" && w.rangeArg != "" && w.compare == "" {
		w.compare, w.shift = w.shift, ""
	}

	// Grain.
	each(grainRe, func(m []int) bool {
		g := group(m, 1) + group(m, 3)
		if g == "" {
			g = map[string]string{"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter",
				"yearly": "year", "annually": "year", "annual": "year"}[group(m, 2)]
		}
		if w.grain == "" {
			w.grain = g
		}
		return true
	})
	each(trendRe, func(m []int) bool { w.autoGrain = true; return true })
	if w.grain == "" && w.autoGrain {
		w.grain = fittingGrain(w.rangeArg, now)
	}
	// A comparison without a range compares the latest complete period of
	// the unit it names ("month over month": last month with the one before).
	if w.compare != "" && w.rangeArg == "" && !w.allTime {
		w.defaulted = true
		switch w.cmpUnit {
		case "day":
			w.rangeArg = "yesterday"
		case "week":
			w.rangeArg = "last_week"
		case "quarter":
			w.rangeArg = "last_quarter"
		case "year":
			w.rangeArg = "this_year"
		default:
			w.rangeArg = "last_month"
		}
	}
	return w
}

func sortAtoms(a []atom) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].start < a[j-1].start; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// prevWord is the word before byte offset i.
func prevWord(s string, i int) string {
	f := strings.Fields(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return ' '
	}, s[:i]))
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// combineAtoms turns the date expressions into one time_range: "since X",
// "from X to Y", "between X and Y", "before X", or the first one alone. A
// second expression after "vs" becomes a comparison when it is the period
// before (or the year before) the first.
func combineAtoms(s string, atoms []atom, now time.Time, w *when) string {
	if len(atoms) == 0 {
		return ""
	}
	a := atoms[0]
	pw := prevWord(s, a.start)
	if len(atoms) >= 2 {
		b := atoms[1]
		between := strings.TrimSpace(s[a.end:b.start])
		if (pw == "from" || pw == "between") && (between == "to" || between == "until" || between == "till" ||
			between == "through" || between == "and" || between == "-" || between == "thru") {
			from, ok1 := isoStart(a.iso, now)
			to, ok2 := isoEnd(b.iso, now)
			// "October to December 2025": a start without a year takes the end's.
			if ok1 && ok2 && from > to && len(a.iso) >= 7 && isoPeriodRe.MatchString(a.iso) {
				if y, err := strconv.Atoi(a.iso[:4]); err == nil {
					from, ok1 = isoStart(fmt.Sprintf("%d%s", y-1, a.iso[4:]), now)
				}
			}
			if ok1 && ok2 {
				return from + ".." + to
			}
		}
		if versusRe.MatchString(between) {
			for _, cmp := range []string{tools.ComparePreviousPeriod, tools.ComparePreviousYear} {
				if r, err := tools.CompareRange(a.iso, now, cmp); err == nil {
					if rb, err := tools.ResolveTimeRange(b.iso, now); err == nil && r.From.Equal(rb.From) && r.To.Equal(rb.To) {
						w.compare = cmp
						return a.iso
					}
				}
			}
		}
	}
	switch pw {
	case "since", "from", "after":
		if from, ok := isoStart(a.iso, now); ok {
			if pw == "after" {
				if r, err := tools.ResolveTimeRange(a.iso, now); err == nil && !r.To.IsZero() {
					from = r.To.Format("2006-01-02")
				}
			}
			return from + ".."
		}
	case "before", "until", "till", "through":
		if pw == "before" {
			if r, err := tools.ResolveTimeRange(a.iso, now); err == nil && !r.From.IsZero() {
				return ".." + r.From.AddDate(0, 0, -1).Format("2006-01-02")
			}
		}
		if to, ok := isoEnd(a.iso, now); ok {
			return ".." + to
		}
	}
	return a.iso
}

// isoStart is the first day of a period, as an ISO date.
func isoStart(p string, now time.Time) (string, bool) {
	r, err := tools.ResolveTimeRange(p, now)
	if err != nil || r.From.IsZero() {
		return "", false
	}
	return r.From.Format("2006-01-02"), true
}

// isoEnd is a period as the inclusive end of a range: an ISO period
// stays as written (2026-03 ends with March), a named one becomes its last day.
func isoEnd(p string, now time.Time) (string, bool) {
	if isoPeriodRe.MatchString(p) {
		return p, true
	}
	r, err := tools.ResolveTimeRange(p, now)
	if err != nil || r.To.IsZero() {
		return "", false
	}
	return r.To.AddDate(0, 0, -1).Format("2006-01-02"), true
}

var isoPeriodRe = regexp.MustCompile(`^\d{4}(?:-(?:Q[1-4]|\d{2}(?:-\d{2})?))?$`)

// versusRe joins a period to the one it is compared with: "October vs September".
var versusRe = regexp.MustCompile(`(?:^|\s)(?:vs\.?|versus|compared (?:with|to)|against|and)(?:\s|$)`)

// lastN is "the last N units": days count back from today; weeks as 7N
// days; months, quarters and years as that many whole ones before the
// current one.
func lastN(n int, unit string, now time.Time) string {
	switch unit {
	case "day":
		return fmt.Sprintf("last_%d_days", n)
	case "week":
		return fmt.Sprintf("last_%d_days", 7*n)
	case "month":
		end := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
		start := end.AddDate(0, -(n - 1), 0)
		return start.Format("2006-01") + ".." + end.Format("2006-01")
	case "quarter":
		q := time.Date(now.Year(), time.Month((int(now.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
		end := q.AddDate(0, -3, 0)
		start := end.AddDate(0, -3*(n-1), 0)
		return start.Format("2006-01") + ".." + end.AddDate(0, 2, 0).Format("2006-01")
	case "year":
		return fmt.Sprintf("%d..%d", now.Year()-n, now.Year()-1)
	}
	return ""
}

// fittingGrain picks a grain that gives a readable number of points.
func fittingGrain(rangeArg string, now time.Time) string {
	if rangeArg == "" {
		return tools.GrainMonth
	}
	r, err := tools.ResolveTimeRange(rangeArg, now)
	if err != nil || r.From.IsZero() || r.To.IsZero() {
		return tools.GrainMonth
	}
	days := r.To.Sub(r.From).Hours() / 24
	switch {
	case days <= 31:
		return tools.GrainDay
	case days <= 92:
		return tools.GrainWeek
	case days <= 3*366:
		return tools.GrainMonth
	}
	return tools.GrainQuarter
}

// shiftRange moves a time_range back by one period or one year and writes
// it as an ISO period or range ("the month before" October is 2026-09).
func shiftRange(rangeArg, how string, now time.Time) (string, error) {
	r, err := tools.CompareRange(rangeArg, now, how)
	if err != nil {
		return "", err
	}
	return isoRange(r), nil
}

// isoRange writes a range in the shortest ISO form time_range accepts.
func isoRange(r tools.Range) string {
	f, t := r.From, r.To
	if f.IsZero() && t.IsZero() {
		return ""
	}
	if !f.IsZero() && !t.IsZero() && midnight(f) && midnight(t) {
		switch {
		case f.Day() == 1 && f.Month() == 1 && t.Equal(f.AddDate(1, 0, 0)):
			return f.Format("2006")
		case f.Day() == 1 && (f.Month()-1)%3 == 0 && t.Equal(f.AddDate(0, 3, 0)):
			return fmt.Sprintf("%d-Q%d", f.Year(), (int(f.Month())-1)/3+1)
		case f.Day() == 1 && t.Equal(f.AddDate(0, 1, 0)):
			return f.Format("2006-01")
		case t.Equal(f.AddDate(0, 0, 1)):
			return f.Format("2006-01-02")
		}
	}
	from, to := "", ""
	if !f.IsZero() {
		from = f.Format("2006-01-02")
	}
	if !t.IsZero() {
		to = t.AddDate(0, 0, -1).Format("2006-01-02")
	}
	return from + ".." + to
}

func midnight(t time.Time) bool {
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}
