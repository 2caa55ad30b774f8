package web_test

import (
	"encoding/json"
	"testing"
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
