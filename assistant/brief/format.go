package brief

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Numbers are formatted from their decimal text, never through float
// arithmetic, so the digits people read are the digits the tool returned.
// The rules are the offline planner's: counts whole with separators, amounts
// at the metric's precision, ratios as percentages, changes with one decimal.

func decimalText(v any) (string, bool) {
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

// roundDecimal rounds decimal text half away from zero to places digits.
func roundDecimal(s string, places int) string {
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

func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
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

// shiftPoint multiplies decimal text by 10^n by moving the point.
func shiftPoint(s string, n int) string {
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

// formatMetric formats a metric value by its unit and precision.
func formatMetric(v any, unit string, precision int) string {
	if v == nil {
		return "no value"
	}
	s, ok := decimalText(v)
	if !ok {
		return fmt.Sprint(v)
	}
	if unit == "ratio" {
		return groupThousands(roundDecimal(shiftPoint(s, 2), max(precision-2, 0))) + "%"
	}
	if unit == "count" && !strings.Contains(s, ".") {
		return groupThousands(s)
	}
	return groupThousands(roundDecimal(s, precision))
}

// formatPct formats a percent change with a sign and one decimal: +16.7%.
func formatPct(v any) string {
	s, ok := decimalText(v)
	if !ok {
		return ""
	}
	r := roundDecimal(s, 1)
	switch {
	case strings.Trim(r, "-0.") == "":
		r = "0.0"
	case !strings.HasPrefix(r, "-"):
		r = "+" + r
	}
	return groupThousands(r) + "%"
}

// formatCell formats a record field briefly.
func formatCell(v any) string {
	switch x := v.(type) {
	case nil:
		return "(none)"
	case json.Number:
		s := x.String()
		if strings.Contains(s, ".") {
			return groupThousands(roundDecimal(s, 2))
		}
		return groupThousands(s)
	case string:
		if t, err := time.Parse(time.RFC3339, x); err == nil {
			return dayText(t) + " " + t.UTC().Format("15:04") + " UTC"
		}
		return x
	}
	return fmt.Sprint(v)
}

func dayText(t time.Time) string { return fmt.Sprintf("%d %s %d", t.Day(), t.Month(), t.Year()) }

// periodText writes a tools range text ("2026-10-01..2026-10-31") as
// people say it: "October 2026", "Q3 2026", "2025", "1-15 November 2026".
func periodText(r string) string {
	fs, ts, ok := strings.Cut(r, "..")
	if !ok {
		return r
	}
	from, err1 := time.Parse(time.DateOnly, fs)
	to, err2 := time.Parse(time.DateOnly, ts)
	if err1 != nil || err2 != nil {
		return strings.ReplaceAll(r, "..", " to ")
	}
	end := to.AddDate(0, 0, 1)
	switch {
	case from.Equal(to):
		return dayText(from)
	case from.Day() == 1 && end.Day() == 1:
		months := (end.Year()-from.Year())*12 + int(end.Month()-from.Month())
		switch {
		case months == 12 && from.Month() == 1:
			return fmt.Sprint(from.Year())
		case months == 3 && (from.Month()-1)%3 == 0:
			return fmt.Sprintf("Q%d %d", (int(from.Month())-1)/3+1, from.Year())
		case months == 1:
			return fmt.Sprintf("%s %d", from.Month(), from.Year())
		}
	case from.Year() == to.Year() && from.Month() == to.Month():
		return fmt.Sprintf("%d-%d %s %d", from.Day(), to.Day(), to.Month(), to.Year())
	}
	return dayText(from) + " to " + dayText(to)
}

// humanize turns a name into words: new_customers -> new customers.
func humanize(name string) string {
	return strings.NewReplacer("_", " ", "-", " ").Replace(name)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// cell converts a decoded JSON number to what tables and charts hold.
func cell(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	if f, err := n.Float64(); err == nil {
		return f
	}
	return n.String()
}

func float(v any) (float64, bool) {
	switch x := cell(v).(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}
