package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/feedback"
	"github.com/askmesh/askmesh/tools"
)

func init() {
	users["UBOB"] = "bob@bank.example"
	users["UALICE"] = "alice@bank.example"
}

// A verified question in Slack: bob's answer says who verified it and
// when; alice asking the same is told no, and her denial is audited.
func TestVerifiedAnswerIsMarkedInSlack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{})
	h.event("EvV1", mention("UBOB", "approval rate by loan type this quarter", "1763200101.000100", ""), nil)
	answer := h.fake.waitFor(t, "bob's answer", isAnswer(""))
	blocks := answer.Form.Get("blocks")
	if !strings.Contains(blocks, "Verified by Lending data team, 2026-11-02") || !strings.Contains(blocks, `"block_id":"verified"`) {
		t.Fatalf("bob's answer is not marked verified: %s", blocks)
	}
	h.event("EvV2", mention("UALICE", "approval rate by loan type this quarter", "1763200102.000100", ""), nil)
	denied := h.fake.waitFor(t, "alice's answer", func(c apiCall) bool {
		return isAnswer("")(c) && strings.Contains(c.Form.Get("blocks"), "Not allowed")
	})
	if strings.Contains(denied.Form.Get("blocks"), "Verified by") {
		t.Errorf("alice's denial is marked verified: %s", denied.Form.Get("blocks"))
	}
	recs, err := h.app.Audit.Search(context.Background(), audit.Query{Subject: "alice@bank.example", Decision: audit.DecisionDeny})
	if err != nil || len(recs) != 1 || recs[0].Channel != "slack" || recs[0].Product != "loan-applications" {
		t.Fatalf("alice's denial in the audit log: %v %+v", err, recs)
	}
}

// Feedback through the Slack stand-in: the answer carries feedback
// buttons; bob's clicks arrive signed on the interactivity URL, are stored
// and audited as his, and the last click wins. A forged click does nothing.
func TestFeedbackButtonsInSlack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{})
	h.bot.feedback = h.app.Feedback
	h.event("EvF1", mention("UBOB", "What was the mortgage approval rate last quarter?", "1763200201.000100", ""), nil)
	answer := h.fake.waitFor(t, "bob's answer", isAnswer(""))
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(answer.Form.Get("blocks")), &blocks); err != nil {
		t.Fatal(err)
	}
	last := blocks[len(blocks)-1]
	elems, _ := last["elements"].([]any)
	if last["type"] != "context_actions" || len(elems) != 1 {
		t.Fatalf("the answer ends with %v, not feedback buttons", last)
	}
	fb := elems[0].(map[string]any)
	down := fb["negative_button"].(map[string]any)["value"].(string)
	up := fb["positive_button"].(map[string]any)["value"].(string)
	if fb["type"] != "feedback_buttons" || !strings.HasPrefix(down, "down:") || !strings.HasPrefix(up, "up:") {
		t.Fatalf("feedback buttons %v", fb)
	}
	requestID := strings.TrimPrefix(down, "down:")
	click := func(value string, signed bool) int {
		payload, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": "UBOB"},
			"channel": map[string]any{"id": "CEXEC"}, "message": map[string]any{"ts": "1763200201.000200", "thread_ts": "1763200201.000100", "text": "answer"},
			"actions": []map[string]any{{"action_id": feedbackAction, "block_id": "feedback", "type": "feedback_buttons", "value": value}}})
		body := []byte(url.Values{"payload": {string(payload)}}.Encode())
		header := sign(secret, time.Now(), body)
		if !signed {
			header = sign("not-the-secret", time.Now(), body)
		}
		rec := h.post("/slack/interactions", h.bot.InteractionsHandler(), body, header, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		h.bot.Wait()
		return rec.Code
	}
	ctx := context.Background()
	if code := click(up, false); code != http.StatusUnauthorized {
		t.Fatalf("a forged click got %d", code)
	}
	if code := click(down, true); code != http.StatusOK {
		t.Fatalf("bob's down click got %d", code)
	}
	list, err := h.app.Feedback.ForProduct(ctx, tools.Caller{Subject: h.app.Directory.Lookup("bob@bank.example"), Channel: "cli"}, "loan-applications", feedback.Filter{})
	if err != nil || len(list) != 1 || list[0].Rating != "down" || list[0].Channel != "slack" || list[0].RequestID != requestID || list[0].ConversationID != "CEXEC:1763200201.000100" {
		t.Fatalf("after bob's down click: %+v %v", list, err)
	}
	click(up, true)
	list, err = h.app.Feedback.ForProduct(ctx, tools.Caller{Subject: h.app.Directory.Lookup("bob@bank.example"), Channel: "cli"}, "loan-applications", feedback.Filter{})
	if err != nil || len(list) != 1 || list[0].Rating != "up" {
		t.Fatalf("the last click does not win: %+v %v", list, err)
	}
	recs, err := h.app.Audit.Search(ctx, audit.Query{Subject: "bob@bank.example", Tool: feedback.Tool})
	if err != nil || len(recs) != 4 || recs[0].Action != feedback.ActionSubmit || recs[0].Channel != "slack" || recs[0].RequestID != requestID {
		t.Fatalf("bob's clicks and reviews in the audit log: %v %+v", err, recs)
	}
}
