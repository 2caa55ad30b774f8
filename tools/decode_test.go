package tools

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank"
)

var testNow = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

func demoCatalog(tb testing.TB) *catalog.Registry {
	tb.Helper()
	reg, err := catalog.LoadFS(bank.Files, bank.ProductsDir)
	if err != nil {
		tb.Fatal(err)
	}
	return reg
}

// plan runs the executor's decoding and planning for one call, without
// authorizing or running it: the part a model's mistakes reach first.
func plan(reg Catalog, tool string, raw json.RawMessage) error {
	spec, ok := SpecFor(tool)
	if !ok {
		return argErr("unknown tool %q", tool)
	}
	var notes []string
	switch tool {
	case ToolSearch:
		var a SearchArgs
		return spec.decodeArgs(raw, &a)
	case ToolDescribe:
		var a DescribeArgs
		if err := spec.decodeArgs(raw, &a); err != nil {
			return err
		}
		_, err := lookupProduct(reg, a.Product, "", tool)
		return err
	case ToolQueryRecords:
		var a QueryRecordsArgs
		if err := spec.decodeArgs(raw, &a); err != nil {
			return err
		}
		p, err := lookupProduct(reg, a.Product, catalog.CapRecords, tool)
		if err != nil {
			return err
		}
		_, err = recordsPlan(p, a, testNow, &notes)
		return err
	case ToolQueryMetrics:
		var a QueryMetricsArgs
		if err := spec.decodeArgs(raw, &a); err != nil {
			return err
		}
		p, err := lookupProduct(reg, a.Product, catalog.CapMetrics, tool)
		if err != nil {
			return err
		}
		_, err = metricsPlan(p, a, testNow, &notes)
		return err
	case ToolGetRecord:
		var a GetRecordArgs
		if err := spec.decodeArgs(raw, &a); err != nil {
			return err
		}
		_, err := lookupProduct(reg, a.Product, catalog.CapGet, tool)
		return err
	case ToolFindAnomalies:
		var a FindAnomaliesArgs
		if err := spec.decodeArgs(raw, &a); err != nil {
			return err
		}
		p, err := lookupProduct(reg, a.Product, catalog.CapAnomalies, tool)
		if err != nil {
			return err
		}
		_, err = anomaliesPlan(p, a, testNow, &notes)
		return err
	}
	return nil
}

func TestDecodeErrorsAModelCanActOn(t *testing.T) {
	t.Parallel()
	reg := demoCatalog(t)
	cases := []struct{ tool, args, want string }{
		{ToolQueryRecords, `{"product":"customer-transactions","columns":["amout"]}`, `unknown column "amout" in customer-transactions; did you mean "amount"?`},
		{ToolQueryMetrics, `{"product":"loan-applications","metrics":["revenue"]}`, `metric "revenue" is not defined for loan-applications; defined: application_count, total_requested, average_amount, approval_rate, average_credit_score`},
		{ToolQueryMetrics, `{"product":"loan-aplications","metrics":["approval_rate"]}`, `unknown product "loan-aplications"; did you mean "loan-applications"?`},
		{ToolQueryMetrics, `{"product":"customer-transactions","metrics":["transaction_count"],"group_by":["amount"]}`, `amount is not a dimension of customer-transactions; group by one of type, currency, channel, region, customer_id, account_id`},
		{ToolQueryMetrics, `{"product":"customer-transactions","metrics":["transaction_count"],"compare_to":"previous_period"}`, `compare_to needs a time_range`},
		{ToolQueryRecords, `{"product":"customer-transactions","filters":[{"column":"type","op":"=","value":"deposits"}]}`, `"deposits" is not a value of customer-transactions.type; did you mean "deposit"?`},
		{ToolQueryRecords, `{"product":"customer-transactions","filters":[{"column":"amount","op":">","value":"lots"}]}`, `filter on amount: amount is a number; "lots" is not`},
		{ToolQueryRecords, `{"product":"customer-transactions","filters":[{"column":"amount","op":"between","value":[1]}]}`, `between needs exactly two values`},
		{ToolQueryRecords, `{"product":"customer-transactions","filters":[{"column":"amount","op":"like","value":"1"}]}`, `op: enum: like does not equal any of: [= != < <= > >= in not in contains between is null is not null]`},
		{ToolQueryRecords, `{"product":"customer-transactions","time_range":"last_fortnight"}`, `time_range "last_fortnight" is not a named period`},
		{ToolQueryRecords, `{"product":"customer-transactions","unexpected":1}`, `unexpected`},
		{ToolQueryRecords, `{"product":"customer-transactions","limit":"ten"}`, `limit`},
		{ToolFindAnomalies, `{"product":"loan-applications"}`, `find_anomalies is not available for loan-applications; it offers records, metrics, get`},
		{ToolQueryRecords, `not json`, `arguments are not valid JSON`},
		{ToolQueryRecords, strings.Repeat("[", 20) + strings.Repeat("]", 20), `nested more than 8 levels`},
	}
	for _, c := range cases {
		err := plan(reg, c.tool, json.RawMessage(c.args))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s:\n got  %v\n want %s", c.tool, c.args, err, c.want)
		}
	}
}

