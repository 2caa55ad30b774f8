package sqlstore

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/tools"
)

// Tests on the generated demo bank (seed 42, as of 2026-11-15), on SQLite
// and PostgreSQL. Every expected result comes from SQL written by hand
// below, never from the compiler; bucket expressions in that SQL are the
// tests' own, different from the compiler's.

func demoBackends(t *testing.T) []*backend {
	t.Helper()
	if testing.Short() { // the short tier has no database servers: SQLite's checks run
		return []*backend{sqliteBackend(t, banktest.SQLiteDir(t))}
	}
	return []*backend{sqliteBackend(t, banktest.SQLiteDir(t)), postgresBackend(t, banktest.Postgres(t)), mysqlBackend(t, banktest.MySQL(t))}
}

// ts is a timestamp literal both dialects read: SQLite compares it as text
// with its stored layout, PostgreSQL casts it to timestamptz.
func ts(day string) string { return day + "T00:00:00.000000Z" }

var macro = regexp.MustCompile(`\{(day|week|month|quarter|year):([a-z_]+)\}`)

// expand replaces {grain:column} with the test's own bucket-start
// expression for the backend ('YYYY-MM-DD' text).
func expand(b *backend, query string) string {
	return macro.ReplaceAllStringFunc(query, func(m string) string {
		parts := macro.FindStringSubmatch(m)
		grain, col := parts[1], parts[2]
		if b.name == "mysql" {
			// The tests' own buckets, as DATE values.
			switch grain {
			case "day":
				return "DATE(" + col + ")"
			case "week":
				// DAYOFWEEK is 1 on Sunday: back to the Monday on or before.
				return "SUBDATE(DATE(" + col + "), (DAYOFWEEK(" + col + ") + 5) % 7)"
			case "month":
				return "(MAKEDATE(YEAR(" + col + "), 1) + INTERVAL (MONTH(" + col + ") - 1) MONTH)"
			case "quarter":
				return "(MAKEDATE(YEAR(" + col + "), 1) + INTERVAL (QUARTER(" + col + ") - 1) * 3 MONTH)"
			}
			return "MAKEDATE(YEAR(" + col + "), 1)"
		}
		if b.name == "sqlite" {
			switch grain {
			case "day":
				return "date(" + col + ")"
			case "week":
				// The next Sunday on or after the day, less six days.
				return "date(" + col + ", 'weekday 0', '-6 days')"
			case "month":
				return "strftime('%Y-%m-01', " + col + ")"
			case "quarter":
				return "printf('%s-%02d-01', strftime('%Y', " + col + "), ((CAST(strftime('%m', " + col + ") AS INTEGER) - 1) / 3) * 3 + 1)"
			}
			return "strftime('%Y-01-01', " + col + ")"
		}
		utc := "(" + col + " AT TIME ZONE 'UTC')"
		switch grain {
		case "day":
			return "to_char(" + utc + ", 'YYYY-MM-DD')"
		case "week":
			return "to_char(CAST(" + utc + " AS date) - (CAST(extract(isodow FROM " + utc + ") AS integer) - 1), 'YYYY-MM-DD')"
		case "month":
			return "to_char(" + utc + ", 'YYYY-MM-01')"
		case "quarter":
			return "to_char(make_date(CAST(extract(year FROM " + utc + ") AS integer), CAST(extract(quarter FROM " + utc + ") AS integer) * 3 - 2, 1), 'YYYY-MM-DD')"
		}
		return "to_char(" + utc + ", 'YYYY-01-01')"
	})
}

type metricCase struct {
	name, product string
	plan          tools.MetricsPlan
	sql           string
	kinds         []string
}

// Rate expressions, written out by hand.
const (
	approvalRate   = "1.0 * SUM(CASE WHEN status IN ('approved', 'funded') THEN 1 ELSE 0 END) / NULLIF(SUM(CASE WHEN status IN ('approved', 'funded', 'rejected') THEN 1 ELSE 0 END), 0)"
	resolutionRate = "1.0 * SUM(CASE WHEN resolved THEN 1 ELSE 0 END) / COUNT(*)"
)

var october = span("2026-10-01", "2026-11-01")

