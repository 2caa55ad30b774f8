package assistant

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/askmesh/askmesh/tools"
)

// The agent's own tools. A language model needs a way to ask back and to
// decline that is as explicit as a data call, or it answers a different
// question confidently. These two never reach the executor: they touch no
// data, so there is nothing to authorize or audit; the agent turns them
// into Answer.Clarification or a declined Answer.
const (
	ToolAskClarification = "ask_clarification"
	ToolDecline          = "decline"
)

// AskClarificationArgs are ask_clarification's arguments.
type AskClarificationArgs struct {
	Question string         `json:"question" jsonschema:"the question back to the person, e.g. Which rate do you mean?"`
	Options  []ChoiceOption `json:"options" jsonschema:"2 to 5 readings of the question, each a complete question that can be answered without asking back"`
}

// ChoiceOption is one reading offered.
type ChoiceOption struct {
	Label    string `json:"label" jsonschema:"a short button label, e.g. Approval rate"`
	Question string `json:"question" jsonschema:"the complete question this reading asks, e.g. What is the mortgage approval rate this year?"`
}

// DeclineArgs are decline's arguments.
type DeclineArgs struct {
	Reason    string   `json:"reason" jsonschema:"why the question cannot be answered from the catalog, for the person"`
	Unmatched []string `json:"unmatched,omitempty" jsonschema:"the concepts of the question that match nothing in the catalog, e.g. default rate"`
	Closest   []string `json:"closest,omitempty" jsonschema:"the closest metrics or products that do exist, e.g. approval_rate (loan-applications)"`
}

var askSpecs = mustAskSpecs()

func mustAskSpecs() []*tools.Spec {
	defs := []struct {
		name, desc string
		typ        reflect.Type
	}{
		{ToolAskClarification, "Ask the person which reading they mean when the question fits two or more products, metrics or periods, or names none where it matters. Offer 2 to 5 options; each option's question must be complete and answerable as it stands. Computes nothing.", reflect.TypeFor[AskClarificationArgs]()},
		{ToolDecline, "Say that the question cannot be answered: a metric, product, value or period it names does not exist in the catalog (e.g. a default rate when only an approval rate exists). Name what did not match and the closest things that do exist. Never compute a different metric in its place. Computes nothing.", reflect.TypeFor[DeclineArgs]()},
	}
	out := make([]*tools.Spec, 0, len(defs))
	for _, d := range defs {
		s, err := tools.NewSpec(d.name, d.desc, d.typ)
		if err != nil {
			panic(err.Error())
		}
		out = append(out, s)
	}
	return out
}

// AskSpecs are the agent's own tool specs.
func AskSpecs() []*tools.Spec { return askSpecs }

func isAskTool(name string) bool { return name == ToolAskClarification || name == ToolDecline }

