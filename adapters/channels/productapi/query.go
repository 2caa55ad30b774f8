package productapi

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// Query parameter filter operators, as in amount[gte]=100, and the tool
// operator each stands for. A bare column=value means equality.
var paramOps = map[string]string{
	"eq": tools.OpEq, "ne": tools.OpNe, "lt": tools.OpLt, "lte": tools.OpLe, "gt": tools.OpGt, "gte": tools.OpGe,
	"in": tools.OpIn, "nin": tools.OpNotIn, "contains": tools.OpContains, "between": tools.OpBetween, "null": "",
}

// ParamOp returns the query parameter operator of a tool operator.
func ParamOp(op string) (string, bool) {
	for k, v := range paramOps {
		if v == op && k != "null" {
			return k, true
		}
	}
	return "", false
}

// reserved are the parameters that are not column filters.
var reserved = map[string]bool{
	"sort": true, "limit": true, "cursor": true, "offset": true, "columns": true, "format": true,
	"start_date": true, "end_date": true, "time_range": true,
	"metrics": true, "group_by": true, "time_grain": true, "compare_to": true,
}

var filterParam = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)(?:\[([a-z]+)\])?$`)

// query is a request's parsed parameters.
type query struct {
	v       url.Values
	filters []tools.Filter
	order   []tools.OrderBy
	limit   int
	offset  int
	tr      string
}

func parseQuery(v url.Values) (*query, error) {
	q := &query{v: v}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a stable order: filters are part of cursor bindings
	for _, k := range keys {
		if reserved[k] {
			continue
		}
		m := filterParam.FindStringSubmatch(k)
		if m == nil {
			return nil, fmt.Errorf("parameter %q is neither a known parameter nor a column filter (column=value or column[op]=value)", k)
		}
		col, opName := m[1], m[2]
		if opName == "" {
			opName = "eq"
		}
		op, ok := paramOps[opName]
		if !ok {
			return nil, fmt.Errorf("parameter %q: unknown operator %q; operators are eq, ne, lt, lte, gt, gte, in, nin, contains, between, null", k, opName)
		}
		vals := v[k]
		switch opName {
		case "null":
			for _, s := range vals {
				b, err := strconv.ParseBool(s)
				if err != nil {
					return nil, fmt.Errorf("parameter %q: true or false", k)
				}
				f := tools.Filter{Column: col, Op: tools.OpIsNull}
				if !b {
					f.Op = tools.OpIsNotNull
				}
				q.filters = append(q.filters, f)
			}
		case "in", "nin", "between":
			if len(vals) == 1 && strings.Contains(vals[0], ",") {
				vals = strings.Split(vals[0], ",")
			}
			list := make([]any, len(vals))
			for i, s := range vals {
				list[i] = s
			}
			q.filters = append(q.filters, tools.Filter{Column: col, Op: op, Value: list})
		default:
			for _, s := range vals {
				q.filters = append(q.filters, tools.Filter{Column: col, Op: op, Value: s})
			}
		}
	}
	if s := v.Get("sort"); s != "" {
		for _, f := range strings.Split(s, ",") {
			f = strings.TrimSpace(f)
			ob := tools.OrderBy{Field: f}
			if rest, ok := strings.CutPrefix(f, "-"); ok {
				ob = tools.OrderBy{Field: rest, Direction: "desc"}
			} else if rest, ok := strings.CutPrefix(f, "+"); ok {
				ob.Field = rest
			}
			if ob.Field != "" {
				q.order = append(q.order, ob)
			}
		}
	}
	var err error
	if q.limit, err = intParam(v, "limit"); err != nil {
		return nil, err
	}
	if q.offset, err = intParam(v, "offset"); err != nil {
		return nil, err
	}
	start, end, tr := v.Get("start_date"), v.Get("end_date"), v.Get("time_range")
	switch {
	case tr != "" && (start != "" || end != ""):
		return nil, fmt.Errorf("give either time_range or start_date/end_date, not both")
	case tr != "":
		q.tr = tr
	case start != "" || end != "":
		// A date end is inclusive (the whole day); an RFC 3339 instant is exclusive.
		q.tr = start + ".." + end
	}
	return q, nil
}

func intParam(v url.Values, k string) (int, error) {
	s := v.Get(k)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("parameter %s: a non-negative whole number, not %q", k, s)
	}
	return n, nil
}

func list(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func (q *query) recordsArgs(p *catalog.Product) (tools.QueryRecordsArgs, error) {
	return tools.QueryRecordsArgs{Product: p.Name, Columns: list(q.v.Get("columns")), Filters: q.filters,
		TimeRange: q.tr, OrderBy: q.order, Limit: q.limit, Cursor: q.v.Get("cursor")}, nil
}

func (q *query) metricsArgs(p *catalog.Product) (tools.QueryMetricsArgs, error) {
	ms := list(q.v.Get("metrics"))
	if len(ms) == 0 {
		ms = p.HeadlineMetrics
	}
	if len(ms) == 0 {
		ms = p.MetricNames()
	}
	if q.offset > 0 || q.v.Get("cursor") != "" {
		return tools.QueryMetricsArgs{}, fmt.Errorf("metrics are not paged; use limit and sort for a top N")
	}
	return tools.QueryMetricsArgs{Product: p.Name, Metrics: ms, GroupBy: list(q.v.Get("group_by")), Filters: q.filters,
		TimeRange: q.tr, TimeGrain: q.v.Get("time_grain"), CompareTo: q.v.Get("compare_to"), OrderBy: q.order, Limit: q.limit}, nil
}

func (q *query) anomaliesArgs(p *catalog.Product) (tools.FindAnomaliesArgs, error) {
	if q.offset > 0 || q.v.Get("cursor") != "" || len(q.order) > 0 {
		return tools.FindAnomaliesArgs{}, fmt.Errorf("anomalies are neither paged nor sorted; use limit")
	}
	return tools.FindAnomaliesArgs{Product: p.Name, Filters: q.filters, TimeRange: q.tr, Limit: q.limit}, nil
}