var metricCases = []metricCase{
	{
		name: "transactions by type", product: "customer-transactions",
		plan: tools.MetricsPlan{Metrics: []string{"transaction_count", "total_amount", "average_amount"}, GroupBy: []string{"type"}, Range: october},
		sql: `SELECT type, COUNT(*), SUM(amount), AVG(amount) FROM transactions
			WHERE occurred_at >= '` + ts("2026-10-01") + `' AND occurred_at < '` + ts("2026-11-01") + `' GROUP BY type ORDER BY type`,
		kinds: []string{"text", "int", "real2", "real2"},
	},
	{
		name: "weekly deposits by region and channel", product: "customer-transactions",
		plan: tools.MetricsPlan{Metrics: []string{"total_amount"}, GroupBy: []string{"region", "channel"}, Grain: tools.GrainWeek, Range: october,
			Filters: []tools.Condition{{Column: "type", Op: "=", Value: "deposit"}}, Limit: tools.MaxLimit},
		sql: `SELECT {week:occurred_at} AS p, region, channel, SUM(amount) FROM transactions
			WHERE type = 'deposit' AND occurred_at >= '` + ts("2026-10-01") + `' AND occurred_at < '` + ts("2026-11-01") + `'
			GROUP BY p, region, channel ORDER BY p, region, channel`,
		kinds: []string{"date", "text", "text", "real2"},
	},
	{
		name: "daily EUR and GBP transactions", product: "customer-transactions",
		plan: tools.MetricsPlan{Metrics: []string{"transaction_count"}, Grain: tools.GrainDay, Range: span("2026-11-01", "2026-11-15"),
			Filters: []tools.Condition{{Column: "currency", Op: "in", Value: []any{"EUR", "GBP"}}}},
		sql: `SELECT {day:occurred_at} AS p, COUNT(*) FROM transactions
			WHERE currency IN ('EUR', 'GBP') AND occurred_at >= '` + ts("2026-11-01") + `' AND occurred_at < '` + ts("2026-11-15") + `'
			GROUP BY p ORDER BY p`,
		kinds: []string{"date", "int"},
	},
	{
		name: "top 5 customers by amount", product: "customer-transactions",
		plan: tools.MetricsPlan{Metrics: []string{"total_amount", "transaction_count"}, GroupBy: []string{"customer_id"}, Range: span("2026-07-01", "2026-10-01"),
			Order: []tools.Sort{{Field: "total_amount", Desc: true}}, Limit: 5},
		sql: `SELECT customer_id, SUM(amount) AS total, COUNT(*) FROM transactions
			WHERE occurred_at >= '` + ts("2026-07-01") + `' AND occurred_at < '` + ts("2026-10-01") + `'
			GROUP BY customer_id ORDER BY total DESC, customer_id LIMIT 5`,
		kinds: []string{"text", "real2", "int"},
	},
	{
		name: "monthly average of mid-size non-ATM amounts", product: "customer-transactions",
		plan: tools.MetricsPlan{Metrics: []string{"average_amount"}, Grain: tools.GrainMonth, Range: span("2026-01-01", "2026-11-15"),
			Filters: []tools.Condition{{Column: "channel", Op: "!=", Value: "atm"}, {Column: "amount", Op: "between", Value: []any{100.0, 500.0}}}},
		sql: `SELECT {month:occurred_at} AS p, AVG(amount) FROM transactions
			WHERE channel <> 'atm' AND amount BETWEEN 100 AND 500 AND occurred_at >= '` + ts("2026-01-01") + `' AND occurred_at < '` + ts("2026-11-15") + `'
			GROUP BY p ORDER BY p`,
		kinds: []string{"date", "real2"},
	},
	{
		name: "account 123456", product: "customer-transactions",
		plan: tools.MetricsPlan{Metrics: []string{"transaction_count", "total_amount"},
			Filters: []tools.Condition{{Column: "account_id", Op: "=", Value: "123456"}}},
		sql:   `SELECT COUNT(*), SUM(amount) FROM transactions WHERE account_id = '123456'`,
		kinds: []string{"int", "real2"},
	},
	{
		name: "customers joined, quarterly by segment and risk", product: "customers",
		plan: tools.MetricsPlan{Metrics: []string{"customer_count"}, GroupBy: []string{"segment", "risk_rating"}, Grain: tools.GrainQuarter,
			Range: span("2025-01-01", "2026-11-15"), Limit: tools.MaxLimit},
		sql: `SELECT {quarter:joined_at} AS p, segment, risk_rating, COUNT(*) FROM customers
			WHERE joined_at >= '2025-01-01' AND joined_at < '2026-11-15' GROUP BY p, segment, risk_rating ORDER BY p, segment, risk_rating`,
		kinds: []string{"date", "text", "text", "int"},
	},
	{
		name: "customers outside Europe by year joined", product: "customers",
		plan: tools.MetricsPlan{Metrics: []string{"customer_count"}, Grain: tools.GrainYear,
			Filters: []tools.Condition{{Column: "region", Op: "not in", Value: []any{"europe"}}}},
		sql:   `SELECT {year:joined_at} AS p, COUNT(*) FROM customers WHERE region NOT IN ('europe') GROUP BY p ORDER BY p`,
		kinds: []string{"date", "int"},
	},
	{
		name: "every loan metric by type, third quarter", product: "loan-applications",
		plan: tools.MetricsPlan{Metrics: []string{"application_count", "total_requested", "average_amount", "approval_rate", "average_credit_score"},
			GroupBy: []string{"loan_type"}, Range: span("2026-07-01", "2026-10-01")},
		sql: `SELECT loan_type, COUNT(*), SUM(amount), AVG(amount), ` + approvalRate + `, AVG(credit_score) FROM loan_applications
			WHERE applied_at >= '` + ts("2026-07-01") + `' AND applied_at < '` + ts("2026-10-01") + `' GROUP BY loan_type ORDER BY loan_type`,
		kinds: []string{"text", "int", "real2", "real2", "real4", "real1"},
	},
	{
		name: "monthly approval rate by region of decided loans", product: "loan-applications",
		plan: tools.MetricsPlan{Metrics: []string{"approval_rate"}, GroupBy: []string{"region"}, Grain: tools.GrainMonth, Range: span("2026-01-01", "2026-11-15"),
			Filters: []tools.Condition{{Column: "decided_at", Op: "is not null"}}},
		sql: `SELECT {month:applied_at} AS p, region, ` + approvalRate + ` FROM loan_applications
			WHERE decided_at IS NOT NULL AND applied_at >= '` + ts("2026-01-01") + `' AND applied_at < '` + ts("2026-11-15") + `'
			GROUP BY p, region ORDER BY p, region`,
		kinds: []string{"date", "text", "real4"},
	},
	{
		name: "undecided loans by status", product: "loan-applications",
		plan:  tools.MetricsPlan{Metrics: []string{"application_count"}, GroupBy: []string{"status"}, Filters: []tools.Condition{{Column: "decided_at", Op: "is null"}}},
		sql:   `SELECT status, COUNT(*) FROM loan_applications WHERE decided_at IS NULL GROUP BY status ORDER BY status`,
		kinds: []string{"text", "int"},
	},
	{
		name: "weekly large requests from good credit", product: "loan-applications",
		plan: tools.MetricsPlan{Metrics: []string{"total_requested", "application_count"}, Grain: tools.GrainWeek, Range: span("2026-09-01", "2026-11-01"),
			Filters: []tools.Condition{{Column: "credit_score", Op: ">=", Value: int64(700)}, {Column: "amount", Op: ">", Value: 50000.0}}},
		sql: `SELECT {week:applied_at} AS p, SUM(amount), COUNT(*) FROM loan_applications
			WHERE credit_score >= 700 AND amount > 50000 AND applied_at >= '` + ts("2026-09-01") + `' AND applied_at < '` + ts("2026-11-01") + `'
			GROUP BY p ORDER BY p`,
		kinds: []string{"date", "real2", "int"},
	},
	{
		name: "every campaign metric by channel, best converting first", product: "marketing-campaigns",
		plan: tools.MetricsPlan{Metrics: []string{"conversion_rate", "click_through_rate", "cost_per_conversion", "total_conversions", "total_budget"},
			GroupBy: []string{"channel"}, Order: []tools.Sort{{Field: "conversion_rate", Desc: true}}},
		sql: `SELECT channel, 1.0 * SUM(conversions) / NULLIF(SUM(clicks), 0) AS rate, 1.0 * SUM(clicks) / NULLIF(SUM(impressions), 0),
			1.0 * SUM(budget) / NULLIF(SUM(conversions), 0), SUM(conversions), SUM(budget) FROM campaigns GROUP BY channel ORDER BY rate DESC, channel`,
		kinds: []string{"text", "real4", "real4", "real2", "int", "real2"},
	},
	{
		name: "campaigns named summer, by name", product: "marketing-campaigns",
		plan: tools.MetricsPlan{Metrics: []string{"total_conversions", "conversion_rate"}, GroupBy: []string{"name"},
			Filters: []tools.Condition{{Column: "name", Op: "contains", Value: "summer"}}},
		sql: `SELECT name, SUM(conversions), 1.0 * SUM(conversions) / NULLIF(SUM(clicks), 0) FROM campaigns
			WHERE lower(name) LIKE '%summer%' GROUP BY name ORDER BY name`,
		kinds: []string{"text", "int", "real4"},
	},
	{
		name: "campaigns started by quarter", product: "marketing-campaigns",
		plan: tools.MetricsPlan{Metrics: []string{"total_budget", "total_conversions"}, Grain: tools.GrainQuarter, Range: span("2025-01-01", "2027-01-01")},
		sql: `SELECT {quarter:start_date} AS p, SUM(budget), SUM(conversions) FROM campaigns
			WHERE start_date >= '2025-01-01' AND start_date < '2027-01-01' GROUP BY p ORDER BY p`,
		kinds: []string{"date", "real2", "int"},
	},
	{
		name: "new customers by channel", product: "customer-acquisition",
		plan: tools.MetricsPlan{Metrics: []string{"new_customers"}, GroupBy: []string{"channel"}, Range: october},
		sql: `SELECT channel, COUNT(*) FROM acquisitions
			WHERE acquired_at >= '` + ts("2026-10-01") + `' AND acquired_at < '` + ts("2026-11-01") + `' GROUP BY channel ORDER BY channel`,
		kinds: []string{"text", "int"},
	},
	{
		name: "top monthly campaigns, organic included", product: "customer-acquisition",
		plan: tools.MetricsPlan{Metrics: []string{"new_customers"}, GroupBy: []string{"campaign_name"}, Grain: tools.GrainMonth, Range: span("2026-01-01", "2026-11-15"),
			Order: []tools.Sort{{Field: "new_customers", Desc: true}}, Limit: 20},
		sql: `SELECT {month:acquired_at} AS p, campaign_name, COUNT(*) AS n FROM acquisitions
			WHERE acquired_at >= '` + ts("2026-01-01") + `' AND acquired_at < '` + ts("2026-11-15") + `'
			GROUP BY p, campaign_name ORDER BY n DESC, p, campaign_name NULLS LAST LIMIT 20`,
		kinds: []string{"date", "text", "int"},
	},
	{
		name: "organic signups per day", product: "customer-acquisition",
		plan: tools.MetricsPlan{Metrics: []string{"new_customers"}, Grain: tools.GrainDay, Range: span("2026-11-01", "2026-11-15"),
			Filters: []tools.Condition{{Column: "campaign_id", Op: "is null"}}},
		sql: `SELECT {day:acquired_at} AS p, COUNT(*) FROM acquisitions
			WHERE campaign_id IS NULL AND acquired_at >= '` + ts("2026-11-01") + `' AND acquired_at < '` + ts("2026-11-15") + `' GROUP BY p ORDER BY p`,
		kinds: []string{"date", "int"},
	},
	{
		name: "every interaction metric by topic and sentiment", product: "customer-interactions",
		plan: tools.MetricsPlan{Metrics: []string{"interaction_count", "resolution_rate", "average_handle_minutes"}, GroupBy: []string{"topic", "sentiment"}, Range: october},
		sql: `SELECT topic, sentiment, COUNT(*), ` + resolutionRate + `, AVG(handle_minutes) FROM interactions
			WHERE occurred_at >= '` + ts("2026-10-01") + `' AND occurred_at < '` + ts("2026-11-01") + `' GROUP BY topic, sentiment ORDER BY topic, sentiment`,
		kinds: []string{"text", "text", "int", "real4", "real2"},
	},
	{
		name: "weekly interactions by resolved", product: "customer-interactions",
		plan: tools.MetricsPlan{Metrics: []string{"interaction_count"}, GroupBy: []string{"resolved"}, Grain: tools.GrainWeek, Range: october},
		sql: `SELECT {week:occurred_at} AS p, resolved, COUNT(*) FROM interactions
			WHERE occurred_at >= '` + ts("2026-10-01") + `' AND occurred_at < '` + ts("2026-11-01") + `' GROUP BY p, resolved ORDER BY p, resolved`,
		kinds: []string{"date", "bool", "int"},
	},
	{
		name: "quarterly handle time of long interactions", product: "customer-interactions",
		plan: tools.MetricsPlan{Metrics: []string{"average_handle_minutes"}, Grain: tools.GrainQuarter, Range: span("2025-01-01", "2026-11-15"),
			Filters: []tools.Condition{{Column: "handle_minutes", Op: ">", Value: 30.0}}},
		sql: `SELECT {quarter:occurred_at} AS p, AVG(handle_minutes) FROM interactions
			WHERE handle_minutes > 30 AND occurred_at >= '` + ts("2025-01-01") + `' AND occurred_at < '` + ts("2026-11-15") + `' GROUP BY p ORDER BY p`,
		kinds: []string{"date", "real2"},
	},
	{
		name: "yearly resolution rate of calls and chats", product: "customer-interactions",
		plan: tools.MetricsPlan{Metrics: []string{"resolution_rate"}, Grain: tools.GrainYear,
			Filters: []tools.Condition{{Column: "channel", Op: "in", Value: []any{"call", "chat"}}}},
		sql:   `SELECT {year:occurred_at} AS p, ` + resolutionRate + ` FROM interactions WHERE channel IN ('call', 'chat') GROUP BY p ORDER BY p`,
		kinds: []string{"date", "real4"},
	},
}

