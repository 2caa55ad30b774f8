package eval

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/tools"
)

// Channel is the channel eval's questions are asked and audited on.
const Channel = "eval"

// Options configure a run.
type Options struct {
	// Config is the stack's configuration; each model replaces its Model.
	Config app.Config
	// Models are model specs as --model takes them: offline,
	// openai:gpt-4o, anthropic:claude-sonnet-4-5, ollama:llama3.1.
	Models []string
	// AppOptions adds build options per model (tests point models at
	// scripted servers with them).
	AppOptions func(model string) []app.Option
	Logger     *slog.Logger
	// Progress, when set, is told about each answer as it is scored.
	Progress func(model string, r Result)
}

// ParseModel turns a --model spec into the model configuration: the
// provider before the colon, the model name after it. The configured model
// section still supplies base URL, key and timeout for its own provider.
func ParseModel(spec string, base app.ModelConfig) (app.ModelConfig, error) {
	provider, name, _ := strings.Cut(strings.TrimSpace(spec), ":")
	provider = strings.ToLower(provider)
	switch provider {
	case "offline", "openai", "azure", "anthropic", "ollama":
	default:
		return app.ModelConfig{}, fmt.Errorf("--model %q: the provider is one of offline, openai, azure, anthropic, ollama (then :model, e.g. openai:gpt-4o)", spec)
	}
	if provider == "offline" && name != "" {
		return app.ModelConfig{}, fmt.Errorf("--model %q: the offline planner takes no model name", spec)
	}
	mc := app.ModelConfig{Provider: provider, Name: name}
	if strings.EqualFold(base.Provider, provider) {
		mc.BaseURL, mc.APIKey, mc.Timeout = base.BaseURL, base.APIKey, base.Timeout
		if mc.Name == "" {
			mc.Name = base.Name
		}
	}
	return mc, nil
}

// Run asks every case of the suite of every model, in order, and scores the
// answers. Each model gets its own stack (the same catalog, policy and
// audit log); each question its own audit conversation, named in the
// result, on the eval channel.
func Run(ctx context.Context, s *Suite, o Options) (*Report, error) {
	if len(o.Models) == 0 {
		o.Models = []string{"offline"}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	rep := &Report{Suite: s.Name, Source: s.Source, RunID: uuid.NewString()[:8], Started: time.Now().UTC()}
	cases := s.Cases[:0:0]
	for _, c := range s.Cases {
		if c.Pending != "" {
			rep.Pending = append(rep.Pending, CaseInfo{ID: c.ID, Question: c.Question, Asker: c.Asker, Expect: c.Pending})
			continue
		}
		cases = append(cases, c)
		rep.Cases = append(rep.Cases, CaseInfo{ID: c.ID, Question: c.Question, Asker: c.Asker, Expect: expectText(c)})
	}
	s = &Suite{Name: s.Name, Source: s.Source, Cases: cases}
	seen := map[string]bool{}
	for _, spec := range o.Models {
		if seen[spec] {
			return nil, fmt.Errorf("--model %s is given twice", spec)
		}
		seen[spec] = true
		mr, err := runModel(ctx, s, o, spec, rep.RunID)
		if err != nil {
			return nil, err
		}
		rep.Models = append(rep.Models, *mr)
	}
	rep.Finished = time.Now().UTC()
	return rep, nil
}

func runModel(ctx context.Context, s *Suite, o Options, spec, runID string) (*ModelResult, error) {
	cfg := o.Config
	mc, err := ParseModel(spec, cfg.Model)
	if err != nil {
		return nil, err
	}
	cfg.Model = mc
	opts := []app.Option{app.WithLogger(o.Logger)}
	if o.AppOptions != nil {
		opts = append(opts, o.AppOptions(spec)...)
	}
	a, err := app.Build(ctx, cfg, opts...)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", spec, err)
	}
	defer a.Close()
	// Truth is computed once per model's stack, before any question, with
	// the clock every answer uses.
	truths := make([][]float64, len(s.Cases))
	for i, c := range s.Cases {
		if _, err := asker(a.Directory, c.Asker); err != nil {
			return nil, fmt.Errorf("case %s: %w", c.ID, err)
		}
		if truths[i], err = expected(ctx, a, c); err != nil {
			return nil, fmt.Errorf("case %s: %w", c.ID, err)
		}
	}
	mr := &ModelResult{Model: spec, Name: a.Model.Name(), Price: cfg.Eval.Prices[spec]}
	for i, c := range s.Cases {
		subj, _ := asker(a.Directory, c.Asker)
		conv := fmt.Sprintf("eval-%s-%s-%s", runID, slug(spec), c.ID)
		caller := tools.Caller{Subject: subj, Channel: Channel, ConversationID: conv}
		start := time.Now()
		ans, err := a.Agent.Answer(ctx, assistant.Request{Caller: caller, Question: c.Question})
		r := Result{Case: c.ID, Conversation: conv, LatencyMS: float64(time.Since(start).Microseconds()) / 1000, Want: truths[i]}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.Status, r.Reason = score(c, ans, err, truths[i])
		if ans != nil {
			r.Answer = ans.Text
			r.RequestID = ans.RequestID
			r.Turns = ans.Steps
			r.PromptTokens, r.CompletionTokens = ans.Usage.PromptTokens, ans.Usage.CompletionTokens
			r.Outcome = ans.Outcome
			if ans.Verified != nil {
				r.Verified = ans.Verified.Question
			}
			for _, tc := range ans.ToolCalls {
				r.Calls = append(r.Calls, CallInfo{Tool: tc.Tool, Product: tc.Product, Arguments: string(tc.Arguments), Decision: tc.Decision, AuditID: tc.AuditID})
			}
		}
		r.Cost = cost(mr.Price, r.PromptTokens, r.CompletionTokens)
		if o.Progress != nil {
			o.Progress(spec, r)
		}
		mr.Results = append(mr.Results, r)
	}
	mr.summarize()
	return mr, nil
}

