package opa

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
)

// The differential check: the default policy must decide exactly as the
// reference (testdata/reference, the policy as it was before its decision
// was rewritten for speed) on generated meshes and inputs: every allow,
// reason, mask, denied column and row filter, through Decide and
// DecideMany. It runs diffInputs inputs (fewer with -short);
// ASKMESH_AUTHZ_DIFF=N runs N, for a long run after a policy change.
const diffInputs = 10000

func TestPolicyMatchesReference(t *testing.T) {
	t.Parallel()
	n := diffInputs
	if testing.Short() {
		n = 3000
	}
	if s := os.Getenv("ASKMESH_AUTHZ_DIFF"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("ASKMESH_AUTHZ_DIFF=%q: %v", s, err)
		}
		n = v
	}
	ctx := context.Background()
	const perMesh = 2000
	checked := map[string]int{}
	for seed := uint64(1); n > 0; seed++ {
		g := newDiffGen(seed)
		products, dir := g.mesh()
		ref, err := New(ctx, Options{PolicyDir: "testdata/reference", Products: products, Directory: dir})
		if err != nil {
			t.Fatal(err)
		}
		cur, err := New(ctx, Options{Products: products, Directory: dir})
		if err != nil {
			t.Fatal(err)
		}
		k := min(n, perMesh)
		batch := make([]authz.Input, 0, 16)
		for i := 0; i < k; i++ {
			in := g.input(products, dir)
			want, werr := ref.Decide(ctx, in)
			got, gerr := cur.Decide(ctx, in)
			want.PolicyRevision, got.PolicyRevision = "", ""
			if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d input %d: %s\n got %s (%v)\nwant %s (%v)\nproducts: %s", seed, i, asJSON(in), show(got), gerr, show(want), werr, asJSON(products))
			}
			checked[kindOf(want, werr)]++
			if werr == nil {
				batch = append(batch, in)
			}
			if len(batch) == cap(batch) {
				wants, werr := ref.DecideMany(ctx, batch)
				gots, gerr := cur.DecideMany(ctx, batch)
				if werr != nil || gerr != nil {
					t.Fatalf("seed %d: DecideMany: %v, %v", seed, gerr, werr)
				}
				for j := range wants {
					wants[j].PolicyRevision, gots[j].PolicyRevision = "", ""
				}
				if !reflect.DeepEqual(gots, wants) {
					t.Fatalf("seed %d: DecideMany of %s\n got %s\nwant %s", seed, asJSON(batch), asJSON(gots), asJSON(wants))
				}
				batch = batch[:0]
			}
		}
		n -= k
	}
	t.Logf("decided alike: %v", checked)
	// The generator must reach every kind of decision, or the check
	// proves little.
	for _, kind := range []string{"allow", "allow+filters", "allow+masks", "allow+denied", "deny:1", "deny:2+"} {
		if checked[kind] == 0 && !testing.Short() {
			t.Errorf("no generated input was decided %s", kind)
		}
	}
}

func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func kindOf(d authz.Decision, err error) string {
	switch {
	case err != nil:
		return "error"
	case !d.Allow && len(d.Reasons) == 1:
		return "deny:1"
	case !d.Allow:
		return "deny:2+"
	case len(d.RowFilters) > 0:
		return "allow+filters"
	case len(d.ColumnMasks) > 0:
		return "allow+masks"
	case len(d.DeniedColumns) > 0:
		return "allow+denied"
	}
	return "allow"
}

// diffGen makes small meshes whose products, grants, directory and inputs
// share a few names, so that inputs often hit grants, groups and columns
// that exist, and sometimes not.
type diffGen struct {
	rng *rand.Rand
}

func newDiffGen(seed uint64) *diffGen {
	return &diffGen{rng: rand.New(rand.NewPCG(seed, 0x64696666))}
}

