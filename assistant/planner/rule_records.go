package planner

import (
	"strconv"

	"github.com/askmesh/askmesh/tools"
)

// ruleRecords lists rows: "show me the 5 largest withdrawals last month",
// "list loans over 500000", "the emails of customers in Europe".
var ruleRecords = rule{
	name:    "records",
	applies: func(f *features) bool { return f.product != nil },
	plan: func(p *Planner, a *analysis, f *features) *intent {
		d := p.shape(a, p.base(a, f.product))
		if !d.records {
			return nil
		}
		return p.recordsIntent(a, d)
	},
}

// recordsIntent plans the records query of a question that asks for rows.
func (p *Planner) recordsIntent(a *analysis, d *dataBase) *intent {
	prod, in, filters, tr, sup, supWord := d.prod, d.in, d.filters, d.tr, d.sup, d.supWord
	args := tools.QueryRecordsArgs{Product: prod.Name, Filters: filters, TimeRange: tr}
	if cols := p.requestedColumns(a, prod); len(cols) > 0 {
		args.Columns = cols
	}
	if supWord != "" {
		field, desc := "", true
		switch supWord {
		case "latest", "most recent", "newest", "recent", "last":
			field = prod.TimeColumn
		case "oldest", "earliest", "first":
			field, desc = prod.TimeColumn, false
		case "smallest", "lowest", "cheapest":
			field, desc = p.sortMeasure(a, prod), false
		default:
			field = p.sortMeasure(a, prod)
		}
		if field != "" {
			args.OrderBy = []tools.OrderBy{{Field: field, Direction: dirName(desc)}}
		}
		switch {
		case sup[2] >= 0:
			args.Limit, _ = strconv.Atoi(a.free[sup[2]:sup[3]])
		case sup[6] >= 0:
			args.Limit, _ = strconv.Atoi(a.free[sup[6]:sup[7]])
		case singularAfter(a, sup[5]):
			args.Limit = 1
		default:
			args.Limit = 10
		}
	} else {
		if n := countAsked(a); n > 0 {
			args.Limit = n
		}
		if prod.TimeColumn != "" {
			args.OrderBy = []tools.OrderBy{{Field: prod.TimeColumn, Direction: "desc"}}
		}
	}
	in.calls = []plannedCall{{tools.ToolQueryRecords, args}}
	return in
}