func TestDemoMetrics(t *testing.T) {
	t.Parallel()
	backends := demoBackends(t)
	covered := map[string]bool{}
	for _, c := range metricCases {
		for _, m := range c.plan.Metrics {
			covered[c.product+"/"+m] = true
		}
		for _, b := range backends {
			t.Run(c.name+"/"+b.name, func(t *testing.T) {
				p := demoProduct(t, c.product)
				want := want(t, b.raw(t, p, expand(b, c.sql)), c.kinds...)
				if len(want) == 0 {
					t.Fatalf("the hand-written SQL returns no rows: the case tests nothing")
				}
				res := b.metrics(t, p, c.plan)
				assertRows(t, res, want)
			})
		}
	}
	// Every metric of every demo product with generated data is checked.
	for _, p := range demoRegistry(t).List() {
		if p.Name == "access-audit" {
			continue
		}
		for _, m := range p.MetricNames() {
			if !covered[p.Name+"/"+m] {
				t.Errorf("no case checks %s of %s", m, p.Name)
			}
		}
	}
}

type compareCase struct {
	name, product string
	plan          tools.MetricsPlan // Range and Compare set
	// sql computes the plan's rows over [{from}, {to}); it runs once per range.
	sql   string
	kinds []string
	// shift maps a current period to the comparison period it is paired
	// with (nil without a grain).
	shift func(period string) string
}

