package slack

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/chart"
	"github.com/askmesh/askmesh/internal/textfmt"
)

// Slack's limits, from its Block Kit and chat.postMessage documentation.
const (
	maxSectionText = 3000 // characters in one section block's text
	maxBlocks      = 50   // blocks in one message
	maxTableRows   = 100  // rows in a table block, header included
	maxTableCols   = 20   // columns in a table block
	shownTableRows = 20   // rows we show before "n more rows" and a CSV
	maxContextText = 2000
)

var (
	mdBold   = regexp.MustCompile(`\*\*(.+?)\*\*`)
	mdLink   = regexp.MustCompile(`\[([^\]]+)\]\((https?://[^)\s]+)\)`)
	mdHeader = regexp.MustCompile(`(?m)^#{1,6}\s+(.+)$`)
	mdEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
)

// mrkdwn converts the Markdown models write to Slack's mrkdwn, and escapes
// the three characters Slack treats as control sequences.
func mrkdwn(s string) string {
	s = mdEscape.Replace(s)
	s = mdLink.ReplaceAllString(s, "<$2|$1>")
	s = mdBold.ReplaceAllString(s, "*$1*")
	s = mdHeader.ReplaceAllString(s, "*$1*")
	return s
}

// splitText cuts text into pieces of at most max characters, preferring
// paragraph, then line, then word boundaries.
func splitText(s string, max int) []string {
	var out []string
	for len([]rune(s)) > max {
		r := []rune(s)
		cut := string(r[:max])
		i := strings.LastIndex(cut, "\n\n")
		if i < max/2 {
			i = strings.LastIndex(cut, "\n")
		}
		if i < max/2 {
			i = strings.LastIndex(cut, " ")
		}
		if i <= 0 {
			i = len(cut)
		}
		out = append(out, strings.TrimSpace(s[:i]))
		s = strings.TrimSpace(s[i:])
	}
	if s != "" || len(out) == 0 {
		out = append(out, s)
	}
	return out
}

// textBlocks renders text as section blocks within Slack's limits.
func textBlocks(text string) []slack.Block { return textBlocksMrkdwn(mrkdwn(text)) }

// tableBlock renders a table's first rows as a Block Kit table. more is the
// number of rows (or the fact of columns) left out, for the "n more" note.
func tableBlock(t assistant.Table) (block *slack.TableBlock, moreRows int, cutCols bool) {
	cols := t.Columns
	if len(cols) > maxTableCols {
		cols, cutCols = cols[:maxTableCols], true
	}
	rows := t.Rows
	if len(rows) > shownTableRows {
		rows = rows[:shownTableRows]
	}
	moreRows = int(t.TotalRows) - len(rows)
	if moreRows < 0 {
		moreRows = 0
	}
	tb := slack.NewTableBlock("")
	header := make([]slack.TableCell, 0, len(cols))
	settings := make([]slack.ColumnSetting, len(cols))
	for i, c := range cols {
		header = append(header, slack.NewTableRichTextCell(slack.NewRichTextSection(
			slack.NewRichTextSectionTextElement(c.Name, &slack.RichTextSectionTextStyle{Bold: true}))))
		settings[i] = slack.ColumnSetting{Align: slack.ColumnAlignmentLeft}
		if c.Role == "metric" || c.Role == "previous" || c.Role == "change" || c.Role == "change_pct" || c.Type == "number" || c.Type == "integer" {
			settings[i].Align = slack.ColumnAlignmentRight
		}
	}
	tb.AddRow(header...)
	for rowIndex, r := range rows {
		cells := make([]slack.TableCell, 0, len(cols))
		for i := range cols {
			var v any
			if i < len(r) {
				v = r[i]
			}
			// raw_text for numbers too: Slack has rejected raw_number cells before.
			// The answer's display cells say rates as percentages and amounts
			// with their currency.
			text := formatCell(v)
			if r := rowIndex; r < len(t.Display) && i < len(t.Display[r]) {
				text = t.Display[r][i]
			}
			cells = append(cells, slack.NewTableRawTextCell(text))
		}
		tb.AddRow(cells...)
	}
	tb.ColumnSettings = settings
	return tb, moreRows, cutCols
}

