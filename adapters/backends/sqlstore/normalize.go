package sqlstore

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/askmesh/askmesh/catalog"
)

// Result values are normalized so that the same request gives the same
// Result on SQLite, PostgreSQL and MySQL: string, int64, float64 (decimals rounded
// to 2 places, metrics to their precision), bool, timestamps as RFC 3339 UTC
// text to the second, dates as YYYY-MM-DD, NULL as nil.

// decimalPlaces is how many places decimal columns are returned with.
const decimalPlaces = 2

// normalize converts one raw driver value of column c.
func normalize(v any, c outCol) (any, error) {
	if v == nil {
		return nil, nil
	}
	var out any
	var err error
	switch c.kind {
	case kindPeriod:
		out, err = dateText(v)
	case kindMetricInt:
		out, err = toInt64(v)
	case kindMetricReal:
		var f float64
		f, err = toFloat64(v)
		out = roundTo(f, c.precision)
	case kindReal:
		out, err = toFloat64(v)
	default:
		out, err = normalizeColumn(v, c.typ)
	}
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", c.name, err)
	}
	return out, nil
}

func normalizeColumn(v any, typ string) (any, error) {
	switch typ {
	case catalog.TypeString:
		return toText(v)
	case catalog.TypeInteger:
		return toInt64(v)
	case catalog.TypeNumber:
		f, err := toFloat64(v)
		return roundTo(f, decimalPlaces), err
	case catalog.TypeBoolean:
		return toBool(v)
	case catalog.TypeDate:
		return dateText(v)
	case catalog.TypeTimestamp:
		return timestampText(v)
	}
	return nil, fmt.Errorf("unknown logical type %q", typ)
}

func toText(v any) (any, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case []byte:
		return string(t), nil
	case time.Time:
		return t.UTC().Format(time.RFC3339), nil
	case int64, int32, int16, float64, float32, bool:
		return fmt.Sprint(t), nil
	}
	// JSON columns (e.g. the audit log's groups in PostgreSQL) as JSON text.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%T is not text: %w", v, err)
	}
	return string(b), nil
}

func toInt64(v any) (int64, error) {
	switch t := v.(type) {
	case int64:
		return t, nil
	case int32:
		return int64(t), nil
	case int16:
		return int64(t), nil
	case int:
		return int64(t), nil
	case float64:
		return floatToInt(t)
	case float32:
		return floatToInt(float64(t))
	case pgtype.Numeric:
		f, err := t.Float64Value()
		if err != nil || !f.Valid {
			return 0, fmt.Errorf("numeric value is not a number")
		}
		return floatToInt(f.Float64)
	case []byte:
		return strconv.ParseInt(string(t), 10, 64)
	case string:
		return strconv.ParseInt(t, 10, 64)
	}
	return 0, fmt.Errorf("%T is not an integer", v)
}

func floatToInt(f float64) (int64, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<62 {
		return 0, fmt.Errorf("%v is out of the integer range", f)
	}
	return int64(math.Round(f)), nil
}

func toFloat64(v any) (float64, error) {
	switch t := v.(type) {
	case float64:
		return t, nil
	case float32:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case int32:
		return float64(t), nil
	case int16:
		return float64(t), nil
	case int:
		return float64(t), nil
	case pgtype.Numeric:
		f, err := t.Float64Value()
		if err != nil || !f.Valid {
			return 0, fmt.Errorf("numeric value is not a number")
		}
		return f.Float64, nil
	case []byte:
		return strconv.ParseFloat(string(t), 64)
	case string:
		return strconv.ParseFloat(t, 64)
	}
	return 0, fmt.Errorf("%T is not a number", v)
}

func toBool(v any) (any, error) {
	switch t := v.(type) {
	case bool:
		return t, nil
	case int64:
		return t != 0, nil
	case int32:
		return t != 0, nil
	case float64:
		return t != 0, nil
	case string:
		return strconv.ParseBool(t)
	case []byte: // MySQL's text protocol
		return strconv.ParseBool(string(t))
	}
	return nil, fmt.Errorf("%T is not a boolean", v)
}

func dateText(v any) (any, error) {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Format(time.DateOnly), nil
	case []byte:
		return dateText(string(t))
	case string:
		if len(t) >= 10 {
			if d, err := time.Parse(time.DateOnly, t[:10]); err == nil {
				return d.Format(time.DateOnly), nil
			}
		}
		return nil, fmt.Errorf("%q is not a date", t)
	}
	return nil, fmt.Errorf("%T is not a date", v)
}

// storedTimeLayouts are the text forms a SQLite timestamp is read from:
// askmesh's own layout first, then other RFC 3339 and SQL forms.
var storedTimeLayouts = []string{catalog.SQLiteTimeLayout, time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"}

func timestampText(v any) (any, error) {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Format(time.RFC3339), nil
	case []byte:
		return timestampText(string(t))
	case string:
		for _, layout := range storedTimeLayouts {
			if ts, err := time.Parse(layout, t); err == nil {
				return ts.UTC().Format(time.RFC3339), nil
			}
		}
		return nil, fmt.Errorf("%q is not a timestamp", t)
	}
	return nil, fmt.Errorf("%T is not a timestamp", v)
}

// roundTo rounds f to places decimal places, half away from zero, on f's
// value to 15 significant digits (so 2.675 rounds to 2.68, as a person
// would), and never returns negative zero.
//
// The 15 digits are what makes both dialects agree: an average of amounts
// that is exactly 2040.395 comes back as 2040.3950000000002 from one
// database and 2040.3949999999998 from another, a few units in the last
// binary place apart; both are 2040.395 to 15 digits and round to 2040.40.
// A double holds 15 significant digits exactly, so no real digit is lost.
func roundTo(f float64, places int) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return f
	}
	snapped, err := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	if err != nil {
		return f
	}
	s := strconv.FormatFloat(snapped, 'f', -1, 64)
	r, err := strconv.ParseFloat(roundDecimal(s, places), 64)
	if err != nil || r == 0 {
		return 0
	}
	return r
}

// roundDecimal rounds a plain decimal string half away from zero.
func roundDecimal(s string, places int) string {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if len(frac) <= places {
		if neg {
			return "-" + s
		}
		return s
	}
	digits := []byte(intPart + frac[:places])
	if frac[places] >= '5' {
		i := len(digits) - 1
		for ; i >= 0; i-- {
			if digits[i] == '9' {
				digits[i] = '0'
				continue
			}
			digits[i]++
			break
		}
		if i < 0 {
			digits = append([]byte{'1'}, digits...)
		}
	}
	n := len(digits) - places
	out := string(digits[:n])
	if places > 0 {
		out += "." + string(digits[n:])
	}
	if neg {
		out = "-" + out
	}
	return out
}