func yearBefore(p string) string { return day(p).AddDate(-1, 0, 0).Format("2006-01-02") }

func daysBefore(n int) func(string) string {
	return func(p string) string { return day(p).AddDate(0, 0, -n).Format("2006-01-02") }
}

var compareCases = []compareCase{
	{
		name: "transactions by region, October against September", product: "customer-transactions",
		plan: tools.MetricsPlan{Metrics: []string{"total_amount", "transaction_count"}, GroupBy: []string{"region"},
			Range: october, CompareTo: tools.ComparePreviousPeriod, Compare: span("2026-09-01", "2026-10-01")},
		sql:   `SELECT region, SUM(amount), COUNT(*) FROM transactions WHERE occurred_at >= '{from}' AND occurred_at < '{to}' GROUP BY region ORDER BY region`,
		kinds: []string{"text", "real2", "int"},
	},
	{
		name: "daily transactions, this week against the same days last year", product: "customer-transactions",
		plan: tools.MetricsPlan{Metrics: []string{"average_amount"}, Grain: tools.GrainDay,
			Range: span("2026-11-01", "2026-11-08"), CompareTo: tools.ComparePreviousYear, Compare: span("2025-11-01", "2025-11-08")},
		sql:   `SELECT {day:occurred_at} AS p, AVG(amount) FROM transactions WHERE occurred_at >= '{from}' AND occurred_at < '{to}' GROUP BY p ORDER BY p`,
		kinds: []string{"date", "real2"},
		shift: yearBefore,
	},
	{
		name: "monthly new customers, third quarter against a year before", product: "customer-acquisition",
		plan: tools.MetricsPlan{Metrics: []string{"new_customers"}, Grain: tools.GrainMonth,
			Range: span("2026-07-01", "2026-10-01"), CompareTo: tools.ComparePreviousYear, Compare: span("2025-07-01", "2025-10-01")},
		sql:   `SELECT {month:acquired_at} AS p, COUNT(*) FROM acquisitions WHERE acquired_at >= '{from}' AND acquired_at < '{to}' GROUP BY p ORDER BY p`,
		kinds: []string{"date", "int"},
		shift: yearBefore,
	},
	{
		name: "approval rate by loan type, quarter against quarter", product: "loan-applications",
		plan: tools.MetricsPlan{Metrics: []string{"approval_rate", "average_credit_score"}, GroupBy: []string{"loan_type"},
			Range: span("2026-07-01", "2026-10-01"), CompareTo: tools.ComparePreviousPeriod, Compare: span("2026-04-01", "2026-07-01")},
		sql: `SELECT loan_type, ` + approvalRate + `, AVG(credit_score) FROM loan_applications
			WHERE applied_at >= '{from}' AND applied_at < '{to}' GROUP BY loan_type ORDER BY loan_type`,
		kinds: []string{"text", "real4", "real1"},
	},
	{
		// October's weeks start 2026-09-28; September's 2026-08-31: four
		// weeks earlier, bucket for bucket.
		name: "weekly interactions, October against September", product: "customer-interactions",
		plan: tools.MetricsPlan{Metrics: []string{"interaction_count", "resolution_rate"}, Grain: tools.GrainWeek,
			Range: october, CompareTo: tools.ComparePreviousPeriod, Compare: span("2026-09-01", "2026-10-01")},
		sql: `SELECT {week:occurred_at} AS p, COUNT(*), ` + resolutionRate + ` FROM interactions
			WHERE occurred_at >= '{from}' AND occurred_at < '{to}' GROUP BY p ORDER BY p`,
		kinds: []string{"date", "int", "real4"},
		shift: daysBefore(28),
	},
	{
		name: "customers by segment, year to date against last year", product: "customers",
		plan: tools.MetricsPlan{Metrics: []string{"customer_count"}, GroupBy: []string{"segment"},
			Range: span("2026-01-01", "2026-11-15"), CompareTo: tools.ComparePreviousYear, Compare: span("2025-01-01", "2025-11-15")},
		sql:   `SELECT segment, COUNT(*) FROM customers WHERE joined_at >= '{from}' AND joined_at < '{to}' GROUP BY segment ORDER BY segment`,
		kinds: []string{"text", "int"},
	},
	{
		name: "campaigns by channel, this year against last", product: "marketing-campaigns",
		plan: tools.MetricsPlan{Metrics: []string{"total_conversions", "cost_per_conversion"}, GroupBy: []string{"channel"},
			Range: span("2026-01-01", "2027-01-01"), CompareTo: tools.ComparePreviousYear, Compare: span("2025-01-01", "2026-01-01")},
		sql: `SELECT channel, SUM(conversions), 1.0 * SUM(budget) / NULLIF(SUM(conversions), 0) FROM campaigns
			WHERE start_date >= '{from}' AND start_date < '{to}' GROUP BY channel ORDER BY channel`,
		kinds: []string{"text", "int", "real2"},
	},
}

