package planner

import (
	"regexp"
	"slices"

	"github.com/askmesh/askmesh/tools"
)

var compareRe = regexp.MustCompile(`\b(?:compare|compared|comparing|comparison|versus|vs|against)\b`)

// ruleCompareValues puts named values side by side: "Compare email vs
// social campaigns by conversions" groups by the column the values share,
// one row each, rather than one lumped total.
var ruleCompareValues = rule{
	name:    "compare-values",
	applies: func(f *features) bool { return f.compare && f.product != nil },
	plan: func(p *Planner, a *analysis, f *features) *intent {
		d := p.shape(a, p.base(a, f.product))
		col := ""
		for _, flt := range d.filters {
			if flt.Op == tools.OpIn && f.product.IsDimension(flt.Column) {
				col = flt.Column
				break
			}
		}
		if col == "" || d.records {
			return nil
		}
		in := p.metricsIntent(a, d)
		for i, c := range in.calls {
			args, ok := c.args.(tools.QueryMetricsArgs)
			if !ok {
				continue
			}
			if !slices.Contains(args.GroupBy, col) {
				args.GroupBy = append(args.GroupBy, col)
			}
			if args.TimeGrain == "" && len(args.OrderBy) == 0 {
				args.OrderBy = []tools.OrderBy{{Field: args.Metrics[0], Direction: "desc"}}
			}
			args.Limit = 0
			in.calls[i].args = args
		}
		return in
	},
}
