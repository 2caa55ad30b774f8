package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chzyer/readline"

	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

// asTerminal drives the chat's line reader through pipes as a terminal
// would: keys in, screen out.
func asTerminal(t *testing.T) {
	chatTerminal = func(c *readline.Config) {
		c.ForceUseInteractive = true
		c.FuncIsTerminal = func() bool { return true }
		c.FuncMakeRaw = func() error { return nil }
		c.FuncExitRaw = func() error { return nil }
		c.FuncGetWidth = func() int { return 200 }
	}
	t.Cleanup(func() { chatTerminal = nil })
}

func chat(t *testing.T, dir, history, keys string) string {
	t.Helper()
	root := newRoot()
	var out syncBuffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(keys))
	root.SetArgs([]string{"--data-dir", dir, "--now", banktest.Now.Format("2006-01-02T15:04:05Z"), "chat", "--as", "carol", "--history", history})
	if err := root.Execute(); err != nil {
		t.Fatalf("chat: %v\n%s", err, out.String())
	}
	return out.String()
}

const (
	keyUp        = "\x1b[A"
	keyBackspace = "\x7f"
	keyEnter     = "\r"
)

// Line editing, history and the slash commands, typed as keys.
func TestChatEditsRecallsAndExplains(t *testing.T) {
	t.Parallel()
	asTerminal(t)
	dir := banktest.PrivateDir(t)
	history := filepath.Join(t.TempDir(), "state", "chat_history")
	out := chat(t, dir, history, strings.Join([]string{
		"/help" + keyEnter,
		// A typo mended with backspace before Enter.
		"How many new customers did we acquire last month, compared with the month beforx" + keyBackspace + "e?" + keyEnter,
		"/sources" + keyEnter,
		// Up recalls the question (commands are not kept), asked again.
		keyUp + keyEnter,
		"/new" + keyEnter,
		"/sourcse" + keyEnter,
		"/sources" + keyEnter,
		"/quit" + keyEnter,
	}, ""))

	for _, want := range []string{
		"askmesh chat as carol@bank.example (model offline). Ask a question; /help lists the commands.",
		"  /sources  the tool calls behind the last answer",
		"  /new      start a new conversation",
		"Sources: customer-acquisition (/sources for the 1 call and their audit records)",
		"(new conversation)",
		"unknown command /sourcse; /help lists the commands",
		"no answer yet in this conversation",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the session lacks %q:\n%s", want, out)
		}
	}
	// The question was answered twice (typed, then recalled with Up).
	if n := len(figure("398").FindAllStringIndex(out, -1)); n < 2 {
		t.Errorf("the recalled question was not asked again (%d answers):\n%s", n, out)
	}
	if !regexp.MustCompile(`1\. query_metrics customer-acquisition → allow, \d+ rows? · audit [0-9a-f-]{36}\n   arguments \{`).MatchString(out) {
		t.Errorf("/sources does not list the call with its audit record:\n%s", out)
	}

	// The history is kept, the user's alone, and the next session recalls it.
	fi, err := os.Stat(history)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("history mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(history)
	if !strings.Contains(string(b), "compared with the month before?\n") || strings.Contains(string(b), "beforx") {
		t.Errorf("history:\n%s", b)
	}
	if strings.Contains(string(b), "/sources") {
		t.Errorf("commands are kept in the history:\n%s", b)
	}
	out = chat(t, dir, history, keyUp+keyEnter+"/quit"+keyEnter)
	if !figure("398").MatchString(out) {
		t.Errorf("a new session does not recall the last session's question:\n%s", out)
	}
}