// formatCell shows a value as people read it: thousands separators, no
// float noise, an em dash for nothing.
func formatCell(v any) string {
	switch t := v.(type) {
	case nil:
		return "—"
	case float64:
		if t == float64(int64(t)) && t < 1e15 && t > -1e15 {
			return textfmt.GroupThousands(strconv.FormatInt(int64(t), 10))
		}
		s := strconv.FormatFloat(t, 'f', -1, 64)
		whole, frac, _ := strings.Cut(s, ".")
		if len(frac) > 4 {
			frac = frac[:4]
		}
		return textfmt.GroupThousands(whole) + "." + frac
	case int64:
		return textfmt.GroupThousands(strconv.FormatInt(t, 10))
	case int:
		return textfmt.GroupThousands(strconv.Itoa(t))
	case bool:
		if t {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(v)
}

// tableCSV is the full table as CSV, uploaded when the message shows only part.
func tableCSV(t assistant.Table) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c.Name
	}
	_ = w.Write(header)
	for _, r := range t.Rows {
		rec := make([]string, len(r))
		for i, v := range r {
			if v != nil {
				rec[i] = fmt.Sprint(v)
			}
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}

// sourcesBlock cites where the numbers came from, with the audit records.
func sourcesBlock(sources []assistant.Source) slack.Block {
	var parts []string
	for _, s := range sources {
		p := fmt.Sprintf("*%s* · %s", s.Product, s.Tool)
		if s.AuditID != "" {
			p += " · audit `" + shortID(s.AuditID) + "`"
		}
		parts = append(parts, p)
	}
	text := "Sources: " + strings.Join(parts, "  |  ")
	if r := []rune(text); len(r) > maxContextText {
		text = string(r[:maxContextText-1]) + "…"
	}
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, text, false, false))
}

func shortID(id string) string {
	if len(id) > 13 {
		return id[len(id)-12:]
	}
	return id
}

// denialBlocks state denials plainly.
func denialBlocks(denials []assistant.Denial) []slack.Block {
	var out []slack.Block
	for _, d := range denials {
		what := d.Product
		if what == "" {
			what = d.Tool
		}
		text := fmt.Sprintf(":no_entry: *Not allowed* (%s): %s", what, mrkdwn(d.Reason))
		out = append(out, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, text, false, false)))
	}
	return out
}

// rendered is one answer laid out as Slack messages: the first replaces the
// placeholder, the rest follow in the thread; files are uploaded after.
type rendered struct {
	messages [][]slack.Block
	fallback string // notification text
	files    []upload
}

type upload struct {
	name, title string
	data        []byte
}

// render lays out an answer: text, then the first table (Slack allows one
// table block a message; further tables follow as replies), denials and
// sources; charts as PNG and full results as CSV uploads.
func render(ans *assistant.Answer) rendered {
	var r rendered
	r.fallback = ans.Text
	if len(r.fallback) > 300 {
		// Cut on a character boundary: a split rune is invalid UTF-8.
		cut := 297
		for cut > 0 && !utf8.RuneStart(r.fallback[cut]) {
			cut--
		}
		r.fallback = r.fallback[:cut] + "..."
	}
	first := append(textBlocks(ans.Text), verifiedBlocks(ans)...)
	if c := ans.Clarification; c != nil && len(c.Options) > 0 {
		// The readings as buttons; a click asks the chosen one in the thread.
		first = append(textBlocks(c.Question), clarificationBlock(c))
	}
	var tables [][]slack.Block
	for i, t := range ans.Tables {
		tb, more, cut := tableBlock(t)
		blocks := []slack.Block{slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "*"+mrkdwn(t.Title)+"*", false, false)), tb}
		if more > 0 || cut {
			note := fmt.Sprintf("%s more rows", textfmt.GroupThousands(strconv.Itoa(more)))
			if cut {
				note = "more columns"
				if more > 0 {
					note = fmt.Sprintf("%s more rows and more columns", textfmt.GroupThousands(strconv.Itoa(more)))
				}
			}
			note += " — the full result is attached as CSV"
			if int64(len(t.Rows)) < t.TotalRows {
				note = fmt.Sprintf("%s more rows match; the attached CSV has the %d rows fetched", textfmt.GroupThousands(strconv.Itoa(more)), len(t.Rows))
			}
			blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, note, false, false)))
			r.files = append(r.files, upload{name: fmt.Sprintf("%s-%d.csv", t.Source.Product, i+1), title: t.Title, data: tableCSV(t)})
		}
		tables = append(tables, blocks)
	}
	if ans.Brief != nil {
		// A brief reads in ten seconds: its cards first; the tables, and
		// the calls behind each figure with their audit ids, in the thread.
		first = briefBlocks(ans.Brief)
		for _, f := range ans.Flags {
			first = append(first, contextLine(":warning: "+mrkdwn(f)))
		}
		// The brief in sentences (a model's prose, when one wrote it) leads the thread.
		tables = append([][]slack.Block{textBlocks(ans.Text)}, tables...)
		if len(ans.Sources) > 0 {
			tables = append(tables, []slack.Block{sourcesBlock(ans.Sources)})
		}
		r.messages = append([][]slack.Block{first}, tables...)
		r.addCharts(ans.Charts)
		return r
	}
	if len(tables) > 0 && len(first)+len(tables[0]) < maxBlocks-4 {
		first = append(first, tables[0]...)
		tables = tables[1:]
	}
	first = append(first, denialBlocks(ans.Denials)...)
	for _, f := range ans.Flags {
		// A number the model wrote that no tool returned: say so next to it.
		first = append(first, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, ":warning: "+mrkdwn(f), false, false)))
	}
	if pb := provenanceBlock(ans.Provenance); pb != nil {
		first = append(first, pb)
	}
	if len(ans.Sources) > 0 {
		first = append(first, sourcesBlock(ans.Sources))
	}
	if len(first) > maxBlocks {
		first = first[:maxBlocks]
	}
	r.messages = append([][]slack.Block{first}, tables...)
	r.addCharts(ans.Charts)
	return r
}

