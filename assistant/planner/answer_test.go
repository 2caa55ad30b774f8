package planner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/tools"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// answer runs one question through two planner turns: the calls, then the
// text from the given results (a *tools.Result, or a "denied: ..." or
// "error: ..." string per call, as the agent writes them).
func answer(t *testing.T, p *Planner, q string, results ...any) (string, []string) {
	t.Helper()
	msgs := []assistant.Message{{Role: assistant.RoleSystem, Content: "system"}, {Role: assistant.RoleUser, Content: q}}
	r, err := p.Generate(context.Background(), assistant.ModelRequest{Messages: msgs, Tools: tools.Specs()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Message.ToolCalls) != len(results) {
		t.Fatalf("%d calls, %d results given: %s", len(r.Message.ToolCalls), len(results), r.Message.Content)
	}
	msgs = append(msgs, r.Message)
	for i, c := range r.Message.ToolCalls {
		content := ""
		switch x := results[i].(type) {
		case string:
			content = x
		case *tools.Result:
			content = assistant.ForModel(x, 50, 16<<10)
		}
		msgs = append(msgs, assistant.Message{Role: assistant.RoleTool, ToolCallID: c.ID, Name: c.Name, Content: content})
	}
	var streamed []string
	r, err = p.Generate(context.Background(), assistant.ModelRequest{Messages: msgs, Tools: tools.Specs()}, func(s string) { streamed = append(streamed, s) })
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Message.ToolCalls) > 0 {
		t.Fatalf("second turn made calls: %v", r.Message.ToolCalls)
	}
	if strings.Join(streamed, "") != r.Message.Content {
		t.Errorf("streamed text %q does not add up to the answer %q", strings.Join(streamed, ""), r.Message.Content)
	}
	return r.Message.Content, streamed
}

func cols(names ...string) []tools.ResultColumn {
	out := make([]tools.ResultColumn, len(names))
	for i, n := range names {
		out[i] = tools.ResultColumn{Name: n}
	}
	return out
}

