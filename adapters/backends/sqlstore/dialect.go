package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/askmesh/askmesh/catalog"
)

// dialect is the SQL flavour a statement is compiled for. Everything that
// differs between SQLite, PostgreSQL and MySQL/MariaDB lives behind its
// methods, so the compiler itself is written once.
//
// MySQL connections run with sql_mode ANSI_QUOTES and NO_BACKSLASH_ESCAPES
// (see mysqlSession), so identifiers are double-quoted and a backslash in a
// literal is an ordinary character there as in the other two dialects.
type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
	mysqlDialect
)

func (d dialect) String() string {
	switch d {
	case postgresDialect:
		return catalog.BackendPostgres
	case mysqlDialect:
		return catalog.BackendMySQL
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
	// A MySQL schema is a database: qualified when the binding names one,
	// else the DSN's default database.
	if (d == postgresDialect || d == mysqlDialect) && p.Binding.Schema != "" {
		return quote(p.Binding.Schema) + "." + quote(p.Binding.Table)
	}
	return quote(p.Binding.Table)
}

// realType is the double-precision floating type's name.
func (d dialect) realType() string {
	switch d {
	case postgresDialect:
		return "DOUBLE PRECISION"
	case mysqlDialect:
		return "DOUBLE"
	}
	return "REAL"
}

// metricValue casts a metric's SQL to one numeric representation per kind
// (whole or real), whatever the column types (integer, decimal, float) its
// aggregate produced. SQLite's values need no cast.
func (d dialect) metricValue(expr string, whole bool) string {
	switch {
	case d == sqliteDialect:
		return expr
	case !whole:
		return d.toReal(expr)
	case d == mysqlDialect:
		return "CAST(" + expr + " AS SIGNED)"
	}
	return "CAST(" + expr + " AS BIGINT)"
}

// numberParam is a numeric literal's parameter in arithmetic: PostgreSQL
// must be told its type, the others infer it.
func (d dialect) numberParam(p string, whole bool) string {
	switch {
	case d != postgresDialect:
		return p
	case whole:
		return "CAST(" + p + " AS BIGINT)"
	}
	return d.toReal(p)
}

// toReal casts an expression to floating point, so that division of integers
// does not truncate and both dialects compute in the same arithmetic.
func (d dialect) toReal(expr string) string { return "CAST(" + expr + " AS " + d.realType() + ")" }

// boolTrue is a boolean column compared to true: SQLite stores 0/1.
func (d dialect) boolTrue(ref string) string {
	if d == postgresDialect || d == mysqlDialect {
		return ref + " = TRUE"
	}
	return ref + " = 1"
}

// contains is the case-insensitive pattern match of ref against the
// parameter p (a LIKE pattern escaped with backslash). SQLite's LIKE is
// case-insensitive for ASCII by default; PostgreSQL needs ILIKE; MySQL's
// LIKE follows the column's collation, which may be binary, so both sides
// are lowered.
func (d dialect) contains(ref, p string) string {
	switch d {
	case postgresDialect:
		return ref + " ILIKE " + p + ` ESCAPE '\'`
	case mysqlDialect:
		return "LOWER(" + ref + ") LIKE LOWER(" + p + `) ESCAPE '\'`
	}
	return ref + " LIKE " + p + ` ESCAPE '\'`
}

// textOrder makes text sort and compare by code point in every dialect:
// SQLite's default BINARY collation does; PostgreSQL's database collation
// may not (en_US ignores hyphens and case at first), so it is forced to "C";
// MySQL's default collations ignore case, so the bytes (UTF-8, whose byte
// order is code point order) are compared.
func (d dialect) textOrder(ref string) string {
	switch d {
	case postgresDialect:
		return ref + ` COLLATE "C"`
	case mysqlDialect:
		return "CAST(" + ref + " AS BINARY)"
	}
	return ref
}

// exact is a text column's reference where values are compared for
// equality, grouped or counted as distinct: by code point in every dialect.
// SQLite's and PostgreSQL's deterministic collations already are; MySQL's
// usual ones ignore case and trailing spaces, so its bytes are compared.
func (d dialect) exact(ref string) string {
	if d == mysqlDialect {
		return "CAST(" + ref + " AS BINARY)"
	}
	return ref
}

// sortKey orders by ref with NULLs last in either direction, in every
// dialect (their defaults differ). MySQL has no NULLS LAST: a leading
// "ref IS NULL" key (false before true) does the same.
func (d dialect) sortKey(ref string, desc bool) string {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	if d == mysqlDialect {
		return ref + " IS NULL, " + ref + dir
	}
	return ref + dir + " NULLS LAST"
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
	if d == mysqlDialect {
		// DATETIME columns hold UTC wall-clock time and the session's time
		// zone is UTC (for TIMESTAMP columns), so no conversion is needed.
		switch grain {
		case "day":
			return "DATE_FORMAT(" + ref + ", '%Y-%m-%d')", nil
		case "week":
			// WEEKDAY is 0 on Monday.
			return "DATE_FORMAT(DATE_SUB(DATE(" + ref + "), INTERVAL WEEKDAY(" + ref + ") DAY), '%Y-%m-%d')", nil
		case "month":
			return "DATE_FORMAT(" + ref + ", '%Y-%m-01')", nil
		case "quarter":
			return "CONCAT(YEAR(" + ref + "), '-', LPAD(QUARTER(" + ref + ") * 3 - 2, 2, '0'), '-01')", nil
		}
		return "DATE_FORMAT(" + ref + ", '%Y-01-01')", nil
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
	if d == postgresDialect || d == mysqlDialect {
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
	// MySQL compares a DATE column with text as a date; with a DATETIME
	// parameter it would compare as instants, which is the same, but text
	// keeps the comparison on the column's own type.
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
