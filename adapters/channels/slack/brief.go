package slack

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/textfmt"
)

// Block Kit limits that briefs meet.
const (
	maxHeaderText    = 150 // plain text in a header block
	maxSectionFields = 10  // fields in one section block
	maxFieldText     = 2000
)

var arrows = map[string]string{assistant.DirectionUp: "▲", assistant.DirectionDown: "▼", assistant.DirectionFlat: "▶"}

// briefBlocks lay out an executive brief as it reads on the web page: the
// headline as a header, metric cards as section fields (value, change with
// arrow), what moved them and the unusual records as sections, and one
// context line for what is withheld and one for the sources. Every text
// from data or policy is escaped for mrkdwn.
func briefBlocks(b *assistant.Brief) []slack.Block {
	head := b.Headline
	if r := []rune(head); len(r) > maxHeaderText {
		head = string(r[:maxHeaderText-1]) + "…"
	}
	blocks := []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, head, false, false))}
	var fields []*slack.TextBlockObject
	flush := func() {
		if len(fields) > 0 {
			blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
			fields = nil
		}
	}
	for _, c := range b.Cards {
		text := fmt.Sprintf("*%s* · %s\n*%s*", mrkdwn(c.Label), mrkdwn(c.Product), mrkdwn(c.Value))
		if c.Change != "" {
			text += fmt.Sprintf("  %s %s", arrows[c.Direction], mrkdwn(c.Change))
			if c.Previous != "" {
				text += " from " + mrkdwn(c.Previous)
			}
		}
		fields = append(fields, slack.NewTextBlockObject(slack.MarkdownType, cut(text, maxFieldText), false, false))
		if len(fields) == maxSectionFields {
			flush()
		}
	}
	flush()
	if len(b.Notes) > 0 {
		blocks = append(blocks, contextLine(mrkdwn(strings.Join(b.Notes, " "))))
	}
	if len(b.Movers) > 0 {
		lines := []string{"*What moved it*"}
		for _, m := range b.Movers {
			l := fmt.Sprintf("• *%s* led %s's %s (%s)", mrkdwn(m.Group), mrkdwn(m.Product), mrkdwn(m.Metric), mrkdwn(m.Value))
			if m.Detail != "" {
				l += "; " + mrkdwn(m.Detail)
			}
			lines = append(lines, l)
		}
		blocks = append(blocks, textBlocksMrkdwn(strings.Join(lines, "\n"))...)
	}
	if len(b.Anomalies) > 0 {
		lines := []string{"*Anomalies*"}
		for _, a := range b.Anomalies {
			lines = append(lines, fmt.Sprintf("• *%s*: %s", mrkdwn(a.Product), mrkdwn(a.Text)))
		}
		blocks = append(blocks, textBlocksMrkdwn(strings.Join(lines, "\n"))...)
	}
	if len(b.Withheld) > 0 {
		var parts []string
		for _, w := range b.Withheld {
			parts = append(parts, fmt.Sprintf("*%s* (%s)", mrkdwn(w.What), mrkdwn(w.Reason)))
		}
		blocks = append(blocks, contextLine(":lock: Withheld from you: "+strings.Join(parts, "; ")))
	}
	s := b.Sources
	blocks = append(blocks, contextLine(fmt.Sprintf(":mag: Sources: %d %s, %d withheld — tables and audit ids in the thread",
		s.Queries, textfmt.Plural(s.Queries, "query", "queries"), s.Withheld)))
	return blocks
}

// textBlocksMrkdwn is textBlocks for text already in mrkdwn.
func textBlocksMrkdwn(text string) []slack.Block {
	var blocks []slack.Block
	for _, part := range splitText(text, maxSectionText) {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, part, false, false), nil, nil))
	}
	return blocks
}

func contextLine(text string) slack.Block {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, cut(text, maxContextText), false, false))
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
