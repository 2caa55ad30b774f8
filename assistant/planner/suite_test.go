package planner_test

// The end-to-end suite: questions from testdata/questions.yaml asked as the
// demo users through the whole stack (catalog, policy, audit, SQLite
// backends, executor, agent, planner). Every number an answer must contain
// is computed by a hand-written SQL query over the generated data, not by
// askmesh.

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/planner"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// suiteFile is the suite's shape; see the comment at the top of the file.
type suiteFile struct {
	Cases []suiteCase `yaml:"cases"`
}

type suiteCase struct {
	Name    string   `yaml:"name"`
	User    string   `yaml:"user"`
	History []string `yaml:"history"`
	Ask     string   `yaml:"ask"`
	Expect  struct {
		Numbers  []expectSQL `yaml:"numbers"`
		Text     []string    `yaml:"text"`
		NotText  []string    `yaml:"not_text"`
		Denied   string      `yaml:"denied"`
		Unparsed bool        `yaml:"unparsed"`
		Calls    []string    `yaml:"calls"`
		// Outcome is the answer's outcome (answered, partial, declined,
		// clarify). Cases expecting declined or clarify are the questions
		// the catalog cannot answer or that are ambiguous: they must
		// compute nothing.
		Outcome   string   `yaml:"outcome"`
		Unmatched []string `yaml:"unmatched"`
		Options   []string `yaml:"options"` // clarification option labels
	} `yaml:"expect"`
}

// expectSQL is a query whose every value must appear in the answer: numbers
// rounded to Round places (default: integers exact, decimals 2), in the
// text (In: text) or in the text or a table cell (In: any, the default);
// text values in the text.
type expectSQL struct {
	DB    string `yaml:"db"`
	SQL   string `yaml:"sql"`
	Round *int   `yaml:"round"`
	In    string `yaml:"in"`
	// Min is the least number of rows the query must return, so an
	// expectation cannot pass vacuously on an empty result.
	Min *int `yaml:"min"`
}

// loadSuite reads testdata/questions*.yaml in name order (questions.yaml
// first): audit cases read the log the cases before them wrote.
func loadSuite(t *testing.T) []suiteCase {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "questions*.yaml"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no suite files: %v", err)
	}
	sort.Strings(names)
	var all []suiteCase
	seen := map[string]bool{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var f suiteFile
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, c := range f.Cases {
			if seen[c.Name] {
				t.Fatalf("%s: case %q is named twice (names are conversation ids)", name, c.Name)
			}
			seen[c.Name] = true
		}
		all = append(all, f.Cases...)
	}
	return all
}

