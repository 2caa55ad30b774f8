package tools

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// NamedPeriods are the period names time_range accepts, in the order the
// tool description lists them.
var NamedPeriods = []string{
	"today", "yesterday", "last_7_days", "last_30_days", "last_90_days",
	"this_week", "last_week", "this_month", "last_month",
	"this_quarter", "last_quarter", "this_year", "last_year",
}

// period is a resolved range plus the calendar step that moves it to the
// previous period: calendar-aware so that "last_month" compares with the
// month before, not with the 31 days before.
type period struct {
	Range
	months, days int
}

var (
	lastNDays = regexp.MustCompile(`^last_(\d{1,4})_days$`)
	isoDay    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	isoMonth  = regexp.MustCompile(`^\d{4}-\d{2}$`)
	isoYear   = regexp.MustCompile(`^\d{4}$`)
	isoQuart  = regexp.MustCompile(`^(\d{4})-[Qq]([1-4])$`)
)

// ResolveTimeRange turns a time_range argument into a half-open UTC range.
// Calendar periods that contain now (today, this_month, ...) end at the end
// of today, so comparisons with the previous period are like for like.
func ResolveTimeRange(s string, now time.Time) (Range, error) {
	p, err := resolvePeriod(s, now)
	return p.Range, err
}

// CompareRange returns the comparison range for compare_to.
func CompareRange(s string, now time.Time, compareTo string) (Range, error) {
	p, err := resolvePeriod(s, now)
	if err != nil {
		return Range{}, err
	}
	if p.From.IsZero() || p.To.IsZero() {
		return Range{}, fmt.Errorf("compare_to needs a time_range with both a start and an end, not %q", s)
	}
	if _, cut, partial := partialRange(s, now); partial {
		// A period not over yet is compared like for like: the same days
		// of the period before, not the whole of it.
		p.To = cut.To
	}
	switch compareTo {
	case ComparePreviousPeriod:
		return Range{From: p.From.AddDate(0, -p.months, -p.days), To: p.To.AddDate(0, -p.months, -p.days), Label: "previous period of " + p.Label}, nil
	case ComparePreviousYear:
		return Range{From: p.From.AddDate(-1, 0, 0), To: p.To.AddDate(-1, 0, 0), Label: "same period a year before " + p.Label}, nil
	}
	return Range{}, fmt.Errorf("compare_to %q is not one of %s, %s", compareTo, ComparePreviousPeriod, ComparePreviousYear)
}

