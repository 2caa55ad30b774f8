package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// durations are timed samples of one operation.
type durations []time.Duration

// pct returns the p-th percentile (0-100), nearest rank.
func (d durations) pct(p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func (d durations) mean() time.Duration {
	if len(d) == 0 {
		return 0
	}
	var t time.Duration
	for _, v := range d {
		t += v
	}
	return t / time.Duration(len(d))
}

// alternate times n runs of a and of b, interleaved in rounds so both see
// the same machine load (caches, GC, other processes), and returns each
// one's samples.
func alternate(n int, a, b func() error) (durations, durations, error) {
	const rounds = 10
	da, db := make(durations, 0, n), make(durations, 0, n)
	for r := 0; r < rounds; r++ {
		k := n / rounds
		if r == rounds-1 {
			k = n - len(da)
		}
		for range k {
			start := time.Now()
			if err := a(); err != nil {
				return nil, nil, err
			}
			da = append(da, time.Since(start))
		}
		for range k {
			start := time.Now()
			if err := b(); err != nil {
				return nil, nil, err
			}
			db = append(db, time.Since(start))
		}
	}
	return da, db, nil
}

// fmtDur prints a duration with three significant digits in a unit that
// suits it.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.3g µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.3g ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3g s", d.Seconds())
}

func fmtRatio(r float64) string {
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return "—"
	}
	return fmt.Sprintf("%.2fx", r)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.Inf(1)
	}
	return a / b
}

// fmtCount prints an integer with thousands separators.
func fmtCount(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + fmtCount(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtRate(perSecond float64) string {
	return fmtCount(int64(math.Round(perSecond))) + "/s"
}

func fmtBytes(b float64) string {
	switch {
	case math.Abs(b) < 1024:
		return fmt.Sprintf("%.0f B", b)
	case math.Abs(b) < 1<<20:
		return fmt.Sprintf("%.1f KiB", b/1024)
	}
	return fmt.Sprintf("%.1f MiB", b/(1<<20))
}
