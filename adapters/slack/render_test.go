package slack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/assistant"
)

// A number the model invented is flagged beside the answer, not dropped.
func TestRenderShowsFlags(t *testing.T) {
	ans := &assistant.Answer{Text: "We gained 512 customers.", Flags: []string{"the number 512 in the answer is not in any tool result"}}
	r := render(ans)
	b, err := json.Marshal(r.messages[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), ":warning: the number 512 in the answer is not in any tool result") {
		t.Fatalf("flag not rendered: %s", b)
	}
}
