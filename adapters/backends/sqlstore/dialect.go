package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/askmesh/askmesh/catalog"
)

// dialect is the SQL flavour a statement is compiled for. Everything that
// differs between SQLite and PostgreSQL lives behind its methods, so the
// compiler itself is written once.
type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

func (d dialect) String() string {
	if d == postgresDialect {
		return catalog.BackendPostgres
	}
	return catalog.BackendSQLite
}

// quote makes an SQL identifier. Names come only from the catalog (validated
// lowercase identifiers) or from the compiler's own fixed aliases; quoting
// them anyway means no name can ever be read as SQL.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// placeholder is the text of the n-th (1-based) parameter.
func (d dialect) placeholder(n int) string {
	if d == postgresDialect {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// table is the product's table reference.
func (d dialect) table(p *catalog.Product) string {
	if d == postgresDialect && p.Binding.Schema != "" {
		return quote(p.Binding.Schema) + "." + quote(p.Binding.Table)
	}
	return quote(p.Binding.Table)
}

// realType is the double-precision floating type's name.
func (d dialect) realType() string {
	if d == postgresDialect {
		return "DOUBLE PRECISION"
	}
	return "REAL"
}

// toReal casts an expression to floating point, so that division of integers
// does not truncate and both dialects compute in the same arithmetic.
func (d dialect) toReal(expr string) string { return "CAST(" + expr + " AS " + d.realType() + ")" }

// boolTrue is a boolean column compared to true: SQLite stores 0/1.
func (d dialect) boolTrue(ref string) string {
	if d == postgresDialect {
		return ref + " = TRUE"
	}
	return ref + " = 1"
}

// likeOp is the case-insensitive pattern match. SQLite's LIKE is
// case-insensitive for ASCII by default; PostgreSQL needs ILIKE.
func (d dialect) likeOp() string {
	if d == postgresDialect {
		return "ILIKE"
	}
	return "LIKE"
}

// textOrder makes text sort and compare by code point in both dialects:
// SQLite's default BINARY collation does; PostgreSQL's database collation
// may not (en_US ignores hyphens and case at first), so it is forced to "C".
func (d dialect) textOrder(ref string) string {
	if d == postgresDialect {
		return ref + ` COLLATE "C"`
	}
	return ref
}

// bucket is the start date ('YYYY-MM-DD' text) of the grain bucket holding
// ref, a date or timestamp column. SQLite stores both as fixed-width UTC text
// beginning with the date, so its buckets are cut from that text; weeks
// start on Monday (ISO) in both dialects.
func (d dialect) bucket(ref, colType, grain string) (string, error) {
	switch grain {
	case "day", "week", "month", "quarter", "year":
	default:
		return "", fmt.Errorf("unknown time grain %q (day, week, month, quarter, year)", grain)
	}
	if d == postgresDialect {
		var ts string
		if colType == catalog.TypeDate {
			ts = "CAST(" + ref + " AS TIMESTAMP)"
		} else {
			// The UTC wall clock whatever the session's time zone.
			ts = "(CAST(" + ref + " AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"
		}
		return "to_char(date_trunc('" + grain + "', " + ts + "), 'YYYY-MM-DD')", nil
	}
	day := "substr(" + ref + ", 1, 10)"
	switch grain {
	case "day":
		return day, nil
	case "week":
		// From six days back, step forward to the next Monday: the Monday on
		// or before the day.
		return "date(" + day + ", '-6 days', 'weekday 1')", nil
	case "month":
		return "(substr(" + ref + ", 1, 7) || '-01')", nil
	case "quarter":
		m := "substr(" + ref + ", 6, 2)"
		return "(substr(" + ref + ", 1, 5) || CASE WHEN " + m + " <= '03' THEN '01' WHEN " + m + " <= '06' THEN '04' WHEN " +
			m + " <= '09' THEN '07' ELSE '10' END || '-01')", nil
	}
	return "(substr(" + ref + ", 1, 4) || '-01-01')", nil
}

// Storage conversions: how a Go value of a column's logical type is bound
// as a parameter.

// timeValue binds an instant for a timestamp column.
func (d dialect) timeValue(t time.Time) any {
	if d == postgresDialect {
		return t.UTC()
	}
	return t.UTC().Format(catalog.SQLiteTimeLayout)
}

// dateValue binds a calendar day (the date part of t in UTC) for a date column.
func (d dialect) dateValue(t time.Time) any {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if d == postgresDialect {
		return day
	}
	return day.Format(catalog.SQLiteDateLayout)
}

// boolValue binds a boolean.
func (d dialect) boolValue(b bool) any {
	if d == postgresDialect {
		return b
	}
	if b {
		return int64(1)
	}
	return int64(0)
}