func TestAnswerTemplates(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	oct := &tools.Range{From: day(2026, 10, 1), To: day(2026, 11, 1)}
	sep := &tools.Range{From: day(2026, 9, 1), To: day(2026, 10, 1)}
	lastWeek := &tools.Range{From: day(2026, 11, 2), To: day(2026, 11, 9)}
	q3 := &tools.Range{From: day(2026, 7, 1), To: day(2026, 10, 1)}
	thisYear := &tools.Range{From: day(2026, 1, 1), To: day(2026, 11, 16)}
	cases := []struct {
		q       string
		results []any
		want    string
	}{
		{"How many new customers did we acquire last month, compared with the month before?", []any{&tools.Result{
			Columns: cols("new_customers", "new_customers_previous", "new_customers_change", "new_customers_change_pct"),
			Rows:    [][]any{{int64(231), int64(198), int64(33), 16.67}}, RowCount: 1, Product: "customer-acquisition", TimeRange: oct, CompareRange: sep}},
			"New customers in October 2026: 231, up 16.7% from 198 in September 2026 (source: customer-acquisition)."},
		{"new customers this month vs last month", []any{&tools.Result{
			Columns: cols("new_customers", "new_customers_previous", "new_customers_change", "new_customers_change_pct"),
			Rows:    [][]any{{int64(90), int64(120), int64(-30), -25.0}}, RowCount: 1, Product: "customer-acquisition",
			TimeRange: &tools.Range{From: day(2026, 11, 1), To: day(2026, 11, 16)}, CompareRange: &tools.Range{From: day(2026, 10, 1), To: day(2026, 10, 16)}}},
			"New customers in 1-15 November 2026: 90, down 25.0% from 120 in 1-15 October 2026 (source: customer-acquisition)."},
		{"What was the mortgage approval rate last quarter?", []any{&tools.Result{
			Columns: cols("approval_rate"), Rows: [][]any{{0.6234}}, RowCount: 1, Product: "loan-applications", TimeRange: q3}},
			"Approval rate (loan type mortgage) in Q3 2026: 62.34% (source: loan-applications)."},
		{"Total deposits in Europe last week, by channel", []any{&tools.Result{
			Columns: cols("channel", "total_amount"), RowCount: 6, Product: "customer-transactions", TimeRange: lastWeek,
			Rows:  [][]any{{"online", 1234567.5}, {"branch", 98765.43}, {"mobile", 5000.0}, {"atm", 12.1}, {"x", 1.0}, {"y", 0.5}},
			Notes: []string{"only rows where region = europe (policy)"}}},
			"Total amount by channel (type deposit, region europe) in 2-8 November 2026: online 1,234,567.50, branch 98,765.43, mobile 5,000.00, atm 12.10, x 1.00; 1 more in the table (source: customer-transactions).\n" +
				"Only rows where region = europe (policy)."},
		{"Which campaign had the best conversion rate this year?", []any{&tools.Result{
			Columns: cols("name", "conversion_rate"), Rows: [][]any{{"Summer Special Offer", 0.1234}}, RowCount: 1, Product: "marketing-campaigns", TimeRange: thisYear}},
			"Summer Special Offer had the highest conversion rate in 1 January-15 November 2026: 12.34% (source: marketing-campaigns)."},
		{"new customers per month this year", []any{&tools.Result{
			Columns: cols("period", "new_customers"), Rows: [][]any{{"2026-01-01", int64(180)}, {"2026-02-01", int64(240)}, {"2026-03-01", int64(199)}},
			RowCount: 3, Product: "customer-acquisition", TimeRange: thisYear}},
			"New customers per month in 1 January-15 November 2026: 3 months, from 180 in January 2026 to 199 in March 2026; highest 240 in February 2026 (source: customer-acquisition)."},
		{"show me the 5 largest withdrawals last month", []any{&tools.Result{
			Columns: cols("transaction_id", "account_id", "occurred_at", "type", "amount"), RowCount: 2, Product: "customer-transactions", TimeRange: oct,
			Rows: [][]any{{"txn-0000042", "123456", "2026-10-05T14:03:00Z", "withdrawal", 98765.4}, {"txn-0000043", "123457", "2026-10-06T10:00:00Z", "withdrawal", 5000.0}}}},
			"2 customer-transactions records (type withdrawal) in October 2026, largest amount first: txn-0000042 (amount 98,765.40, occurred at 5 October 2026 14:03 UTC, account id 123456, type withdrawal); " +
				"txn-0000043 (amount 5,000.00, occurred at 6 October 2026 10:00 UTC, account id 123457, type withdrawal) (source: customer-transactions)."},
		{"list loans over 500000", []any{&tools.Result{Columns: cols("application_id", "amount"), Product: "loan-applications"}},
			"No loan-applications records match (amount over 500,000) over all the data (source: loan-applications)."},
		{"show transaction txn-0000042", []any{&tools.Result{
			Columns: cols("transaction_id", "account_id", "amount", "channel"), Rows: [][]any{{"txn-0000042", "123456", 12.5, "atm"}}, RowCount: 1,
			Product: "customer-transactions", Masked: map[string]string{"account_id": "last4"}}},
			"customer-transactions record txn-0000042: account id: 123456; amount: 12.50; channel: atm (source: customer-transactions).\nMasked by policy: account_id (last4)."},
		{"loan loan-000123", []any{&tools.Result{Columns: cols("application_id"), Product: "loan-applications"}},
			"There is no loan-applications record loan-000123 that you may see (source: loan-applications)."},
		{"Show me unusual transactions this month", []any{&tools.Result{
			Columns: cols("transaction_id", "customer_id", "amount", "group_mean", "std_devs_above"), RowCount: 1, Product: "customer-transactions",
			TimeRange: &tools.Range{From: day(2026, 11, 1), To: day(2026, 11, 16)},
			Rows:      [][]any{{"txn-0099999", "cust-00042", 250000.0, 1200.5, 7.31}}}},
			"1 unusual customer-transactions record in 1-15 November 2026 (amount more than 3 standard deviations above the mean of its customer id), the most unusual first: " +
				"txn-0099999 amount 250,000.00 (7.31 standard deviations above its customer id's mean of 1,200.50) (source: customer-transactions)."},
		{"What data do we have about customer transactions?", []any{&tools.Result{Products: []tools.ProductSummary{
			{Name: "customer-transactions", Domain: "retail-banking", Description: "Every transaction."},
			{Name: "customers", Domain: "retail-banking", Description: "The bank's retail customers."}}}},
			"I found 2 data products about \"customer transactions\":\n- customer-transactions (retail-banking): Every transaction.\n- customers (retail-banking): The bank's retail customers."},
		{"approval rate last quarter vs the previous quarter", []any{&tools.Result{
			Columns: cols("approval_rate", "approval_rate_previous", "approval_rate_change", "approval_rate_change_pct"),
			Rows:    [][]any{{0.7052, 0.679, 0.0262, 3.86}}, RowCount: 1, Product: "loan-applications", TimeRange: q3,
			CompareRange: &tools.Range{From: day(2026, 4, 1), To: day(2026, 7, 1)}}},
			"Approval rate in Q3 2026: 70.52%, up 2.62 points from 67.90% in Q2 2026 (source: loan-applications)."},
		{"approval rate by region last quarter vs the quarter before", []any{&tools.Result{
			Columns: cols("region", "approval_rate", "approval_rate_previous", "approval_rate_change", "approval_rate_change_pct"),
			Rows:    [][]any{{"europe", 0.7052, 0.679, 0.0262, 3.86}, {"asia-pacific", 0.6, 0.65, -0.05, -7.69}}, RowCount: 2, Product: "loan-applications", TimeRange: q3,
			CompareRange: &tools.Range{From: day(2026, 4, 1), To: day(2026, 7, 1)}}},
			"Approval rate by region in Q3 2026: europe 70.52% (+2.62 pts), asia-pacific 60.00% (-5.00 pts) (source: loan-applications)."},
		{"How did the Summer Special Offer perform?", []any{&tools.Result{
			Columns: cols("total_conversions", "conversion_rate"), Rows: [][]any{{int64(1234), 0.0365}}, RowCount: 1, Product: "marketing-campaigns"}},
			"Summer Special Offer, over all the data: total conversions 1,234; conversion rate 3.65% (source: marketing-campaigns)."},
		{"Which channel brought the most new customers last month?", []any{&tools.Result{
			Columns: cols("channel", "new_customers"), Rows: [][]any{{"email", int64(19)}}, RowCount: 1, Product: "customer-acquisition", TimeRange: oct,
			Notes: []string{"only the first 1 rows are shown; ask for fewer groups or a top N"}}},
			"email had the most new customers in October 2026: 19 (source: customer-acquisition)."},
		{"list loans over 500000", []any{"denied: you are not in a group that may query loan-applications"},
			"I can't show that: you are not in a group that may query loan-applications."},
		{"Summarize customer acquisition last month vs the month before", []any{"denied: you may not query customer-acquisition.", "denied: you may not query customer-acquisition", "denied: you may not query customer-acquisition"},
			"Executive brief for last month.\nWithheld from you: customer-acquisition (you may not query customer-acquisition)."},
		{"How many new customers did we get last month?", []any{"error: customer-acquisition is unavailable: database is locked"},
			"I couldn't get that from customer-acquisition: customer-acquisition is unavailable: database is locked."},
		{"Which users read customers pii this month?", []any{
			&tools.Result{Columns: cols("subject", "access_count"), Rows: [][]any{{"bob@bank.example", int64(3)}}, RowCount: 1, Product: "access-audit", TimeRange: &tools.Range{From: day(2026, 11, 1), To: day(2026, 11, 16)}},
			&tools.Result{Columns: cols("subject", "access_count"), Rows: [][]any{{"bob@bank.example", int64(1)}}, RowCount: 1, Product: "access-audit", TimeRange: &tools.Range{From: day(2026, 11, 1), To: day(2026, 11, 16)}},
			&tools.Result{Columns: cols("subject", "access_count"), RowCount: 0, Product: "access-audit", TimeRange: &tools.Range{From: day(2026, 11, 1), To: day(2026, 11, 16)}}},
			"People who received personal (pii) columns in 1-15 November 2026, masked or not (source: access-audit):\n" +
				"- full_name of customers: bob@bank.example (3 calls)\n- email of customers: bob@bank.example (1 call)\n- date_of_birth of customers: nobody"},
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			got, _ := answer(t, p, c.q, c.results...)
			if got != c.want {
				t.Errorf("answer:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

func TestCannotParseSaysSoAndSuggests(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	for _, q := range []string{"What's the weather in Europe?", "Tell me a joke", "How many?", "describe", "blorp zing"} {
		t.Run(q, func(t *testing.T) {
			calls, text := plan(t, p, nil, q)
			if len(calls) > 0 {
				t.Fatalf("guessed calls for %q: %v", q, calls)
			}
			if !strings.HasPrefix(text, "I could not work out which data product") {
				t.Errorf("text does not say it could not parse: %q", text)
			}
			n := strings.Count(text, "\n- ")
			if n < 3 || n > 4 {
				t.Errorf("%d suggestions, want 3 or 4: %q", n, text)
			}
			// Every suggestion is an example question of a descriptor.
			for _, line := range strings.Split(text, "\n")[1:] {
				if !isExample(p, strings.TrimPrefix(line, "- ")) {
					t.Errorf("suggestion %q is not an example question from the catalog", line)
				}
			}
		})
	}
}

func isExample(p *Planner, q string) bool {
	for _, prod := range p.cat.List() {
		for _, e := range prod.ExampleQuestions {
			if e == q {
				return true
			}
		}
	}
	return false
}

func TestSuggestionsAreAnswerable(t *testing.T) {
	t.Parallel()
	// The examples the planner suggests must themselves parse into calls.
	p := testPlanner(t)
	for _, prod := range p.cat.List() {
		for _, q := range prod.ExampleQuestions {
			calls, text := plan(t, p, nil, q)
			if len(calls) == 0 {
				t.Errorf("example question %q of %s does not parse: %s", q, prod.Name, text)
			}
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	for _, q := range []string{"hello", "help", "what can you do?", ""} {
		calls, text := plan(t, p, nil, q)
		if len(calls) > 0 || !strings.HasPrefix(text, "I answer questions about the data products") || strings.Count(text, "\n- ") < 3 {
			t.Errorf("%q: calls %v, text %q", q, calls, text)
		}
	}
}

func TestDiscoveryThenDescribe(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	msgs := []assistant.Message{{Role: assistant.RoleUser, Content: "What data do we have about loans, and who owns it?"}}
	r, _ := p.Generate(context.Background(), assistant.ModelRequest{Messages: msgs, Tools: tools.Specs()}, nil)
	if len(r.Message.ToolCalls) != 1 || r.Message.ToolCalls[0].Name != tools.ToolSearch || string(r.Message.ToolCalls[0].Arguments) != `{"query":"loans"}` {
		t.Fatalf("first turn: %+v", r.Message)
	}
	msgs = append(msgs, r.Message, assistant.Message{Role: assistant.RoleTool, ToolCallID: r.Message.ToolCalls[0].ID,
		Content: assistant.ForModel(&tools.Result{Products: []tools.ProductSummary{{Name: "loan-applications", Domain: "lending", Description: "Loan applications."}}}, 50, 16<<10)})
	r, _ = p.Generate(context.Background(), assistant.ModelRequest{Messages: msgs, Tools: tools.Specs()}, nil)
	if len(r.Message.ToolCalls) != 1 || r.Message.ToolCalls[0].Name != tools.ToolDescribe || string(r.Message.ToolCalls[0].Arguments) != `{"product":"loan-applications"}` {
		t.Fatalf("second turn: %+v", r.Message)
	}
	msgs = append(msgs, r.Message, assistant.Message{Role: assistant.RoleTool, ToolCallID: r.Message.ToolCalls[0].ID,
		Content: assistant.ForModel(&tools.Result{Description: &tools.ProductDescription{Name: "loan-applications", Domain: "lending", Owner: "lending-data@bank.example",
			Description: "Loan applications.", Columns: []tools.ColumnDescription{{Name: "application_id", Access: "visible"}, {Name: "credit_score", Access: "masked:redact"}}}}, 50, 16<<10)})
	r, _ = p.Generate(context.Background(), assistant.ModelRequest{Messages: msgs, Tools: tools.Specs()}, nil)
	want := "I found 1 data product about \"loans\":\n- loan-applications (lending): Loan applications.\n" +
		"loan-applications (domain lending) is owned by lending-data@bank.example. Loan applications.\nColumns: application_id, credit_score (masked for you)."
	if r.Message.Content != want {
		t.Errorf("answer:\n%s\nwant:\n%s", r.Message.Content, want)
	}
}

func TestNoToolsLeftMeansText(t *testing.T) {
	t.Parallel()
	// On the agent's last step tools are withdrawn: the planner must answer
	// in text rather than ask for calls it cannot make.
	p := testPlanner(t)
	msgs := []assistant.Message{{Role: assistant.RoleUser, Content: "How many new customers last month?"}}
	r, err := p.Generate(context.Background(), assistant.ModelRequest{Messages: msgs}, nil)
	if err != nil || len(r.Message.ToolCalls) > 0 || r.Message.Content == "" {
		t.Fatalf("reply %+v, err %v", r, err)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Generate(ctx, assistant.ModelRequest{Messages: []assistant.Message{{Role: assistant.RoleUser, Content: "hello"}}}, nil); err == nil {
		t.Fatal("no error on a cancelled context")
	}
}

func TestDeterminism(t *testing.T) {
	t.Parallel()
	// Two planners, the same questions: byte-identical calls and text.
	qs := []string{
		"Total deposits in Europe last week, by channel", "Who was denied access to loan-applications this week?",
		"Which users read customers pii this month?", "Summarize customer acquisition last month vs the month before",
		"How did the Summer Special Offer perform?", "What's the weather in Europe?", "what did frank try yesterday",
	}
	for _, q := range qs {
		var first string
		for i := 0; i < 3; i++ {
			p := testPlanner(t)
			calls, text := plan(t, p, nil, q)
			got := strings.Join(calls, "\n") + "\n" + text
			if i == 0 {
				first = got
			} else if got != first {
				t.Errorf("%q: run %d differs:\n%s\nvs\n%s", q, i, got, first)
			}
		}
	}
}
