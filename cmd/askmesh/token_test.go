package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/authz"
)

// The token printed once and the hash configured authenticate the same user.
func TestTokenNewAndHash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, err := run(t, dir, "token", "new", "--for", "bob@bank.example")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`token: (askmesh_\S+)\n.*\n  "(sha256:[0-9a-f]{64})": bob@bank.example\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("token new printed:\n%s", out)
	}
	if authz.HashToken(m[1]) != m[2] {
		t.Fatalf("configured hash %s is not the token's", m[2])
	}
	tokens, err := authz.ParseTokenHashes(map[string]string{m[2]: "bob@bank.example"})
	if err != nil || len(tokens) != 1 {
		t.Fatalf("the printed entry does not parse: %v", err)
	}

	// From stdin, so the token stays out of shell history.
	root := newRoot()
	var buf bytes.Buffer
	root.SetOut(&buf)
	root.SetIn(strings.NewReader(m[1] + "\n"))
	root.SetArgs([]string{"token", "hash"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(buf.String()); got != m[2] {
		t.Fatalf("token hash from stdin: %q, want %q", got, m[2])
	}
	if _, err := run(t, dir, "token", "new"); err == nil || !strings.Contains(err.Error(), "--for USER is required") {
		t.Fatalf("token new without --for: %v", err)
	}
}
