package brief

import (
	"context"
	"fmt"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/tools"
)

// narrate has a language model write the brief's prose from the gathered
// figures. The model gets the templated brief and the tool results, nothing
// else, and no tools: it can rephrase, not fetch. Every number it writes is
// checked against the results (assistant.CheckNumbers); one that no result
// accounts for is flagged on the answer.
func narrate(ctx context.Context, m assistant.Model, caller tools.Caller, draft string, outs []Outcome) (string, assistant.Usage, []string, error) {
	var data strings.Builder
	k := assistant.NewKnownNumbers()
	k.AddText(draft) // the draft's figures are the results', rounded and compared
	for _, o := range outs {
		if o.Status != StatusOK || o.Result == nil {
			continue
		}
		k.AddResult(o.Result)
		fmt.Fprintf(&data, "\n%s %s: %s", o.Item.Call.Tool, o.Item.Call.Arguments, assistant.ForModel(o.Result, 50, 8<<10))
	}
	who := caller.Subject.Name
	if who == "" {
		who = caller.Subject.ID
	}
	system := "You write executive briefs for " + who + ". Rewrite the draft brief below as a short brief an executive reads in a minute: " +
		"lead with what changed most, keep every product's headline figures, the top contributors and the unusual records, " +
		"and keep the sentence naming what is withheld from the reader and why. Use only figures from the draft or the data; " +
		"do not compute new ones, do not guess, and do not mention products the draft does not mention. Plain text, no tables."
	user := "Draft brief:\n" + draft + "\n\nData behind it (tool calls and results):" + data.String()
	reply, err := m.Generate(ctx, assistant.ModelRequest{Messages: []assistant.Message{
		{Role: assistant.RoleSystem, Content: system}, {Role: assistant.RoleUser, Content: user}}}, nil)
	if err != nil {
		return "", assistant.Usage{}, nil, fmt.Errorf("brief: the model %s could not write the brief: %w", m.Name(), err)
	}
	text := strings.TrimSpace(reply.Message.Content)
	if text == "" {
		return "", reply.Usage, nil, fmt.Errorf("brief: the model %s wrote nothing", m.Name())
	}
	return text, reply.Usage, assistant.CheckNumbers(text, k), nil
}