var (
	diffClasses  = []string{"public", "internal", "confidential", "pii", "restricted", "secret"}
	diffColumns  = []string{"id", "region", "amount", "email", "ssn", "card", "score", "desk", "name", "at"}
	diffGroups   = []string{"a", "b", "c", "d", "e"}
	diffKinds    = []string{"redact", "hash", "last4", "scramble"}
	diffAttrs    = []string{"region", "desk", "level"}
	diffProducts = []string{"p1", "p2", "p3", "p4", "p5"}
	diffActions  = []string{authz.ActionSearch, authz.ActionDescribe, authz.ActionQueryRecords, authz.ActionGetRecord,
		authz.ActionFindAnomalies, authz.ActionQueryMetrics, authz.ActionQueryRecords, authz.ActionQueryMetrics, "product.drop", ""}
	diffValues = []any{"europe", "asia", 3.0, 0.0, true, []any{"x", "y"}, map[string]any{"k": "v"}, "", nil}
)

func (g *diffGen) chance(p float64) bool { return g.rng.Float64() < p }

func pickOf[T any](g *diffGen, xs []T) T { return xs[g.rng.IntN(len(xs))] }

// some picks up to max of xs, possibly repeating one.
func someOf[T any](g *diffGen, xs []T, max int) []T {
	k := g.rng.IntN(max + 1)
	if k == 0 {
		if g.chance(0.5) {
			return nil
		}
		return []T{}
	}
	out := make([]T, k)
	for i := range out {
		out[i] = pickOf(g, xs)
	}
	return out
}

func (g *diffGen) mesh() ([]*catalog.Product, *authz.Directory) {
	var products []*catalog.Product
	for _, name := range diffProducts[:1+g.rng.IntN(len(diffProducts))] {
		p := &catalog.Product{Name: name, Domain: "d-" + name, Owner: name + "@x"}
		for _, i := range g.rng.Perm(len(diffColumns))[:1+g.rng.IntN(len(diffColumns))] {
			p.Columns = append(p.Columns, catalog.Column{Name: diffColumns[i], Classification: pickOf(g, diffClasses)})
		}
		for range g.rng.IntN(5) {
			p.Access = append(p.Access, g.grant())
		}
		products = append(products, p)
	}
	var users []authz.User
	for i := range 6 {
		u := authz.User{ID: fmt.Sprintf("U%d@x", i), Name: fmt.Sprintf("user %d", i), Groups: someOf(g, diffGroups, 3)}
		if g.chance(0.7) {
			u.Attributes = map[string]string{}
			for _, a := range someOf(g, diffAttrs, 3) {
				u.Attributes[a] = pickOf(g, []string{"europe", "asia", ""})
			}
		}
		users = append(users, u)
	}
	dir, err := authz.NewDirectory(users)
	if err != nil {
		panic(err)
	}
	return products, dir
}

func (g *diffGen) grant() catalog.Grant {
	gr := catalog.Grant{
		Groups:  someOf(g, diffGroups, 3),
		Actions: someOf(g, []string{"records", "metrics", "records", "metrics", "describe"}, 2),
		See:     someOf(g, diffClasses, 2),
	}
	if g.chance(0.6) {
		gr.Mask = map[string]string{}
		for range 1 + g.rng.IntN(3) {
			if g.chance(0.5) {
				gr.Mask[pickOf(g, diffClasses)] = pickOf(g, diffKinds)
			} else {
				gr.Mask[pickOf(g, diffColumns)] = pickOf(g, diffKinds)
			}
		}
	}
	if g.chance(0.5) {
		for range 1 + g.rng.IntN(3) {
			rf := catalog.GrantRowFilter{Column: pickOf(g, diffColumns), Op: pickOf(g, []string{"=", "!=", "in"})}
			if g.chance(0.5) {
				rf.SubjectAttribute = pickOf(g, diffAttrs)
			} else {
				rf.Value = pickOf(g, diffValues)
				if rf.Value == nil {
					rf.Value = "europe"
				}
			}
			gr.RowFilters = append(gr.RowFilters, rf)
			if g.chance(0.1) { // the same filter twice
				gr.RowFilters = append(gr.RowFilters, rf)
			}
		}
	}
	return gr
}