// bound is a range bound as a literal of the product's time column type.
func bound(p string, timeType string) string {
	if timeType == "date" {
		return p
	}
	return ts(p)
}

func TestDemoCompare(t *testing.T) {
	t.Parallel()
	backends := demoBackends(t)
	for _, c := range compareCases {
		for _, b := range backends {
			t.Run(c.name+"/"+b.name, func(t *testing.T) {
				p := demoProduct(t, c.product)
				tc, _ := p.Column(p.TimeColumn)
				run := func(r tools.Range) [][]any {
					q := strings.NewReplacer("{from}", bound(r.From.Format("2006-01-02"), tc.Type),
						"{to}", bound(r.To.Format("2006-01-02"), tc.Type)).Replace(c.sql)
					return want(t, b.raw(t, p, expand(b, q)), c.kinds...)
				}
				cur, prev := run(c.plan.Range), run(c.plan.Compare)
				if len(cur) == 0 || len(prev) == 0 {
					t.Fatalf("the hand-written SQL returns %d current and %d previous rows: the case tests nothing", len(cur), len(prev))
				}
				nGroup := len(c.kinds) - len(c.plan.Metrics)
				// Index the previous rows by their group values.
				prevBy := map[string][]any{}
				for _, r := range prev {
					prevBy[fmt.Sprint(r[:nGroup]...)] = r[nGroup:]
				}
				var wantRows [][]any
				paired := 0
				for _, r := range cur {
					key := append([]any{}, r[:nGroup]...)
					if c.shift != nil {
						key[0] = c.shift(key[0].(string))
					}
					pr := prevBy[fmt.Sprint(key...)]
					if pr != nil {
						paired++
					}
					row := append([]any{}, r[:nGroup]...)
					for j := range c.plan.Metrics {
						kind := c.kinds[nGroup+j]
						var pv any
						if pr != nil {
							pv = pr[j]
						}
						row = append(row, r[nGroup+j], pv)
						row = append(row, changes(r[nGroup+j], pv, kind)...)
					}
					wantRows = append(wantRows, row)
				}
				if paired == 0 {
					t.Fatal("no current row has a comparison row: the case tests nothing")
				}
				res := b.metrics(t, p, c.plan)
				assertRows(t, res, wantRows)
			})
		}
	}
}

// changes is the absolute and percent change of shown (rounded) values.
func changes(cur, prev any, kind string) []any {
	if cur == nil || prev == nil {
		return []any{nil, nil}
	}
	if kind == "int" {
		a, b := cur.(int64), prev.(int64)
		if b == 0 {
			return []any{a - b, nil}
		}
		return []any{a - b, roundHalfAway(float64(a-b)*100/float64(b), 2)}
	}
	var places int
	fmt.Sscanf(kind, "real%d", &places)
	a, b := cur.(float64), prev.(float64)
	if b == 0 {
		return []any{roundHalfAway(a-b, places), nil}
	}
	return []any{roundHalfAway(a-b, places), roundHalfAway((a-b)/b*100, 2)}
}

type recordsCase struct {
	name, product string
	plan          tools.RecordsPlan
	sql           string // the page, ordered and limited
	count         string // the number of matching rows
	kinds         []string
}

