package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/assistanttest"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/authz/opa"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/catalog/catalogtest"
	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/tools"
)

// tokensOf estimates tokens as bytes/4, rounded up: the encoding data of
// tiktoken-go is downloaded at run time, which a benchmark must not do.
func tokensOf(b int) int { return (b + 3) / 4 }

type promptSize struct {
	system, tools, request, listing int // bytes
}

// firstRequest captures what the agent sends the model on a question's
// first turn when the catalog holds n synthetic products.
func (e *benchEnv) firstRequest(n int) (promptSize, error) {
	return e.firstRequestOf(catalogtest.Synthetic(n, 7), "What data do we have about customers?")
}

// firstRequestOf captures the first request for a question over products.
func (e *benchEnv) firstRequestOf(products []*catalog.Product, question string) (promptSize, error) {
	var ps promptSize
	tmp, err := os.MkdirTemp(e.tmp, "prompt")
	if err != nil {
		return ps, err
	}
	reg, err := catalog.NewRegistry(products...)
	if err != nil {
		return ps, err
	}
	dirYAML, err := bank.Files.ReadFile(bank.DirectoryFile)
	if err != nil {
		return ps, err
	}
	dir, err := authz.LoadDirectory(bytes.NewReader(dirYAML))
	if err != nil {
		return ps, err
	}
	engine, err := opa.New(e.ctx, opa.Options{Products: products, Directory: dir})
	if err != nil {
		return ps, err
	}
	store, err := auditlog.OpenSQLite(e.ctx, filepath.Join(tmp, "governance.db"))
	if err != nil {
		return ps, err
	}
	defer store.Close()
	exec, err := tools.NewExecutor(tools.ExecutorOptions{Catalog: reg, Authorizer: engine, Audit: store, Clock: tools.FixedClock(benchNow), Logger: discardLogger()})
	if err != nil {
		return ps, err
	}
	// The model keeps every request and answers each with a short text.
	model := &assistanttest.Script{ModelName: "recording", Then: assistanttest.Text("I have not looked anything up.")}
	agent, err := assistant.New(assistant.Options{Model: model, Tools: exec, Clock: tools.FixedClock(benchNow), Logger: discardLogger(),
		Verified: assistant.NewVerifiedIndex(reg)})
	if err != nil {
		return ps, err
	}
	caller := tools.Caller{Subject: dir.Lookup("carol@bank.example"), Channel: "cli"}
	if _, err := agent.Answer(e.ctx, assistant.Request{Caller: caller, Question: question}); err != nil {
		return ps, err
	}
	reqs := model.Requests()
	if len(reqs) == 0 || len(reqs[0].Messages) == 0 {
		return ps, errors.New("the model was never asked")
	}
	req := reqs[0]
	ps.system = len(req.Messages[0].Content)
	specs, err := json.Marshal(req.Tools)
	if err != nil {
		return ps, err
	}
	ps.tools = len(specs)
	whole, err := json.Marshal(req)
	if err != nil {
		return ps, err
	}
	ps.request = len(whole)
	var list strings.Builder
	for _, p := range reg.List() {
		fmt.Fprintf(&list, "- %s (%s): %s\n", p.Name, p.Domain, firstLine(p.Description))
	}
	ps.listing = list.Len()
	return ps, nil
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\n"); i >= 0 {
		return s[:i]
	}
	return s
}

func (e *benchEnv) benchPrompt() *benchSection {
	sec := &benchSection{Title: "Prompt size",
		What: "What the agent actually sends the model on the first turn of a question (captured from the first `assistant.ModelRequest` by a recording model): the system prompt plus the tool specs, with catalogs of 10 and 10,000 synthetic products. Baseline: the same prompt with the catalog listed in it (one line per product: name, domain, first line of the description), the design askmesh avoids by letting the model search the catalog through a tool. Tokens are estimated as bytes/4: tiktoken-go (in go.sum through langchaingo) downloads its encoding files at run time, which this benchmark must not do, so it is not used."}
	small, err := e.firstRequest(10)
	if err != nil {
		sec.Err = err
		return sec
	}
	large, err := e.firstRequest(10000)
	if err != nil {
		sec.Err = err
		return sec
	}
	for _, c := range []struct {
		n  int
		ps promptSize
	}{{10, small}, {10000, large}} {
		own := tokensOf(c.ps.system + c.ps.tools)
		listed := tokensOf(c.ps.system + c.ps.tools + c.ps.listing)
		sec.Rows = append(sec.Rows, benchRow{Case: fmt.Sprintf("%s products", fmtCount(int64(c.n))),
			Value:    fmt.Sprintf("%s tokens (system %s + tools %s)", fmtCount(int64(own)), fmtCount(int64(tokensOf(c.ps.system))), fmtCount(int64(tokensOf(c.ps.tools)))),
			Baseline: fmt.Sprintf("%s tokens (catalog listed)", fmtCount(int64(listed))),
			Ratio:    fmtRatio(ratio(float64(own), float64(listed)))})
	}
	s, l := small.system+small.tools, large.system+large.tools
	sec.Rows = append(sec.Rows, benchRow{Case: "growth from 10 to 10,000 products",
		Value:    fmt.Sprintf("%+d tokens", tokensOf(l)-tokensOf(s)),
		Baseline: fmt.Sprintf("%s tokens at 10 products", fmtCount(int64(tokensOf(s)))),
		Ratio:    fmtRatio(ratio(float64(l), float64(s))),
		Target:   "flat (1.00x)", Met: met(l == s)})
	sec.Notes = append(sec.Notes, fmt.Sprintf("Whole first request as JSON (with the question): %s bytes at 10 products, %s bytes at 10,000.",
		fmtCount(int64(small.request)), fmtCount(int64(large.request))))
	// Verified questions on every product: the model is shown the few most
	// like the question (at most assistant.MaxVerifiedExamples), found by
	// search, so the prompt holds as many examples at 10,000 as at 10.
	vs, vl := catalogtest.SyntheticWithVerified(10, 7), catalogtest.SyntheticWithVerified(10000, 7)
	q := strings.TrimSuffix(vs[0].ExampleQuestions[0], "?") + ", compared with the month before?"
	vsmall, err := e.firstRequestOf(vs, q)
	if err == nil {
		var vlarge promptSize
		if vlarge, err = e.firstRequestOf(vl, q); err == nil {
			s, l := vsmall.system+vsmall.tools, vlarge.system+vlarge.tools
			sec.Rows = append(sec.Rows, benchRow{Case: "growth from 10 to 10,000 products, a verified question on each",
				Value:    fmt.Sprintf("%+d tokens (%s at 10,000)", tokensOf(l)-tokensOf(s), fmtCount(int64(tokensOf(l)))),
				Baseline: fmt.Sprintf("%s tokens at 10 products", fmtCount(int64(tokensOf(s)))),
				Ratio:    fmtRatio(ratio(float64(l), float64(s))),
				Target:   "flat (within 1%)", Met: met(float64(l) <= 1.01*float64(s) && float64(l) >= 0.99*float64(s))})
		}
	}
	if err != nil {
		sec.Err = err
	}
	return sec
}
