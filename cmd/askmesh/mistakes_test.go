package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

// execArgs runs the command line as main does: the exit code and what went
// to stdout and stderr.
func execArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(""))
	root.SetArgs(append([]string{"--now", banktest.Now.Format(time.RFC3339)}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code = execute(ctx, root, &errb)
	return code, out.String(), errb.String()
}

// demoCatalog writes the demo bank's descriptors to a directory, each
// passed through edit (file name -> new content), and a configuration
// file naming it; it returns the configuration's path.
func demoCatalog(t *testing.T, edit func(name, yaml string) string) string {
	t.Helper()
	dir := t.TempDir()
	cat := filepath.Join(dir, "products")
	if err := os.Mkdir(cat, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := bank.Files.ReadDir(bank.ProductsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := bank.Files.ReadFile(bank.ProductsDir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cat, e.Name()), []byte(edit(e.Name(), string(b))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "askmesh.yaml")
	if err := os.WriteFile(cfg, []byte("catalog_dir: "+cat+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func replaceIn(file, old, new string) func(name, yaml string) string {
	return func(name, yaml string) string {
		if name != file {
			return yaml
		}
		if !strings.Contains(yaml, old) {
			panic(file + " does not contain " + old)
		}
		return strings.Replace(yaml, old, new, 1)
	}
}

const carolsQuestion = "How many new customers did we acquire last month, compared with the month before?"

// An unknown --as is a command-line mistake: the question is not run (no
// audit record), the directory's users are listed, exit 64.
func TestUnknownUserIsRefusedWithTheKnownUsers(t *testing.T) {
	t.Parallel()
	dir := banktest.PrivateDir(t)
	code, out, errOut := execArgs(t, "--data-dir", dir, "ask", "--as", "zoe", carolsQuestion)
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	want := "askmesh: --as zoe: no such user in the directory\n  the directory's users are carol@bank.example, alice@bank.example, bob@bank.example, erin@bank.example, dave@bank.example, frank@bank.example (a first name is enough: --as carol)\n"
	if errOut != want || out != "" {
		t.Errorf("stderr:\n%s\nwant:\n%s\nstdout: %q", errOut, want, out)
	}
	// A near miss gets a suggestion.
	if code, _, errOut := execArgs(t, "--data-dir", dir, "query", "customers", "--records", "{}", "--as", "carl"); code != exitUsage ||
		!strings.Contains(errOut, "--as carl: no such user in the directory; did you mean carol?") {
		t.Errorf("query --as carl: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "governance.db")); err == nil {
		if code, out, _ := execArgs(t, "--data-dir", dir, "audit", "search", "--json"); code != 0 || strings.Contains(out, "zoe") {
			t.Errorf("the unknown user's question reached the audit log (exit %d):\n%s", code, out)
		}
	}
}

// A data directory that does not exist is not created (no empty audit log):
// the error says how to make one, exit 78.
func TestMissingDataDirSaysHowToCreateOne(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "askmesh-dta")
	for _, args := range [][]string{
		{"ask", "--as", "carol", carolsQuestion},
		{"serve", "--addr", "127.0.0.1:0"},
		{"audit", "verify"},
	} {
		code, out, errOut := execArgs(t, append([]string{"--data-dir", dir}, args...)...)
		if code != exitConfig {
			t.Errorf("%s: exit %d, want %d", args[0], code, exitConfig)
		}
		for _, want := range []string{"the data directory does not exist: " + dir, "askmesh demo generate --data-dir " + dir, "mkdir -p " + dir} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", args[0], want, errOut)
			}
		}
		if strings.Contains(out, "unavailable") {
			t.Errorf("%s answered anyway:\n%s", args[0], out)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Fatalf("%s created the data directory", args[0])
		}
	}
}

// A product whose table or data file is missing is named at start-up,
// before any question: exit 78.
func TestMissingProductDataIsNamedAtStartUp(t *testing.T) {
	t.Parallel()
	t.Run("table", func(t *testing.T) {
		cfg := demoCatalog(t, replaceIn("loan-applications.yaml", "table: loan_applications", "table: loan_aplications"))
		code, out, errOut := execArgs(t, "--data-dir", banktest.PrivateDir(t), "--config", cfg, "ask", "--as", "carol", carolsQuestion)
		if code != exitConfig || out != "" {
			t.Errorf("exit %d, want %d; stdout %q", code, exitConfig, out)
		}
		for _, want := range []string{"the catalog names data that does not exist:", "loan-applications: sqlite table: no such table: loan_aplications",
			"fix the product's backend binding in its descriptor"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
	})
	t.Run("file", func(t *testing.T) {
		dir := banktest.PrivateDir(t)
		if err := os.Remove(filepath.Join(dir, "growth.db")); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := execArgs(t, "--data-dir", dir, "ask", "--as", "carol", carolsQuestion)
		if code != exitConfig || !strings.Contains(errOut, "customer-acquisition: its data file "+filepath.Join(dir, "growth.db")+" does not exist") {
			t.Errorf("exit %d, want %d:\n%s", code, exitConfig, errOut)
		}
	})
}

// A grant naming a group the directory lacks is a descriptor fault with
// file, line, a suggestion and the directory's groups: exit 78.
func TestUnknownGroupInAGrantIsACatalogFault(t *testing.T) {
	t.Parallel()
	cfg := demoCatalog(t, replaceIn("loan-applications.yaml", "- groups: [lending]", "- groups: [lendng]"))
	code, out, errOut := execArgs(t, "--data-dir", banktest.PrivateDir(t), "--config", cfg, "ask", "--as", "bob", "loan applications by type this year")
	if code != exitConfig || out != "" {
		t.Errorf("exit %d, want %d; stdout %q", code, exitConfig, out)
	}
	file := filepath.Join(filepath.Dir(cfg), "products", "loan-applications.yaml")
	want := file + `:128: customProperties[0].value.access[0].groups[0]: group "lendng" is not in the directory, so this grant matches nobody; did you mean "lending"?; the directory's groups are auditor, customer-service, executive, intern, lending, marketing, retail-ops`
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr:\n%s\nwant it to contain:\n%s", errOut, want)
	}
}
