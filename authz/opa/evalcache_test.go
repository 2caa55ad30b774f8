package opa

import (
	"context"
	"reflect"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/askmesh/askmesh/authz"
)

// Decide's own evaluation (evalcache.go: topdown directly, its own caches)
// must give what the prepared query gives with OPA's caches: the same
// decision, for the default policy and
// the reference one on generated inputs, and for a policy that caches many
// values per decision, in frames of its own (with).
func TestEvalCachesAgreeWithOPAs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	many := `package askmesh.authz

f(x) := x * 2

doubled := [f(i) | some i in numbers.range(1, 60)]

again := [f(i) | some i in numbers.range(1, 60)]

in_frame(n) := count(doubled) + n if {
	input.action != ""
}

framed := [x |
	some i in numbers.range(1, 40)
	x := in_frame(i) with input.action as sprintf("a%d", [i])
]

decision := {"allow": false, "reasons": [sprintf("%d %d %d %v", [sum(doubled), sum(again), sum(framed), input.resource.product])]}
`
	dirs := map[string]string{"default": "", "reference": "testdata/reference", "many": policyDir(t, false, map[string]string{"many.rego": many})}
	for name, dir := range dirs {
		for seed := uint64(1); seed <= 2; seed++ {
			g := newDiffGen(seed + 100)
			products, d := g.mesh()
			e, err := New(ctx, Options{PolicyDir: dir, Products: products, Directory: d})
			if err != nil {
				t.Fatal(err)
			}
			pq := preparedDecision(t, e)
			n := 500
			if name == "many" {
				n = 20
			}
			for i := range n {
				in := g.input(products, d)
				got, gerr := e.Decide(ctx, in)
				rs, werr := pq.Eval(ctx, rego.EvalParsedInput(e.inputValue(&in)))
				var want authz.Decision
				if werr == nil {
					if len(rs) != 1 {
						t.Fatalf("%s: %d results", name, len(rs))
					}
					want, werr = parseDecision(rs[0].Expressions[0].Value)
					e.guardRestricted(&in, &want)
					want.PolicyRevision = e.revision
				}
				if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s, seed %d, input %d: %s\n got %s (%v)\nwant %s (%v)", name, seed, i, asJSON(in), show(got), gerr, show(want), werr)
				}
			}
		}
	}
}

func TestDecideCancelled(t *testing.T) {
	t.Parallel()
	e := demoEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := authz.Input{Subject: demoDirectory(t).Lookup("erin@bank.example"), Action: authz.ActionSearch}
	if d, err := e.Decide(ctx, in); err == nil || d.Allow {
		t.Fatalf("a cancelled context decided %+v, %v", d, err)
	}
	if d, err := e.Decide(context.Background(), in); err != nil || !d.Allow {
		t.Fatalf("after a cancelled decision: %+v, %v", d, err)
	}
}
