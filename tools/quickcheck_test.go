package tools

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestQuickCheckCoversEveryTool(t *testing.T) {
	t.Parallel()
	// A tool whose schema the quick check cannot compile still works, but
	// every call of it pays for the general validator: say so here.
	for _, s := range Specs() {
		if s.quick == nil {
			t.Errorf("%s: the quick check does not cover its schema", s.Name)
		}
	}
}

// quickAgrees checks the quick check never accepts what the general
// validator refuses, and returns whether it accepted.
func quickAgrees(t *testing.T, s *Spec, raw string) bool {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return false
	}
	ok := s.quick != nil && s.quick.accepts(v)
	if err := s.resolved.Validate(v); ok && err != nil {
		t.Errorf("%s %s: the quick check accepts what the validator refuses: %v", s.Name, raw, err)
	}
	return ok
}

func TestQuickCheckAcceptsOnlyValidArguments(t *testing.T) {
	t.Parallel()
	valid := map[string][]string{
		ToolQueryMetrics: {
			`{"product":"customer-transactions","metrics":["transaction_count","total_amount"],"group_by":["channel"],"filters":[{"column":"type","op":"=","value":"deposit"}],"time_range":"last_7_days"}`,
			`{"product":"customer-acquisition","metrics":["new_customers"],"group_by":["channel"],"time_range":"2026-01..2026-03","time_grain":"month","compare_to":"previous_year","order_by":[{"field":"new_customers","direction":"desc"}],"limit":5}`,
			`{"product":"p","metrics":[],"limit":1000,"filters":[{"column":"c","op":"is null"},{"column":"c","op":"in","value":[1,"a",null,{"x":[]}]}]}`,
			`{"product":"p","metrics":["m"],"limit":3.0}`,
		},
		ToolQueryRecords: {`{"product":"customer-transactions","filters":[{"column":"account_id","op":"=","value":123456}]}`},
		ToolSearch:       {`{"query":"loans"}`, `{"query":"é","limit":20}`},
		ToolDescribe:     {`{"product":"loans"}`},
		ToolGetRecord:    {`{"product":"loans","id":"x"}`},
		ToolFindAnomalies: {
			`{"product":"customer-transactions","time_range":"last_month","limit":20}`,
		},
	}
	invalid := map[string][]string{
		ToolQueryMetrics: {
			`{"product":"p"}`,                // metrics required
			`{"metrics":["m"]}`,              // product required
			`{"product":"","metrics":["m"]}`, // minLength
			`{"product":"` + strings.Repeat("é", 201) + `","metrics":["m"]}`, // maxLength in code points
			`{"product":"p","metrics":["m"],"limit":0}`,                      // minimum
			`{"product":"p","metrics":["m"],"limit":1001}`,                   // maximum
			`{"product":"p","metrics":["m"],"limit":2.5}`,                    // integer
			`{"product":"p","metrics":["m"],"limit":"5"}`,                    // type
			`{"product":"p","metrics":"m"}`,                                  // array
			`{"product":"p","metrics":[1]}`,                                  // items
			`{"product":"p","metrics":["m"],"extra":1}`,                      // additionalProperties
			`{"product":"p","metrics":["m"],"time_grain":"hour"}`,            // enum
			`{"product":"p","metrics":["m"],"time_grain":1}`,                 // enum, not a string
			`{"product":"p","metrics":["m"],"filters":[{"column":"c"}]}`,
			`{"product":"p","metrics":["m"],"filters":[{"column":"c","op":"like"}]}`,
			`{"product":"p","metrics":["m"],"filters":[{"column":"c","op":"=","other":1}]}`,
			`{"product":"p","metrics":["m"],"order_by":[{"field":"m","direction":"DESC"}]}`,
			`{"product":"p","metrics":["m"],"group_by":[` + strings.Repeat(`"g",`, 100) + `"g"]}`, // maxItems
			`{"product":"p","metrics":["m"],"time_range":null}`,
			`[]`, `null`, `"x"`, `1`,
		},
	}
	for tool, cases := range valid {
		s, _ := SpecFor(tool)
		for _, raw := range cases {
			if !quickAgrees(t, s, raw) {
				t.Errorf("%s %s: the quick check sends valid arguments to the validator", tool, raw)
			}
		}
	}
	for tool, cases := range invalid {
		s, _ := SpecFor(tool)
		for _, raw := range cases {
			if quickAgrees(t, s, raw) {
				t.Errorf("%s %s: the quick check accepts invalid arguments", tool, raw)
			}
		}
	}
}