func askSpec(name string) *tools.Spec {
	for _, s := range askSpecs {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Limits on a clarification, so channels can show it as buttons.
const (
	minOptions     = 2
	maxOptions     = 5
	maxLabelLen    = 75 // Slack button text is at most 75 characters
	maxQuestionLen = 500
)

// clarification validates ask_clarification's arguments.
func clarification(raw json.RawMessage) (*Clarification, error) {
	var a AskClarificationArgs
	if err := askSpec(ToolAskClarification).Decode(raw, &a); err != nil {
		return nil, err
	}
	a.Question = strings.TrimSpace(a.Question)
	if a.Question == "" || len(a.Question) > maxQuestionLen {
		return nil, fmt.Errorf("question must be 1 to %d characters", maxQuestionLen)
	}
	if len(a.Options) < minOptions || len(a.Options) > maxOptions {
		return nil, fmt.Errorf("give %d to %d options, not %d", minOptions, maxOptions, len(a.Options))
	}
	c := &Clarification{Question: a.Question}
	seen := map[string]bool{}
	for i, o := range a.Options {
		o.Label, o.Question = strings.TrimSpace(o.Label), strings.TrimSpace(o.Question)
		switch {
		case o.Label == "" || len(o.Label) > maxLabelLen:
			return nil, fmt.Errorf("options[%d].label must be 1 to %d characters", i, maxLabelLen)
		case o.Question == "" || len(o.Question) > maxQuestionLen:
			return nil, fmt.Errorf("options[%d].question must be 1 to %d characters", i, maxQuestionLen)
		case seen[strings.ToLower(o.Question)]:
			return nil, fmt.Errorf("options[%d] repeats another option's question", i)
		}
		seen[strings.ToLower(o.Question)] = true
		c.Options = append(c.Options, ClarificationOption{Label: o.Label, Question: o.Question})
	}
	return c, nil
}

// ClarificationText writes a clarification as plain text, for channels
// without buttons (CLI, OpenAI-compatible API) and for the conversation.
func ClarificationText(c *Clarification) string {
	var b strings.Builder
	b.WriteString(c.Question)
	for _, o := range c.Options {
		b.WriteString("\n- " + o.Label + ": " + o.Question)
	}
	return b.String()
}

// declined validates decline's arguments and writes the answer's text.
func declined(raw json.RawMessage) (DeclineArgs, string, error) {
	var a DeclineArgs
	if err := askSpec(ToolDecline).Decode(raw, &a); err != nil {
		return a, "", err
	}
	a.Reason = strings.TrimSpace(a.Reason)
	if a.Reason == "" {
		return a, "", fmt.Errorf("reason is empty: say why the question cannot be answered")
	}
	text := a.Reason
	if len(a.Closest) > 0 {
		text += "\nClosest in the catalog: " + strings.Join(a.Closest, ", ") + "."
	}
	return a, text, nil
}

// offeredOptions returns the option questions of the clarification the
// previous turn asked, if it asked one, so a chosen option is answered,
// never asked back again.
func offeredOptions(history []Message) []string {
	last := -1
	for i, m := range history {
		if m.Role == RoleUser {
			last = i
		}
	}
	if last < 0 {
		return nil
	}
	var out []string
	for _, m := range history[last+1:] {
		for _, tc := range m.ToolCalls {
			if tc.Name != ToolAskClarification {
				continue
			}
			c, err := clarification(tc.Arguments)
			if err != nil {
				continue // the model was told to correct it; not what the person saw
			}
			out = out[:0]
			for _, o := range c.Options {
				out = append(out, o.Question)
			}
		}
	}
	return out
}

// askTools handles a turn in which the model called ask_clarification or
// decline. It returns the tool messages answering every call of the turn,
// whether the answer is final, and how many calls were malformed.
func askTools(calls []ToolCall, ans *Answer) ([]Message, bool, int) {
	msgs := make([]Message, 0, len(calls))
	done, bad := false, 0
	for _, tc := range calls {
		content := ""
		switch tc.Name {
		case ToolAskClarification:
			c, err := clarification(tc.Arguments)
			if err != nil {
				content, bad = ErrorPrefix+err.Error(), bad+1
				break
			}
			ans.Clarification, ans.Outcome, ans.Text = c, OutcomeClarify, ClarificationText(c)
			content, done = "asked; the person's choice comes as their next question", true
		case ToolDecline:
			a, text, err := declined(tc.Arguments)
			if err != nil {
				content, bad = ErrorPrefix+err.Error(), bad+1
				break
			}
			ans.Outcome, ans.Unmatched, ans.Text = OutcomeDeclined, a.Unmatched, text
			content, done = "declined; the person is told why", true
		default:
			content = ErrorPrefix + "not run: in the same turn you asked the person back or declined; call data tools in a turn of their own"
		}
		msgs = append(msgs, Message{Role: RoleTool, ToolCallID: tc.ID, Name: tc.Name, Content: content})
	}
	if done && ans.Outcome == OutcomeClarify {
		ans.Unmatched = nil
	}
	return msgs, done, bad
}

func hasAskCall(calls []ToolCall) bool {
	for _, c := range calls {
		if isAskTool(c.Name) {
			return true
		}
	}
	return false
}
