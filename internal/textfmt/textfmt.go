// Package textfmt writes numbers, periods and names the way askmesh's
// answers say them, for the offline planner and the brief alike. Numbers
// are formatted from their decimal text, never through float arithmetic.
package textfmt

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// The digits people read are the digits the tool returned.

// DecimalText returns a JSON number as plain decimal text.
func DecimalText(v any) (string, bool) {
	var s string
	switch n := v.(type) {
	case json.Number:
		s = n.String()
	case float64:
		s = fmt.Sprint(n)
	case int64:
		s = fmt.Sprint(n)
	case int:
		s = fmt.Sprint(n)
	default:
		return "", false
	}
	if strings.ContainsAny(s, "eE") {
		f, _, err := big.ParseFloat(s, 10, 200, big.ToNearestEven)
		if err != nil {
			return "", false
		}
		s = f.Text('f', -1)
	}
	return s, true
}

// RoundDecimal rounds decimal text to places digits after the point, half
// away from zero, and pads it to exactly that many.
func RoundDecimal(s string, places int) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	ip, fp, _ := strings.Cut(s, ".")
	if ip == "" {
		ip = "0"
	}
	if len(fp) > places {
		roundUp := fp[places] >= '5'
		fp = fp[:places]
		if roundUp {
			digits := []byte(ip + fp)
			i := len(digits) - 1
			for ; i >= 0; i-- {
				if digits[i] == '9' {
					digits[i] = '0'
					continue
				}
				digits[i]++
				break
			}
			d := string(digits)
			if i < 0 {
				d = "1" + d
			}
			ip, fp = d[:len(d)-places], d[len(d)-places:]
		}
	}
	for len(fp) < places {
		fp += "0"
	}
	out := ip
	if places > 0 {
		out += "." + fp
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out
}

// GroupThousands puts commas in the integer part: 1234567.5 -> 1,234,567.5.
// A leading sign, "-" or "+", stays in front and is not counted as a digit
// (counting "+" wrote a change of +224.5% as "+,224.5%").
func GroupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		sign, s = s[:1], s[1:]
	}
	ip, fp, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range ip {
		if i > 0 && (len(ip)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := sign + b.String()
	if hasFrac {
		out += "." + fp
	}
	return out
}

// ShiftPoint multiplies decimal text by 10^n (n >= 0) by moving the point.
func ShiftPoint(s string, n int) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	ip, fp, _ := strings.Cut(s, ".")
	for len(fp) < n {
		fp += "0"
	}
	ip, fp = ip+fp[:n], fp[n:]
	ip = strings.TrimLeft(ip, "0")
	if ip == "" {
		ip = "0"
	}
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if neg {
		out = "-" + out
	}
	return out
}

// Metric formats a metric value with its unit and precision: counts
// as whole numbers, amounts with their decimals, ratios as percentages.
func Metric(v any, unit string, precision int) string {
	if v == nil {
		return "no value"
	}
	s, ok := DecimalText(v)
	if !ok {
		return fmt.Sprint(v)
	}
	if unit == "ratio" {
		places := max(precision-2, 0)
		return GroupThousands(RoundDecimal(ShiftPoint(s, 2), places)) + "%"
	}
	if unit == "count" && !strings.Contains(s, ".") {
		return GroupThousands(s)
	}
	return GroupThousands(RoundDecimal(s, precision))
}

// Pct formats a percent change with a sign and one decimal: +16.7%.
func Pct(v any) string {
	s, ok := DecimalText(v)
	if !ok {
		return ""
	}
	r := RoundDecimal(s, 1)
	switch {
	case strings.Trim(r, "-0.") == "":
		r = "0.0" // no sign on a change that rounds to nothing
	case !strings.HasPrefix(r, "-"):
		r = "+" + r
	}
	return GroupThousands(r) + "%"
}

// Cell formats a record field: numbers with separators (decimals as
// returned, to two places), timestamps readable, the rest as is.
func Cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "(none)"
	case json.Number:
		s := x.String()
		if strings.Contains(s, ".") {
			return GroupThousands(RoundDecimal(s, 2))
		}
		return GroupThousands(s)
	case string:
		// Both layouts take at least ten characters with a '-': most
		// cells (names, categories) are neither, and a failed parse
		// allocates its error.
		if len(x) < len("2006-01-02") || strings.IndexByte(x, '-') < 0 {
			return x
		}
		if t, err := time.Parse(time.RFC3339, x); err == nil {
			if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
				return Day(t)
			}
			return Day(t) + " " + t.UTC().Format("15:04") + " UTC"
		}
		if t, err := time.Parse("2006-01-02", x); err == nil {
			return Day(t)
		}
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(v)
}

func Day(t time.Time) string { return fmt.Sprintf("%d %s %d", t.Day(), t.Month(), t.Year()) }

// Period writes a range as people say it: "October 2026", "Q3 2026",
// "2025", "1-15 November 2026", "28 September-4 October 2026", "since 1
// March 2026". The range is the tools' inclusive "FROM..TO" text.
func Period(r string) string {
	if r == "" {
		return ""
	}
	fs, ts, _ := strings.Cut(r, "..")
	from, fok := ParseDay(fs)
	to, tok := ParseDay(ts)
	switch {
	case !fok && !tok:
		return r
	case !tok:
		return "since " + Day(from)
	case !fok:
		return "until " + Day(to)
	}
	end := to.AddDate(0, 0, 1) // exclusive
	switch {
	case from.Equal(to):
		return Day(from)
	case from.Day() == 1 && end.Day() == 1:
		months := (end.Year()-from.Year())*12 + int(end.Month()-from.Month())
		switch {
		case months == 12 && from.Month() == 1:
			return fmt.Sprint(from.Year())
		case months == 3 && (from.Month()-1)%3 == 0:
			return fmt.Sprintf("Q%d %d", (int(from.Month())-1)/3+1, from.Year())
		case months == 1:
			return fmt.Sprintf("%s %d", from.Month(), from.Year())
		case from.Year() == to.Year():
			return fmt.Sprintf("%s-%s %d", from.Month(), to.Month(), to.Year())
		default:
			return fmt.Sprintf("%s %d-%s %d", from.Month(), from.Year(), to.Month(), to.Year())
		}
	case from.Year() == to.Year() && from.Month() == to.Month():
		return fmt.Sprintf("%d-%d %s %d", from.Day(), to.Day(), to.Month(), to.Year())
	case from.Year() == to.Year():
		return fmt.Sprintf("%d %s-%d %s %d", from.Day(), from.Month(), to.Day(), to.Month(), to.Year())
	}
	return Day(from) + "-" + Day(to)
}

func ParseDay(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
	}
	return time.Time{}, false
}

// Bucket names a period bucket (its first day) at a grain.
func Bucket(v any, grain string) string {
	s, _ := v.(string)
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return fmt.Sprint(v)
	}
	switch grain {
	case "week":
		return "week of " + Day(t)
	case "month":
		return fmt.Sprintf("%s %d", t.Month(), t.Year())
	case "quarter":
		return fmt.Sprintf("Q%d %d", (int(t.Month())-1)/3+1, t.Year())
	case "year":
		return fmt.Sprint(t.Year())
	}
	return Day(t)
}

// Plural is one when n is 1, else many.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Humanize turns a metric or column name into words: new_customers -> new customers.
func Humanize(name string) string { return strings.ReplaceAll(name, "_", " ") }

func Capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
