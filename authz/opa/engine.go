package opa

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
)

// IndexQuery is evaluated when products change, if the policies define it:
// what decisions need of each product that does not depend on the input.
// Its value is kept as data.askmesh.index, where decisions look it up.
const IndexQuery = "data.askmesh.authz.index"

// asTerm makes OPA hand results back as AST terms rather than converting
// them to Go values, which a decision would then only walk once.
var asTerm = rego.EvalGenerateJSON(func(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil })

// noMetrics spares a decision OPA's per-evaluation metrics (a map and a
// timer for each phase), which nothing reads.
var noMetrics = rego.EvalMetrics(metrics.NoOp())

// Options configure an Engine.
type Options struct {
	// PolicyDir, if set, replaces the embedded policies with the *.rego
	// files under it (recursively; *_test.rego files are left out).
	PolicyDir string
	// Products are the catalog's products; their grants are policy data.
	Products []*catalog.Product
	// Directory is who may use askmesh. Nil is an empty directory: every
	// asker is unknown and denied.
	Directory *authz.Directory
}

// Engine decides tool calls with OPA, embedded. One compiled query is
// shared by all goroutines; products and the directory live in OPA's
// in-memory store and can be replaced without preparing again.
type Engine struct {
	dq       *decisionQuery          // the decision query, as Decide evaluates it
	many     rego.PreparedEvalQuery  // manyQuery: several inputs in one evaluation
	index    *rego.PreparedEvalQuery // nil: the policies define no index
	store    storage.Store
	revision string
	files    []string
	classes  atomic.Pointer[map[string]map[string]string]
	// syms are the catalog's and the directory's names (data.go), for
	// inputValue; each update replaces its part under writeMu.
	syms       atomic.Pointer[symbols]
	catalogSym symbols
	dirSym     symbols
	// subjects are the directory's users as input.subject (input.go).
	subjects atomic.Pointer[subjectTerms]
	writeMu  sync.Mutex // one data update at a time
}

// New loads and compiles the policies, loads the data and prepares the
// decision query. Errors name the policy file and line.
func New(ctx context.Context, opts Options) (*Engine, error) {
	bundle, err := loadBundle(opts.PolicyDir, false)
	if err != nil {
		return nil, err
	}
	compiler, err := bundle.compile()
	if err != nil {
		return nil, err
	}
	if len(compiler.GetRulesExact(ast.MustParseRef(authz.DecisionQuery))) == 0 {
		return nil, fmt.Errorf("authz: the policies in %s do not define %s (package askmesh.authz, rule decision)", bundle.where, authz.DecisionQuery)
	}
	dir, dirSym, subjects := directoryValue(opts.Directory)
	root := ast.NewObject(ast.Item(str("askmesh"), ast.ObjectTerm(
		ast.Item(str("products"), ast.ObjectTerm()),
		ast.Item(str("index"), ast.ObjectTerm()),
		ast.Item(str("directory"), ast.NewTerm(dir)),
	)))
	store := inmem.NewFromASTObject(root)
	// Strict builtin errors, here and in decisionQuery: a builtin error
	// (sprintf on a wrong type, say) must fail the decision, not quietly
	// make one deny rule undefined.
	many, err := rego.New(rego.Query(manyQuery), rego.Compiler(compiler), rego.Store(store), rego.StrictBuiltinErrors(true)).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("authz: preparing the batch decision: %w", err)
	}
	dq, err := newDecisionQuery(compiler, store, authz.DecisionQuery)
	if err != nil {
		return nil, fmt.Errorf("authz: preparing %s: %w", authz.DecisionQuery, err)
	}
	e := &Engine{dq: dq, many: many, store: store, revision: bundle.revision(), files: bundle.names(), dirSym: dirSym}
	e.subjects.Store(&subjects)
	if len(compiler.GetRulesExact(ast.MustParseRef(IndexQuery))) > 0 {
		iq, err := rego.New(rego.Query(IndexQuery), rego.Compiler(compiler), rego.Store(store), rego.StrictBuiltinErrors(true)).PrepareForEval(ctx)
		if err != nil {
			return nil, fmt.Errorf("authz: preparing %s: %w", IndexQuery, err)
		}
		e.index = &iq
	}
	if err := e.SetProducts(ctx, opts.Products); err != nil {
		return nil, err
	}
	return e, nil
}

// Revision is the policy bundle's hash (sha256, hex): over the sorted file
// names and contents of its non-test .rego files. Every decision carries
// it, and so every audit record.
func (e *Engine) Revision() string { return e.revision }

