package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/internal/app"
)

// loadQuestions is the mix each user cycles through: metrics, a comparison,
// discovery, the audit log, and questions most users are denied.
var loadQuestions = []string{
	"How many new customers did we acquire last month, compared with the month before?",
	"Total deposits in Europe last week, by channel",
	"What is the approval rate of loan applications last month?",
	"What data do we have about customer transactions?",
	"Who was denied access to loan data this week?",
	"Which marketing campaigns had the best conversion rate?",
}

var defaultLoadUsers = []string{"carol", "alice", "bob", "erin", "dave", "frank"}

type loadOptions struct {
	url           string
	concurrency   int
	duration      time.Duration
	timeout       time.Duration
	users         []string
	dataDir       string
	auditPostgres string
	jsonOut       bool
}

func (g *globals) benchLoadCmd() *cobra.Command {
	o := loadOptions{}
	cmd := &cobra.Command{
		Use:   "load --url URL [--concurrency N] [--duration D] [--token-for USER...]",
		Short: "Drive a running askmesh (loopback only) with demo questions, then check its audit log",
		Long: `load asks a mix of demo questions as several demo users (demo tokens
demo-<name>: the server must run in demo mode) from N concurrent clients for
the given duration, reports latency percentiles and errors, and then checks
the audit store the server writes (--data-dir's governance.db, or
--audit-postgres): exactly one record for every tool call the answers
report, none for the run's questions that no answer reports, and the hash
chain intact. It exits 1 when the audit check fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.dataDir = g.dataDir
			rep, err := runLoad(cmd.Context(), o, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if o.jsonOut {
				err = writeJSON(cmd.OutOrStdout(), rep)
			} else {
				err = rep.print(cmd.OutOrStdout())
			}
			if err != nil {
				return err
			}
			if !rep.Audit.Passed {
				return exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "http://"+defaultAddr, "the server's base URL (loopback only)")
	f.IntVar(&o.concurrency, "concurrency", 4, "concurrent clients")
	f.DurationVar(&o.duration, "duration", 10*time.Second, "how long to keep asking")
	f.DurationVar(&o.timeout, "timeout", 2*time.Minute, "per question")
	f.StringSliceVar(&o.users, "token-for", defaultLoadUsers, "demo users to ask as (first names or ids); repeat or separate with commas")
	f.StringVar(&o.auditPostgres, "audit-postgres", os.Getenv("ASKMESH_AUDIT_POSTGRES"), "the server's PostgreSQL audit store (default: <data-dir>/governance.db)")
	f.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	return cmd
}

// loadReport is what `bench load` found.
type loadReport struct {
	URL          string         `json:"url"`
	Users        []string       `json:"users"`
	Concurrency  int            `json:"concurrency"`
	Duration     string         `json:"duration"`
	Requests     int            `json:"requests"`
	OK           int            `json:"ok"`
	Errors       int            `json:"errors"`
	ErrorsByKind map[string]int `json:"errors_by_kind"`
	Throughput   float64        `json:"throughput_per_second"`
	Latency      latencyReport  `json:"latency_ms"`
	ToolCalls    int            `json:"tool_calls_reported"`
	Denials      int            `json:"denials_reported"`
	Audit        auditCheck     `json:"audit"`
}

type latencyReport struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

type auditCheck struct {
	Store string `json:"store"`
	// AfterSeq is the log's head before the run: later records are searched.
	AfterSeq int64 `json:"after_seq"`
	// RunRecords are the records whose request id is one of this run's.
	RunRecords int `json:"run_records"`
	// Reported are the distinct audit ids the answers cite.
	Reported int `json:"reported"`
	// Missing are reported ids without a record; Duplicates ids with more
	// than one; Unreported records of answered questions no answer cites.
	Missing    int `json:"missing"`
	Duplicates int `json:"duplicates"`
	Unreported int `json:"unreported"`
	// FromFailed are records of questions that got no answer (errors,
	// timeouts): recorded, as they must be, but no answer could cite them.
	FromFailed   int    `json:"from_failed_requests"`
	ChainOK      bool   `json:"chain_ok"`
	ChainRecords int64  `json:"chain_records"`
	Problem      string `json:"problem,omitempty"`
	Passed       bool   `json:"passed"`
}

// loopbackOnly refuses to load anything but this machine.
func loopbackOnly(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want http://host:port", raw)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return u, nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return u, nil
	}
	return nil, fmt.Errorf("--url %s: bench load drives loopback servers only (localhost, 127.0.0.0/8, ::1); it is a load generator, not to be pointed at shared servers", raw)
}

func demoToken(user string) string {
	if strings.HasPrefix(user, "demo-") {
		return user
	}
	return authz.DemoToken(user)
}

type loadOutcome struct {
	requestID string
	dur       time.Duration
	err       error
	kind      string
	ids       []string
	denials   int
}

func runLoad(ctx context.Context, o loadOptions, progress io.Writer) (*loadReport, error) {
	u, err := loopbackOnly(o.url)
	if err != nil {
		return nil, err
	}
	if o.concurrency < 1 || o.duration <= 0 || len(o.users) == 0 {
		return nil, errors.New("bench load: --concurrency, --duration and --token-for must be positive / not empty")
	}
	base := strings.TrimRight(u.String(), "/")
	var run [4]byte
	_, _ = rand.Read(run[:])
	prefix := "load-" + hex.EncodeToString(run[:]) + "-"
	client := pooledClient()
	client.Timeout = o.timeout
	defer client.CloseIdleConnections()

	// The run's records are those after the log's head as it is now, with
	// one of the run's request ids: a seq window, not a time window, since
	// the server's clock may be pinned (--now).
	store, where, err := openAuditForCheck(ctx, o)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	var headSeq int64
	if last, err := store.Search(ctx, audit.Query{Desc: true, Limit: 1}); err != nil {
		return nil, fmt.Errorf("bench load: audit search: %w", err)
	} else if len(last) == 1 {
		headSeq = last[0].Seq
	}

	fmt.Fprintf(progress, "bench load: %d clients for %s against %s as %s\n", o.concurrency, o.duration, base, strings.Join(o.users, ", "))
	deadline := time.Now().Add(o.duration)
	var (
		mu       sync.Mutex
		outcomes []loadOutcome
		wg       sync.WaitGroup
		seq      int
	)
	start := time.Now()
	for w := range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				mu.Lock()
				seq++
				n := seq
				mu.Unlock()
				user := o.users[(w+i)%len(o.users)]
				q := loadQuestions[(w*7+i)%len(loadQuestions)]
				oc := loadOutcome{requestID: fmt.Sprintf("%s%06d", prefix, n)}
				t0 := time.Now()
				r, status, err := ask(ctx, client, base, demoToken(user), q, oc.requestID)
				oc.dur, oc.err = time.Since(t0), err
				switch {
				case err == nil:
					oc.ids, oc.denials = r.auditIDs()
				case status == 0:
					oc.kind = "transport"
				default:
					oc.kind = fmt.Sprintf("http_%d", status)
				}
				mu.Lock()
				outcomes = append(outcomes, oc)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	rep := &loadReport{URL: base, Users: o.users, Concurrency: o.concurrency, Duration: o.duration.String(), ErrorsByKind: map[string]int{}}
	var lat durations
	reported := map[string]bool{}
	failed := map[string]bool{}
	for _, oc := range outcomes {
		rep.Requests++
		if oc.err != nil {
			rep.Errors++
			rep.ErrorsByKind[oc.kind]++
			failed[oc.requestID] = true
			continue
		}
		rep.OK++
		lat = append(lat, oc.dur)
		rep.Denials += oc.denials
		for _, id := range oc.ids {
			reported[id] = true
		}
	}
	rep.ToolCalls = len(reported)
	rep.Throughput = float64(rep.OK) / elapsed.Seconds()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	rep.Latency = latencyReport{P50: ms(lat.pct(50)), P90: ms(lat.pct(90)), P99: ms(lat.pct(99)), Max: ms(lat.pct(100)), Mean: ms(lat.mean())}

	check, err := checkAudit(ctx, store, prefix, headSeq, reported, failed)
	if err != nil {
		return nil, err
	}
	check.Store, check.AfterSeq = where, headSeq
	rep.Audit = check
	return rep, nil
}

// auditIDs are the distinct audit ids an answer cites, and its denials.
func (r *chatReply) auditIDs() ([]string, int) {
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, c := range r.ToolCalls {
		add(c.AuditID)
	}
	for _, s := range r.Sources {
		add(s.AuditID)
	}
	for _, d := range r.Denials {
		add(d.AuditID)
	}
	return ids, len(r.Denials)
}

func openAuditForCheck(ctx context.Context, o loadOptions) (audit.Store, string, error) {
	if o.auditPostgres != "" {
		s, err := auditlog.OpenPostgres(ctx, o.auditPostgres)
		if err != nil {
			return nil, "", fmt.Errorf("bench load: audit store: %w", err)
		}
		return s, "postgres " + redactDSN(o.auditPostgres), nil
	}
	path := app.AuditPath(o.dataDir)
	// Opening would create an empty log: a wrong --data-dir must say so.
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("bench load: no audit log at %s: pass the server's --data-dir, or --audit-postgres", path)
	}
	s, err := auditlog.OpenSQLite(ctx, path)
	if err != nil {
		return nil, "", fmt.Errorf("bench load: audit store: %w", err)
	}
	return s, path, nil
}

func checkAudit(ctx context.Context, store audit.Store, prefix string, afterSeq int64, reported, failed map[string]bool) (auditCheck, error) {
	var c auditCheck
	recs, err := store.Search(ctx, audit.Query{AfterSeq: afterSeq})
	if err != nil {
		return c, fmt.Errorf("bench load: audit search: %w", err)
	}
	count := map[string]int{}
	for _, r := range recs {
		if !strings.HasPrefix(r.RequestID, prefix) {
			continue
		}
		c.RunRecords++
		count[r.ID]++
		switch {
		case count[r.ID] > 1:
			c.Duplicates++
		case reported[r.ID]:
		case failed[r.RequestID]:
			c.FromFailed++
		default:
			c.Unreported++
		}
	}
	c.Reported = len(reported)
	var missing []string
	for id := range reported {
		if count[id] == 0 {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	c.Missing = len(missing)
	res, err := store.Verify(ctx)
	if err != nil {
		return c, fmt.Errorf("bench load: audit verify: %w", err)
	}
	c.ChainOK, c.ChainRecords = res.OK, res.Records
	var problems []string
	if !res.OK {
		problems = append(problems, fmt.Sprintf("chain broken at record %d (%s): %s", res.BrokenSeq, res.BrokenID, res.Problem))
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("%d reported audit ids have no record (first %s)", len(missing), missing[0]))
	}
	if c.Duplicates > 0 {
		problems = append(problems, fmt.Sprintf("%d audit ids recorded more than once", c.Duplicates))
	}
	if c.Unreported > 0 {
		problems = append(problems, fmt.Sprintf("%d records of answered questions that no answer cites", c.Unreported))
	}
	c.Problem = strings.Join(problems, "; ")
	c.Passed = len(problems) == 0
	return c, nil
}

func (r *loadReport) print(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "askmesh-bench load: %s, %d clients, %s, as %s\n\n", r.URL, r.Concurrency, r.Duration, strings.Join(r.Users, ", "))
	fmt.Fprintf(&b, "questions   %d answered, %d errors (%.1f answered/s)\n", r.OK, r.Errors, r.Throughput)
	if len(r.ErrorsByKind) > 0 {
		kinds := make([]string, 0, len(r.ErrorsByKind))
		for k, n := range r.ErrorsByKind {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
		sort.Strings(kinds)
		fmt.Fprintf(&b, "errors      %s\n", strings.Join(kinds, ", "))
	}
	fmt.Fprintf(&b, "latency ms  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  mean %.1f\n", r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max, r.Latency.Mean)
	fmt.Fprintf(&b, "tool calls  %d reported by the answers (%d denials)\n\n", r.ToolCalls, r.Denials)
	a := r.Audit
	fmt.Fprintf(&b, "audit       %s\n", a.Store)
	fmt.Fprintf(&b, "  records of this run   %d (%d cited by answers, %d from failed questions)\n", a.RunRecords, a.RunRecords-a.FromFailed-a.Unreported-a.Duplicates, a.FromFailed)
	fmt.Fprintf(&b, "  missing %d, duplicates %d, unreported %d\n", a.Missing, a.Duplicates, a.Unreported)
	fmt.Fprintf(&b, "  chain   %s (%d records)\n", map[bool]string{true: "intact", false: "BROKEN"}[a.ChainOK], a.ChainRecords)
	if a.Passed {
		fmt.Fprintln(&b, "audit check passed: exactly one record per tool call, chain intact")
	} else {
		fmt.Fprintf(&b, "audit check FAILED: %s\n", a.Problem)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