// asker resolves a case's asker: a directory id, or a first name.
func asker(d *authz.Directory, who string) (authz.Subject, error) {
	id := who
	if !strings.Contains(who, "@") {
		for _, u := range d.Users() {
			if local, _, _ := strings.Cut(u.ID, "@"); strings.EqualFold(local, who) {
				id = u.ID
				break
			}
		}
	}
	s := d.Lookup(id)
	if !s.Known {
		return s, fmt.Errorf("asker %q is not in the directory", who)
	}
	return s, nil
}

// expected computes the numbers a right answer states: the truth query's
// numeric cells, then the listed values.
func expected(ctx context.Context, a *app.App, c Case) ([]float64, error) {
	out := append([]float64(nil), c.Values...)
	if c.Truth == nil {
		return out, nil
	}
	p, ok := a.Catalog.Get(c.Truth.Product)
	if !ok {
		return nil, fmt.Errorf("truth: unknown product %q", c.Truth.Product)
	}
	d, err := a.Products.TruthDialectOf(p)
	if err != nil {
		return nil, fmt.Errorf("truth: %w", err)
	}
	now := a.Clock.Now()
	bound := func(day bool, end bool) func(string) (string, error) {
		return func(period string) (string, error) {
			r, err := tools.ResolveTimeRange(period, now)
			if err != nil {
				return "", err
			}
			t := r.From
			if end {
				t = r.To
			}
			if t.IsZero() {
				return "", fmt.Errorf("period %q has no %s", period, map[bool]string{false: "start", true: "end"}[end])
			}
			if day {
				return d.Day(t), nil
			}
			return d.Instant(t), nil
		}
	}
	tmpl, err := template.New(c.ID).Funcs(template.FuncMap{
		"table": func() string { return d.Table },
		"from":  bound(false, false), "to": bound(false, true),
		"fromDay": bound(true, false), "toDay": bound(true, true),
	}).Option("missingkey=error").Parse(c.Truth.SQL)
	if err != nil {
		return nil, fmt.Errorf("truth sql: %w", err)
	}
	var sql bytes.Buffer
	if err := tmpl.Execute(&sql, nil); err != nil {
		return nil, fmt.Errorf("truth sql: %w", err)
	}
	rows, err := a.Products.Truth(ctx, p, sql.String())
	if err != nil {
		return nil, err
	}
	n := len(out)
	for _, row := range rows {
		for _, cell := range row {
			if f, ok := truthNumber(cell); ok {
				out = append(out, f)
			}
		}
	}
	if len(out) == n {
		return nil, errors.New("truth: the query returned no number")
	}
	return out, nil
}

// truthNumber reads a database value as a number (pgx numerics included).
func truthNumber(v any) (float64, bool) {
	if f, ok := number(v); ok {
		return f, true
	}
	if n, ok := v.(pgtype.Numeric); ok {
		f, err := n.Float64Value()
		return f.Float64, err == nil && f.Valid
	}
	return 0, false
}

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
}

func expectText(c Case) string {
	var parts []string
	if c.Truth != nil {
		parts = append(parts, "truth from "+c.Truth.Product)
	}
	if len(c.Values) > 0 {
		var vs []string
		for _, v := range c.Values {
			vs = append(vs, formatWant(v))
		}
		parts = append(parts, "values "+strings.Join(vs, ", "))
	}
	if len(c.Calls) > 0 {
		var cs []string
		for _, ec := range c.Calls {
			cs = append(cs, ec.Tool)
		}
		sort.Strings(cs)
		parts = append(parts, "calls "+strings.Join(cs, ", "))
	}
	if c.MustDecline {
		parts = append(parts, "must decline")
	}
	if c.MustClarify {
		parts = append(parts, "must clarify")
	}
	return strings.Join(parts, "; ")
}
