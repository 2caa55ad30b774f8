package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

// The demo suite, scored for the offline planner: the scores are printed
// and the three reports written, with the same numbers.
func TestEvalDemoSuiteWithTheOfflinePlanner(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	out := filepath.Join(t.TempDir(), "report")
	text, err := run(t, dir, "eval", filepath.Join("..", "..", "examples", "bank", "eval.yaml"), "--model", "offline", "--out", out,
		"--min-right", "0.9", "--max-wrong", "0")
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, text)
	}
	var row string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "offline ") {
			row = strings.Join(strings.Fields(l), " ")
		}
	}
	// model, right, wrong, declined, clarified, error
	if !strings.HasPrefix(row, "offline 12 0 0 0 0 ") {
		t.Errorf("scores line %q in:\n%s", row, text)
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Models []struct {
			Summary struct {
				Counts map[string]int `json:"counts"`
			} `json:"summary"`
		} `json:"models"`
	}
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Models) != 1 || rep.Models[0].Summary.Counts["right"] != 12 {
		t.Errorf("report.json: %v %s", err, b)
	}
	for _, f := range []string{"report.md", "report.html"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || !strings.Contains(string(b), "nothing-in-the-catalog") {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// A gate a model misses exits non-zero and says which model and why; a
// broken suite is refused before anything runs, naming every fault.
func TestEvalGateAndBadSuites(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	suite := filepath.Join(t.TempDir(), "suite.yaml")
	write := func(s string) {
		if err := os.WriteFile(suite, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`name: off by one
cases:
  - id: new-customers
    question: How many new customers did we acquire last month?
    asker: carol
    values: [399]
`)
	text, err := run(t, dir, "eval", suite, "--out", t.TempDir(), "--max-wrong", "0")
	var exit exitError
	if !errors.As(err, &exit) || exit.code != 1 || !strings.Contains(text, "offline: 100.0% wrong, above --max-wrong 0.0%") {
		t.Errorf("gate: %v\n%s", err, text)
	}
	if !strings.Contains(text, "does not state 399 (it states 398") {
		t.Errorf("the wrong answer is not explained:\n%s", text)
	}

	write(`name: broken
cases:
  - id: Bad Id
    question: ""
    asker: carol
  - id: dup
    question: q
    asker: nobody
    values: [1]
    must_decline: true
`)
	_, err = run(t, dir, "eval", suite, "--out", t.TempDir())
	for _, want := range []string{`id "Bad Id"`, "question is required", "says nothing about a right answer", "must_decline and must_clarify exclude"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("broken suite: %v lacks %q", err, want)
		}
	}
	write("name: x\ncases:\n  - id: a\n    question: q\n    asker: nobody\n    must_decline: true\n")
	if _, err = run(t, dir, "eval", suite, "--out", t.TempDir()); err == nil || !strings.Contains(err.Error(), `asker "nobody" is not in the directory`) {
		t.Errorf("unknown asker: %v", err)
	}
	if _, err = run(t, dir, "eval", suite, "--model", "gpt4"); err == nil || !strings.Contains(err.Error(), "the provider is one of") {
		t.Errorf("bad --model: %v", err)
	}
}
