package brief

import (
	"encoding/json"
	"strings"
)

// Numbers are written by assistant/textfmt, as the planner writes them.

// humanize turns a name into words: new_customers -> new customers.
func humanize(name string) string {
	return strings.NewReplacer("_", " ", "-", " ").Replace(name)
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
