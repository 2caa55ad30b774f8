// Package deptest checks that imports follow the architecture: the core
// (assistant, tools, catalog, authz, audit) never reaches an adapter or a
// database driver, inbound channels reach data only through the executor, and
// the shipped binary carries no test code. The rules are in rules below; a
// self-test shows each one fails on a deliberately wrong import.
package deptest

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/askmesh/askmesh"

// pkg is one package as `go list` reports it.
type pkg struct {
	ImportPath string
	Imports    []string // direct imports
	Deps       []string // every package it depends on, transitively
}

// graph is every package of the module by import path, plus the shipped
// binary's dependencies.
type graph struct {
	pkgs       map[string]*pkg
	binary     []string            // go list -deps ./cmd/askmesh
	binaryImps map[string][]string // importers within the binary's graph
}

// load runs `go list` over the module. overlay, when not empty, is a go
// build overlay file: the self-test uses it to add a wrong import without
// touching the tree.
func load(t *testing.T, overlay string) *graph {
	t.Helper()
	root := moduleRoot(t)
	args := []string{"list", "-json=ImportPath,Imports,Deps"}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	g := &graph{pkgs: map[string]*pkg{}, binaryImps: map[string][]string{}}
	for _, p := range goList(t, root, append(args, "./...")...) {
		g.pkgs[p.ImportPath] = p
	}
	for _, p := range goList(t, root, append(args, "-deps", "./cmd/askmesh")...) {
		g.binary = append(g.binary, p.ImportPath)
		for _, imp := range p.Imports {
			g.binaryImps[imp] = append(g.binaryImps[imp], p.ImportPath)
		}
	}
	return g
}

