package eval

import (
	"fmt"
	"html/template"
	"io"
	"strings"
)

var statusMark = map[string]string{Right: "✅ right", Wrong: "❌ wrong", Declined: "⛔ declined", Clarified: "❓ clarified", Error: "⚠️ error"}

// mdCell escapes text for one cell of a Markdown table: it cannot end the
// cell, start markup, or inject HTML.
func mdCell(s string) string {
	s = strings.Join(strings.Fields(terminalSafe(s)), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:197]) + "..."
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '|', '\\', '`', '*', '_', '[', ']', '#', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// WriteMarkdown writes the report side by side: a summary per model, then
// one row per question with each model's verdict.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Eval: %s\n\n", mdCell(r.Suite))
	fmt.Fprintf(&b, "Run %s, %s, %d questions.\n\n", r.RunID, r.Started.Format("2006-01-02 15:04 UTC"), len(r.Cases))
	b.WriteString("| model | right | wrong | declined | clarified | error | p50 ms | p95 ms | turns | tokens | cost |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range r.Models {
		s := m.Summary
		fmt.Fprintf(&b, "| %s | %d (%.0f%%) | %d | %d | %d | %d | %.1f | %.1f | %d | %d | %s |\n", mdCell(m.Model), s.Counts[Right], 100*s.RightRate,
			s.Counts[Wrong], s.Counts[Declined], s.Counts[Clarified], s.Counts[Error], s.LatencyP50MS, s.LatencyP95MS, s.Turns,
			s.PromptTokens+s.CompletionTokens, costText(s))
	}
	b.WriteString("\n## Questions\n\n| question | asker | expected |")
	for _, m := range r.Models {
		fmt.Fprintf(&b, " %s |", mdCell(m.Model))
	}
	b.WriteString("\n|---|---|---|")
	for range r.Models {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, c := range r.Cases {
		fmt.Fprintf(&b, "| **%s** %s | %s | %s |", mdCell(c.ID), mdCell(c.Question), mdCell(c.Asker), mdCell(c.Expect))
		for _, m := range r.Models {
			res, _ := m.Result(c.ID)
			cell := statusMark[res.Status]
			if res.Reason != "" && res.Status != Right {
				cell += ": " + mdCell(res.Reason)
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	if len(r.Pending) > 0 {
		fmt.Fprintf(&b, "\n## Pending\n\n%d cases do not yet say what a right answer holds; they were not asked.\n\n", len(r.Pending))
		for _, c := range r.Pending {
			fmt.Fprintf(&b, "- **%s** %s (%s)\n", mdCell(c.ID), mdCell(c.Question), mdCell(c.Asker))
		}
	}
	b.WriteString("\nEach question ran in its own audit conversation (`eval-" + r.RunID + "-<model>-<case>`); `askmesh audit` shows its calls.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteHTML writes a self-contained page (no scripts, no external assets).
func (r *Report) WriteHTML(w io.Writer) error { return htmlReport.Execute(w, r) }

var htmlReport = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":    func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
	"ms":     func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"cost":   costText,
	"result": func(m ModelResult, id string) Result { r, _ := m.Result(id); return r },
	"count":  func(s Summary, st string) int { return s.Counts[st] },
	"width": func(s Summary, st string) string {
		return fmt.Sprintf("%.2f%%", 100*float64(s.Counts[st])/float64(max(1, s.Total)))
	},
	"statuses": func() []string { return Statuses },
	"tokens":   func(s Summary) int { return s.PromptTokens + s.CompletionTokens },
	"date":     func(r *Report) string { return r.Started.Format("2006-01-02 15:04 UTC") },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>askmesh eval: {{.Suite}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2430;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}.meta{color:#5b6575;margin:0 0 16px}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e3e7ee;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f5f7fa;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:flex;height:10px;width:160px;border-radius:3px;overflow:hidden;background:#eef1f5}
.bar span{display:block;height:100%}
.right{background:#2e9e5b}.wrong{background:#d64545}.declined{background:#8a94a6}.clarified{background:#3d7fd9}.error{background:#e0a030}
.st{font-weight:600;white-space:nowrap}div.st.right,div.st.wrong,div.st.declined,div.st.clarified,div.st.error{background:none}
.st.right{color:#1f7a44}.st.wrong{color:#b42828}.st.declined{color:#5b6575}.st.clarified{color:#2a64b5}.st.error{color:#9a6a10}
.why{color:#5b6575;font-size:12px;margin-top:2px}.q{font-weight:500}.id{color:#5b6575;font-size:12px}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}
.legend span{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 12px;vertical-align:middle}
</style></head><body>
<h1>Eval: {{.Suite}}</h1>
<p class="meta">Run {{.RunID}} · {{date .}} · {{len .Cases}} questions · {{len .Models}} model(s)</p>
<table class="summary"><thead><tr><th>model</th><th>scores</th><th class="n">right</th><th class="n">wrong</th><th class="n">declined</th><th class="n">clarified</th><th class="n">error</th><th class="n">p50 ms</th><th class="n">p95 ms</th><th class="n">turns</th><th class="n">tokens</th><th class="n">cost</th></tr></thead><tbody>
{{range .Models}}{{$s := .Summary}}<tr><td><b>{{.Model}}</b></td>
<td><div class="bar">{{range statuses}}<span class="{{.}}" style="width:{{width $s .}}"></span>{{end}}</div></td>
<td class="n">{{count $s "right"}} ({{pct $s.RightRate}})</td><td class="n">{{count $s "wrong"}}</td><td class="n">{{count $s "declined"}}</td><td class="n">{{count $s "clarified"}}</td><td class="n">{{count $s "error"}}</td>
<td class="n">{{ms $s.LatencyP50MS}}</td><td class="n">{{ms $s.LatencyP95MS}}</td><td class="n">{{$s.Turns}}</td><td class="n">{{tokens $s}}</td><td class="n">{{cost $s}}</td></tr>
{{end}}</tbody></table>
<p class="legend">{{range statuses}}<span class="{{.}}"></span>{{.}}{{end}}</p>
<h2>Questions</h2>
<table class="cases"><thead><tr><th>question</th><th>asker</th><th>expected</th>{{range .Models}}<th>{{.Model}}</th>{{end}}</tr></thead><tbody>
{{range $c := .Cases}}<tr><td><div class="q">{{$c.Question}}</div><div class="id">{{$c.ID}}</div></td><td>{{$c.Asker}}</td><td>{{$c.Expect}}</td>
{{range $.Models}}{{$r := result . $c.ID}}<td><div class="st {{$r.Status}}"><span class="dot {{$r.Status}}"></span>{{$r.Status}}</div>{{if and $r.Reason (ne $r.Status "right")}}<div class="why">{{$r.Reason}}</div>{{end}}</td>{{end}}</tr>
{{end}}</tbody></table>
<p class="meta">Each question ran in its own audit conversation (eval-{{.RunID}}-&lt;model&gt;-&lt;case&gt;) on the eval channel.</p>
</body></html>
`))
