package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/askmesh/askmesh/tools"
)

// TestHowComputedInABrowser: on a phone-wide page, erin opens "How was this
// computed?" under her record listing: the product, her filter and
// policy's region filter marked as added by policy, the period and the audit
// id; "Copy as API call" gives a curl to this server's /mcp with a token
// placeholder (never her token), whose body, sent with her token, returns
// the rows the page shows. The open disclosure fits 390 px.
func TestHowComputedInABrowser(t *testing.T) {
	needChromium(t)
	h := newHarness(t, setup{})
	br := startChromium(t, 390, 900)
	step, cancel := context.WithTimeout(br.ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(step,
		chromedp.EmulateViewport(390, 900),
		chromedp.Navigate(h.ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#demo-users button[data-user="erin@bank.example"]`)),
		chromedp.Click(chromedp.CSS(`#demo-users button[data-user="erin@bank.example"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#question`)),
		chromedp.SendKeys(chromedp.CSS(`#question`), "show me the 5 largest withdrawals last month"),
		chromedp.Click(chromedp.CSS(`#send`)),
		chromedp.WaitVisible(chromedp.CSS(`.answer.done details.computed summary`)),
		chromedp.Click(chromedp.CSS(`.answer.done details.computed summary`)),
		chromedp.WaitVisible(chromedp.CSS(`.answer.done .computation .copy-api`)),
		chromedp.Click(chromedp.CSS(`.answer.done .computation .copy-api`)),
		chromedp.WaitVisible(chromedp.CSS(`.answer.done .computation pre.api-call`)),
	); err != nil {
		t.Fatalf("browser steps: %v", err)
	}
	type shown struct {
		Summary  string            `json:"summary"`
		Fields   map[string]string `json:"fields"`
		Filters  [][2]string       `json:"filters"`
		Curl     string            `json:"curl"`
		Status   string            `json:"status"`
		IDs      []string          `json:"ids"`
		Sections int               `json:"sections"`
		Origin   string            `json:"origin"`
	}
	st, err := chromedp.Run(step, chromedp.Evaluate[shown](`(() => {
		const c = document.querySelector(".answer.done .computation");
		const fields = {};
		c.querySelectorAll("dt").forEach(dt => { fields[dt.textContent] = dt.nextElementSibling.textContent; });
		return {
			summary: c.querySelector(".computed-summary").textContent,
			fields,
			filters: [...c.querySelectorAll(".computed-filters li")].map(li => [li.dataset.origin, li.textContent]),
			curl: c.querySelector("pre.api-call").textContent,
			status: c.querySelector(".copy-status").textContent,
			ids: [...document.querySelectorAll(".answer.done .tables tbody tr")].map(tr => tr.children[0].textContent),
			sections: document.querySelectorAll(".answer.done .computation").length,
			origin: location.origin,
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if st.Sections != 1 || !strings.Contains(st.Summary, "from customer-transactions in October 2026") ||
		st.Fields["Product"] != "customer-transactions" || st.Fields["Period"] != "October 2026" || len(st.Fields["Audit record"]) < 30 {
		t.Errorf("the disclosure shows %+v", st)
	}
	wantFilters := [][2]string{{"question", "type is withdrawal your question"}, {"policy", "region is europe added by policy"}}
	if len(st.Filters) != 2 || st.Filters[0] != wantFilters[0] || st.Filters[1] != wantFilters[1] {
		t.Errorf("filters %q, want %q", st.Filters, wantFilters)
	}
	if !strings.HasPrefix(st.Curl, "curl -sS "+st.Origin+"/mcp \\\n") || !strings.Contains(st.Curl, `Authorization: Bearer $ASKMESH_TOKEN`) ||
		strings.Contains(st.Curl, "demo-erin") || st.Status == "" {
		t.Errorf("copy as API call gave %q (status %q)", st.Curl, st.Status)
	}
	// Run it as a shell would: the body between the single quotes, with erin's own token.
	_, quoted, ok := strings.Cut(st.Curl, "-d '")
	body := strings.TrimSuffix(strings.ReplaceAll(quoted, `'\''`, `'`), "'")
	if !ok || !json.Valid([]byte(body)) || !strings.Contains(body, `"name":"`+tools.ToolQueryRecords+`"`) {
		t.Fatalf("the curl's body %q", body)
	}
	again := h.mcpResult("demo-erin", body)
	var ids []string
	for _, r := range again.Rows {
		ids = append(ids, r[0].(string))
	}
	if strings.Join(ids, ",") != strings.Join(st.IDs, ",") || len(ids) != 5 {
		t.Errorf("the copied call returns %q; the page shows %q", ids, st.IDs)
	}
	checkLayout(t, step, "an answer with its computation open")
	br.checkConsole(t)
}