// stack builds the real stack, offline planner included, on a private copy
// of the demo data with a fresh audit log.
func stack(t *testing.T) (*app.App, string) {
	t.Helper()
	dir := banktest.PrivateDir(t)
	// A fresh audit log: audit questions must see only what the suite did.
	if _, err := os.Stat(filepath.Join(dir, "governance.db")); err == nil {
		t.Fatal("the demo data comes with an audit log; the suite needs a fresh one")
	}
	// No per-user budget: the suite asks hundreds of questions as a few
	// users within seconds, and measures answers, not limits.
	a, err := app.Build(context.Background(), app.Config{DataDir: dir, Now: banktest.Now.Format("2006-01-02T15:04:05Z"),
		Limits: tools.Limits{ToolCallsPerMinute: -1, ModelTurnsPerMinute: -1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if a.Model.Name() != "offline" {
		t.Fatalf("the stack's model is %q, not the offline planner", a.Model.Name())
	}
	return a, dir
}

func TestSuite(t *testing.T) {
	t.Parallel()
	cases := loadSuite(t)
	defer func() {
		if len(cases) < 200 {
			t.Errorf("the suite has %d questions; it should have at least 200", len(cases))
		}
		if n := countUnanswerable(cases); n < 40 {
			t.Errorf("the suite has %d questions the catalog cannot answer or that are ambiguous; it should have at least 40", n)
		}
	}()
	a, dir := stack(t)
	files := banktest.OpenFiles(t, dir)
	passed := 0
	var rep suiteReport
	for i, c := range cases {
		var ans *assistant.Answer
		var rule string
		ok := t.Run(fmt.Sprintf("%02d %s", i+1, c.Name), func(t *testing.T) {
			// Expected values first: audit questions must see the log as it
			// was before they were asked.
			type want struct {
				e    expectSQL
				rows [][]any
			}
			var wants []want
			for _, e := range c.Expect.Numbers {
				rows := files.Query(t, e.DB, e.SQL)
				if e.Min != nil && len(rows) < *e.Min {
					t.Fatalf("expectation query returned %d rows, want at least %d: %s", len(rows), *e.Min, e.SQL)
				}
				wants = append(wants, want{e, rows})
			}
			ans = ask(t, a, c)
			rule = ruleOf(t, a, c)
			defer func() {
				if t.Failed() {
					t.Logf("rule that fired: %s", rule)
				}
			}()
			t.Logf("%s: %s [rule %s]\n%s", c.User, c.Ask, rule, ans.Text)
			check(t, c, ans)
			for _, w := range wants {
				for _, row := range w.rows {
					for _, v := range row {
						if msg := findValue(ans, v, w.e); msg != "" {
							t.Errorf("%s\n  query: %s\n  answer: %s", msg, w.e.SQL, ans.Text)
						}
					}
				}
			}
		})
		if ok {
			passed++
		}
		rep.add(c, ans, rule, ok)
	}
	t.Logf("suite: %d of %d questions passed", passed, len(cases))
	rep.finish(t)
}

func subject(user string) string {
	if strings.Contains(user, "@") {
		return user
	}
	return user + "@bank.example"
}

// ask asks the history and then the question in one conversation.
func ask(t *testing.T, a *app.App, c suiteCase) *assistant.Answer {
	t.Helper()
	caller := tools.Caller{Subject: a.Directory.Lookup(subject(c.User)), Channel: "cli",
		ConversationID: conversationID(c)}
	var ans *assistant.Answer
	for _, q := range append(append([]string{}, c.History...), c.Ask) {
		var err error
		ans, err = a.Agent.Answer(context.Background(), assistant.Request{Caller: caller, Question: q})
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
	}
	return ans
}

// ruleOf names the planner rule that read the case's question, from the
// conversation as the agent kept it.
func ruleOf(t *testing.T, a *app.App, c suiteCase) string {
	t.Helper()
	p, ok := a.Model.(*planner.Planner)
	if !ok {
		return "(not the planner)"
	}
	msgs, err := a.Agent.Memory().Load(context.Background(), subject(c.User), conversationID(c))
	if err != nil {
		t.Fatal(err)
	}
	ctx := tools.WithCaller(context.Background(), tools.Caller{Subject: a.Directory.Lookup(subject(c.User)), Channel: "cli"})
	return p.RuleOf(ctx, msgs)
}

func conversationID(c suiteCase) string { return "suite-" + strings.ReplaceAll(c.Name, " ", "-") }

// check verifies the answer's form: refusals, parse failures, calls, text,
// outcome, and that a question expected to be declined or clarified
// computed nothing.
func check(t *testing.T, c suiteCase, ans *assistant.Answer) {
	t.Helper()
	if c.Expect.Outcome != "" && ans.Outcome != c.Expect.Outcome {
		t.Errorf("outcome %q, want %q\n  answer: %s", ans.Outcome, c.Expect.Outcome, ans.Text)
	}
	if c.Expect.Unmatched != nil && !slices.Equal(ans.Unmatched, c.Expect.Unmatched) {
		t.Errorf("unmatched %q, want %q", ans.Unmatched, c.Expect.Unmatched)
	}
	if unanswerable(c) {
		if n := computed(ans); n > 0 {
			t.Errorf("a question the catalog cannot answer got %d computed results: %s", n, ans.Text)
		}
	}
	if c.Expect.Options != nil {
		var got []string
		if ans.Clarification != nil {
			for _, o := range ans.Clarification.Options {
				got = append(got, o.Label)
			}
		}
		if !slices.Equal(got, c.Expect.Options) {
			t.Errorf("clarification options %q, want %q", got, c.Expect.Options)
		}
	}
	if len(ans.Flags) > 0 {
		t.Errorf("answer flagged: %v\n  answer: %s", ans.Flags, ans.Text)
	}
	switch {
	case c.Expect.Unparsed:
		if len(ans.ToolCalls) > 0 || !strings.HasPrefix(ans.Text, "I could not work out") || strings.Count(ans.Text, "\n- ") < 3 {
			t.Errorf("want a refusal to guess with 3-4 suggestions, got %d calls and: %s", len(ans.ToolCalls), ans.Text)
		}
	case c.Expect.Denied != "":
		found := false
		for _, d := range ans.Denials {
			if strings.Contains(d.Reason, c.Expect.Denied) {
				found = true
			}
		}
		if !found || !strings.Contains(ans.Text, c.Expect.Denied) {
			t.Errorf("want a denial containing %q; denials %+v; answer: %s", c.Expect.Denied, ans.Denials, ans.Text)
		}
		if len(ans.Tables) > 0 && len(ans.Denials) == len(ans.ToolCalls) {
			t.Errorf("a refused answer has tables: %+v", ans.Tables)
		}
	default:
		if len(ans.Denials) > 0 {
			t.Errorf("unexpected denials %+v; answer: %s", ans.Denials, ans.Text)
		}
		for _, tc := range ans.ToolCalls {
			if tc.Decision != "allow" {
				t.Errorf("call %s %s: %s %s", tc.Tool, tc.Arguments, tc.Decision, tc.Error)
			}
		}
	}
	if len(c.Expect.Calls) > 0 {
		var got []string
		for _, tc := range ans.ToolCalls {
			got = append(got, tc.Tool)
		}
		if strings.Join(got, ",") != strings.Join(c.Expect.Calls, ",") {
			t.Errorf("calls %v, want %v", got, c.Expect.Calls)
		}
	}
	for _, s := range c.Expect.Text {
		if !strings.Contains(ans.Text, s) {
			t.Errorf("answer lacks %q: %s", s, ans.Text)
		}
	}
	for _, s := range c.Expect.NotText {
		if strings.Contains(ans.Text, s) {
			t.Errorf("answer has %q: %s", s, ans.Text)
		}
	}
}

// findValue looks for one expected value in the answer and says what is
// wrong, or "" when it is there.
func findValue(ans *assistant.Answer, v any, e expectSQL) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if strings.Contains(ans.Text, x) {
			return ""
		}
		return fmt.Sprintf("text value %q is not in the answer", x)
	case []byte:
		return findValue(ans, string(x), e)
	}
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprintf("expected value %v (%T) is neither text nor a number", v, v)
	}
	places := 2
	if _, isInt := v.(int64); isInt {
		places = 0
	}
	if e.Round != nil {
		places = *e.Round
	}
	want := decimal(f, places)
	if containsNumber(ans.Text, group(want)) {
		return ""
	}
	if e.In != "text" {
		for _, tb := range ans.Tables {
			for _, row := range tb.Rows {
				for _, cell := range row {
					if g, ok := toFloat(cell); ok && decimal(g, places) == want {
						return ""
					}
				}
			}
		}
		return fmt.Sprintf("%s (from SQL %v) is neither in the text nor in a table", group(want), v)
	}
	return fmt.Sprintf("%s (from SQL %v) is not in the text", group(want), v)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// decimal rounds half away from zero on the shortest decimal text of f, as
// the answer's numbers are rounded.
func decimal(f float64, places int) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	r, _ := new(big.Float).SetPrec(200).SetString(s)
	scale := new(big.Float).SetFloat64(math.Pow(10, float64(places)))
	r.Mul(r, scale)
	half := big.NewFloat(0.5)
	if r.Sign() < 0 {
		r.Sub(r, half)
	} else {
		r.Add(r, half)
	}
	n, _ := r.Int(nil) // truncates toward zero
	out := new(big.Float).SetPrec(200).SetInt(n)
	out.Quo(out, scale)
	return out.Text('f', places)
}