func resolvePeriod(raw string, now time.Time) (period, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	s = strings.NewReplacer(" ", "_", "-", "_").Replace(s)
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	tomorrow := today.AddDate(0, 0, 1)
	monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	quarter := time.Date(today.Year(), time.Month((int(today.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	year := time.Date(today.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	label := strings.TrimSpace(raw)

	mk := func(from, to time.Time, months, days int) period {
		return period{Range: Range{From: from, To: to, Label: label}, months: months, days: days}
	}
	switch s {
	case "":
		return period{}, nil
	case "all", "all_time":
		return period{Range: Range{Label: "all time"}}, nil
	case "today":
		return mk(today, tomorrow, 0, 1), nil
	case "yesterday":
		return mk(today.AddDate(0, 0, -1), today, 0, 1), nil
	case "this_week":
		return mk(monday, tomorrow, 0, 7), nil
	case "last_week":
		return mk(monday.AddDate(0, 0, -7), monday, 0, 7), nil
	case "this_month":
		return mk(month, tomorrow, 1, 0), nil
	case "last_month":
		return mk(month.AddDate(0, -1, 0), month, 1, 0), nil
	case "this_quarter":
		return mk(quarter, tomorrow, 3, 0), nil
	case "last_quarter":
		return mk(quarter.AddDate(0, -3, 0), quarter, 3, 0), nil
	case "this_year":
		return mk(year, tomorrow, 12, 0), nil
	case "last_year":
		return mk(year.AddDate(-1, 0, 0), year, 12, 0), nil
	}
	if m := lastNDays.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n < 1 || n > 3660 {
			return period{}, fmt.Errorf("time_range %q: the number of days must be between 1 and 3660", raw)
		}
		// The last N days are today and the N-1 days before it.
		return mk(tomorrow.AddDate(0, 0, -n), tomorrow, 0, n), nil
	}
	// ISO forms and ranges keep their original spelling (dates use '-').
	iso := strings.TrimSpace(raw)
	if from, to, ok := strings.Cut(iso, ".."); ok {
		return resolveRange(raw, strings.TrimSpace(from), strings.TrimSpace(to))
	}
	if p, ok, err := isoPeriod(iso); ok || err != nil {
		if err != nil {
			return period{}, fmt.Errorf("time_range %q: %w", raw, err)
		}
		p.Label = label
		return p, nil
	}
	return period{}, fmt.Errorf("time_range %q is not a named period (%s), an ISO date, month, quarter or year (2026-10-05, 2026-10, 2026-Q3, 2026) or a range FROM..TO", raw, strings.Join(NamedPeriods, ", "))
}

// Periods lie within these years: stores write timestamps as four-digit
// ISO years, so a period ending in the year 10000 (9999-Q4) would pass
// policy and then fail to run; it is refused before the call instead.
var (
	earliestStart = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	latestEnd     = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
)

// isoPeriod parses one ISO date, month, quarter, year or RFC 3339 instant,
// within the years askmesh can query.
func isoPeriod(s string) (period, bool, error) {
	p, ok, err := parseISOPeriod(s)
	if ok && err == nil && (p.From.Before(earliestStart) || p.To.After(latestEnd)) {
		return period{}, true, fmt.Errorf("%q is outside the years 1000 to 9998 that can be queried", s)
	}
	return p, ok, err
}

func parseISOPeriod(s string) (period, bool, error) {
	switch {
	case isoDay.MatchString(s):
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return period{}, true, fmt.Errorf("%q is not a valid date", s)
		}
		return period{Range: Range{From: t, To: t.AddDate(0, 0, 1)}, days: 1}, true, nil
	case isoMonth.MatchString(s):
		t, err := time.Parse("2006-01", s)
		if err != nil {
			return period{}, true, fmt.Errorf("%q is not a valid month", s)
		}
		return period{Range: Range{From: t, To: t.AddDate(0, 1, 0)}, months: 1}, true, nil
	case isoYear.MatchString(s):
		y, _ := strconv.Atoi(s)
		t := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		return period{Range: Range{From: t, To: t.AddDate(1, 0, 0)}, months: 12}, true, nil
	}
	if m := isoQuart.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		q, _ := strconv.Atoi(m[2])
		t := time.Date(y, time.Month((q-1)*3+1), 1, 0, 0, 0, 0, time.UTC)
		return period{Range: Range{From: t, To: t.AddDate(0, 3, 0)}, months: 3}, true, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return period{Range: Range{From: t, To: t}}, true, nil
	}
	return period{}, false, nil
}

// resolveRange resolves FROM..TO, where each side is an ISO period and TO is
// inclusive: 2026-01..2026-03 is January to March.
func resolveRange(raw, from, to string) (period, error) {
	var p period
	p.Label = strings.TrimSpace(raw)
	if from == "" && to == "" {
		return period{}, fmt.Errorf("time_range %q: a range needs a start, an end or both", raw)
	}
	if from != "" {
		f, ok, err := isoPeriod(from)
		if !ok || err != nil {
			return period{}, fmt.Errorf("time_range %q: the start %q is not an ISO date, month, quarter, year or instant", raw, from)
		}
		p.From = f.From
	}
	if to != "" {
		t, ok, err := isoPeriod(to)
		if !ok || err != nil {
			return period{}, fmt.Errorf("time_range %q: the end %q is not an ISO date, month, quarter, year or instant", raw, to)
		}
		p.To = t.To
	}
	if !p.From.IsZero() && !p.To.IsZero() {
		if !p.To.After(p.From) {
			return period{}, fmt.Errorf("time_range %q: the end is before the start", raw)
		}
		// Whole months move by months; anything else by its length in days.
		if p.From.Day() == 1 && p.To.Day() == 1 && isMidnight(p.From) && isMidnight(p.To) {
			p.months = (p.To.Year()-p.From.Year())*12 + int(p.To.Month()-p.From.Month())
		} else {
			p.days = int(p.To.Sub(p.From).Hours()/24 + 0.5)
			if p.days == 0 {
				p.days = 1
			}
		}
	}
	return p, nil
}

func isMidnight(t time.Time) bool {
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

// PartialPeriod says that a period asked for is not over yet: its figures
// are for the days so far, and comparisons are with the same number of
// days of the period compared with. Answers must say so: "December 2026 so
// far (3 days)" is not a collapse of December.
type PartialPeriod struct {
	// Period is the whole period, inclusive "FROM..TO" (2026-12-01..2026-12-31).
	Period string `json:"period"`
	// Through is the last day counted, today (2026-12-03).
	Through string `json:"through"`
	// Days counted so far, and days in the whole period.
	Days int `json:"days"`
	Of   int `json:"of"`
	// Bucket, with a time grain, is the period value (its first day) of the
	// bucket that is not over; the time range itself may be complete.
	Bucket string `json:"bucket,omitempty"`
	// Compared is the like-for-like comparison range, inclusive "FROM..TO",
	// when the call compared with another period.
	Compared string `json:"compared,omitempty"`
}

// partialRange reports whether the calendar period s resolves to is not
// over at now, and if so returns the range cut at the end of today, which
// compare ranges are shifted from so they cover the same days.
func partialRange(s string, now time.Time) (PartialPeriod, Range, bool) {
	p, err := resolvePeriod(s, now)
	if err != nil || p.From.IsZero() || p.To.IsZero() || (p.months == 0 && p.days == 0) {
		return PartialPeriod{}, Range{}, false
	}
	now = now.UTC()
	tomorrow := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	end := p.From.AddDate(0, p.months, p.days) // where the whole period ends
	if !end.After(tomorrow) || !p.From.Before(tomorrow) {
		return PartialPeriod{}, Range{}, false
	}
	cut := p.Range
	cut.To = tomorrow
	return PartialPeriod{
		Period:  inclusive(p.From, end),
		Through: tomorrow.AddDate(0, 0, -1).Format("2006-01-02"),
		Days:    days(p.From, tomorrow),
		Of:      days(p.From, end),
	}, cut, true
}

// partialBucket returns the bucket of grain that contains now when it is
// not over and r (the time range, zero for all time) reaches into it.
func partialBucket(r Range, grain string, now time.Time) (PartialPeriod, bool) {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	tomorrow := today.AddDate(0, 0, 1)
	from, end, ok := GrainBounds(today, grain)
	if !ok { // a day is counted in whole days
		return PartialPeriod{}, false
	}
	if (!r.To.IsZero() && !r.To.After(today)) || (!r.From.IsZero() && !r.From.Before(tomorrow)) {
		return PartialPeriod{}, false // the range ends before today or starts after it
	}
	start := from
	if r.From.After(start) {
		start = r.From
	}
	return PartialPeriod{Period: inclusive(from, end), Through: today.Format("2006-01-02"),
		Days: days(start, tomorrow), Of: days(from, end), Bucket: from.Format("2006-01-02")}, true
}

func inclusive(from, to time.Time) string {
	return from.Format("2006-01-02") + ".." + to.AddDate(0, 0, -1).Format("2006-01-02")
}

func days(from, to time.Time) int { return int(to.Sub(from).Hours()/24 + 0.5) }
