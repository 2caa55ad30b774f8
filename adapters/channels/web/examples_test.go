package web_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/adapters/channels/web"
)

// Suggested questions are about products the asker's groups hold grants on.
func TestExamplesFollowTheAskersGrants(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	for _, c := range []struct {
		token      string
		want, not  string
		onlySearch bool
	}{
		{token: "demo-dave", want: "access-audit", not: "customer-acquisition"},
		{token: "demo-carol", want: "customer-acquisition", not: "access-audit"},
		{token: "demo-frank", onlySearch: true},
	} {
		res, body := h.do("GET", "/v1/examples", c.token, nil, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.token, res.StatusCode, body)
		}
		var got struct {
			Examples []struct{ Product, Question string }
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		products := map[string]bool{}
		for _, e := range got.Examples {
			products[e.Product] = true
		}
		switch {
		case c.onlySearch:
			if len(got.Examples) != 1 || got.Examples[0].Product != "" {
				t.Errorf("%s: want one discovery question, got %+v", c.token, got.Examples)
			}
		case !products[c.want] || products[c.not]:
			t.Errorf("%s: examples for %v; want %s and not %s", c.token, products, c.want, c.not)
		}
	}
}

// The page offers the audit review and the live view only to people whose
// grants cover them: dave (auditor) the review, erin (retail-ops) the live
// view, carol (executive) and frank (intern) neither. The grant is what the
// server reads, so a group's grant added to the catalog shows the link.
func TestOffersFollowTheAskersGrants(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	for _, c := range []struct {
		token        string
		audit, watch bool
	}{
		{"demo-carol", false, false},
		{"demo-dave", true, false},
		{"demo-erin", false, true},
		{"demo-frank", false, false},
	} {
		res, body := h.do("GET", "/v1/me", c.token, nil, nil)
		var m struct {
			Offers map[string]bool `json:"offers"`
		}
		if res.StatusCode != 200 || json.Unmarshal(body, &m) != nil {
			t.Fatalf("%s: %d %s", c.token, res.StatusCode, body)
		}
		if m.Offers["audit_review"] != c.audit || m.Offers["watch"] != c.watch || len(m.Offers) != 2 {
			t.Errorf("%s is offered %v, want audit_review=%v watch=%v", c.token, m.Offers, c.audit, c.watch)
		}
		// What is offered works: the audit review answers dave, and is
		// refused to the others (policy, not the page, decides).
		res, body = h.do("GET", "/v1/audit/records?limit=1", c.token, nil, nil)
		if (res.StatusCode == 200) != c.audit {
			t.Errorf("%s: the audit review answers %d (offered: %v): %s", c.token, res.StatusCode, c.audit, body)
		}
	}
}

// Without a way to ask policy the page offers nothing it cannot vouch for:
// no links, and only the catalog question.
func TestOffersFailClosed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{opts: func(o *web.Options) { o.Access = nil }})
	_, body := h.do("GET", "/v1/me", "demo-dave", nil, nil)
	if !strings.Contains(string(body), `"offers":{"audit_review":false,"watch":false}`) {
		t.Errorf("dave without policy: %s", body)
	}
	_, body = h.do("GET", "/v1/examples", "demo-dave", nil, nil)
	if string(body) != `{"examples":[{"question":"What data do we have about customers?"}]}`+"\n" {
		t.Errorf("examples without policy: %s", body)
	}
}