// group puts thousands separators in decimal text.
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	ip, fp, frac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range ip {
		if i > 0 && (len(ip)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac {
		return sign + b.String() + "." + fp
	}
	return sign + b.String()
}

// containsNumber finds a number in text as a whole number, not as part of
// a longer one ("23" is not in "231" or "1,234").
func containsNumber(text, n string) bool {
	re := regexp.MustCompile(`(?:^|[^0-9.,])` + regexp.QuoteMeta(n) + `(?:$|[^0-9]|[.,][^0-9])`)
	return re.MatchString(text) || re.MatchString(text+" ")
}

// TestEndToEndDeterminism asks the same questions in fresh conversations on
// two stacks: the tool calls and the text must be byte-identical, and the
// streamed text must add up to the answer.
func TestEndToEndDeterminism(t *testing.T) {
	t.Parallel()
	qs := []struct{ user, q string }{
		{"carol", "Summarize customer acquisition last month vs the month before"},
		{"erin", "show me the 5 largest withdrawals last month"},
		{"erin", "Show me unusual transactions this month"},
		{"bob", "approval rate by region this year vs last year"},
		{"alice", "Which campaign had the best conversion rate this year?"},
		{"frank", "What data do we have about loans, and who owns it?"},
		{"carol", "Tell me a joke"},
	}
	run := func(a *app.App) []string {
		var out []string
		for i, c := range qs {
			var streamed strings.Builder
			ans, err := a.Agent.Stream(context.Background(), assistant.Request{Question: c.q, Caller: tools.Caller{
				Subject: a.Directory.Lookup(subject(c.user)), Channel: "cli", ConversationID: fmt.Sprint("det-", i)}},
				func(ev assistant.Event) {
					if ev.Type == assistant.EventText {
						streamed.WriteString(ev.Text)
					}
				})
			if err != nil {
				t.Fatal(err)
			}
			if streamed.String() != ans.Text {
				t.Errorf("%q: streamed %q, answered %q", c.q, streamed.String(), ans.Text)
			}
			var b strings.Builder
			for _, tc := range ans.ToolCalls {
				fmt.Fprintf(&b, "%s %s %s\n", tc.Tool, tc.Arguments, tc.Decision)
			}
			out = append(out, b.String()+ans.Text)
		}
		return out
	}
	a1, _ := stack(t)
	a2, _ := stack(t)
	first, second, again := run(a1), run(a2), run(a1)
	for i := range qs {
		if first[i] != second[i] || first[i] != again[i] {
			t.Errorf("%q differs between runs:\n%s\n---\n%s\n---\n%s", qs[i].q, first[i], second[i], again[i])
		}
	}
}
