package opa

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// PolicyTestResult is the outcome of one Rego test rule (test_*).
type PolicyTestResult struct {
	File     string        // the policy file, as shown in messages
	Line     int           // the test rule's line
	Package  string        // e.g. "data.askmesh.authz_test"
	Name     string        // e.g. "test_no_grant_denied"
	Fail     bool          // the rule was false or undefined
	Skip     bool          // the rule is a todo_test_
	Err      error         // the rule could not be evaluated
	Duration time.Duration // how long it ran
	Output   string        // what print() wrote, if anything
}

// Passed reports whether the test ran and held.
func (r PolicyTestResult) Passed() bool { return !r.Fail && !r.Skip && r.Err == nil }

// String is one line naming the test and its file, with the error if it
// could not run: "authz_test.rego:84: data.askmesh.authz_test.test_x (2ms)".
// Callers say PASS or FAIL (see Passed).
func (r PolicyTestResult) String() string {
	s := fmt.Sprintf("%s:%d: %s.%s (%s)", r.File, r.Line, r.Package, r.Name, r.Duration.Round(time.Microsecond))
	switch {
	case r.Err != nil:
		s += ": " + r.Err.Error()
	case r.Skip:
		s += ": skipped"
	}
	return s
}

// TestPolicies runs every test rule of the policy bundle in policyDir (the
// embedded policies if ""), test files included, with OPA's tester. It
// returns every result, sorted by file and line; the error is for a bundle
// that cannot be loaded or compiled, not for failing tests.
func TestPolicies(ctx context.Context, policyDir string) ([]PolicyTestResult, error) {
	b, err := loadBundle(policyDir, true)
	if err != nil {
		return nil, err
	}
	modules, err := b.parse()
	if err != nil {
		return nil, err
	}
	runner := tester.NewRunner().
		SetDefaultRegoVersion(ast.RegoV1).
		SetModules(modules).
		SetStore(inmem.New()).
		CapturePrintOutput(true).
		RaiseBuiltinErrors(true).
		SetTimeout(time.Minute)
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("authz: policy tests in %s: %w", b.where, err)
	}
	var out []PolicyTestResult
	for r := range ch {
		res := PolicyTestResult{Package: r.Package, Name: r.Name, Fail: r.Fail, Skip: r.Skip, Err: r.Error,
			Duration: r.Duration, Output: strings.TrimRight(string(r.Output), "\n")}
		if r.Location != nil {
			res.File, res.Line = r.Location.File, r.Location.Row
		}
		out = append(out, res)
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out, nil
}
