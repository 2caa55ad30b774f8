package brief_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/internal/textfmt"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/brief"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

func build(t *testing.T) (*app.App, string) {
	t.Helper()
	dir := banktest.PrivateDir(t)
	a, err := app.Build(context.Background(), app.Config{DataDir: dir, Now: banktest.Now.Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, dir
}

func briefFor(t *testing.T, a *app.App, user string, o brief.Options) *assistant.Answer {
	t.Helper()
	ans, err := brief.Build(context.Background(), a.Executor, nil, tools.Caller{Subject: a.Directory.Lookup(user), Channel: "cli"}, o)
	if err != nil {
		t.Fatal(err)
	}
	return ans
}

// oracle answers SQL over the demo's SQLite files, independently of askmesh.
type oracle struct {
	t     *testing.T
	files *banktest.Files
}

func newOracle(t *testing.T, dir string) *oracle {
	return &oracle{t: t, files: banktest.OpenFiles(t, dir)}
}

func (o *oracle) db(name string) *sql.DB { return o.files.DB(o.t, name) }

func (o *oracle) float(db, q string, args ...any) float64 {
	o.t.Helper()
	var f sql.NullFloat64
	if err := o.db(db).QueryRow(q, args...).Scan(&f); err != nil {
		o.t.Fatalf("%s: %v", q, err)
	}
	return f.Float64
}

func (o *oracle) top(db, q string) (string, float64) {
	o.t.Helper()
	var name string
	var n float64
	if err := o.db(db).QueryRow(q).Scan(&name, &n); err != nil {
		o.t.Fatalf("%s: %v", q, err)
	}
	return name, n
}

// Independent formatting: the way the brief promises to write numbers.
func commas(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	ip, fp, frac := strings.Cut(s, ".")
	var b strings.Builder
	for i := range ip {
		if i > 0 && (len(ip)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(ip[i])
	}
	out := b.String()
	if frac {
		out += "." + fp
	}
	if neg {
		out = "-" + out
	}
	return out
}

func round(f float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(f*p) / p
}

func fixed(f float64, places int) string { return commas(strconv.FormatFloat(f, 'f', places, 64)) }

// expect collects, per product line, the fragments the brief must state
// and every number it may state.
type expect struct {
	lines   map[string][]string
	numbers map[string]bool
}

func (e *expect) add(product string, fragment string, numbers ...string) {
	e.lines[product] = append(e.lines[product], fragment)
	for _, n := range numbers {
		e.numbers[n] = true
	}
}

// metric adds a headline metric: the value, previous value and change, from
// values computed in SQL. A rate's values are compared as shown (four
// decimals, as the descriptor's precision says), its change said in points
// and in percent.
func (e *expect) metric(product, label, unit string, v [2]float64) {
	cur, prev := v[0], v[1]
	switch unit {
	case "ratio":
		cur, prev = round(cur, 4), round(prev, 4)
		pts := fixed(math.Abs(round((cur-prev)*100, 2)), 2)
		pct := (cur - prev) / prev * 100
		dir := "up"
		if cur < prev {
			dir = "down"
		}
		sign := "+"
		if pct < 0 {
			sign = "-"
		}
		pctText := fixed(math.Abs(round(pct, 1)), 1)
		e.add(product, fmt.Sprintf("%s %s%%, %s %s points (%s%s%%) from %s%%", label, fixed(cur*100, 2), dir, pts, sign, pctText, fixed(prev*100, 2)),
			fixed(cur*100, 2), fixed(prev*100, 2), pts, pctText)
	default:
		places := 0
		if unit == "amount" {
			places = 2
			cur, prev = round(cur, 2), round(prev, 2)
		}
		pct := (cur - prev) / prev * 100
		dir := "up"
		if cur < prev {
			dir = "down"
		}
		pctText := fixed(math.Abs(round(pct, 1)), 1)
		e.add(product, fmt.Sprintf("%s %s, %s %s%% from %s", label, fixed(cur, places), dir, pctText, fixed(prev, places)),
			fixed(cur, places), fixed(prev, places), pctText)
	}
}

const (
	oct = "'2026-10-01T00:00:00.000000Z' <= %[1]s AND %[1]s < '2026-11-01T00:00:00.000000Z'"
	sep = "'2026-09-01T00:00:00.000000Z' <= %[1]s AND %[1]s < '2026-10-01T00:00:00.000000Z'"
	// Date columns are stored as YYYY-MM-DD.
	octDate = "'2026-10-01' <= %[1]s AND %[1]s < '2026-11-01'"
	sepDate = "'2026-09-01' <= %[1]s AND %[1]s < '2026-10-01'"
)

func in(period, col string) string { return fmt.Sprintf(period, col) }

// Last month and the month before, on a timestamp column and on a date column.
var (
	stamps = [2]string{oct, sep}
	dates  = [2]string{octDate, sepDate}
)

// months is a query's value for each of the periods: where ends where the
// period's condition on col goes ("... WHERE ", "... AND ").
func (o *oracle) months(db, where, col string, periods [2]string) [2]float64 {
	o.t.Helper()
	return [2]float64{o.float(db, where+in(periods[0], col)), o.float(db, where+in(periods[1], col))}
}

// top adds the line "Top <label>: <group> (<metric> <n>)" for the group q
// (selecting a group and its n) ranks first.
func (e *expect) top(o *oracle, product, label, metric, db, q string) {
	o.t.Helper()
	g, n := o.top(db, q)
	e.add(product, fmt.Sprintf("Top %s: %s (%s %s)", label, g, metric, fixed(n, 0)), fixed(n, 0))
}

// TestCarolsMonthlyBriefEqualsSQL: every number of carol's brief for last
// month (October 2026 against September 2026) is the number independent SQL
// over the demo's SQLite files gives: values, comparison values, changes,
// top contributors and the top campaign's conversion rate. And no number
// in the text goes unchecked.
func TestCarolsMonthlyBriefEqualsSQL(t *testing.T) {
	t.Parallel()
	a, dir := build(t)
	ans := briefFor(t, a, "carol@bank.example", brief.Options{})
	t.Logf("brief:\n%s", ans.Text)
	o := newOracle(t, dir)
	e := &expect{lines: map[string][]string{}, numbers: map[string]bool{}}

	// customer-acquisition
	acq := o.months("growth", "SELECT count(*) FROM acquisitions WHERE ", "acquired_at", stamps)
	if acq != [2]float64{398, 297} {
		t.Fatalf("test data moved: new customers %v / %v, want 398 / 297", acq[0], acq[1])
	}
	e.metric("Customer acquisition", "new customers", "count", acq)
	camp, n := o.top("growth", "SELECT campaign_name, count(*) AS n FROM acquisitions WHERE campaign_name IS NOT NULL AND "+
		in(oct, "acquired_at")+" GROUP BY campaign_name ORDER BY n DESC, campaign_name LIMIT 1")
	rate := o.float("marketing", "SELECT CAST(sum(conversions) AS REAL) / sum(clicks) FROM campaigns WHERE name = ?", camp)
	e.add("Customer acquisition", fmt.Sprintf("Top campaign: %s (new customers %s; its conversion rate is %s%%", camp, fixed(n, 0), fixed(round(rate, 4)*100, 2)),
		fixed(n, 0), fixed(round(rate, 4)*100, 2))

	// customer-interactions
	e.metric("Customer interactions", "interaction count", "count",
		o.months("customer-service", "SELECT count(*) FROM interactions WHERE ", "occurred_at", stamps))
	e.metric("Customer interactions", "resolution rate", "ratio",
		o.months("customer-service", "SELECT CAST(sum(resolved) AS REAL) / count(*) FROM interactions WHERE ", "occurred_at", stamps))
	e.top(o, "Customer interactions", "channel", "interaction count", "customer-service",
		"SELECT channel, count(*) AS n FROM interactions WHERE "+in(oct, "occurred_at")+" GROUP BY channel ORDER BY n DESC, channel LIMIT 1")

	// customer-transactions
	e.metric("Customer transactions", "transaction count", "count",
		o.months("retail-banking", "SELECT count(*) FROM transactions WHERE ", "occurred_at", stamps))
	// Amounts are per currency (the descriptor declares the currency column):
	// never one sum of EUR, GBP and USD.
	e.add("Customer transactions", "total amount by currency: EUR ")
	for _, cur := range []string{"EUR", "GBP", "USD"} {
		e.metric("Customer transactions", cur, "amount",
			o.months("retail-banking", "SELECT sum(amount) FROM transactions WHERE currency = '"+cur+"' AND ", "occurred_at", stamps))
	}
	e.top(o, "Customer transactions", "type", "transaction count", "retail-banking",
		"SELECT type, count(*) AS n FROM transactions WHERE "+in(oct, "occurred_at")+" GROUP BY type ORDER BY n DESC, type LIMIT 1")

	// customers (joined_at is a date)
	e.metric("Customers", "customer count", "count",
		o.months("retail-banking", "SELECT count(*) FROM customers WHERE ", "joined_at", dates))
	e.top(o, "Customers", "region", "customer count", "retail-banking",
		"SELECT region, count(*) AS n FROM customers WHERE "+in(octDate, "joined_at")+" GROUP BY region ORDER BY n DESC, region LIMIT 1")

	// loan-applications
	e.metric("Loan applications", "application count", "count",
		o.months("lending", "SELECT count(*) FROM loan_applications WHERE ", "applied_at", stamps))
	e.metric("Loan applications", "approval rate", "ratio",
		o.months("lending", "SELECT CAST(sum(status IN ('approved','funded')) AS REAL) / sum(status IN ('approved','funded','rejected')) FROM loan_applications WHERE ", "applied_at", stamps))
	e.top(o, "Loan applications", "loan type", "application count", "lending",
		"SELECT loan_type, count(*) AS n FROM loan_applications WHERE "+in(oct, "applied_at")+" GROUP BY loan_type ORDER BY n DESC, loan_type LIMIT 1")

	// marketing-campaigns (start_date is a date)
	e.metric("Marketing campaigns", "total conversions", "count",
		o.months("marketing", "SELECT sum(conversions) FROM campaigns WHERE ", "start_date", dates))
	e.metric("Marketing campaigns", "conversion rate", "ratio",
		o.months("marketing", "SELECT CAST(sum(conversions) AS REAL) / sum(clicks) FROM campaigns WHERE ", "start_date", dates))
	e.top(o, "Marketing campaigns", "campaign", "total conversions", "marketing",
		"SELECT name, sum(conversions) AS n FROM campaigns WHERE "+in(octDate, "start_date")+" GROUP BY name ORDER BY n DESC, name LIMIT 1")

	lines := strings.Split(ans.Text, "\n")
	if lines[0] != "Executive brief for October 2026, compared with September 2026." {
		t.Errorf("headline: %q", lines[0])
	}
	// The largest change leads: campaigns' conversions fell most.
	if !strings.HasPrefix(lines[1], "Biggest moves: total conversions (marketing-campaigns) -") {
		t.Errorf("biggest moves: %q", lines[1])
	}
	for product, frags := range e.lines {
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "- "+product+": ") })
		if i < 0 {
			t.Errorf("no line for %s", product)
			continue
		}
		for _, f := range frags {
			if !strings.Contains(lines[i], f) {
				t.Errorf("%s: want %q in\n%s", product, f, lines[i])
			}
		}
	}
	// Every number stated is one SQL gave (2026 is the period's year).
	for _, m := range regexp.MustCompile(`\d+(?:,\d{3})*(?:\.\d+)?`).FindAllString(ans.Text, -1) {
		if m != "2026" && !e.numbers[m] {
			t.Errorf("the brief states %s, which no SQL check covers", m)
		}
	}
	// carol may see metrics, not records: anomalies and the audit log are withheld, by name.
	if !strings.Contains(ans.Text, "Withheld from you: access-audit (") || !strings.Contains(ans.Text, "unusual records of customer-transactions (") {
		t.Errorf("withheld parts not named: %s", ans.Text)
	}
	if len(ans.Charts) != 1 || len(ans.Charts[0].Series) != 1 || len(ans.Charts[0].Series[0].Points) != 12 {
		t.Errorf("want one chart with the 12 headline changes (total amount per currency): %+v", ans.Charts)
	}
	if len(ans.Tables) < 2 || ans.Tables[0].Rows[0][0] != "customer-acquisition" || ans.Tables[0].Rows[0][2] != int64(398) {
		t.Errorf("headline table: %+v", ans.Tables)
	}
	// Sources name audit records that exist, written on carol's behalf.
	recs, err := a.Audit.Search(context.Background(), audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]audit.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	if len(ans.Sources) != 19 {
		t.Errorf("%d sources, want 19 (6 headline + 6 trend + 6 contributor calls + 1 conversion rate)", len(ans.Sources))
	}
	if b := ans.Brief; b == nil || b.Sources.Queries != 19 || b.Sources.Withheld != 2 {
		t.Errorf("brief sources: %+v", b)
	}
	for _, s := range ans.Sources {
		r, ok := byID[s.AuditID]
		if !ok || r.Subject != "carol@bank.example" || r.Decision != audit.DecisionAllow || r.Product != s.Product {
			t.Errorf("source %+v has no matching allow record: %+v", s, r)
		}
	}
}

