package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chzyer/readline"
	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/assistant"
)

func (g *globals) chatCmd() *cobra.Command {
	var as, model, history string
	cmd := &cobra.Command{
		Use:   "chat --as USER",
		Short: "An interactive session: ask, follow up, see each tool call as it happens",
		Long: `An interactive session with line editing (arrows, Ctrl-A/E, Ctrl-W, Ctrl-R to search)
and a history kept between sessions. Follow-up questions share the conversation;
/new starts another. Commands: /help, /sources (the calls, arguments and audit
records behind the last answer), /new, /quit (or Ctrl-D).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, c, err := g.buildFor(cmd, model, as)
			if err != nil {
				return err
			}
			defer a.Close()
			w := cmd.OutOrStdout()
			ask := func(ctx context.Context, q, conv string) (*assistant.Answer, error) {
				c.ConversationID = conv
				return a.Agent.Stream(ctx, assistant.Request{Caller: c, Question: q}, func(ev assistant.Event) {
					if ev.Type == assistant.EventToolFinished && ev.ToolCall != nil {
						tc := ev.ToolCall
						fmt.Fprintf(w, "  · %s %s → %s", term(tc.Tool), term(tc.Product), tc.Decision)
						if tc.Error != "" {
							fmt.Fprintf(w, ": %s", term(tc.Error))
						}
						fmt.Fprintln(w)
					}
				})
			}
			rl, err := newLineReader(cmd, history)
			if err != nil {
				return err
			}
			defer rl.Close()
			fmt.Fprintf(w, "askmesh chat as %s (model %s). Ask a question; /help lists the commands.\n", c.Subject.ID, a.Model.Name())
			return chatLoop(cmd.Context(), rl, w, ask)
		},
	}
	cmd.Flags().StringVar(&as, "as", "", "the directory user asking (demo and development only)")
	cmd.Flags().StringVar(&history, "history", defaultHistoryFile(), "file that keeps your questions between sessions (mode 0600); empty: none")
	g.modelFlag(cmd, &model)
	return cmd
}

// chatTerminal adjusts the line reader's terminal hooks; tests set it to
// drive line editing through pipes as a terminal would.
var chatTerminal func(*readline.Config)

func newLineReader(cmd *cobra.Command, history string) (*readline.Instance, error) {
	if history != "" {
		// Questions can be sensitive: the history is the user's alone.
		if err := os.MkdirAll(filepath.Dir(history), 0o700); err != nil {
			return nil, fmt.Errorf("chat history: %w", err)
		}
		f, err := os.OpenFile(history, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, fmt.Errorf("chat history: %w", err)
		}
		f.Close()
	}
	cfg := &readline.Config{
		Prompt:            "> ",
		HistoryFile:       history,
		HistorySearchFold: true,
		// Only questions are kept: Up recalls the last question, not /sources.
		DisableAutoSaveHistory: true,
		AutoComplete:           readline.NewPrefixCompleter(chatCompletions()...),
		InterruptPrompt:        "^C",
		Stdin:                  io.NopCloser(cmd.InOrStdin()),
		Stdout:                 cmd.OutOrStdout(),
		Stderr:                 cmd.ErrOrStderr(),
	}
	if chatTerminal != nil {
		chatTerminal(cfg)
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	return rl, nil
}

// defaultHistoryFile is $XDG_STATE_HOME/askmesh/chat_history, else under
// ~/.local/state; empty when there is no home.
func defaultHistoryFile() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "askmesh", "chat_history")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "askmesh", "chat_history")
	}
	return ""
}

// chatCommands are the slash commands, in /help's order.
var chatCommands = [][2]string{
	{"/help", "this list"},
	{"/sources", "the tool calls behind the last answer: product, arguments, decision and audit record"},
	{"/new", "start a new conversation (follow-ups no longer refer to earlier questions)"},
	{"/quit", "end the session (also /exit, Ctrl-D)"},
}

func chatCompletions() []readline.PrefixCompleterInterface {
	var items []readline.PrefixCompleterInterface
	for _, c := range chatCommands {
		items = append(items, readline.PcItem(c[0]))
	}
	return items
}

// chatLoop reads questions and commands until /quit, end of input or the
// context ends.
func chatLoop(ctx context.Context, rl *readline.Instance, w io.Writer,
	ask func(ctx context.Context, q, conv string) (*assistant.Answer, error)) error {
	conv := uuid.NewString()
	var last *assistant.Answer
	for {
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			if line == "" {
				return nil // Ctrl-C on an empty line ends, as in a shell
			}
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("chat: %w", err)
		}
		q := strings.TrimSpace(line)
		switch {
		case q == "":
			continue
		case q == "/quit" || q == "/exit":
			return nil
		case q == "/help":
			for _, c := range chatCommands {
				fmt.Fprintf(w, "  %-9s %s\n", c[0], c[1])
			}
			fmt.Fprintln(w, "  Anything else is a question. Up and Down recall earlier questions, Ctrl-R searches them.")
			continue
		case q == "/new":
			conv, last = uuid.NewString(), nil
			fmt.Fprintln(w, "(new conversation)")
			continue
		case q == "/sources":
			printSources(w, last)
			continue
		case strings.HasPrefix(q, "/") && !strings.ContainsAny(q, " \t"):
			fmt.Fprintf(w, "unknown command %s; /help lists the commands\n", q)
			continue
		}
		if err := rl.SaveHistory(q); err != nil {
			fmt.Fprintf(w, "(the question could not be kept in the history: %v)\n", err)
		}
		ans, err := ask(ctx, q, conv)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			fmt.Fprintf(w, "error: %s\n", term(err.Error()))
			continue
		}
		last = ans
		if err := printChatAnswer(w, ans); err != nil {
			return err
		}
	}
}

// printChatAnswer prints the answer as ask does, but its sources as one
// line: /sources has the details.
func printChatAnswer(w io.Writer, ans *assistant.Answer) error {
	brief := *ans
	brief.Sources = nil
	if err := printAnswer(w, &brief); err != nil {
		return err
	}
	if n := len(ans.Sources); n > 0 {
		var products []string
		for _, s := range ans.Sources {
			if !containsString(products, s.Product) {
				products = append(products, s.Product)
			}
		}
		fmt.Fprintf(w, "Sources: %s (/sources for the %d call%s and their audit records)\n", term(strings.Join(products, ", ")), n, plural(n))
	}
	fmt.Fprintln(w)
	return nil
}

func printSources(w io.Writer, ans *assistant.Answer) {
	if ans == nil {
		fmt.Fprintln(w, "no answer yet in this conversation")
		return
	}
	if len(ans.ToolCalls) == 0 {
		fmt.Fprintln(w, "the last answer used no data")
		return
	}
	for i, tc := range ans.ToolCalls {
		fmt.Fprintf(w, "%d. %s %s → %s, %d row%s · audit %s\n", i+1, term(tc.Tool), term(tc.Product), tc.Decision, tc.RowCount, plural(tc.RowCount), tc.AuditID)
		if len(tc.Arguments) > 0 {
			fmt.Fprintf(w, "   arguments %s\n", term(string(tc.Arguments)))
		}
		if tc.Error != "" {
			fmt.Fprintf(w, "   %s\n", term(tc.Error))
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