var recordsCases = []recordsCase{
	{
		name: "large European withdrawals and transfers", product: "customer-transactions",
		plan: tools.RecordsPlan{Columns: []string{"transaction_id", "occurred_at", "type", "amount", "region"}, Range: october, Limit: 50,
			Filters: []tools.Condition{{Column: "region", Op: "=", Value: "europe"}, {Column: "type", Op: "in", Value: []any{"withdrawal", "international_transfer"}}},
			Order:   []tools.Sort{{Field: "amount", Desc: true}}},
		sql: `SELECT transaction_id, occurred_at, type, amount, region FROM transactions
			WHERE region = 'europe' AND type IN ('withdrawal', 'international_transfer') AND occurred_at >= '` + ts("2026-10-01") + `' AND occurred_at < '` + ts("2026-11-01") + `'
			ORDER BY amount DESC, transaction_id LIMIT 50`,
		count: `SELECT COUNT(*) FROM transactions
			WHERE region = 'europe' AND type IN ('withdrawal', 'international_transfer') AND occurred_at >= '` + ts("2026-10-01") + `' AND occurred_at < '` + ts("2026-11-01") + `'`,
		kinds: []string{"text", "ts", "text", "real2", "text"},
	},
	{
		name: "account 123456, newest first", product: "customer-transactions",
		plan: tools.RecordsPlan{Columns: []string{"transaction_id", "occurred_at", "amount", "counterparty", "currency"},
			Filters: []tools.Condition{{Column: "account_id", Op: "=", Value: "123456"}}},
		sql: `SELECT transaction_id, occurred_at, amount, counterparty, currency FROM transactions WHERE account_id = '123456'
			ORDER BY occurred_at DESC, transaction_id LIMIT 100`,
		count: `SELECT COUNT(*) FROM transactions WHERE account_id = '123456'`,
		kinds: []string{"text", "ts", "real2", "text", "text"},
	},
	{
		name: "customers born in the eighties who joined this year", product: "customers",
		plan: tools.RecordsPlan{Columns: []string{"customer_id", "full_name", "date_of_birth", "joined_at", "segment"}, Range: span("2026-01-01", "2026-11-15"),
			Filters: []tools.Condition{{Column: "date_of_birth", Op: "between", Value: []any{day("1980-01-01"), day("1989-12-31")}}},
			Order:   []tools.Sort{{Field: "full_name"}}, Limit: 200},
		sql: `SELECT customer_id, full_name, date_of_birth, joined_at, segment FROM customers
			WHERE date_of_birth BETWEEN '1980-01-01' AND '1989-12-31' AND joined_at >= '2026-01-01' AND joined_at < '2026-11-15'
			ORDER BY full_name, customer_id LIMIT 200`,
		count: `SELECT COUNT(*) FROM customers WHERE date_of_birth BETWEEN '1980-01-01' AND '1989-12-31' AND joined_at >= '2026-01-01' AND joined_at < '2026-11-15'`,
		kinds: []string{"text", "text", "date", "date", "text"},
	},
	{
		name: "undecided applications with low scores, oldest first", product: "loan-applications",
		plan: tools.RecordsPlan{Columns: []string{"application_id", "applied_at", "decided_at", "status", "credit_score"},
			Filters: []tools.Condition{{Column: "decided_at", Op: "is null"}, {Column: "credit_score", Op: "<", Value: int64(600)}},
			Order:   []tools.Sort{{Field: "applied_at"}}},
		sql: `SELECT application_id, applied_at, decided_at, status, credit_score FROM loan_applications
			WHERE decided_at IS NULL AND credit_score < 600 ORDER BY applied_at, application_id LIMIT 100`,
		count: `SELECT COUNT(*) FROM loan_applications WHERE decided_at IS NULL AND credit_score < 600`,
		kinds: []string{"text", "ts", "ts", "text", "int"},
	},
	{
		name: "small excellent-credit non-mortgage loans", product: "loan-applications",
		plan: tools.RecordsPlan{Columns: []string{"application_id", "amount", "credit_score", "loan_type", "decided_at"},
			Filters: []tools.Condition{{Column: "amount", Op: "<=", Value: 10000.0}, {Column: "credit_score", Op: ">", Value: int64(800)},
				{Column: "loan_type", Op: "not in", Value: []any{"mortgage"}}},
			Order: []tools.Sort{{Field: "amount"}}, Limit: 1000},
		sql: `SELECT application_id, amount, credit_score, loan_type, decided_at FROM loan_applications
			WHERE amount <= 10000 AND credit_score > 800 AND loan_type NOT IN ('mortgage') ORDER BY amount, application_id LIMIT 1000`,
		count: `SELECT COUNT(*) FROM loan_applications WHERE amount <= 10000 AND credit_score > 800 AND loan_type NOT IN ('mortgage')`,
		kinds: []string{"text", "real2", "int", "text", "ts"},
	},
	{
		name: "the Summer Special Offer, every column", product: "marketing-campaigns",
		plan: tools.RecordsPlan{Columns: []string{"campaign_id", "name", "channel", "start_date", "end_date", "budget", "impressions", "clicks", "conversions"},
			Filters: []tools.Condition{{Column: "name", Op: "contains", Value: "summer special OFFER"}}},
		sql: `SELECT campaign_id, name, channel, start_date, end_date, budget, impressions, clicks, conversions FROM campaigns
			WHERE lower(name) LIKE '%summer special offer%' ORDER BY start_date DESC, campaign_id LIMIT 100`,
		count: `SELECT COUNT(*) FROM campaigns WHERE lower(name) LIKE '%summer special offer%'`,
		kinds: []string{"text", "text", "text", "date", "date", "real2", "int", "int", "int"},
	},
	{
		name: "long unresolved interactions, longest first", product: "customer-interactions",
		plan: tools.RecordsPlan{Columns: []string{"interaction_id", "occurred_at", "channel", "resolved", "handle_minutes"},
			Filters: []tools.Condition{{Column: "resolved", Op: "=", Value: false}, {Column: "handle_minutes", Op: ">=", Value: 45.5}},
			Order:   []tools.Sort{{Field: "handle_minutes", Desc: true}}},
		sql: `SELECT interaction_id, occurred_at, channel, resolved, handle_minutes FROM interactions
			WHERE resolved = FALSE AND handle_minutes >= 45.5 ORDER BY handle_minutes DESC, interaction_id LIMIT 100`,
		count: `SELECT COUNT(*) FROM interactions WHERE resolved = FALSE AND handle_minutes >= 45.5`,
		kinds: []string{"text", "ts", "text", "bool", "real2"},
	},
	{
		name: "campaign acquisitions outside TV this month", product: "customer-acquisition",
		plan: tools.RecordsPlan{Columns: []string{"customer_id", "acquired_at", "campaign_name", "channel"}, Range: span("2026-11-01", "2026-11-15"),
			Filters: []tools.Condition{{Column: "campaign_name", Op: "is not null"}, {Column: "channel", Op: "!=", Value: "tv"}}},
		sql: `SELECT customer_id, acquired_at, campaign_name, channel FROM acquisitions
			WHERE campaign_name IS NOT NULL AND channel <> 'tv' AND acquired_at >= '` + ts("2026-11-01") + `' AND acquired_at < '` + ts("2026-11-15") + `'
			ORDER BY acquired_at DESC, customer_id LIMIT 100`,
		count: `SELECT COUNT(*) FROM acquisitions WHERE campaign_name IS NOT NULL AND channel <> 'tv'
			AND acquired_at >= '` + ts("2026-11-01") + `' AND acquired_at < '` + ts("2026-11-15") + `'`,
		kinds: []string{"text", "ts", "text", "text"},
	},
}

func TestDemoRecords(t *testing.T) {
	t.Parallel()
	backends := demoBackends(t)
	for _, c := range recordsCases {
		for _, b := range backends {
			t.Run(c.name+"/"+b.name, func(t *testing.T) {
				p := demoProduct(t, c.product)
				rows := want(t, b.raw(t, p, c.sql), c.kinds...)
				if len(rows) == 0 {
					t.Fatal("the hand-written SQL returns no rows: the case tests nothing")
				}
				count := want(t, b.raw(t, p, c.count), "int")[0][0].(int64)
				res := b.records(t, p, c.plan)
				assertRows(t, res, rows)
				if res.TotalCount == nil || *res.TotalCount != count {
					t.Errorf("TotalCount = %v, want %d", res.TotalCount, count)
				}
			})
		}
	}
}

