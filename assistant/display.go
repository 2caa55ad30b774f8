package assistant

import (
	"fmt"
	"strings"

	"github.com/askmesh/askmesh/internal/textfmt"
	"github.com/askmesh/askmesh/tools"
)

// DisplayCell writes one table cell as every channel shows it, so the web
// chat, Slack and API clients read the same thing: rates as percentages,
// a rate's change in points, percent changes signed, amounts with their
// currency when the row names it, numbers with thousands separators.
func DisplayCell(v any, c tools.ResultColumn, row []any, cols []tools.ResultColumn) string {
	if v == nil {
		return "—"
	}
	if _, ok := textfmt.DecimalText(v); !ok {
		return textfmt.Cell(v)
	}
	var s string
	switch {
	case c.Role == tools.RoleChangePct:
		return textfmt.Pct(v)
	case c.Unit == "ratio" && c.Role == tools.RoleChange:
		d, _ := textfmt.DecimalText(v)
		pts := textfmt.RoundDecimal(textfmt.ShiftPoint(d, 2), 2)
		if !strings.HasPrefix(pts, "-") && strings.Trim(pts, "0.") != "" {
			pts = "+" + pts
		}
		return textfmt.GroupThousands(pts) + " pts"
	case c.Unit == "ratio":
		return textfmt.Metric(v, "ratio", 4)
	case c.Role == tools.RoleChange:
		s = textfmt.Metric(v, c.Unit, precisionOf(v, c.Unit))
		if !strings.HasPrefix(s, "-") && strings.Trim(s, "0.,") != "" {
			s = "+" + s
		}
	default:
		s = textfmt.Metric(v, c.Unit, precisionOf(v, c.Unit))
	}
	switch {
	case c.UnitValue != "":
		s = c.UnitValue + " " + s
	case c.UnitColumn != "":
		for i, rc := range cols {
			if rc.Name == c.UnitColumn && i < len(row) && row[i] != nil {
				s = fmt.Sprint(row[i]) + " " + s
			}
		}
	}
	return s
}

// DisplayRows formats every cell of a table with DisplayCell.
func DisplayRows(cols []tools.ResultColumn, rows [][]any) [][]string {
	out := make([][]string, len(rows))
	for r, row := range rows {
		out[r] = make([]string, len(row))
		for i, v := range row {
			var c tools.ResultColumn
			if i < len(cols) {
				c = cols[i]
			}
			out[r][i] = DisplayCell(v, c, row, cols)
		}
	}
	return out
}
