package opa

import (
	"context"
	"reflect"
	"testing"

	"github.com/askmesh/askmesh/authz"
)

// TestDecideManyEqualsDecide: one evaluation over every product, for each
// asker and action, gives exactly the decisions Decide gives one by one,
// allows and denials with their reasons and obligations alike.
func TestDecideManyEqualsDecide(t *testing.T) {
	ctx := context.Background()
	e := demoEngine(t)
	d := demoDirectory(t)
	for _, user := range []string{"alice@bank.example", "carol@bank.example", "erin@bank.example", "nobody@bank.example"} {
		for _, action := range []string{authz.ActionQueryMetrics, authz.ActionFindAnomalies, authz.ActionDescribe} {
			var ins []authz.Input
			for _, p := range demoProducts(t) {
				ins = append(ins, authz.Input{Subject: d.Lookup(user), Action: action, Resource: authz.Resource{Product: p.Name, Domain: p.Domain}})
			}
			got, err := e.DecideMany(ctx, ins)
			if err != nil {
				t.Fatal(err)
			}
			allowed := 0
			for i, in := range ins {
				want, err := e.Decide(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got[i], want) {
					t.Errorf("%s %s %s: DecideMany %+v, Decide %+v", user, action, in.Resource.Product, got[i], want)
				}
				if want.Allow {
					allowed++
				}
			}
			if user == "alice@bank.example" && action == authz.ActionQueryMetrics && (allowed == 0 || allowed == len(ins)) {
				t.Errorf("alice may query %d of %d products: the demo should allow some and deny some", allowed, len(ins))
			}
		}
	}
	if ds, err := e.DecideMany(ctx, nil); err != nil || ds != nil {
		t.Errorf("no inputs: %v, %v", ds, err)
	}
}
