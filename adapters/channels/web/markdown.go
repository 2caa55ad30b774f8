package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/textfmt"
)

// markdownRows caps a table's rows in Markdown; the JSON API has them all.
const markdownRows = 25

// Markdown renders an answer for clients that show Markdown (OpenAI-compatible
// chat front ends): the text, each table, what was denied and why, and the
// sources with their audit record ids.
func Markdown(ans *assistant.Answer) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(ans.Text))
	for _, t := range ans.Tables {
		if len(t.Columns) == 0 {
			continue
		}
		b.WriteString("\n\n")
		if t.Title != "" {
			b.WriteString("**" + mdEscape(t.Title) + "**\n\n")
		}
		b.WriteString("|")
		for _, c := range t.Columns {
			b.WriteString(" " + mdEscape(c.Name) + " |")
		}
		b.WriteString("\n|")
		for _, c := range t.Columns {
			if isNumeric(c.Type) {
				b.WriteString("---:|")
			} else {
				b.WriteString("---|")
			}
		}
		for i, row := range t.Rows {
			if i == markdownRows {
				fmt.Fprintf(&b, "\n\n_%d more rows not shown_", len(t.Rows)-markdownRows)
				break
			}
			b.WriteString("\n|")
			for _, v := range row {
				b.WriteString(" " + mdEscape(cellText(v)) + " |")
			}
		}
		if t.TotalRows > int64(len(t.Rows)) {
			fmt.Fprintf(&b, "\n\n_%d rows match; %d shown_", t.TotalRows, len(t.Rows))
		}
		for _, n := range t.Notes {
			b.WriteString("\n\n_" + mdEscape(n) + "_")
		}
	}
	if len(ans.Denials) > 0 {
		b.WriteString("\n\n**Not allowed**")
		for _, d := range ans.Denials {
			what := d.Tool
			if d.Product != "" {
				what = d.Product + " (" + d.Tool + ")"
			}
			fmt.Fprintf(&b, "\n- %s: %s — audit record `%s`", mdEscape(what), mdEscape(d.Reason), d.AuditID)
		}
	}
	if len(ans.Sources) > 0 {
		b.WriteString("\n\n**Sources**")
		for _, s := range ans.Sources {
			fmt.Fprintf(&b, "\n- `%s` via %s — audit record `%s`", s.Product, s.Tool, s.AuditID)
		}
	}
	for _, f := range ans.Flags {
		b.WriteString("\n\n> ⚠ " + mdEscape(f))
	}
	return b.String()
}

func isNumeric(typ string) bool {
	switch typ {
	case "integer", "number", "decimal", "float", "int":
		return true
	}
	return false
}

// cellText formats a value as people read it: whole numbers with thousands
// separators, fractions to four significant digits.
func cellText(v any) string {
	switch t := v.(type) {
	case nil:
		return "—"
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return textfmt.GroupThousands(strconv.FormatInt(int64(t), 10))
		}
		// Plain decimals, never exponents: 182,903.07, 0.1235.
		s := strconv.FormatFloat(t, 'f', -1, 64)
		if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > 4 {
			s = strings.TrimRight(strings.TrimRight(textfmt.RoundDecimal(s, 4), "0"), ".")
		}
		return textfmt.GroupThousands(s)
	case int64:
		return textfmt.GroupThousands(strconv.FormatInt(t, 10))
	case int:
		return textfmt.GroupThousands(strconv.Itoa(t))
	case string:
		return t
	}
	return fmt.Sprint(v)
}

// mdReplacer makes text from users and data inert in markdown and in the
// HTML many markdown renderers pass through: no table breaks, emphasis,
// links or images ([x](url), ![x](url)), autolinks or tags (<img ...>).
var mdReplacer = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "*", `\*`, "_", `\_`, "`", "'",
	"[", `\[`, "]", `\]`, "!", `\!`, "<", "&lt;", ">", "&gt;", "&", "&amp;")

func mdEscape(s string) string { return mdReplacer.Replace(s) }
