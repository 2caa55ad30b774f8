package main

import (
	"os"
	"path/filepath"
	"testing"
)

// docs/cli.md is generated from the commands; it must be what they say
// now, whatever the environment of whoever generated it.
func TestCLIDocIsCurrent(t *testing.T) {
	// Environment-backed defaults must not leak into the page.
	t.Setenv("ASKMESH_DATA_DIR", "/somewhere/else")
	t.Setenv("ASKMESH_LOG_LEVEL", "debug")
	want, err := os.ReadFile(filepath.Join("..", "..", cliDocPath))
	if err != nil {
		t.Fatalf("%v: generate it with make docs", err)
	}
	code, got, errOut := execArgs(t, "docs", "cli", "--out", "-")
	if code != 0 {
		t.Fatalf("docs cli: exit %d: %s", code, errOut)
	}
	if got != string(want) {
		t.Fatalf("%s is stale: regenerate it with make docs (go run ./cmd/askmesh docs cli) and commit it", cliDocPath)
	}
}