// TestDemoPagination: offset pages concatenate to the whole ordered set,
// with no row twice, even when the sort key has many ties.
func TestDemoPagination(t *testing.T) {
	t.Parallel()
	backends := demoBackends(t)
	p := demoProduct(t, "customer-transactions")
	cases := []struct {
		name  string
		order []tools.Sort
		sql   string
	}{
		{"newest first", nil, `SELECT transaction_id FROM transactions WHERE region = 'europe' AND occurred_at >= '` + ts("2026-10-01") +
			`' AND occurred_at < '` + ts("2026-11-01") + `' ORDER BY occurred_at DESC, transaction_id`},
		{"by type, many ties", []tools.Sort{{Field: "type", Desc: true}}, `SELECT transaction_id FROM transactions WHERE region = 'europe' AND occurred_at >= '` +
			ts("2026-10-01") + `' AND occurred_at < '` + ts("2026-11-01") + `' ORDER BY type DESC, transaction_id`},
	}
	for _, c := range cases {
		for _, b := range backends {
			t.Run(c.name+"/"+b.name, func(t *testing.T) {
				all := want(t, b.raw(t, p, c.sql), "text")
				if len(all) < 500 {
					t.Fatalf("only %d rows: pagination needs several pages", len(all))
				}
				var got [][]any
				seen := map[string]bool{}
				const size = 137
				for offset := 0; ; offset += size {
					res := b.records(t, p, tools.RecordsPlan{Columns: []string{"transaction_id"},
						Filters: []tools.Condition{{Column: "region", Op: "=", Value: "europe"}}, Range: october, Order: c.order, Limit: size, Offset: offset})
					if *res.TotalCount != int64(len(all)) {
						t.Fatalf("TotalCount = %d, want %d", *res.TotalCount, len(all))
					}
					for _, r := range res.Rows {
						id := r[0].(string)
						if seen[id] {
							t.Fatalf("%s appears on two pages", id)
						}
						seen[id] = true
					}
					got = append(got, res.Rows...)
					if len(res.Rows) < size {
						break
					}
				}
				if !reflect.DeepEqual(got, all) {
					t.Fatalf("pages concatenate to %d rows that differ from the %d ordered rows", len(got), len(all))
				}
			})
		}
	}
}

func TestDemoMaxLimit(t *testing.T) {
	t.Parallel()
	backends := demoBackends(t)
	p := demoProduct(t, "customer-transactions")
	for _, b := range backends {
		res := b.records(t, p, tools.RecordsPlan{Columns: []string{"transaction_id"}, Limit: 1_000_000})
		if len(res.Rows) != tools.MaxLimit || *res.TotalCount <= int64(tools.MaxLimit) {
			t.Errorf("%s: %d rows of %d, want exactly %d", b.name, len(res.Rows), *res.TotalCount, tools.MaxLimit)
		}
		m := b.metrics(t, p, tools.MetricsPlan{Metrics: []string{"transaction_count"}, GroupBy: []string{"customer_id"}, Limit: 1_000_000})
		if len(m.Rows) != tools.MaxLimit || len(m.Notes) != 1 {
			t.Errorf("%s: %d metric rows with notes %q, want %d and a note", b.name, len(m.Rows), m.Notes, tools.MaxLimit)
		}
	}
}

func TestDemoGetRecord(t *testing.T) {
	t.Parallel()
	backends := demoBackends(t)
	p := demoProduct(t, "customer-transactions")
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			row := want(t, b.raw(t, p, `SELECT transaction_id, account_id, customer_id, occurred_at, type, amount, currency, channel, region, counterparty
				FROM transactions WHERE transaction_id = 'txn-0000001'`), "text", "text", "text", "ts", "text", "real2", "text", "text", "text", "text")
			if len(row) != 1 {
				t.Fatalf("txn-0000001: %d rows", len(row))
			}
			res := b.get(t, p, tools.GetPlan{ID: "txn-0000001", Columns: p.ColumnNames()})
			assertColumns(t, res, p.ColumnNames()...)
			assertRows(t, res, row)
			region := row[0][8].(string)
			res = b.get(t, p, tools.GetPlan{ID: "txn-0000001", Columns: []string{"transaction_id"},
				Filters: []tools.Condition{{Column: "region", Op: "=", Value: region}}})
			assertRows(t, res, [][]any{{"txn-0000001"}})
			res = b.get(t, p, tools.GetPlan{ID: "txn-0000001", Columns: []string{"transaction_id"},
				Filters: []tools.Condition{{Column: "region", Op: "!=", Value: region}}})
			assertRows(t, res, nil)
		})
	}
}