// addCharts uploads the first charts as PNG (one or two say enough in a
// thread).
func (r *rendered) addCharts(charts []assistant.Chart) {
	for i, ch := range charts {
		if i == 2 {
			break
		}
		png, err := chart.PNG(ch, chart.Wide)
		if err != nil {
			continue
		}
		r.files = append(r.files, upload{name: fmt.Sprintf("chart-%d.png", i+1), title: ch.Title, data: png})
	}
}

// choicePrefix starts the action id of a clarification's buttons.
const choicePrefix = "askmesh_choice_"

// clarificationBlock shows a question back's readings as buttons; each
// button's value is the complete question its click asks.
func clarificationBlock(c *assistant.Clarification) slack.Block {
	var els []slack.BlockElement
	for i, o := range c.Options {
		if i == 5 { // the agent offers at most 5
			break
		}
		label := o.Label
		if r := []rune(label); len(r) > 75 { // Slack's limit for button text
			label = string(r[:74]) + "…"
		}
		els = append(els, slack.NewButtonBlockElement(fmt.Sprintf("%s%d", choicePrefix, i), o.Question,
			slack.NewTextBlockObject(slack.PlainTextType, label, false, false)))
	}
	return slack.NewActionBlock("askmesh_clarification", els...)
}

// provenanceBlock is a context line saying where the numbers came from:
// product, metric and its definition, the question's and the policy's
// filters, the period (so far when not over) and the audit record.
func provenanceBlock(ps []assistant.Provenance) slack.Block {
	var els []slack.MixedElement
	seen := map[string]bool{}
	for _, p := range ps {
		var filters []string
		for _, f := range p.Filters {
			s := fmt.Sprintf("%s %s %v", f.Column, f.Op, f.Value)
			if f.Origin == "policy" {
				s += " (policy)"
			}
			filters = append(filters, s)
		}
		period := p.Period
		if p.Partial && !strings.Contains(period, "so far") {
			period += " (so far)"
		}
		line := "*" + mrkdwn(p.Product) + "* · `" + mrkdwn(p.Metric) + "`"
		if p.Definition != "" {
			line += " " + mrkdwn(p.Definition)
		}
		if len(filters) > 0 {
			line += " · " + mrkdwn(strings.Join(filters, "; "))
		}
		line += " · " + mrkdwn(period) + " · audit " + shortID(p.AuditID)
		if r := []rune(line); len(r) > maxContextText {
			line = string(r[:maxContextText-1]) + "…"
		}
		if seen[line] || len(els) == 9 {
			continue // one line per call and metric, not per row
		}
		seen[line] = true
		els = append(els, slack.NewTextBlockObject(slack.MarkdownType, line, false, false))
	}
	if len(els) == 0 {
		return nil
	}
	return slack.NewContextBlock("askmesh_provenance", append([]slack.MixedElement{
		slack.NewTextBlockObject(slack.MarkdownType, ":mag: Numbers from", false, false)}, els...)...)
}
