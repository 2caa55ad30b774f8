package main

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/chart"
	"github.com/askmesh/askmesh/tools"
)

// sparkChars draw a card's trend in a terminal, lowest to highest.
var sparkChars = []rune("▁▂▃▄▅▆▇█")

var arrows = map[string]string{assistant.DirectionUp: "▲", assistant.DirectionDown: "▼", assistant.DirectionFlat: "▶"}

// printBrief writes a brief's ten-second view for a terminal: headline,
// one line per metric card (value, change, the last 12 months), what moved
// it, anomalies, what is withheld, and one sources line. Text from data
// and policy goes through term.
func printBrief(w io.Writer, b *assistant.Brief) {
	fmt.Fprintln(w, term(b.Headline))
	fmt.Fprintln(w)
	width := 0
	for _, c := range b.Cards {
		width = max(width, len([]rune(term(c.Label+" ("+c.Product+")"))))
	}
	for _, c := range b.Cards {
		label := term(c.Label + " (" + c.Product + ")")
		line := label + strings.Repeat(" ", width-len([]rune(label))) + "  " + term(c.Value)
		if c.Change != "" {
			line += "  " + arrows[c.Direction] + " " + term(c.Change)
			if c.Previous != "" {
				line += " from " + term(c.Previous)
			}
		}
		if s := sparkText(c.Trend); s != "" {
			line += "  " + s
		}
		fmt.Fprintln(w, "  "+line)
	}
	for _, n := range b.Notes {
		fmt.Fprintln(w, "  "+term(n))
	}
	if len(b.Movers) > 0 {
		fmt.Fprintln(w, "\nWhat moved it")
		for _, m := range b.Movers {
			line := fmt.Sprintf("  %s led %s's %s (%s)", term(m.Group), term(m.Product), term(m.Metric), term(m.Value))
			if m.Detail != "" {
				line += "; " + term(m.Detail)
			}
			fmt.Fprintln(w, line)
		}
	}
	if len(b.Anomalies) > 0 {
		fmt.Fprintln(w, "\nAnomalies")
		for _, a := range b.Anomalies {
			fmt.Fprintf(w, "  %s: %s\n", term(a.Product), term(a.Text))
		}
	}
	if len(b.Withheld) > 0 {
		fmt.Fprintln(w, "\nWithheld from you")
		for _, x := range b.Withheld {
			fmt.Fprintf(w, "  %s: %s\n", term(x.What), term(x.Reason))
		}
	}
	fmt.Fprintf(w, "\nSources: %d queries, %d withheld (details below)\n\n", b.Sources.Queries, b.Sources.Withheld)
}

// sparkText draws a trend with block characters; a period not over is
// drawn as "·" rather than as a fall.
func sparkText(pts []assistant.TrendPoint) string {
	if len(pts) < 2 {
		return ""
	}
	lo, hi := pts[0].Value, pts[0].Value
	for _, p := range pts {
		lo, hi = min(lo, p.Value), max(hi, p.Value)
	}
	var b strings.Builder
	for _, p := range pts {
		if p.Partial {
			b.WriteRune('·')
			continue
		}
		i := 0
		if hi > lo {
			i = int((p.Value - lo) / (hi - lo) * float64(len(sparkChars)-1))
		}
		b.WriteRune(sparkChars[i])
	}
	return b.String()
}

//go:embed brief.html.tmpl
var briefTemplates embed.FS

var briefHTML = template.Must(template.New("brief.html.tmpl").Funcs(template.FuncMap{
	"arrow": func(d string) string { return arrows[d] },
	"cells": displayed,
}).ParseFS(briefTemplates, "brief.html.tmpl"))

// briefPage is what the HTML brief template shows. Charts and sparklines
// are SVG drawn by assistant/chart, whose text is escaped when drawn;
// everything else is escaped by html/template.
type briefPage struct {
	Title  string
	Brief  *assistant.Brief
	Text   []string
	Tables []assistant.Table
	Sparks []template.HTML // per card
	Charts []template.HTML
	Ans    *assistant.Answer
}

// writeBriefHTML writes the brief as one self-contained HTML page (inline
// CSS and SVG, nothing fetched), printable to PDF.
func writeBriefHTML(w io.Writer, ans *assistant.Answer) error {
	if ans.Brief == nil {
		return fmt.Errorf("brief: the answer has no brief to lay out")
	}
	p := briefPage{Title: "Executive brief · " + ans.Brief.Period, Brief: ans.Brief, Text: strings.Split(ans.Text, "\n"), Tables: ans.Tables, Ans: ans}
	for _, c := range ans.Brief.Cards {
		svg, err := chart.Sparkline(c.Trend, chart.Size{W: 140, H: 36})
		if err != nil {
			svg = nil
		}
		p.Sparks = append(p.Sparks, template.HTML(stripProlog(svg))) // #nosec: drawn by assistant/chart, text escaped
	}
	for _, c := range ans.Charts {
		svg, err := chart.SVG(c, chart.Wide)
		if err != nil {
			continue
		}
		p.Charts = append(p.Charts, template.HTML(stripProlog(svg)))
	}
	if err := briefHTML.Execute(w, p); err != nil {
		return fmt.Errorf("brief: write HTML: %w", err)
	}
	return nil
}

// stripProlog drops the XML declaration and comment before <svg>, which
// have no place inside an HTML page.
func stripProlog(svg []byte) string {
	s := string(svg)
	if i := strings.Index(s, "<svg"); i >= 0 {
		return s[i:]
	}
	return ""
}

// displayed is a table's cells as channels show them.
func displayed(t assistant.Table) [][]string {
	if len(t.Display) == len(t.Rows) {
		return t.Display
	}
	out := make([][]string, len(t.Rows))
	for r, row := range t.Rows {
		for i, v := range row {
			var c tools.ResultColumn
			if i < len(t.Columns) {
				c = t.Columns[i]
			}
			out[r] = append(out[r], assistant.DisplayCell(v, c, row, t.Columns))
		}
	}
	return out
}
