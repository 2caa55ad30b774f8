package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/tools"
)

func (g *globals) queryCmd() *cobra.Command {
	var (
		as                                  string
		records, metrics, anomalies, asJSON bool
		get                                 string
	)
	cmd := &cobra.Command{
		Use:   "query PRODUCT (--records|--metrics|--anomalies) ['{json arguments}'] | query PRODUCT --get ID",
		Short: "Run one tool call against a product as a user, through policy and audit",
		Example: `  askmesh query customer-acquisition --metrics '{"metrics":["new_customers"],"time_range":"last_month","compare_to":"previous_period"}' --as carol
  askmesh query customer-transactions --records '{"filters":[{"column":"account_id","op":"=","value":"123456"}],"limit":5}' --as erin
  askmesh query loan-applications --get loan-000042 --as bob`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			tool, n := "", 0
			for _, f := range []struct {
				on   bool
				tool string
			}{{records, tools.ToolQueryRecords}, {metrics, tools.ToolQueryMetrics}, {anomalies, tools.ToolFindAnomalies}, {get != "", tools.ToolGetRecord}} {
				if f.on {
					tool, n = f.tool, n+1
				}
			}
			if n != 1 {
				return usageError{errors.New("give exactly one of --records, --metrics, --anomalies or --get ID")}
			}
			raw := "{}"
			if len(args) == 2 {
				raw = args[1]
			}
			arguments, err := withProduct(raw, args[0], get)
			if err != nil {
				return err
			}
			a, err := g.buildChecked(cmd)
			if err != nil {
				return err
			}
			defer a.Close()
			c, err := caller(a, as, "cli")
			if err != nil {
				return err
			}
			res, err := a.Executor.Call(cmd.Context(), c, tools.Call{Tool: tool, Arguments: arguments})
			if err != nil {
				if id := tools.AuditIDOf(err); id != "" {
					return fmt.Errorf("%w (audit %s)", err, id)
				}
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			return printResult(cmd.OutOrStdout(), res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&as, "as", "", "the directory user to act as (demo and development only)")
	f.BoolVar(&records, "records", false, "query_records")
	f.BoolVar(&metrics, "metrics", false, "query_metrics")
	f.BoolVar(&anomalies, "anomalies", false, "find_anomalies")
	f.StringVar(&get, "get", "", "get_record with this key")
	f.BoolVar(&asJSON, "json", false, "print the tool result as JSON (see docs/cli.md)")
	return cmd
}

// withProduct puts the product (and the record id for --get) into the JSON
// arguments, so the command line and the model send the same call.
func withProduct(raw, product, id string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("arguments are not a JSON object: %w", err)
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	p, _ := json.Marshal(product)
	m["product"] = p
	if id != "" {
		v, _ := json.Marshal(id)
		m["id"] = v
	}
	return json.Marshal(m)
}