// PolicyFiles lists the policy bundle's files (test files excluded), by
// their path inside the bundle.
func (e *Engine) PolicyFiles() []string { return slices.Clone(e.files) }

// SetProducts replaces the products policies see (a descriptor reload).
// Decisions in flight finish on the old data; later ones see the new.
func (e *Engine) SetProducts(ctx context.Context, products []*catalog.Product) error {
	v, syms, err := productsValue(products)
	if err != nil {
		return fmt.Errorf("authz: %w", err)
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	// Products and their index change in one transaction: no decision sees
	// one without the other.
	err = storage.Txn(ctx, e.store, storage.WriteParams, func(txn storage.Transaction) error {
		if err := e.store.Write(ctx, txn, storage.ReplaceOp, storage.MustParsePath("/askmesh/products"), v); err != nil {
			return fmt.Errorf("authz: updating data /askmesh/products: %w", err)
		}
		index := ast.Value(ast.NewObject())
		if e.index != nil {
			rs, err := e.index.Eval(ctx, rego.EvalTransaction(txn), asTerm)
			if err != nil {
				return fmt.Errorf("authz: evaluating %s: %w", IndexQuery, err)
			}
			if len(rs) == 1 && len(rs[0].Expressions) == 1 {
				t, ok := rs[0].Expressions[0].Value.(*ast.Term)
				if !ok {
					return fmt.Errorf("authz: %s gave %T", IndexQuery, rs[0].Expressions[0].Value)
				}
				index = t.Value
			}
		}
		if err := e.store.Write(ctx, txn, storage.ReplaceOp, storage.MustParsePath("/askmesh/index"), index); err != nil {
			return fmt.Errorf("authz: updating data /askmesh/index: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	classes := classesOf(products)
	e.classes.Store(&classes)
	e.catalogSym = syms
	e.publishSymbols()
	return nil
}

// publishSymbols makes the catalog's and the directory's names the ones
// inputs take their terms from. Called under writeMu.
func (e *Engine) publishSymbols() {
	syms := e.catalogSym.with(e.dirSym)
	e.syms.Store(&syms)
}

// inputValue converts in with the engine's symbols.
func (e *Engine) inputValue(in *authz.Input) ast.Value {
	return inputValue(in, *e.syms.Load(), *e.subjects.Load())
}

// SetDirectory replaces the directory policies see. A nil directory makes
// every asker unknown.
func (e *Engine) SetDirectory(ctx context.Context, d *authz.Directory) error {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	v, syms, subjects := directoryValue(d)
	if err := e.write(ctx, "/askmesh/directory", v); err != nil {
		return err
	}
	e.subjects.Store(&subjects)
	e.dirSym = syms
	e.publishSymbols()
	return nil
}

func (e *Engine) write(ctx context.Context, at string, v ast.Value) error {
	return storage.Txn(ctx, e.store, storage.WriteParams, func(txn storage.Transaction) error {
		if err := e.store.Write(ctx, txn, storage.ReplaceOp, storage.MustParsePath(at), v); err != nil {
			return fmt.Errorf("authz: updating data %s: %w", at, err)
		}
		return nil
	})
}

// Decide evaluates the policy for one call. An evaluation error, an
// undefined decision or a malformed one is an error: callers refuse the
// call (fail closed), never allow it. The decision carries the policy
// revision.
func (e *Engine) Decide(ctx context.Context, in authz.Input) (authz.Decision, error) {
	growStack(len(in.Action))
	t, err := e.dq.eval(ctx, e.inputValue(&in))
	if err != nil {
		return authz.Decision{PolicyRevision: e.revision}, fmt.Errorf("authz: evaluating the policy: %w", err)
	}
	if t == nil {
		return authz.Decision{PolicyRevision: e.revision}, fmt.Errorf("authz: the policy gave no decision (%s is undefined for this input)", authz.DecisionQuery)
	}
	d, err := parseDecision(t)
	if err != nil {
		return authz.Decision{PolicyRevision: e.revision}, fmt.Errorf("authz: the policy's decision cannot be read: %w", err)
	}
	e.guardRestricted(&in, &d)
	d.PolicyRevision = e.revision
	return d, nil
}

// growStack makes the calling goroutine's stack at least stackFrame bytes
// deep in one step, while it holds few frames to copy. topdown recurses
// deeply, and a request's goroutine starts with a stack of a few KiB (or
// has had it shrunk by a GC while it waited for the next request), which
// Go grows by doubling it, copying every frame each time: a decision on a
// fresh goroutine took 120 µs, against 34 µs on one whose stack had grown
// already, and the copying was 6% of the server's CPU at 500 concurrent
// questions (runtime.copystack). This costs 3 µs (clearing the frame) on
// a stack that needed none, and brings the fresh case to 52 µs
// (BenchmarkDecideFreshGoroutine).
//
//go:noinline
func growStack(n int) byte {
	var frame [stackFrame]byte
	frame[n&(stackFrame-1)] = byte(n)
	return frame[(n*7)&(stackFrame-1)]
}

// stackFrame is what the demo policy's deepest decisions need, rounded
// up to a power of two: 32 KiB left one more doubling.
const stackFrame = 64 << 10

// guardRestricted holds the one rule no policy can change: a restricted
// column is never returned, masked or not, and never computed with. The
// default policy says so itself; this guard makes it true of any policy
// directory too.
func (e *Engine) guardRestricted(in *authz.Input, d *authz.Decision) {
	if !d.Allow {
		return
	}
	classes := (*e.classes.Load())[in.Resource.Product]
	if classes == nil {
		return
	}
	restricted := func(col string) bool { return classes[col] == catalog.ClassRestricted }
	for _, col := range in.Resource.Referenced {
		if restricted(col) {
			*d = authz.Decision{Reasons: []string{fmt.Sprintf("%s is restricted and never visible to anyone, so it cannot be used in metrics, filters, grouping or sorting", col)}}
			return
		}
	}
	for col := range d.ColumnMasks {
		if restricted(col) {
			delete(d.ColumnMasks, col)
		}
	}
	cols := in.Resource.Columns
	if in.Action == authz.ActionDescribe {
		cols = sortedKeys(classes)
	}
	for _, col := range cols {
		if restricted(col) && !slices.Contains(d.DeniedColumns, col) {
			d.DeniedColumns = append(d.DeniedColumns, col)
		}
	}
}

// bundle is a set of policy files.
type bundle struct {
	where string            // "the embedded policies" or the directory
	files map[string][]byte // path inside the bundle -> contents
	shown map[string]string // path inside the bundle -> path in messages
}

func isTestFile(name string) bool { return strings.HasSuffix(name, "_test.rego") }

// loadBundle reads the *.rego files of dir (the embedded policies if dir
// is ""), with or without the tests.
func loadBundle(dir string, withTests bool) (*bundle, error) {
	b := &bundle{files: map[string][]byte{}, shown: map[string]string{}}
	var fsys fs.FS
	if dir == "" {
		b.where = "the embedded policies"
		fsys = authz.DefaultPolicies()
	} else {
		b.where = dir
		info, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("authz: policy directory: %w", err)
		}
		if !info.IsDir() {
			return nil, fmt.Errorf("authz: policy directory %s is not a directory", dir)
		}
		fsys = os.DirFS(dir)
	}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || path.Ext(p) != ".rego" || (!withTests && isTestFile(p)) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		b.files[p] = data
		if dir == "" {
			b.shown[p] = path.Join("authz/policies", p)
		} else {
			b.shown[p] = filepath.Join(dir, filepath.FromSlash(p))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("authz: reading %s: %w", b.where, err)
	}
	if len(b.files) == 0 {
		return nil, fmt.Errorf("authz: no policy files (*.rego) in %s", b.where)
	}
	return b, nil
}

func (b *bundle) names() []string {
	names := make([]string, 0, len(b.files))
	for n := range b.files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// revision hashes the non-test files: name and contents, each length-
// prefixed so that no two bundles hash alike, in name order. Paths are
// relative to the bundle, so the same policies hash the same wherever
// they are installed.
func (b *bundle) revision() string {
	h := sha256.New()
	for _, n := range b.names() {
		if isTestFile(n) {
			continue
		}
		fmt.Fprintf(h, "%d:%s\n%d:", len(n), n, len(b.files[n]))
		h.Write(b.files[n])
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// parse parses every file as Rego v1.
func (b *bundle) parse() (map[string]*ast.Module, error) {
	modules := make(map[string]*ast.Module, len(b.files))
	var errs []error
	for _, n := range b.names() {
		m, err := ast.ParseModuleWithOpts(b.shown[n], string(b.files[n]), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		modules[b.shown[n]] = m
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("authz: policies in %s: %w", b.where, errors.Join(errs...))
	}
	return modules, nil
}

func (b *bundle) compile() (*ast.Compiler, error) {
	modules, err := b.parse()
	if err != nil {
		return nil, err
	}
	c := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1)
	if c.Compile(modules); c.Failed() {
		return nil, fmt.Errorf("authz: policies in %s: %w", b.where, c.Errors)
	}
	return c, nil
}