func TestDecodeAcceptsWhatModelsSend(t *testing.T) {
	t.Parallel()
	reg := demoCatalog(t)
	for _, c := range []struct{ tool, args string }{
		{ToolQueryRecords, `{"product":"customer-transactions","filters":[{"column":"account_id","op":"=","value":123456}]}`},
		{ToolQueryRecords, `{"product":"customer-transactions","filters":[{"column":"type","op":"in","value":["Deposit","withdrawal"]}],"order_by":[{"field":"amount","direction":"DESC"}]}`},
		{ToolQueryRecords, `{"product":"customer-transactions","filters":[{"column":"occurred_at","op":"=","value":"2026-10-05"}]}`},
		{ToolQueryMetrics, `{"product":"customer-acquisition","metrics":["new_customers"],"group_by":["channel"],"time_range":"2026-01..2026-03","time_grain":"month","compare_to":"previous_year","order_by":[{"field":"new_customers","direction":"desc"}],"limit":5}`},
		{ToolQueryMetrics, `{"product":"customer-interactions","metrics":["resolution_rate"],"filters":[{"column":"resolved","op":"=","value":"true"}]}`},
		{ToolSearch, `{"query":"loans"}`},
	} {
		if err := plan(reg, c.tool, json.RawMessage(c.args)); err != nil {
			t.Errorf("%s %s: %v", c.tool, c.args, err)
		}
	}
}

func FuzzDecodeArguments(f *testing.F) {
	reg := demoCatalog(f)
	for _, s := range []string{
		`{"product":"customer-transactions","columns":["amount"],"filters":[{"column":"amount","op":">=","value":100}],"time_range":"last_month","order_by":[{"field":"amount","direction":"desc"}],"limit":5}`,
		`{"product":"customer-acquisition","metrics":["new_customers"],"group_by":["channel"],"time_grain":"week","compare_to":"previous_period","time_range":"2026-Q3"}`,
		`{"product":"customers","filters":[{"column":"joined_at","op":"between","value":["2026-01-01","2026-02-01"]}]}`,
		`{"query":"loans","limit":3}`, `{"product":"loan-applications","id":"loan-000001"}`, `{}`, `null`, `[]`, `{"product":"x\u0000"}`,
	} {
		for _, tool := range ToolNames() {
			f.Add(tool, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, tool string, raw []byte) {
		if _, ok := SpecFor(tool); !ok {
			tool = ToolNames()[len(raw)%len(ToolNames())]
		}
		spec, _ := SpecFor(tool)
		quickAgrees(t, spec, string(raw))
		err := plan(reg, tool, raw)
		if err != nil && strings.TrimSpace(err.Error()) == "" {
			t.Fatalf("empty error for %q", raw)
		}
	})
}
