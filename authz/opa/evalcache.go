package opa

import (
	"context"
	"errors"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// evalState is what one evaluation of a decision needs of its own besides
// the input: the caches OPA keeps of rule values (topdown.VirtualCache) and
// of the base documents read (topdown.BaseCache). OPA's defaults build a
// trie of hash maps for every cached ref, and rego's Eval starts a
// goroutine per evaluation to watch the context; a decision caches a
// handful of refs, so here they are slices, reused across decisions
// through a pool, and the context is watched with context.AfterFunc. What
// is cached, and when an evaluation stops, is the same.
type evalState struct {
	// terms hold the cached refs: callers reuse the ref slices they pass.
	terms []*ast.Term
	vc    virtualCache
	bc    baseCache
}

var evalStates = sync.Pool{New: func() any { return &evalState{} }}

// decisionQuery is the decision query compiled once, for topdown to
// evaluate directly: what rego.PreparedEvalQuery.Eval does, without
// building its evaluation context, options and result set on every call.
type decisionQuery struct {
	compiler *ast.Compiler
	qc       ast.QueryCompiler
	body     ast.Body
	result   ast.Var // the variable the decision is bound to
	store    storage.Store
}

func newDecisionQuery(compiler *ast.Compiler, store storage.Store, query string) (*decisionQuery, error) {
	const result = "decision"
	qc := compiler.QueryCompiler()
	body, err := qc.Compile(ast.MustParseBody(result + " = " + query))
	if err != nil {
		return nil, err
	}
	dq := &decisionQuery{compiler: compiler, qc: qc, body: body, result: ast.Var(result), store: store}
	for v, name := range qc.RewrittenVars() {
		if name == dq.result {
			dq.result = v
		}
	}
	return dq, nil
}

// eval is the decision for input, nil if undefined, with st's caches and
// a cancellation tied to ctx. Builtin errors fail it (strict), as the
// prepared queries do.
func (dq *decisionQuery) eval(ctx context.Context, input ast.Value) (*ast.Term, error) {
	st := evalStates.Get().(*evalState)
	defer st.release()
	st.vc.st, st.bc.st = st, st
	st.vc.Push()
	c := topdown.NewCancel()
	stop := context.AfterFunc(ctx, c.Cancel)
	defer stop()
	if ctx.Err() != nil {
		c.Cancel()
	}
	txn, err := dq.store.NewTransaction(ctx)
	if err != nil {
		return nil, err
	}
	defer dq.store.Abort(ctx, txn)
	q := topdown.NewQuery(dq.body).
		WithQueryCompiler(dq.qc).
		WithCompiler(dq.compiler).
		WithStore(dq.store).
		WithTransaction(txn).
		WithInput(ast.NewTerm(input)).
		WithStrictBuiltinErrors(true).
		WithMetrics(metrics.NoOp()).
		WithVirtualCache(&st.vc).
		WithBaseCache(&st.bc).
		WithCancel(c)
	var out *ast.Term
	err = q.Iter(ctx, func(qr topdown.QueryResult) error {
		if out != nil {
			return errors.New("the decision query has several results")
		}
		out = qr[dq.result]
		if out == nil {
			return errors.New("the decision query bound no decision")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// release empties st, dropping its references to terms, and pools it.
func (st *evalState) release() {
	clear(st.terms)
	st.terms = st.terms[:0]
	clear(st.vc.entries)
	st.vc.entries = st.vc.entries[:0]
	st.vc.frames = st.vc.frames[:0]
	st.vc.byHash = nil
	clear(st.bc.entries)
	st.bc.entries = st.bc.entries[:0]
	evalStates.Put(st)
}

// hold copies ref into st's arena.
func (st *evalState) hold(ref ast.Ref) ast.Ref {
	start := len(st.terms)
	st.terms = append(st.terms, ref...)
	return st.terms[start:len(st.terms):len(st.terms)]
}

// virtualCache is topdown.VirtualCache: a stack of frames (a `with`
// pushes one), each a run of entries; only the top frame is looked in.
type virtualCache struct {
	st      *evalState
	entries []virtualEntry
	frames  []int // where each frame's entries start
	// byHash indexes entries by their ref's hash once there are many (a
	// policy that caches many values per decision), so that a lookup does
	// not scan them all.
	byHash map[int][]int
}

type virtualEntry struct {
	hash      int
	ref       ast.Ref
	value     *ast.Term
	undefined bool
}

const scanEntries = 32

func (c *virtualCache) Push() { c.frames = append(c.frames, len(c.entries)) }

func (c *virtualCache) Pop() {
	n := c.frames[len(c.frames)-1]
	c.frames = c.frames[:len(c.frames)-1]
	if c.byHash != nil {
		for i := n; i < len(c.entries); i++ {
			h := c.entries[i].hash
			ids := c.byHash[h]
			c.byHash[h] = ids[:len(ids)-1] // entries are added in order
		}
	}
	clear(c.entries[n:])
	c.entries = c.entries[:n]
}

// find is the index of ref's entry in the top frame, or -1.
func (c *virtualCache) find(ref ast.Ref, hash int) int {
	start := c.frames[len(c.frames)-1]
	if c.byHash != nil {
		ids := c.byHash[hash]
		for k := len(ids) - 1; k >= 0 && ids[k] >= start; k-- {
			if c.entries[ids[k]].ref.Equal(ref) {
				return ids[k]
			}
		}
		return -1
	}
	for i := start; i < len(c.entries); i++ {
		if e := &c.entries[i]; e.hash == hash && e.ref.Equal(ref) {
			return i
		}
	}
	return -1
}

func (c *virtualCache) Get(ref ast.Ref) (*ast.Term, bool) {
	i := c.find(ref, ref.Hash())
	if i < 0 {
		return nil, false
	}
	if e := &c.entries[i]; e.undefined {
		return nil, true
	}
	return c.entries[i].value, false
}

// Put records ref's value, or that it is undefined (nil), as OPA's own
// cache does: a value recorded again replaces the old one.
func (c *virtualCache) Put(ref ast.Ref, value *ast.Term) {
	hash := ref.Hash()
	if i := c.find(ref, hash); i >= 0 {
		if value != nil {
			c.entries[i].value = value
		} else {
			c.entries[i].undefined = true
		}
		return
	}
	c.entries = append(c.entries, virtualEntry{hash: hash, ref: c.st.hold(ref), value: value, undefined: value == nil})
	switch {
	case c.byHash != nil:
		c.byHash[hash] = append(c.byHash[hash], len(c.entries)-1)
	case len(c.entries) > scanEntries:
		c.byHash = make(map[int][]int, 2*len(c.entries))
		for i, e := range c.entries {
			c.byHash[e.hash] = append(c.byHash[e.hash], i)
		}
	}
}

func (c *virtualCache) Keys() []ast.Ref {
	var keys []ast.Ref
	for _, e := range c.entries[c.frames[len(c.frames)-1]:] {
		if e.value != nil {
			keys = append(keys, e.ref)
		}
	}
	return keys
}

// baseCache is topdown.BaseCache: documents read from the store, by ref. A
// read of a ref under a cached one is found in it. Past scanEntries
// documents it caches no more (later reads go to the store, which gives
// the same values), so that a lookup never scans many.
type baseCache struct {
	st      *evalState
	entries []baseEntry
}

type baseEntry struct {
	ref   ast.Ref
	value ast.Value
}

func (c *baseCache) Get(ref ast.Ref) ast.Value {
	// The shortest cached ref that ref starts with, as OPA's trie finds.
	best := -1
	for i := range c.entries {
		e := &c.entries[i]
		if len(e.ref) <= len(ref) && (best < 0 || len(e.ref) < len(c.entries[best].ref)) && ref.HasPrefix(e.ref) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	e := &c.entries[best]
	if len(e.ref) == len(ref) {
		return e.value
	}
	v, err := e.value.Find(ref[len(e.ref):])
	if err != nil {
		return nil
	}
	return v
}

func (c *baseCache) Put(ref ast.Ref, value ast.Value) {
	if len(c.entries) >= scanEntries {
		return
	}
	c.entries = append(c.entries, baseEntry{ref: c.st.hold(ref), value: value})
}