// TestDemoAnomalies compares find_anomalies with the same statistics
// computed in Go from every transaction's amount, and checks that the
// generator's injected anomalies are found.
func TestDemoAnomalies(t *testing.T) {
	t.Parallel()
	backends := demoBackends(t)
	p := demoProduct(t, "customer-transactions")
	cases := []struct {
		name    string
		rng     tools.Range
		filters []tools.Condition
		where   string
	}{
		{"all the data", span("2024-11-01", "2026-11-16"), nil, "1 = 1"},
		{"last six months", span("2026-05-15", "2026-11-15"), nil, "1 = 1"},
		{"october in europe", october, []tools.Condition{{Column: "region", Op: "=", Value: "europe"}}, "region = 'europe'"},
	}
	for _, c := range cases {
		for _, b := range backends {
			t.Run(c.name+"/"+b.name, func(t *testing.T) {
				raw := want(t, b.raw(t, p, `SELECT transaction_id, customer_id, occurred_at, amount FROM transactions WHERE `+c.where),
					"text", "text", "ts", "rawreal")
				type stat struct{ n, sum, sq float64 }
				stats := map[string]*stat{}
				for _, r := range raw {
					s := stats[r[1].(string)]
					if s == nil {
						s = &stat{}
						stats[r[1].(string)] = s
					}
					s.n++
					s.sum += r[3].(float64)
				}
				for _, r := range raw {
					s := stats[r[1].(string)]
					d := r[3].(float64) - s.sum/s.n
					s.sq += d * d
				}
				type hit struct {
					id         string
					mean, devs float64
				}
				var hits []hit
				from, to := c.rng.From.Format(time.RFC3339), c.rng.To.Format(time.RFC3339)
				for _, r := range raw {
					at := r[2].(string)
					if at < from || at >= to {
						continue
					}
					s := stats[r[1].(string)]
					mean, sd := s.sum/s.n, math.Sqrt(s.sq/s.n)
					if x := r[3].(float64); sd > 0 && x > mean+3*sd {
						hits = append(hits, hit{r[0].(string), mean, (x - mean) / sd})
					}
				}
				if len(hits) == 0 {
					t.Fatal("no anomalies in the case's data: it tests nothing")
				}
				res := b.anomalies(t, p, tools.AnomaliesPlan{Columns: []string{"transaction_id"},
					Filters: c.filters, Range: c.rng, Limit: tools.MaxLimit})
				if len(res.Rows) != len(hits) {
					t.Fatalf("found %d anomalies, the independent computation %d", len(res.Rows), len(hits))
				}
				byID := map[string]hit{}
				for _, h := range hits {
					byID[h.id] = h
				}
				prev := 1e308
				for _, r := range res.Rows {
					h, ok := byID[r[0].(string)]
					if !ok {
						t.Fatalf("%s is not an anomaly by the independent computation", r[0])
					}
					if r[1] != roundHalfAway(h.mean, 2) || r[2] != roundHalfAway(h.devs, 2) {
						t.Errorf("%s: mean %v devs %v, want %v %v", h.id, r[1], r[2], roundHalfAway(h.mean, 2), roundHalfAway(h.devs, 2))
					}
					if d := r[2].(float64); d > prev {
						t.Errorf("not ordered by std_devs_above: %v after %v", d, prev)
					} else {
						prev = d
					}
				}
				// Every anomaly the generator injected in the range is found
				// (with no filter narrowing the baseline).
				if c.filters != nil {
					return
				}
				when := map[string]string{}
				for _, r := range raw {
					when[r[0].(string)] = r[2].(string)
				}
				injected, inRange := banktest.InjectedAnomalies(t), 0
				if len(injected) == 0 {
					t.Fatal("the generator reports no injected anomalies")
				}
				for _, id := range injected {
					if at := when[id]; at < from || at >= to {
						continue
					}
					inRange++
					if _, ok := byID[id]; !ok {
						t.Errorf("injected anomaly %s (%s) is not found", id, when[id])
					}
				}
				if inRange == 0 {
					t.Errorf("none of the %d injected anomalies is in the range: the check tests nothing", len(injected))
				}
				t.Logf("%d anomalies, %d of %d injected ones in the range, all found", len(hits), inRange, len(injected))
			})
		}
	}
}

// TestDemoSameOnBothDialects: a table of requests gives identical Results
// on SQLite, PostgreSQL and MySQL, columns, values, counts and notes alike.
func TestDemoSameOnBothDialects(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("compares SQLite with PostgreSQL and MariaDB, which the short tier does not run")
	}
	backends := demoBackends(t)
	sq, others := backends[0], backends[1:]
	type request struct {
		name string
		run  func(b *backend) (*tools.Result, error)
	}
	var reqs []request
	for _, c := range metricCases {
		reqs = append(reqs, request{"metrics: " + c.name, func(b *backend) (*tools.Result, error) {
			plan := c.plan
			plan.Product = b.bind(demoProduct(t, c.product))
			return b.store.QueryMetrics(ctx(t), plan)
		}})
	}
	for _, c := range compareCases {
		reqs = append(reqs, request{"compare: " + c.name, func(b *backend) (*tools.Result, error) {
			plan := c.plan
			plan.Product = b.bind(demoProduct(t, c.product))
			return b.store.QueryMetrics(ctx(t), plan)
		}})
	}
	for _, c := range recordsCases {
		reqs = append(reqs, request{"records: " + c.name, func(b *backend) (*tools.Result, error) {
			plan := c.plan
			plan.Product = b.bind(demoProduct(t, c.product))
			return b.store.QueryRecords(ctx(t), plan)
		}})
	}
	for _, name := range []string{"customer-transactions", "customers", "loan-applications", "marketing-campaigns", "customer-acquisition", "customer-interactions"} {
		reqs = append(reqs,
			request{"every column: " + name, func(b *backend) (*tools.Result, error) {
				p := demoProduct(t, name)
				return b.store.QueryRecords(ctx(t), tools.RecordsPlan{Product: b.bind(p), Columns: readable(p), Limit: 300, Offset: 17})
			}},
			request{"every metric monthly: " + name, func(b *backend) (*tools.Result, error) {
				p := demoProduct(t, name)
				return b.store.QueryMetrics(ctx(t), tools.MetricsPlan{Product: b.bind(p), Metrics: p.MetricNames(), GroupBy: p.Dimensions[:1],
					Grain: tools.GrainMonth, Range: span("2025-11-01", "2026-11-15"), CompareTo: tools.ComparePreviousYear, Compare: span("2024-11-01", "2025-11-15"),
					Limit: tools.MaxLimit})
			}})
	}
	reqs = append(reqs, request{"anomalies", func(b *backend) (*tools.Result, error) {
		return b.store.FindAnomalies(ctx(t), tools.AnomaliesPlan{Product: b.bind(demoProduct(t, "customer-transactions")), Columns: readable(demoProduct(t, "customer-transactions")),
			Range: span("2024-11-15", "2026-11-15"), Limit: tools.MaxLimit})
	}})
	for _, r := range reqs {
		t.Run(r.name, func(t *testing.T) {
			a, err := r.run(sq)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Rows) == 0 {
				t.Fatal("no rows: the request compares nothing")
			}
			for _, other := range others {
				b, err := r.run(other)
				if err != nil {
					t.Fatalf("%s: %v", other.name, err)
				}
				if !reflect.DeepEqual(a, b) {
					for i := range min(len(a.Rows), len(b.Rows)) {
						if !reflect.DeepEqual(a.Rows[i], b.Rows[i]) {
							t.Fatalf("row %d differs:\nsqlite: %#v\n%s: %#v", i, a.Rows[i], other.name, b.Rows[i])
						}
					}
					t.Fatalf("results differ:\nsqlite: %+v\n%s: %+v", a, other.name, b)
				}
			}
		})
	}
}

// readable lists a product's columns but the restricted ones.
func readable(p *catalog.Product) []string {
	var out []string
	for _, c := range p.Columns {
		if c.Classification != catalog.ClassRestricted {
			out = append(out, c.Name)
		}
	}
	return out
}
