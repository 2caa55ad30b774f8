package assistant

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/internal/textfmt"
	"github.com/askmesh/askmesh/tools"
)

// maxProvenance bounds the entries of one answer: a long breakdown is in
// its table, whose source says the same for every row.
const maxProvenance = 50

// provenance traces the numbers of the metrics results to what produced
// them: product, metric and definition, the asker's filters and the ones
// policy added, period (partial when not over), unit and audit record.
// It is built from the tool results, whatever model wrote the text.
func provenance(calls []ToolCallRecord, results map[string]*tools.Result) []Provenance {
	var out []Provenance
	for _, call := range calls {
		res, ok := results[call.ID]
		if !ok || call.Decision != audit.DecisionAllow || res.Tool != tools.ToolQueryMetrics {
			continue
		}
		var args tools.QueryMetricsArgs
		_ = json.Unmarshal(call.Arguments, &args)
		var filters []ProvenanceFilter
		for _, f := range args.Filters {
			filters = append(filters, ProvenanceFilter{Column: f.Column, Op: f.Op, Value: f.Value, Origin: "question"})
		}
		for _, f := range res.PolicyFilters {
			filters = append(filters, ProvenanceFilter{Column: f.Column, Op: f.Op, Value: f.Value, Origin: "policy"})
		}
		period := textfmt.Period(rangeText(res.TimeRange))
		if period == "" {
			period = "all time"
		}
		partial := false
		for _, pp := range res.Partial {
			if pp.Bucket == "" {
				partial = true
			}
		}
		defs := map[string]tools.MetricDescription{}
		for _, m := range res.Metrics {
			defs[m.Name] = m
		}
		var dims []int
		periodCol := -1
		for i, c := range res.Columns {
			switch c.Role {
			case tools.RoleDimension:
				dims = append(dims, i)
			case tools.RolePeriod:
				periodCol = i
			}
		}
		for _, row := range res.Rows {
			var where []string
			rowPartial := partial
			for _, i := range dims {
				where = append(where, fmt.Sprint(row[i]))
			}
			rowPeriod := period
			if periodCol >= 0 {
				rowPeriod = textfmt.Bucket(row[periodCol], args.TimeGrain)
				for _, pp := range res.Partial {
					if pp.Bucket != "" && fmt.Sprint(row[periodCol]) == pp.Bucket {
						rowPartial = true
						rowPeriod += " so far"
					}
				}
			}
			for i, c := range res.Columns {
				if c.Role != tools.RoleMetric || i >= len(row) {
					continue
				}
				if len(out) == maxProvenance {
					return out
				}
				d := defs[c.Name]
				unit, value := c.Unit, displayValue(row[i], c, d)
				switch {
				case c.UnitValue != "":
					unit = c.UnitValue
				case c.UnitColumn != "":
					if j := columnIndex(res.Columns, c.UnitColumn); j >= 0 {
						unit = fmt.Sprint(row[j])
					}
				}
				if unit != c.Unit { // a currency: amounts are shown with it
					value = unit + " " + value
				}
				label := textfmt.Humanize(c.Name)
				if len(where) > 0 {
					label += " (" + strings.Join(where, ", ") + ")"
				}
				def := d.Expression
				if d.Description != "" {
					def = strings.TrimSpace(d.Description + " " + bracket(d.Expression))
				}
				out = append(out, Provenance{Value: value, Label: label, Product: res.Product, Metric: c.Name,
					Definition: def, Filters: filters, Period: rowPeriod, Partial: rowPartial, Unit: unit, AuditID: call.AuditID})
			}
		}
	}
	return out
}

func bracket(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func columnIndex(cols []tools.ResultColumn, name string) int {
	for i, c := range cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// displayValue writes a value as answers show it: rates as percentages,
// amounts with their decimals and currency code when known.
func displayValue(v any, c tools.ResultColumn, d tools.MetricDescription) string {
	unit := c.Unit
	if unit == "" {
		unit = d.Unit
	}
	return textfmt.Metric(v, unit, precisionOf(v, unit))
}

// precisionOf picks decimal places when the descriptor's are not at hand:
// four for ratios (two as a percentage), two for other non-integers.
func precisionOf(v any, unit string) int {
	if unit == "ratio" {
		return 4
	}
	if s, ok := textfmt.DecimalText(v); ok && !strings.Contains(s, ".") {
		return 0
	}
	return 2
}

// outcomeOf says what kind of answer a model's final text is when the model
// did not say: declined when every data call was refused, else answered.
func outcomeOf(ans *Answer, final bool) string {
	if !final {
		return OutcomePartial
	}
	if len(ans.Sources) == 0 && len(ans.Denials) > 0 {
		return OutcomeDeclined
	}
	return OutcomeAnswered
}
