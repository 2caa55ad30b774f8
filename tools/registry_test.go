package tools

import (
	"strings"
	"testing"
)

// Every row of the registry is complete: a schema, a policy action of its
// own, a handler and progress text; and the lists every adapter reads come
// from it in its order.
func TestRegistryRowsAreComplete(t *testing.T) {
	t.Parallel()
	actions := map[string]string{}
	names := ToolNames()
	if len(names) != len(registry) {
		t.Fatalf("%d tool names for %d registry rows", len(names), len(registry))
	}
	for i, row := range registry {
		spec, ok := SpecFor(row.name)
		if !ok || names[i] != row.name || spec.tool != &registry[i] {
			t.Fatalf("%s: spec missing or out of registry order", row.name)
		}
		if spec.Parameters == nil || len(spec.ParametersJSON()) == 0 || spec.Description == "" {
			t.Errorf("%s: no schema or description", row.name)
		}
		if row.action == "" || spec.Action != row.action {
			t.Errorf("%s: action %q", row.name, spec.Action)
		}
		if other, dup := actions[row.action]; dup {
			t.Errorf("%s and %s share the policy action %s", row.name, other, row.action)
		}
		actions[row.action] = row.name
		if row.run == nil {
			t.Errorf("%s: no handler", row.name)
		}
		if got := Progress(row.name, "loan-applications"); got == "" || strings.Contains(got, "%") {
			t.Errorf("%s: progress %q", row.name, got)
		}
	}
	if got := Progress(ToolQueryMetrics, "customer-acquisition"); got != "querying customer-acquisition" {
		t.Errorf("progress = %q", got)
	}
	if got := Progress(ToolDescribe, ""); got != "reading the description of a data product" {
		t.Errorf("progress without a product = %q", got)
	}
}
