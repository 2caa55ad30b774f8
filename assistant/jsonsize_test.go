package assistant

import (
	"encoding/json"
	"testing"
)

func TestJSONSizeIsMarshalsLength(t *testing.T) {
	t.Parallel()
	for _, ms := range [][]Message{nil, {}, {{Role: RoleUser, Content: "<a> & é \u2028 \"q\""}},
		{{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "x", Name: "q", Arguments: json.RawMessage(`{"a": 1, "b": "<"}`)}}}},
		{{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "x", Name: "q", Arguments: json.RawMessage(`{"a": `)}}}}, // Marshal fails
	} {
		b, _ := json.Marshal(ms)
		if got := jsonSize(ms); got != len(b) {
			t.Errorf("jsonSize(%v) = %d, want %d", ms, got, len(b))
		}
	}
}