func goList(t *testing.T, dir string, args ...string) []*pkg {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	var pkgs []*pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		p := &pkg{}
		if err := dec.Decode(p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	return dir
}

// local strips the module prefix: "tools", "adapters/channels/web".
func local(path string) (string, bool) {
	if path == module {
		return ".", true
	}
	rest, ok := strings.CutPrefix(path, module+"/")
	return rest, ok
}

func under(path string, prefixes ...string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// isTestPackage reports whether an askmesh package exists for tests only
// (openaitest, pgtest, banktest, assistanttest, ...).
func isTestPackage(path string) bool {
	rel, ok := local(path)
	return ok && strings.HasSuffix(filepath.Base(rel), "test")
}

// drivers are database clients: only backends, the audit log's stores,
// shared state and the wiring may link them.
var drivers = []string{"github.com/jackc/pgx", "modernc.org/sqlite", "github.com/go-sql-driver/mysql"}

// core is what the design calls the core: it never imports an adapter.
var core = []string{"assistant", "tools", "catalog", "authz", "audit", "prompts"}

// coreEngines are the core packages that may hold an engine: the OPA engine
// (authz/opa) and the audit log's stores (audit/auditlog) are core, but
// nothing else in the core may depend on them.
var coreEngines = []string{"authz/opa", "audit/auditlog"}

// rules returns every violation in g, one line each.
func rules(g *graph) []string {
	var bad []string
	// 1. The shipped binary carries no test code.
	for _, dep := range g.binary {
		switch {
		case isTestPackage(dep):
			bad = append(bad, fmt.Sprintf("cmd/askmesh links the test package %s (imported by %s)", dep, strings.Join(g.binaryImps[dep], ", ")))
		case dep == "net/http/httptest":
			bad = append(bad, fmt.Sprintf("cmd/askmesh links net/http/httptest (imported by %s)", strings.Join(g.binaryImps[dep], ", ")))
		case dep == "testing":
			// OPA's policy tester behind `askmesh policy test` needs it.
			for _, imp := range g.binaryImps[dep] {
				if imp != "github.com/open-policy-agent/opa/v1/tester" {
					bad = append(bad, fmt.Sprintf("cmd/askmesh links testing through %s", imp))
				}
			}
		}
	}
	for path, p := range g.pkgs {
		rel, ok := local(path)
		if !ok || isTestPackage(path) {
			continue
		}
		// 2. The core never depends on an adapter, the wiring, a command or the demo.
		if under(rel, core...) {
			for _, dep := range p.Deps {
				if d, ok := local(dep); ok && under(d, "adapters", "internal/app", "cmd", "examples") {
					bad = append(bad, fmt.Sprintf("%s (core) depends on %s", rel, d))
				}
			}
		}
		// 3. The assistant and the tools it calls know no policy engine,
		// audit store or database: they reach them through ports.
		if under(rel, "assistant", "tools", "catalog", "prompts") || rel == "authz" || rel == "audit" {
			for _, dep := range p.Deps {
				if d, ok := local(dep); ok && under(d, coreEngines...) {
					bad = append(bad, fmt.Sprintf("%s depends on %s", rel, d))
				}
				if under(dep, "github.com/open-policy-agent/opa") || under(dep, drivers...) {
					bad = append(bad, fmt.Sprintf("%s depends on %s", rel, dep))
				}
			}
		}
		// 4. Inbound channels reach data only through the executor: no
		// backend, driver, wiring or demo mesh; the audit log is read through
		// a port that applies policy, not from its store.
		if under(rel, "adapters/channels") {
			for _, imp := range p.Imports {
				d, own := local(imp)
				switch {
				case own && under(d, "adapters/backends", "adapters/state", "internal/app", "examples", "authz/opa"):
					bad = append(bad, fmt.Sprintf("%s (inbound) imports %s", rel, d))
				case own && d == "audit/auditlog":
					bad = append(bad, fmt.Sprintf("%s (inbound) imports the audit store %s", rel, d))
				case under(imp, drivers...):
					bad = append(bad, fmt.Sprintf("%s (inbound) imports the database driver %s", rel, imp))
				}
			}
		}
	}
	slices.Sort(bad)
	return bad
}

func TestImportsFollowTheArchitecture(t *testing.T) {
	t.Parallel()
	g := load(t, "")
	if len(g.pkgs) < 20 || len(g.binary) < 100 {
		t.Fatalf("go list found %d packages and %d binary dependencies: the loader is broken", len(g.pkgs), len(g.binary))
	}
	for _, v := range rules(g) {
		t.Error(v)
	}
}

// Adapters take typed configuration from the wiring (internal/app), which
// alone reads the environment: configuration has one path, and one
// Validate names every field at fault.
func TestAdaptersReadNoEnvironment(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	fset := token.NewFileSet()
	err := filepath.WalkDir(filepath.Join(root, "adapters"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		if isTestPackage(module + "/" + filepath.ToSlash(filepath.Dir(must(filepath.Rel(root, path))))) {
			return nil // test servers may read test settings
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "os" && slices.Contains([]string{"Getenv", "LookupEnv", "Environ"}, sel.Sel.Name) {
				t.Errorf("%s reads the environment (os.%s): take it from internal/app's Config instead", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Each rule fails on a deliberately wrong import, added through a build
// overlay so that the tree is not touched.
func TestRulesCatchWrongImports(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("loads the module graph four more times")
	}
	root := moduleRoot(t)
	for _, c := range []struct {
		name, dir, pkgName, imp, want string
	}{
		{"the binary links a test package", "cmd/askmesh", "main", module + "/adapters/models/openai/openaitest", "cmd/askmesh links the test package " + module + "/adapters/models/openai/openaitest"},
		{"the assistant reaches OPA", "assistant", "assistant", "github.com/open-policy-agent/opa/v1/rego", "assistant depends on github.com/open-policy-agent/opa/v1/rego"},
		{"tools reach the audit store", "tools", "tools", module + "/audit/auditlog", "tools depends on audit/auditlog"},
		{"a channel reads a backend", "adapters/channels/slack", "slack", module + "/adapters/backends/sqlstore", "adapters/channels/slack (inbound) imports adapters/backends/sqlstore"},
		{"a channel reads the audit store", "adapters/channels/web", "web", module + "/audit/auditlog", "adapters/channels/web (inbound) imports the audit store audit/auditlog"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "wrong.go")
			body := fmt.Sprintf("package %s\n\nimport _ %q\n", c.pkgName, c.imp)
			if err := os.WriteFile(src, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(root, c.dir, "zz_wrong_import.go"): src}})
			ovf := filepath.Join(dir, "overlay.json")
			if err := os.WriteFile(ovf, overlay, 0o600); err != nil {
				t.Fatal(err)
			}
			got := rules(load(t, ovf))
			if !slices.ContainsFunc(got, func(v string) bool { return strings.HasPrefix(v, c.want) }) {
				t.Errorf("wrong import %s in %s: no violation %q among:\n%s", c.imp, c.dir, c.want, strings.Join(got, "\n"))
			}
		})
	}
}
