package slack

import (
	"context"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/audit"
)

func init() {
	users["UBOB"] = "bob@bank.example"
	users["UALICE"] = "alice@bank.example"
}

// A verified question in Slack: bob's answer says who verified it and
// when; alice asking the same is told no, and her denial is audited.
func TestVerifiedAnswerIsMarkedInSlack(t *testing.T) {
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
