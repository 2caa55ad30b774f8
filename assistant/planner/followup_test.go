package planner

import (
	"strings"
	"testing"
)

func TestFollowUpsModifyThePreviousCalls(t *testing.T) {
	t.Parallel()
	p := testPlanner(t)
	cases := []struct {
		name    string
		history []string
		q       string
		want    []string
	}{
		{"the month before shifts the period", []string{"How many new customers did we get last month?"}, "and the month before?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2026-09"}`,
		}},
		{"a shift of a shift", []string{"How many new customers did we get last month?", "and the month before?"}, "and the month before that?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2026-08"}`,
		}},
		{"the year before", []string{"new customers in Q3 2026"}, "and the year before?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2025-Q3"}`,
		}},
		{"a filter by value", []string{"How many new customers did we get last month?"}, "what about Europe?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"filters":[{"column":"region","op":"=","value":"europe"}],"time_range":"last_month"}`,
		}},
		{"a filter replaces one on the same column", []string{"Total deposits in Europe last week, by channel"}, "what about withdrawals?", []string{
			`query_metrics {"product":"customer-transactions","metrics":["total_amount"],"group_by":["channel"],"filters":[{"column":"region","op":"=","value":"europe"},{"column":"type","op":"=","value":"withdrawal"}],"time_range":"last_week","order_by":[{"field":"total_amount","direction":"desc"}]}`,
		}},
		{"a partial value name", []string{"Total deposits in Europe last week, by channel"}, "and in asia?", []string{
			`query_metrics {"product":"customer-transactions","metrics":["total_amount"],"group_by":["channel"],"filters":[{"column":"type","op":"=","value":"deposit"},{"column":"region","op":"=","value":"asia-pacific"}],"time_range":"last_week","order_by":[{"field":"total_amount","direction":"desc"}]}`,
		}},
		{"a grouping", []string{"How many new customers did we get last month?"}, "and by channel?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"group_by":["channel"],"time_range":"last_month","order_by":[{"field":"new_customers","direction":"desc"}]}`,
		}},
		{"another named period", []string{"What was the mortgage approval rate last quarter?"}, "same for last year", []string{
			`query_metrics {"product":"loan-applications","metrics":["approval_rate"],"filters":[{"column":"loan_type","op":"=","value":"mortgage"}],"time_range":"last_year"}`,
		}},
		{"a comparison keeps the period", []string{"Total deposits in Europe last week, by channel"}, "and compared with the week before?", []string{
			`query_metrics {"product":"customer-transactions","metrics":["total_amount"],"group_by":["channel"],"filters":[{"column":"type","op":"=","value":"deposit"},{"column":"region","op":"=","value":"europe"}],"time_range":"last_week","compare_to":"previous_period","order_by":[{"field":"total_amount","direction":"desc"}]}`,
		}},
		{"year over year keeps the period", []string{"new customers in October 2026"}, "and year over year?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2026-10","compare_to":"previous_year"}`,
		}},
		{"a grain", []string{"new customers this year"}, "now per week", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"this_year","time_grain":"week"}`,
		}},
		{"another metric", []string{"Loan applications by type this year"}, "and the approval rate?", []string{
			`query_metrics {"product":"loan-applications","metrics":["approval_rate"],"group_by":["loan_type"],"time_range":"this_year","order_by":[{"field":"approval_rate","direction":"desc"}]}`,
		}},
		{"records take a new period", []string{"show me the 5 largest withdrawals last month"}, "and this month?", []string{
			`query_records {"product":"customer-transactions","filters":[{"column":"type","op":"=","value":"withdrawal"}],"time_range":"this_month","order_by":[{"field":"amount","direction":"desc"}],"limit":5}`,
		}},
		{"anomalies take a filter", []string{"Show me unusual transactions this month"}, "only in Europe", []string{
			`find_anomalies {"product":"customer-transactions","filters":[{"column":"region","op":"=","value":"europe"}],"time_range":"this_month"}`,
		}},
		{"a summary's brief moves to the month before", []string{"Summarize customer acquisition last month vs the month before"}, "and for the month before?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2026-09","compare_to":"previous_period"}`,
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2025-10..2026-09","time_grain":"month"}`,
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"group_by":["campaign_name"],"filters":[{"column":"campaign_name","op":"is not null"}],"time_range":"2026-09","order_by":[{"field":"new_customers","direction":"desc"},{"field":"campaign_name","direction":"asc"}],"limit":3}`,
		}},
		{"a summary's brief takes a year-on-year comparison", []string{"Summarize customer acquisition last month vs the month before"}, "and vs last year?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"last_month","compare_to":"previous_year"}`,
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"time_range":"2025-11..2026-10","time_grain":"month"}`,
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"group_by":["campaign_name"],"filters":[{"column":"campaign_name","op":"is not null"}],"time_range":"last_month","order_by":[{"field":"new_customers","direction":"desc"},{"field":"campaign_name","direction":"asc"}],"limit":3}`,
		}},
		{"a question without a product keeps the product", []string{"How many new customers last month?"}, "How many in Europe?", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"filters":[{"column":"region","op":"=","value":"europe"}],"time_range":"last_month"}`,
		}},
		{"audit: another product is a filter", []string{"Who was denied access to loan-applications this week?"}, "what about customers?", []string{
			`query_records {"product":"access-audit","columns":["at","subject","tool","product","decision","reason"],"filters":[{"column":"decision","op":"=","value":"deny"},{"column":"product","op":"=","value":"customers"}],"time_range":"this_week","order_by":[{"field":"at","direction":"desc"}]}`,
			`query_metrics {"product":"access-audit","metrics":["access_count"],"group_by":["subject"],"filters":[{"column":"decision","op":"=","value":"deny"},{"column":"product","op":"=","value":"customers"}],"time_range":"this_week","order_by":[{"field":"access_count","direction":"desc"}]}`,
		}},
		{"audit: another person", []string{"What did frank try yesterday?"}, "what about carol?", []string{
			`query_records {"product":"access-audit","columns":["at","subject","tool","product","decision","reason"],"filters":[{"column":"subject","op":"contains","value":"carol@"}],"time_range":"yesterday","order_by":[{"field":"at","direction":"asc"}]}`,
			`query_metrics {"product":"access-audit","metrics":["access_count"],"group_by":["decision"],"filters":[{"column":"subject","op":"contains","value":"carol@"}],"time_range":"yesterday","order_by":[{"field":"access_count","direction":"desc"}]}`,
		}},
		{"audit: a new count is a new question", []string{"Who was denied access to loan-applications this week?"}, "how many denials this week", []string{
			`query_metrics {"product":"access-audit","metrics":["denial_count"],"time_range":"this_week"}`,
		}},
		{"a question repeated stands alone", []string{"approval rate by region this year vs last year"}, "approval rate by region this year vs last year", []string{
			`query_metrics {"product":"loan-applications","metrics":["approval_rate"],"group_by":["region"],"time_range":"this_year","compare_to":"previous_year","order_by":[{"field":"approval_rate","direction":"desc"}]}`,
		}},
		{"a standalone question after another on the same product", []string{"How many new customers did we get last month?"}, "new customers by channel in 2025", []string{
			`query_metrics {"product":"customer-acquisition","metrics":["new_customers"],"group_by":["channel"],"time_range":"2025","order_by":[{"field":"new_customers","direction":"desc"}]}`,
		}},
		{"a new product is a new question", []string{"How many new customers did we get last month?"}, "What was the mortgage approval rate last quarter?", []string{
			`query_metrics {"product":"loan-applications","metrics":["approval_rate"],"filters":[{"column":"loan_type","op":"=","value":"mortgage"}],"time_range":"last_quarter"}`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hist := converse(t, p, c.history...)
			got, text := plan(t, p, hist, c.q)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("calls:\n%s\nwant:\n%s\n(text: %q)", strings.Join(got, "\n"), strings.Join(c.want, "\n"), text)
			}
		})
	}
}
