package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/askmesh/askmesh/feedback"
)

// Feedback round trip in a real browser: bob asks the verified question,
// sees it marked verified, says it is wrong with a comment; the feedback is
// stored and audited as his, and his team reads it through the API, while
// alice is refused and her attempt audited.
func TestFeedbackInABrowser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	br := startChromium(t, 1280, 1000)
	step, cancel := context.WithTimeout(br.ctx, 2*time.Minute)
	defer cancel()
	bob := `#demo-users button[data-user="bob@bank.example"]`
	if err := chromedp.Do(step,
		chromedp.Navigate(h.ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(bob)),
		chromedp.Click(chromedp.CSS(bob)),
		chromedp.WaitVisible(chromedp.CSS(`#question`)),
		chromedp.SendKeys(chromedp.CSS(`#question`), "approval rate by loan type this quarter"),
		chromedp.Click(chromedp.CSS(`#send`)),
		chromedp.WaitVisible(chromedp.CSS(`.answer.done .feedback`)),
	); err != nil {
		t.Fatalf("asking: %v", err)
	}
	verified, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`.answer.done .verified`)))
	if err != nil || !strings.Contains(verified, "Verified by Lending data team, 2026-11-02") {
		t.Errorf("the verified mark reads %q (%v)", verified, err)
	}
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS(`.answer.done .fb-down`)),
		chromedp.WaitVisible(chromedp.CSS(`.answer.done .fb-comment`)),
		chromedp.WaitVisible(chromedp.CSS(`.answer.done .feedback[data-saved="down"]`)),
		chromedp.SendKeys(chromedp.CSS(`.answer.done .fb-comment`), "auto loans look too high <script>"),
		chromedp.Click(chromedp.CSS(`.answer.done .fb-send`)),
		chromedp.Poll[chromedp.Void](`document.querySelector(".answer.done .fb-status").textContent.includes("sent to the data's owners")`),
	); err != nil {
		t.Fatalf("giving feedback: %v", err)
	}
	pressed, err := chromedp.Run(step, chromedp.Evaluate[string](`document.querySelector(".answer.done .fb-down").getAttribute("aria-pressed")`))
	if err != nil || pressed != "true" {
		t.Errorf("the down button is not shown pressed: %q %v", pressed, err)
	}

	// bob's team reads it over the API: one entry, the comment as typed.
	res, body := h.do("GET", "/v1/feedback?product=loan-applications", "demo-bob", nil, nil)
	var got struct{ Feedback []feedback.Entry }
	if res.StatusCode != 200 || json.Unmarshal(body, &got) != nil || len(got.Feedback) != 1 {
		t.Fatalf("bob's team reads %d %s", res.StatusCode, body)
	}
	e := got.Feedback[0]
	if e.Rating != "down" || e.Comment != "auto loans look too high <script>" || e.Subject != "bob@bank.example" || e.Channel != "web" ||
		e.Question != "approval rate by loan type this quarter" || len(e.AuditIDs) != 1 {
		t.Errorf("stored feedback %+v", e)
	}
	if n := h.sqlCount("governance", `SELECT count(*) FROM access_audit WHERE subject = 'bob@bank.example' AND action = 'feedback.submit' AND channel = 'web' AND request_id = ?`, e.RequestID); n != 2 {
		t.Errorf("%d audit records of bob's two clicks", n)
	}
	res, body = h.do("GET", "/v1/feedback?product=loan-applications", "demo-alice", nil, nil)
	if res.StatusCode != 403 || !strings.Contains(string(body), "feedback on loan-applications is for its own team") {
		t.Errorf("alice reads lending's feedback: %d %s", res.StatusCode, body)
	}
	if n := h.sqlCount("governance", `SELECT count(*) FROM access_audit WHERE subject = 'alice@bank.example' AND action = 'feedback.review' AND decision = 'deny'`); n != 1 {
		t.Errorf("%d audited denials of alice's review", n)
	}
	// Rating someone else's answer, or nonsense, is refused plainly.
	res, body = h.do("POST", "/v1/feedback", "demo-alice", map[string]any{"request_id": e.RequestID, "rating": "up"}, nil)
	if res.StatusCode != 400 || !strings.Contains(string(body), "no answer of yours has that request id") {
		t.Errorf("alice rates bob's answer: %d %s", res.StatusCode, body)
	}
	res, body = h.do("POST", "/v1/feedback", "demo-bob", map[string]any{"request_id": e.RequestID, "rating": "sideways"}, nil)
	if res.StatusCode != 400 || !strings.Contains(string(body), `rating \"sideways\": give up or down`) {
		t.Errorf("a bad rating: %d %s", res.StatusCode, body)
	}

	// The owners' section of the review page: bob (lending) reads it there;
	// the records above stay refused to him, he is no auditor.
	br.expect("status of 403") // the page's refused records fetch
	if err := chromedp.Do(step,
		chromedp.Navigate(h.ts.URL+"/audit"), // still signed in as bob
		chromedp.WaitVisible(chromedp.CSS(`#forbidden`)),
		chromedp.WaitVisible(chromedp.CSS(`#fb-product`)),
		chromedp.SendKeys(chromedp.CSS(`#fb-product`), "loan-applications"),
		chromedp.Click(chromedp.CSS(`#fb-load`)),
		chromedp.WaitVisible(chromedp.CSS(`#fb-table tbody tr.fb-row`)),
	); err != nil {
		t.Fatalf("the owners' section: %v", err)
	}
	row, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`#fb-table tbody tr.fb-row`)))
	if err != nil || !strings.Contains(row, "auto loans look too high <script>") || !strings.Contains(row, "wrong") || !strings.Contains(row, e.AuditIDs[0]) {
		t.Errorf("the owners' section shows %q (%v)", row, err)
	}
	if n := h.sqlCount("governance", `SELECT count(*) FROM access_audit WHERE subject = 'bob@bank.example' AND action = 'feedback.review' AND channel = 'web'`); n != 1 {
		t.Errorf("%d audited reviews from the page", n)
	}
	br.checkConsole(t)
}
