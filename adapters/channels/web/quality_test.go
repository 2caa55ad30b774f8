package web_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/assistant"
)

// The API says an answer was verified, with who and when, and only when
// the asker was allowed every call: alice's denied answer is not marked.
func TestVerifiedAnswerOverTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	for user, verified := range map[string]bool{"demo-bob": true, "demo-alice": false} {
		res, body := h.do("POST", "/v1/chat", user, map[string]any{"message": "What was the loan approval rate by loan type this quarter?"}, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", user, res.StatusCode, body)
		}
		var ans assistant.Answer
		if err := json.Unmarshal(body, &ans); err != nil {
			t.Fatal(err)
		}
		if got := ans.Verified != nil; got != verified {
			t.Errorf("%s: verified %+v", user, ans.Verified)
		}
		if verified && (ans.Verified.VerifiedBy != "Lending data team" || ans.Verified.VerifiedAt != "2026-11-02" || !strings.Contains(string(body), `"verified":{"question":"What was the loan approval rate by loan type this quarter?"`)) {
			t.Errorf("%s: %s", user, body)
		}
		if !verified && (len(ans.Denials) != 1 || ans.Denials[0].AuditID == "") {
			t.Errorf("%s: denials %+v", user, ans.Denials)
		}
	}
}
