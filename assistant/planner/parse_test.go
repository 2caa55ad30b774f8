package planner

import (
	"context"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/tools"
)

// testNow is the demo data's as-of instant: Sunday 15 November 2026, noon
// UTC. This week is 9-15 November, last week 2-8.
var testNow = banktest.Now

func testPlanner(t testing.TB) *Planner {
	t.Helper()
	reg, err := catalog.LoadFS(bank.Files, bank.ProductsDir)
	if err != nil {
		t.Fatal(err)
	}
	return New(reg, tools.FixedClock(testNow))
}

// plan asks the planner for its first turn on q after history and returns
// its calls as "tool {arguments}" lines, and its text.
func plan(t testing.TB, p *Planner, history []assistant.Message, q string) ([]string, string) {
	t.Helper()
	msgs := append(append([]assistant.Message{{Role: assistant.RoleSystem, Content: "system"}}, history...),
		assistant.Message{Role: assistant.RoleUser, Content: q})
	r, err := p.Generate(context.Background(), assistant.ModelRequest{Messages: msgs, Tools: tools.Specs()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, c := range r.Message.ToolCalls {
		calls = append(calls, c.Name+" "+string(c.Arguments))
	}
	return calls, r.Message.Content
}

// converse plays questions one after another, answering every call with
// an empty result, and returns the history.
func converse(t testing.TB, p *Planner, qs ...string) []assistant.Message {
	t.Helper()
	var hist []assistant.Message
	for _, q := range qs {
		hist = append(hist, assistant.Message{Role: assistant.RoleUser, Content: q})
		r, err := p.Generate(context.Background(), assistant.ModelRequest{Messages: hist, Tools: tools.Specs()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Message.ToolCalls) == 0 {
			t.Fatalf("history question %q made no calls: %s", q, r.Message.Content)
		}
		hist = append(hist, r.Message)
		for _, c := range r.Message.ToolCalls {
			hist = append(hist, assistant.Message{Role: assistant.RoleTool, ToolCallID: c.ID, Name: c.Name, Content: `{"row_count":0}`})
		}
		hist = append(hist, assistant.Message{Role: assistant.RoleAssistant, Content: "(answer)"})
	}
	return hist
}

func TestQuestionToCalls(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	cases := []struct {
		q    string
		want []string
	}{
		{"How many customers did we acquire in Q3 2026?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2026-Q3"}`,
		}},
		{"customers acquired by channel last month", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"group_by":["channel"],"time_range":"last_month","order_by":[{"field":"new_customers","direction":"desc"}]}`,
		}},
		{"list withdrawals over 10,000 this month", []string{
			`query_records {"product":"customer-transactions","filters":[{"column":"type","op":"=","value":"withdrawal"},{"column":"amount","op":">","value":10000}],"time_range":"this_month","order_by":[{"field":"occurred_at","direction":"desc"}]}`,
		}},
		{"which channel has the best cost per conversion?", []string{
			`query_metrics {"product":"marketing-campaigns","metrics":["cost_per_conversion"],"group_by":["channel"],"order_by":[{"field":"cost_per_conversion","direction":"asc"}],"limit":1}`,
		}},
		{"show the ssn of customers in Europe", []string{
			`query_records {"product":"customers","columns":["ssn"],"filters":[{"column":"region","op":"=","value":"europe"}],"order_by":[{"field":"joined_at","direction":"desc"}]}`,
		}},
		{"What did frank try today?", []string{
			`query_records {"product":"access-audit","columns":["at","subject","tool","product","decision","reason"],"filters":[{"column":"subject","op":"contains","value":"frank@"}],"time_range":"today","order_by":[{"field":"at","direction":"asc"}]}`,
			`query_metrics {"product":"access-audit","metrics":["access_count"],"group_by":["decision"],"filters":[{"column":"subject","op":"contains","value":"frank@"}],"time_range":"today","order_by":[{"field":"access_count","direction":"desc"}]}`,
		}},
		{"what did erin@bank.example do today", []string{
			`query_records {"product":"access-audit","columns":["at","subject","tool","product","decision","reason"],"filters":[{"column":"subject","op":"=","value":"erin@bank.example"}],"time_range":"today","order_by":[{"field":"at","direction":"asc"}]}`,
			`query_metrics {"product":"access-audit","metrics":["access_count"],"group_by":["decision"],"filters":[{"column":"subject","op":"=","value":"erin@bank.example"}],"time_range":"today","order_by":[{"field":"access_count","direction":"desc"}]}`,
		}},
		// An email is a value to look up by unless the question is about access.
		{"Show me the customer with email anna.schmidt@example.com", []string{
			`query_records {"product":"customers","filters":[{"column":"email","op":"=","value":"anna.schmidt@example.com"}],"order_by":[{"field":"joined_at","direction":"desc"}]}`,
		}},
		{"show bob@bank.example's access to customers", []string{
			`query_records {"product":"access-audit","columns":["at","subject","tool","product","decision","reason"],"filters":[{"column":"product","op":"=","value":"customers"},{"column":"subject","op":"=","value":"bob@bank.example"}],"order_by":[{"field":"at","direction":"desc"}]}`,
		}},
		{"is there a customer called Clara Murphy?", []string{
			`query_records {"product":"customers","filters":[{"column":"full_name","op":"=","value":"Clara Murphy"}],"order_by":[{"field":"joined_at","direction":"desc"}]}`,
		}},
		{"loans of customer cust-00164", []string{
			`query_metrics {"product":"loan-applications","metrics":["application_count"],"filters":[{"column":"customer_id","op":"=","value":"cust-00164"}]}`,
		}},
		// An average of a count per period: the count over the range, and per period.
		{"How many transactions per day on average last week?", []string{
			`query_metrics {"product":"customer-transactions","metrics":["transaction_count"],"time_range":"last_week"}`,
			`query_metrics {"product":"customer-transactions","metrics":["transaction_count"],"time_range":"last_week","time_grain":"day"}`,
		}},
		// "How much" is an amount.
		{"how much was deposited last week", []string{
			`query_metrics {"product":"customer-transactions","metrics":["total_amount"],"filters":[{"column":"type","op":"=","value":"deposit"}],"time_range":"last_week"}`,
		}},
		{"average transaction amount per day last week", []string{
			`query_metrics {"product":"customer-transactions","metrics":["average_amount"],"time_range":"last_week","time_grain":"day"}`,
		}},
		{"show me carol's denials this week", []string{
			`query_records {"product":"access-audit","columns":["at","subject","tool","product","decision","reason"],"filters":[{"column":"decision","op":"=","value":"deny"},{"column":"subject","op":"contains","value":"carol@"}],"time_range":"this_week","order_by":[{"field":"at","direction":"desc"}]}`,
		}},
		{"any suspicious withdrawals this year?", []string{
			`find_anomalies {"product":"customer-transactions","filters":[{"column":"type","op":"=","value":"withdrawal"}],"time_range":"this_year"}`,
		}},
		{"What data do we have about customer transactions?", []string{
			`search_data_products {"query":"customer transactions"}`,
		}},
		{"Which products cover loans?", []string{
			`search_data_products {"query":"loans"}`,
		}},
		{"is there any data on marketing campaigns?", []string{
			`search_data_products {"query":"marketing campaigns"}`,
		}},
		{"where can I find complaints data?", []string{
			`search_data_products {"query":"complaints"}`,
		}},
		{"describe loan-applications", []string{
			`describe_data_product {"product":"loan-applications"}`,
		}},
		{"what columns does customers have", []string{
			`describe_data_product {"product":"customers"}`,
		}},
		{"who owns the transactions data?", []string{
			`describe_data_product {"product":"customer-transactions"}`,
		}},
		{"describe the campains product", []string{
			`describe_data_product {"product":"marketing-campaigns"}`,
		}},
		{"How many new customers did we acquire last month, compared with the month before?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month","compare_to":"previous_period"}`,
		}},
		{"how many new customers last month vs the month before", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month","compare_to":"previous_period"}`,
		}},
		{"new customers in October 2026", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2026-10"}`,
		}},
		{"new customers in 2025", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2025"}`,
		}},
		{"new customers in Q3 2026", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2026-Q3"}`,
		}},
		{"new customers since March", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2026-03-01.."}`,
		}},
		{"new customers this year compared with last year", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"this_year","compare_to":"previous_year"}`,
		}},
		{"new customers month over month", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month","compare_to":"previous_period"}`,
		}},
		{"signups per week in the last 30 days", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_30_days","time_grain":"week"}`,
		}},
		{"monthly trend of new customers", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_grain":"month"}`,
		}},
		{"How many new customers did we aquire yesterday?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"yesterday"}`,
		}},
		{"Total deposits in Europe last week, by channel", []string{
			`query_metrics {"product":"customer-transactions","metrics":["total_amount"],"group_by":["channel"],"filters":[{"column":"type","op":"=","value":"deposit"},{"column":"region","op":"=","value":"europe"}],"time_range":"last_week","order_by":[{"field":"total_amount","direction":"desc"}]}`,
		}},
		{"total deposits in europe last week broken down by channel", []string{
			`query_metrics {"product":"customer-transactions","metrics":["total_amount"],"group_by":["channel"],"filters":[{"column":"type","op":"=","value":"deposit"},{"column":"region","op":"=","value":"europe"}],"time_range":"last_week","order_by":[{"field":"total_amount","direction":"desc"}]}`,
		}},
		{"How many transactions did account 123456 make last month?", []string{
			`query_metrics {"product":"customer-transactions","metrics":["transaction_count"],"filters":[{"column":"account_id","op":"=","value":"123456"}],"time_range":"last_month"}`,
		}},
		{"how many transactons in October 2026", []string{
			`query_metrics {"product":"customer-transactions","metrics":["transaction_count"],"time_range":"2026-10"}`,
		}},
		{"number of international transfers this quarter", []string{
			`query_metrics {"product":"customer-transactions","metrics":["transaction_count"],"filters":[{"column":"type","op":"=","value":"international_transfer"}],"time_range":"this_quarter"}`,
		}},
		{"average transaction amount in EUR last month", []string{
			`query_metrics {"product":"customer-transactions","metrics":["average_amount"],"filters":[{"column":"currency","op":"=","value":"EUR"}],"time_range":"last_month"}`,
		}},
		{"how many deposits via mobile this month", []string{
			`query_metrics {"product":"customer-transactions","metrics":["transaction_count"],"filters":[{"column":"type","op":"=","value":"deposit"},{"column":"channel","op":"=","value":"mobile"}],"time_range":"this_month"}`,
		}},
		{"Show me unusual transactions this month", []string{
			`find_anomalies {"product":"customer-transactions","time_range":"this_month"}`,
		}},
		{"any suspicious withdrawals in Europe last week?", []string{
			`find_anomalies {"product":"customer-transactions","filters":[{"column":"type","op":"=","value":"withdrawal"},{"column":"region","op":"=","value":"europe"}],"time_range":"last_week"}`,
		}},
		{"anomalous transactons today", []string{
			`find_anomalies {"product":"customer-transactions","time_range":"today"}`,
		}},
		{"show me the 5 largest withdrawals last month", []string{
			`query_records {"product":"customer-transactions","filters":[{"column":"type","op":"=","value":"withdrawal"}],"time_range":"last_month","order_by":[{"field":"amount","direction":"desc"}],"limit":5}`,
		}},
		{"what was the largest withdrawal last month", []string{
			`query_records {"product":"customer-transactions","filters":[{"column":"type","op":"=","value":"withdrawal"}],"time_range":"last_month","order_by":[{"field":"amount","direction":"desc"}],"limit":1}`,
		}},
		{"list the 10 most recent transactions of account 123456", []string{
			`query_records {"product":"customer-transactions","filters":[{"column":"account_id","op":"=","value":"123456"}],"order_by":[{"field":"occurred_at","direction":"desc"}],"limit":10}`,
		}},
		{"show transactions of customer cust-00042 last week", []string{
			`query_records {"product":"customer-transactions","filters":[{"column":"customer_id","op":"=","value":"cust-00042"}],"time_range":"last_week","order_by":[{"field":"occurred_at","direction":"desc"}]}`,
		}},
		{"show transaction txn-0000042", []string{
			`get_record {"product":"customer-transactions","id":"txn-0000042"}`,
		}},
		{"loan loan-000123", []string{
			`get_record {"product":"loan-applications","id":"loan-000123"}`,
		}},
		{"customer cust-00042", []string{
			`get_record {"product":"customers","id":"cust-00042"}`,
		}},
		{"What was the mortgage approval rate last quarter?", []string{
			`query_metrics {"product":"loan-applications","metrics":["approval_rate"],"filters":[{"column":"loan_type","op":"=","value":"mortgage"}],"time_range":"last_quarter"}`,
		}},
		{"mortage approval rate in 2025", []string{
			`query_metrics {"product":"loan-applications","metrics":["approval_rate"],"filters":[{"column":"loan_type","op":"=","value":"mortgage"}],"time_range":"2025"}`,
		}},
		{"approval rate by region this year vs last year", []string{
			`query_metrics {"product":"loan-applications","metrics":["approval_rate"],"group_by":["region"],"time_range":"this_year","compare_to":"previous_year","order_by":[{"field":"approval_rate","direction":"desc"}]}`,
		}},
		{"Loan applications by type this year", []string{
			`query_metrics {"product":"loan-applications","metrics":["application_count"],"group_by":["loan_type"],"time_range":"this_year","order_by":[{"field":"application_count","direction":"desc"}]}`,
		}},
		{"list loans over 500000", []string{
			`query_records {"product":"loan-applications","filters":[{"column":"amount","op":">","value":500000}],"order_by":[{"field":"applied_at","direction":"desc"}]}`,
		}},
		{"loans between 100k and 250k", []string{
			`query_metrics {"product":"loan-applications","metrics":["application_count"],"filters":[{"column":"amount","op":"between","value":[100000,250000]}]}`,
		}},
		{"how many mortgages over $1m", []string{
			`query_metrics {"product":"loan-applications","metrics":["application_count"],"filters":[{"column":"loan_type","op":"=","value":"mortgage"},{"column":"amount","op":">","value":1000000}]}`,
		}},
		{"average credit score of loan applicants", []string{
			`query_metrics {"product":"loan-applications","metrics":["average_credit_score"]}`,
		}},
		{"How many customers do we have by segment?", []string{
			`query_metrics {"product":"customers","metrics":["customer_count"],"group_by":["segment"],"order_by":[{"field":"customer_count","direction":"desc"}]}`,
		}},
		{"How many high-risk customers joined this year?", []string{
			`query_metrics {"product":"customers","metrics":["customer_count"],"filters":[{"column":"risk_rating","op":"=","value":"high"}],"time_range":"this_year"}`,
		}},
		{"How many customers are in Europe?", []string{
			`query_metrics {"product":"customers","metrics":["customer_count"],"filters":[{"column":"region","op":"=","value":"europe"}]}`,
		}},
		{"emails of customers in Europe", []string{
			`query_records {"product":"customers","columns":["email"],"filters":[{"column":"region","op":"=","value":"europe"}],"order_by":[{"field":"joined_at","direction":"desc"}]}`,
		}},
		{"what is the ssn of customer cust-00042", []string{
			`query_records {"product":"customers","columns":["ssn"],"filters":[{"column":"customer_id","op":"=","value":"cust-00042"}]}`,
		}},
		{"Which campaign had the best conversion rate this year?", []string{
			`query_metrics {"product":"marketing-campaigns","metrics":["conversion_rate"],"group_by":["name"],"time_range":"this_year","order_by":[{"field":"conversion_rate","direction":"desc"}],"limit":1}`,
		}},
		{"How did the Summer Special Offer perform?", []string{
			`query_metrics {"product":"marketing-campaigns","metrics":["total_conversions","conversion_rate"],"filters":[{"column":"name","op":"=","value":"Summer Special Offer"}]}`,
		}},
		{`How did "Summer Special Offer" do?`, []string{
			`query_metrics {"product":"marketing-campaigns","metrics":["total_conversions","conversion_rate"],"filters":[{"column":"name","op":"=","value":"Summer Special Offer"}]}`,
		}},
		{"top 5 campaigns by conversions", []string{
			`query_metrics {"product":"marketing-campaigns","metrics":["total_conversions"],"group_by":["name"],"order_by":[{"field":"total_conversions","direction":"desc"}],"limit":5}`,
		}},
		{"best campaign by cost per conversion", []string{
			`query_metrics {"product":"marketing-campaigns","metrics":["cost_per_conversion"],"group_by":["name"],"order_by":[{"field":"cost_per_conversion","direction":"asc"}],"limit":1}`,
		}},
		{"campains with the highest click through rate", []string{
			`query_metrics {"product":"marketing-campaigns","metrics":["click_through_rate"],"group_by":["name"],"order_by":[{"field":"click_through_rate","direction":"desc"}],"limit":5}`,
		}},
		{"What's the total budget of email campaigns in 2026?", []string{
			`query_metrics {"product":"marketing-campaigns","metrics":["total_budget"],"filters":[{"column":"channel","op":"=","value":"email"}],"time_range":"2026"}`,
		}},
		{"Which campaign brought the most new customers this quarter?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"group_by":["campaign_name"],"filters":[{"column":"campaign_name","op":"is not null"}],"time_range":"this_quarter","order_by":[{"field":"new_customers","direction":"desc"}],"limit":1}`,
		}},
		{"Which channel brought the most new customers last month?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"group_by":["channel"],"time_range":"last_month","order_by":[{"field":"new_customers","direction":"desc"}],"limit":1}`,
		}},
		{"What was the resolution rate by channel last month?", []string{
			`query_metrics {"product":"customer-interactions","metrics":["resolution_rate"],"group_by":["channel"],"time_range":"last_month","order_by":[{"field":"resolution_rate","direction":"desc"}]}`,
		}},
		{"How many fraud complaints did we get this week?", []string{
			`query_metrics {"product":"customer-interactions","metrics":["interaction_count"],"filters":[{"column":"topic","op":"=","value":"fraud"}],"time_range":"this_week"}`,
		}},
		{"unresolved fraud complaints this month", []string{
			`query_metrics {"product":"customer-interactions","metrics":["interaction_count"],"filters":[{"column":"topic","op":"=","value":"fraud"},{"column":"resolved","op":"=","value":false}],"time_range":"this_month"}`,
		}},
		{"What is the average handle time for calls last week?", []string{
			`query_metrics {"product":"customer-interactions","metrics":["average_handle_minutes"],"filters":[{"column":"channel","op":"=","value":"call"}],"time_range":"last_week"}`,
		}},
		{"Summarize customer acquisition last month vs the month before", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month","compare_to":"previous_period"}`,
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2025-11..2026-10","time_grain":"month"}`,
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"group_by":["campaign_name"],"filters":[{"column":"campaign_name","op":"is not null"}],"time_range":"last_month","order_by":[{"field":"new_customers","direction":"desc"},{"field":"campaign_name","direction":"asc"}],"limit":3}`,
		}},
		{"give me a brief on loan applications this quarter", []string{
			`query_metrics {"product":"loan-applications","metrics":["application_count","approval_rate"],"time_range":"this_quarter","compare_to":"previous_period"}`,
			`query_metrics {"product":"loan-applications","metrics":["application_count","approval_rate"],"time_range":"2025-12..2026-11","time_grain":"month"}`,
			`query_metrics {"product":"loan-applications","metrics":["application_count"],"group_by":["loan_type"],"time_range":"this_quarter","order_by":[{"field":"application_count","direction":"desc"},{"field":"loan_type","direction":"asc"}],"limit":3}`,
		}},
		{"Who was denied access to loan-applications this week?", []string{
			`query_records {"product":"access-audit","columns":["at","subject","tool","product","decision","reason"],"filters":[{"column":"decision","op":"=","value":"deny"},{"column":"product","op":"=","value":"loan-applications"}],"time_range":"this_week","order_by":[{"field":"at","direction":"desc"}]}`,
			`query_metrics {"product":"access-audit","metrics":["access_count"],"group_by":["subject"],"filters":[{"column":"decision","op":"=","value":"deny"},{"column":"product","op":"=","value":"loan-applications"}],"time_range":"this_week","order_by":[{"field":"access_count","direction":"desc"}]}`,
		}},
		{"What did frank try yesterday?", []string{
			`query_records {"product":"access-audit","columns":["at","subject","tool","product","decision","reason"],"filters":[{"column":"subject","op":"contains","value":"frank@"}],"time_range":"yesterday","order_by":[{"field":"at","direction":"asc"}]}`,
			`query_metrics {"product":"access-audit","metrics":["access_count"],"group_by":["decision"],"filters":[{"column":"subject","op":"contains","value":"frank@"}],"time_range":"yesterday","order_by":[{"field":"access_count","direction":"desc"}]}`,
		}},
		{"Which users read customers pii this month?", []string{
			`query_metrics {"product":"access-audit","metrics":["access_count"],"group_by":["subject"],"filters":[{"column":"decision","op":"=","value":"allow"},{"column":"product","op":"=","value":"customers"},{"column":"columns","op":"contains","value":"\"full_name\""}],"time_range":"this_month","order_by":[{"field":"access_count","direction":"desc"}]}`,
			`query_metrics {"product":"access-audit","metrics":["access_count"],"group_by":["subject"],"filters":[{"column":"decision","op":"=","value":"allow"},{"column":"product","op":"=","value":"customers"},{"column":"columns","op":"contains","value":"\"email\""}],"time_range":"this_month","order_by":[{"field":"access_count","direction":"desc"}]}`,
			`query_metrics {"product":"access-audit","metrics":["access_count"],"group_by":["subject"],"filters":[{"column":"decision","op":"=","value":"allow"},{"column":"product","op":"=","value":"customers"},{"column":"columns","op":"contains","value":"\"date_of_birth\""}],"time_range":"this_month","order_by":[{"field":"access_count","direction":"desc"}]}`,
		}},
		{"how many denials this week", []string{
			`query_metrics {"product":"access-audit","metrics":["denial_count"],"time_range":"this_week"}`,
		}},
		{"How many denials by user this month?", []string{
			`query_metrics {"product":"access-audit","metrics":["denial_count"],"group_by":["subject"],"time_range":"this_month","order_by":[{"field":"denial_count","direction":"desc"}]}`,
		}},
		// A first name is looked up in the log first (TestAuditFirstNameResolves).
		{"how many times was carol denied this month", []string{
			`query_metrics {"product":"access-audit","metrics":["access_count"],"group_by":["subject"],"filters":[{"column":"subject","op":"contains","value":"carol@"}],"order_by":[{"field":"access_count","direction":"desc"}]}`,
		}},
		{"Who accessed customers today?", []string{
			`query_records {"product":"access-audit","columns":["at","subject","tool","product","decision","reason"],"filters":[{"column":"product","op":"=","value":"customers"}],"time_range":"today","order_by":[{"field":"at","direction":"desc"}]}`,
			`query_metrics {"product":"access-audit","metrics":["access_count"],"group_by":["subject"],"filters":[{"column":"product","op":"=","value":"customers"}],"time_range":"today","order_by":[{"field":"access_count","direction":"desc"}]}`,
		}},
		{"access log for bob this week", []string{
			`query_records {"product":"access-audit","columns":["at","subject","tool","product","decision","reason"],"filters":[{"column":"subject","op":"contains","value":"bob@"}],"time_range":"this_week","order_by":[{"field":"at","direction":"desc"}]}`,
		}},
		{`How did "Summer Special Offer" do?`, []string{
			`query_metrics {"product":"marketing-campaigns","metrics":["total_conversions","conversion_rate"],"filters":[{"column":"name","op":"=","value":"Summer Special Offer"}]}`,
		}},
		{"deposits from October to December 2025", []string{
			`query_metrics {"product":"customer-transactions","metrics":["transaction_count"],"filters":[{"column":"type","op":"=","value":"deposit"}],"time_range":"2025-10-01..2025-12"}`,
		}},
		{"deposits between 2026-01-01 and 2026-03-31", []string{
			`query_metrics {"product":"customer-transactions","metrics":["transaction_count"],"filters":[{"column":"type","op":"=","value":"deposit"}],"time_range":"2026-01-01..2026-03-31"}`,
		}},
		{"transactions on 5 October 2026", []string{
			`query_metrics {"product":"customer-transactions","metrics":["transaction_count"],"time_range":"2026-10-05"}`,
		}},
		{"Q3 new customers vs Q2", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2026-Q3","compare_to":"previous_period"}`,
		}},
		{"new customers in the last 3 months by region", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"group_by":["region"],"time_range":"2026-08..2026-10","order_by":[{"field":"new_customers","direction":"desc"}]}`,
		}},
		{"What is the interaction count per day this week?", []string{
			`query_metrics {"product":"customer-interactions","metrics":["interaction_count"],"time_range":"this_week","time_grain":"day"}`,
		}},
		{"yoy new customers", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"this_year","compare_to":"previous_year"}`,
		}},
		{"how many new customers this month so far", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"this_month"}`,
		}},
		{"transactions over time this quarter", []string{
			`query_metrics {"product":"customer-transactions","metrics":["transaction_count"],"time_range":"this_quarter","time_grain":"week"}`,
		}},
		{"card payments by currency year to date", []string{
			`query_metrics {"product":"customer-transactions","metrics":["transaction_count"],"group_by":["currency"],"filters":[{"column":"type","op":"=","value":"card_payment"}],"time_range":"this_year","order_by":[{"field":"transaction_count","direction":"desc"}]}`,
		}},
		{"customers by risk rating", []string{
			`query_metrics {"product":"customers","metrics":["customer_count"],"group_by":["risk_rating"],"order_by":[{"field":"customer_count","direction":"desc"}]}`,
		}},
		{"how many loans were rejected in the past week", []string{
			`query_metrics {"product":"loan-applications","metrics":["application_count"],"filters":[{"column":"status","op":"=","value":"rejected"}],"time_range":"last_7_days"}`,
		}}}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			got, text := plan(t, p, nil, c.q)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("calls:\n%s\nwant:\n%s\n(text: %q)", strings.Join(got, "\n"), strings.Join(c.want, "\n"), text)
			}
		})
	}
}
