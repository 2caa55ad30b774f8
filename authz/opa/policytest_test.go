package opa

import (
	"context"
	"testing"
)

// The default policy's Rego tests run with go test: one failing rule fails
// the build.
func TestDefaultPolicies(t *testing.T) {
	t.Parallel()
	results, err := TestPolicies(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(results) < 30 {
		t.Fatalf("ran %d policy tests; the default policy has more than 30", len(results))
	}
	for _, r := range results {
		if !r.Passed() {
			t.Errorf("%s\n%s", r, r.Output)
		}
	}
}