func (g *diffGen) input(products []*catalog.Product, dir *authz.Directory) authz.Input {
	if g.chance(0.5) {
		if in, ok := g.aimed(products, dir); ok {
			return in
		}
	}
	var in authz.Input
	users := dir.Users()
	switch r := g.rng.IntN(10); {
	case r < 6: // a directory user, as resolved
		in.Subject = dir.Lookup(pickOf(g, users).ID)
	case r < 7: // a directory user in other case, or an OIDC subject
		u := pickOf(g, users)
		in.Subject = authz.Subject{ID: "u" + u.ID[1:], Groups: someOf(g, diffGroups, 3), Known: true, IdP: g.chance(0.5)}
	case r < 8: // unknown
		in.Subject = authz.Subject{ID: "stranger@x", Groups: someOf(g, diffGroups, 2), Known: g.chance(0.5), IdP: g.chance(0.3)}
	default: // a directory user with other groups or attributes
		in.Subject = dir.Lookup(pickOf(g, users).ID)
		in.Subject.Groups = someOf(g, diffGroups, 3)
		if g.chance(0.5) {
			in.Subject.Attributes = map[string]string{}
			for _, a := range someOf(g, diffAttrs, 2) {
				in.Subject.Attributes[a] = pickOf(g, []string{"europe", ""})
			}
		}
	}
	in.Action = pickOf(g, diffActions)
	switch r := g.rng.IntN(10); {
	case r < 8:
		in.Resource.Product = pickOf(g, diffProducts)
	case r < 9:
		in.Resource.Product = "nope"
	}
	in.Resource.Columns = someOf(g, diffColumns, 6)
	in.Resource.Referenced = someOf(g, diffColumns, 3)
	if g.chance(0.3) {
		in.Resource.Referenced = nil
	}
	in.Context.Channel = pickOf(g, []string{"slack", "web", ""})
	return in
}

// aimed is a call a grant may well allow: a data action of one of a
// product's grants, by someone in one of its groups, on the product's
// columns, computing mostly with columns of the usual classes.
func (g *diffGen) aimed(products []*catalog.Product, dir *authz.Directory) (authz.Input, bool) {
	p := pickOf(g, products)
	if len(p.Access) == 0 {
		return authz.Input{}, false
	}
	gr := pickOf(g, p.Access)
	if len(gr.Groups) == 0 || len(gr.Actions) == 0 {
		return authz.Input{}, false
	}
	group := pickOf(g, gr.Groups)
	var in authz.Input
	for _, u := range dir.Users() {
		if slices.Contains(u.Groups, group) && g.chance(0.7) {
			in.Subject = dir.Lookup(u.ID)
			break
		}
	}
	if in.Subject.ID == "" {
		in.Subject = authz.Subject{ID: "oidc@x", Groups: []string{group}, Known: true, IdP: true, Attributes: map[string]string{"region": "asia"}}
		if g.chance(0.3) {
			in.Subject.Groups = append(in.Subject.Groups, pickOf(g, diffGroups))
		}
	}
	switch pickOf(g, gr.Actions) {
	case "records":
		in.Action = pickOf(g, []string{authz.ActionQueryRecords, authz.ActionGetRecord, authz.ActionFindAnomalies, authz.ActionDescribe})
	case "metrics":
		in.Action = authz.ActionQueryMetrics
	default:
		in.Action = pickOf(g, diffActions)
	}
	in.Resource.Product = p.Name
	cols := p.ColumnNames()
	var usual []string
	for _, c := range p.Columns {
		if c.Classification == "public" || c.Classification == "internal" || slices.Contains(gr.See, c.Classification) {
			usual = append(usual, c.Name)
		}
	}
	switch r := g.rng.IntN(10); {
	case r < 6:
		in.Resource.Columns = someOf(g, cols, 5)
	case r < 8 && len(usual) > 0:
		in.Resource.Columns = someOf(g, usual, 4)
	case r < 9:
		in.Resource.Columns = cols
	default:
		in.Resource.Columns = append(someOf(g, cols, 3), pickOf(g, diffColumns))
	}
	switch r := g.rng.IntN(10); {
	case r < 5 && len(usual) > 0:
		in.Resource.Referenced = someOf(g, usual, 3)
	case r < 7:
		in.Resource.Referenced = nil
	default:
		in.Resource.Referenced = someOf(g, diffColumns, 3)
	}
	return in, true
}
