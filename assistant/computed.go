package assistant

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/askmesh/askmesh/internal/textfmt"
	"github.com/askmesh/askmesh/tools"
)

// Computation says in plain words how one part of an answer was computed:
// one allowed data call's product, what it computed (the metrics and their
// definitions, or records), the filters — the asker's own and the ones
// policy added, marked by Origin —, the period and the audit record.
// Channels show these under the answer ("How was this computed?"); the
// tool and its arguments let an analyst make the same call through the API.
type Computation struct {
	Product   string             `json:"product"`
	Tool      string             `json:"tool"`
	Summary   string             `json:"summary"` // one sentence
	Metrics   []MetricDefinition `json:"metrics,omitempty"`
	Filters   []ProvenanceFilter `json:"filters"`
	Period    string             `json:"period"`
	Rows      int                `json:"rows"`
	AuditID   string             `json:"audit_id"`
	Arguments json.RawMessage    `json:"arguments"`
}

// MetricDefinition is a metric as its product's descriptor defines it.
type MetricDefinition struct {
	Name       string `json:"name"`
	Label      string `json:"label"`
	Definition string `json:"definition,omitempty"`
}

// computations explains each allowed data call of an answer, in call order.
// Catalog searches and descriptions compute nothing and are left out.
func computations(calls []ToolCallRecord, results map[string]*tools.Result) []Computation {
	var out []Computation
	for _, call := range calls {
		res, ok := results[call.ID]
		if !ok || call.Decision != "allow" || res.Product == "" {
			continue
		}
		var a struct {
			Filters   []tools.Filter  `json:"filters"`
			GroupBy   []string        `json:"group_by"`
			TimeGrain string          `json:"time_grain"`
			CompareTo string          `json:"compare_to"`
			OrderBy   []tools.OrderBy `json:"order_by"`
			ID        string          `json:"id"`
		}
		_ = json.Unmarshal(call.Arguments, &a) // the executor decoded them already
		c := Computation{Product: res.Product, Tool: call.Tool, Rows: len(res.Rows), AuditID: call.AuditID,
			Arguments: call.Arguments, Filters: []ProvenanceFilter{}}
		for _, f := range a.Filters {
			c.Filters = append(c.Filters, ProvenanceFilter{Column: f.Column, Op: f.Op, Value: f.Value, Origin: "question"})
		}
		for _, f := range res.PolicyFilters {
			c.Filters = append(c.Filters, ProvenanceFilter{Column: f.Column, Op: f.Op, Value: f.Value, Origin: "policy"})
		}
		c.Period = textfmt.Period(rangeText(res.TimeRange))
		if c.Period == "" {
			c.Period = "all time"
		}
		for _, m := range res.Metrics {
			def := m.Expression
			if m.Description != "" {
				def = strings.TrimSpace(m.Description + " " + bracket(m.Expression))
			}
			c.Metrics = append(c.Metrics, MetricDefinition{Name: m.Name, Label: textfmt.Humanize(m.Name), Definition: def})
		}
		var what []string
		switch call.Tool {
		case tools.ToolQueryMetrics:
			for _, m := range c.Metrics {
				what = append(what, m.Label)
			}
			s := strings.Join(what, ", ")
			if len(a.GroupBy) > 0 {
				s += " by " + humanList(a.GroupBy)
			}
			if a.TimeGrain != "" {
				s += ", " + a.TimeGrain + " by " + a.TimeGrain
			}
			what = []string{s}
			if res.CompareRange != nil {
				what = append(what, "compared with "+textfmt.Period(rangeText(res.CompareRange)))
			}
		case tools.ToolGetRecord:
			what = []string{"the record " + a.ID}
		case tools.ToolFindAnomalies:
			what = []string{fmt.Sprintf("%d unusual %s", len(res.Rows), textfmt.Plural(len(res.Rows), "record", "records"))}
		default:
			s := fmt.Sprintf("%d %s", len(res.Rows), textfmt.Plural(len(res.Rows), "record", "records"))
			if res.TotalCount != nil && *res.TotalCount > int64(len(res.Rows)) {
				s = fmt.Sprintf("%d of %s matching records", len(res.Rows), textfmt.GroupThousands(fmt.Sprint(*res.TotalCount)))
			}
			for _, o := range a.OrderBy {
				dir := "smallest first"
				if o.Direction == "desc" {
					dir = "largest first"
				}
				s += ", by " + textfmt.Humanize(o.Field) + " " + dir
			}
			what = []string{s}
		}
		summary := textfmt.Capitalize(strings.Join(what, ", ")) + " from " + res.Product
		if c.Period == "all time" {
			summary += ", all time"
		} else {
			summary += " in " + c.Period
		}
		if len(c.Filters) > 0 {
			var fs []string
			for _, f := range c.Filters {
				fs = append(fs, FilterText(f))
			}
			summary += ", where " + strings.Join(fs, " and ")
		}
		c.Summary = summary + "."
		out = append(out, c)
	}
	return out
}

// FilterText says a filter in plain words: "type is withdrawal", "region is
// europe (added by policy)".
func FilterText(f ProvenanceFilter) string {
	col := textfmt.Humanize(f.Column)
	val := filterValue(f.Value)
	var s string
	switch strings.ToLower(f.Op) {
	case "=", "==":
		s = col + " is " + val
	case "!=", "<>":
		s = col + " is not " + val
	case "<":
		s = col + " is below " + val
	case "<=":
		s = col + " is at most " + val
	case ">":
		s = col + " is over " + val
	case ">=":
		s = col + " is at least " + val
	case "in":
		s = col + " is one of " + val
	case "not in":
		s = col + " is none of " + val
	case "contains":
		s = col + " contains " + val
	case "between":
		if vs, ok := f.Value.([]any); ok && len(vs) == 2 {
			s = col + " is between " + filterValue(vs[0]) + " and " + filterValue(vs[1])
		} else {
			s = col + " is between " + val
		}
	case "is null":
		s = col + " is empty"
	case "is not null":
		s = col + " is not empty"
	default:
		s = strings.TrimSpace(col + " " + f.Op + " " + val)
	}
	if f.Origin == "policy" {
		s += " (added by policy)"
	}
	return s
}

func filterValue(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = filterValue(x)
		}
		return strings.Join(parts, ", ")
	case []string:
		return strings.Join(t, ", ")
	}
	return textfmt.Cell(v)
}

func humanList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = textfmt.Humanize(n)
	}
	return strings.Join(out, " and ")
}