// TestAlicesBriefNamesWithheldProducts: alice (marketing) sees acquisition,
// campaigns and customer metrics. Policy is asked once, before any call,
// what she may query: the other products are named as withheld with
// policy's reason, yet never called, so the audit log holds no refusal of
// a call she never asked for, and every record of her brief is an allow.
func TestAlicesBriefNamesWithheldProducts(t *testing.T) {
	t.Parallel()
	a, _ := build(t)
	ans := briefFor(t, a, "alice@bank.example", brief.Options{})
	t.Logf("brief:\n%s", ans.Text)
	var withheld string
	for _, l := range strings.Split(ans.Text, "\n") {
		if strings.HasPrefix(l, "Withheld from you: ") {
			withheld = l
		}
	}
	named := map[string]string{}
	for _, w := range ans.Brief.Withheld {
		named[w.Product] = w.Reason
	}
	for _, p := range []string{"access-audit", "customer-interactions", "customer-transactions", "loan-applications"} {
		reason := "you are not in a group that may query " + p
		if want := p + " (" + reason + ")"; !strings.Contains(withheld, want) {
			t.Errorf("withheld line lacks %q: %q", want, withheld)
		}
		if named[p] != reason {
			t.Errorf("the brief's withheld section says %q for %s, want %q", named[p], p, reason)
		}
		if strings.Contains(ans.Text, "- "+textfmt.Capitalize(strings.ReplaceAll(p, "-", " "))+":") {
			t.Errorf("%s has a line in alice's brief", p)
		}
	}
	for _, p := range []string{"Customer acquisition", "Customers", "Marketing campaigns"} {
		if !strings.Contains(ans.Text, "- "+p+": ") {
			t.Errorf("no line for %s", p)
		}
	}
	if len(ans.Denials) != 0 || ans.Brief.Sources.Withheld != 4 {
		t.Errorf("denials %+v, withheld %d: want no denied call and 4 parts withheld", ans.Denials, ans.Brief.Sources.Withheld)
	}
	recs, err := a.Audit.Search(context.Background(), audit.Query{Subject: "alice@bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(ans.ToolCalls) || len(recs) != ans.Brief.Sources.Queries {
		t.Errorf("%d audit records, %d calls, %d queries disclosed: want one record per call", len(recs), len(ans.ToolCalls), ans.Brief.Sources.Queries)
	}
	for _, r := range recs {
		if r.Decision != audit.DecisionAllow {
			t.Errorf("alice's brief left a %s record for %s: %s", r.Decision, r.Product, r.Reason)
		}
	}
}

// TestBriefCardsEqualSQL: carol's cards read as people read them (rates as
// percentages with their change in points, amounts with their currency,
// thousands grouped) and each sparkline is the metric month by month over
// the 12 months to October 2026, as SQL counts them.
func TestBriefCardsEqualSQL(t *testing.T) {
	a, dir := build(t)
	ans := briefFor(t, a, "carol@bank.example", brief.Options{})
	o := newOracle(t, dir)
	cards := map[string]assistant.BriefCard{}
	for _, c := range ans.Brief.Cards {
		cards[c.Product+"/"+c.Label] = c
		if c.Source.AuditID == "" || c.TrendSource == nil || c.TrendSource.AuditID == "" {
			t.Errorf("card %s/%s does not trace to its calls: %+v", c.Product, c.Label, c)
		}
	}
	rr := o.months("customer-service", "SELECT CAST(sum(resolved) AS REAL) / count(*) FROM interactions WHERE ", "occurred_at", stamps)
	c := cards["customer-interactions/Resolution rate"]
	if want := fixed(round(rr[0], 4)*100, 2) + "%"; c.Value != want || c.Direction != assistant.DirectionUp ||
		c.Change != "+"+fixed(round(round(rr[0], 4)*100-round(rr[1], 4)*100, 2), 2)+" pts" {
		t.Errorf("resolution rate card: %+v, want value %s, up, in points", c, want)
	}
	eur := o.months("retail-banking", "SELECT sum(amount) FROM transactions WHERE currency = 'EUR' AND ", "occurred_at", stamps)
	if c := cards["customer-transactions/Total amount (EUR)"]; c.Value != "EUR "+fixed(eur[0], 2) || c.Previous != "EUR "+fixed(eur[1], 2) || c.Currency != "EUR" {
		t.Errorf("EUR amount card: %+v, want EUR %s", c, fixed(eur[0], 2))
	}
	c = cards["marketing-campaigns/Total conversions"]
	if c.Direction != assistant.DirectionDown || !strings.HasPrefix(c.Change, "-") {
		t.Errorf("conversions card: %+v, want down", c)
	}
	c = cards["customer-acquisition/New customers"]
	if len(c.Trend) != 12 || c.Trend[0].Label != "Nov 2025" || c.Trend[11].Label != "Oct 2026" {
		t.Fatalf("new customers trend: %+v", c.Trend)
	}
	for _, p := range c.Trend {
		from, _ := time.Parse("2006-01-02", p.Period)
		to := from.AddDate(0, 1, 0)
		want := o.float("growth", "SELECT count(*) FROM acquisitions WHERE acquired_at >= ? AND acquired_at < ?",
			from.Format("2006-01-02T15:04:05.000000Z"), to.Format("2006-01-02T15:04:05.000000Z"))
		if p.Value != want || p.Partial {
			t.Errorf("new customers in %s: %v (partial %v), SQL %v", p.Label, p.Value, p.Partial, want)
		}
	}
	if !strings.HasPrefix(ans.Brief.Headline, "October 2026 against September 2026: total conversions (marketing-campaigns) fell 46.0%") {
		t.Errorf("headline: %q", ans.Brief.Headline)
	}
}

// TestPlannerBriefEqualsBuild: asked in chat, the offline planner writes the
// same brief `askmesh brief` builds, through the agent and the executor.
func TestPlannerBriefEqualsBuild(t *testing.T) {
	t.Parallel()
	a, _ := build(t)
	for _, user := range []string{"carol@bank.example", "alice@bank.example"} {
		built := briefFor(t, a, user, brief.Options{})
		want := built.Text
		for _, q := range []string{"Give me an executive summary of last month", "brief me on October"} {
			ans, err := a.Agent.Answer(context.Background(), assistant.Request{Question: q,
				Caller: tools.Caller{Subject: a.Directory.Lookup(user), Channel: "web"}})
			if err != nil {
				t.Fatal(err)
			}
			if ans.Text != want {
				t.Errorf("%s %q:\n%s\n--- want (brief.Build) ---\n%s", user, q, ans.Text, want)
			}
			if got, want := layout(ans), layout(built); got != want {
				t.Errorf("%s %q: tables and charts differ from brief.Build's:\n%s\n--- want ---\n%s", user, q, got, want)
			}
			if ans.Steps != 3 {
				t.Errorf("%s %q: %d model turns, want 3 (calls, the dependent call, the brief)", user, q, ans.Steps)
			}
		}
	}
}

// layout is what a channel renders of an answer besides its text: table
// titles and rows, chart titles and points (sources differ in audit ids).
func layout(ans *assistant.Answer) string {
	var b strings.Builder
	for _, t := range ans.Tables {
		rows, _ := json.Marshal(t.Rows)
		fmt.Fprintf(&b, "table %s %d %s\n", t.Title, t.TotalRows, rows)
	}
	for _, c := range ans.Charts {
		pts, _ := json.Marshal(c.Series)
		fmt.Fprintf(&b, "chart %s %s %s\n", c.Kind, c.Title, pts)
	}
	return b.String()
}

// TestErinsBriefSaysItIsEuropeOnly: policy limits erin to European rows; her
// brief's figures are Europe's (as SQL computes them) and it says so.
func TestErinsBriefSaysItIsEuropeOnly(t *testing.T) {
	t.Parallel()
	a, dir := build(t)
	ans := briefFor(t, a, "erin@bank.example", brief.Options{})
	o := newOracle(t, dir)
	v := o.months("retail-banking", "SELECT count(*) FROM transactions WHERE region = 'europe' AND ", "occurred_at", stamps)
	cur, prev := v[0], v[1]
	want := fmt.Sprintf("transaction count %s, up %s%% from %s", fixed(cur, 0), fixed(round((cur-prev)/prev*100, 1), 1), fixed(prev, 0))
	if !strings.Contains(ans.Text, want) || !strings.Contains(ans.Text, "Only rows where region = europe (policy).") {
		t.Errorf("want %q and the policy's row filter stated in:\n%s", want, ans.Text)
	}
	if !strings.Contains(ans.Text, "unusual record") || len(ans.Tables) != 3 {
		t.Errorf("erin may see records: her brief should list unusual transactions:\n%s", ans.Text)
	}
	if b := ans.Brief; b == nil || len(b.Anomalies) != 1 || b.Anomalies[0].Product != "customer-transactions" || b.Anomalies[0].Count == 0 {
		t.Errorf("erin's brief has no anomalies section for customer-transactions: %+v", ans.Brief)
	}
	// Most of her moves are under 20%, too small to lead the text; the
	// headline still names the biggest and counts every card that rose
	// (it counted 1 of 4 while the moves under 20% were dropped in place).
	rose, biggest, label := 0, 0.0, ""
	for _, c := range ans.Brief.Cards {
		if c.Direction == assistant.DirectionUp {
			rose++
		}
		if pct, err := strconv.ParseFloat(strings.Trim(c.Change, "+%"), 64); err == nil && math.Abs(pct) > biggest {
			biggest, label = math.Abs(pct), strings.ToLower(c.Label)
		}
	}
	want = fmt.Sprintf("%d of %d headline figures rose", rose, len(ans.Brief.Cards))
	if label == "" || !strings.Contains(ans.Brief.Headline, want) || !strings.Contains(strings.ToLower(ans.Brief.Headline), strings.Fields(label)[0]) {
		t.Errorf("headline %q: want the biggest move (%s, %.1f%%) and %q", ans.Brief.Headline, label, biggest, want)
	}
}

// TestBriefFollowUpInChat: in one conversation, "and for the month
// before?" after a brief is September's brief, as `askmesh brief --period
// 2026-09` builds it, with its one chart.
func TestBriefFollowUpInChat(t *testing.T) {
	t.Parallel()
	a, _ := build(t)
	caller := tools.Caller{Subject: a.Directory.Lookup("carol@bank.example"), Channel: "web", ConversationID: "brief-follow-up"}
	var last *assistant.Answer
	for _, q := range []string{"Give me an executive summary of last month", "and for the month before?"} {
		ans, err := a.Agent.Answer(context.Background(), assistant.Request{Question: q, Caller: caller})
		if err != nil {
			t.Fatal(err)
		}
		last = ans
	}
	want := briefFor(t, a, "carol@bank.example", brief.Options{Period: "2026-09"})
	if !strings.HasPrefix(last.Text, "Executive brief for September 2026, compared with August 2026.") || last.Text != want.Text {
		t.Errorf("follow-up brief:\n%s\n--- want ---\n%s", last.Text, want.Text)
	}
	if layout(last) != layout(want) || len(last.Charts) != 1 {
		t.Errorf("follow-up layout:\n%s\n--- want ---\n%s", layout(last), layout(want))
	}
}

// TestChatBriefAsksPolicyOnce: asked in chat, the offline planner's brief
// for alice also calls only what policy allows her (it asks policy once,
// through the executor, before planning): the audit log holds no refusal,
// and the brief still lists what is withheld, as brief.Build does.
func TestChatBriefAsksPolicyOnce(t *testing.T) {
	a, _ := build(t)
	ans, err := a.Agent.Answer(context.Background(), assistant.Request{Question: "Give me an executive summary of last month",
		Caller: tools.Caller{Subject: a.Directory.Lookup("alice@bank.example"), Channel: "web"}})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := a.Audit.Search(context.Background(), audit.Query{Subject: "alice@bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Decision != audit.DecisionAllow {
			t.Errorf("alice's chat brief left a %s record for %s: %s", r.Decision, r.Product, r.Reason)
		}
	}
	if ans.Brief == nil || len(ans.Denials) != 0 || len(recs) != len(ans.ToolCalls) || ans.Brief.Sources.Queries != len(recs) {
		t.Fatalf("brief %v, %d denials, %d records, %d calls", ans.Brief != nil, len(ans.Denials), len(recs), len(ans.ToolCalls))
	}
	built := briefFor(t, a, "alice@bank.example", brief.Options{})
	if fmt.Sprint(ans.Brief.Withheld) != fmt.Sprint(built.Brief.Withheld) || len(ans.Brief.Withheld) != 4 {
		t.Errorf("withheld in chat %+v, from brief.Build %+v", ans.Brief.Withheld, built.Brief.Withheld)
	}
}
