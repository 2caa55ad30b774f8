package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/askmesh/askmesh/assistant"
)

// A number the model invented is flagged beside the answer, not dropped.
func TestRenderShowsFlags(t *testing.T) {
	t.Parallel()
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

// The notification text is cut to 300 bytes without splitting a character.
func TestRenderFallbackKeepsUTF8(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("a", 296) + "€€€€"
	r := render(&assistant.Answer{Text: text})
	if !utf8.ValidString(r.fallback) || !strings.HasSuffix(r.fallback, "...") || len(r.fallback) > 300 {
		t.Fatalf("fallback %q", r.fallback)
	}
}
