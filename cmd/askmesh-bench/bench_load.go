package main

import (
	"context"
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

	// Replicated mode: start this many `askmesh serve` processes sharing
	// the PostgreSQL database databaseURL, rather than drive --url.
	replicas     int
	askmesh      string
	databaseURL  string
	modelLatency time.Duration

	// abuse adds the mixed-abuse run (bench_abuse.go), abuser abusing.
	abuse  bool
	abuser string
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
chain intact. It exits 1 when the audit check fails.

With --replicas N (1 to 3) it starts N askmesh serve processes itself (the
askmesh binary, on loopback ports) sharing the PostgreSQL database
--database-url for the audit chain, conversations and Slack
de-duplication, answering with a scripted OpenAI-compatible model and
posting to a Slack API stand-in, both run here. It spreads the clients over
the replicas, continues one conversation on another replica than the one
that began it, and delivers one signed Slack event to one replica and its
retry (X-Slack-Retry-Num, same event id) to another. It then stops them
(SIGTERM) and checks: one audit record per tool call in one intact chain,
the second replica sent the model the first turn, and the event was
answered once. It reports questions/s and CPU per question per replica.`,
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
			if !rep.passed() {
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
	f.IntVar(&o.replicas, "replicas", 0, fmt.Sprintf("start this many (1-%d) askmesh serve processes sharing --database-url, spread the load over them and check what they share; 0: drive --url", maxReplicas))
	f.StringVar(&o.askmesh, "askmesh", "", "with --replicas: the askmesh binary (default: the one next to askmesh-bench, else on PATH)")
	f.StringVar(&o.databaseURL, "database-url", "", "with --replicas: the PostgreSQL database the replicas share (audit chain, conversations, Slack de-duplication); its tables are created when missing")
	f.BoolVar(&o.abuse, "abuse", false, "then measure the other users' latency alone and while --abuser sends MCP batches, slow bodies and oversized history (bounded, loopback only)")
	f.StringVar(&o.abuser, "abuser", "frank", "with --abuse: the demo user who abuses")
	f.DurationVar(&o.modelLatency, "model-latency", 20*time.Millisecond, "with --replicas: the scripted model's latency per turn")
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

	// Replicated mode (and several URLs): each server's share, and the
	// servers' own CPU per answered question (their processes' user and
	// system time over the run, from /proc).
	Servers          []replicaLoad      `json:"servers,omitempty"`
	CPUPerQuestionMS float64            `json:"cpu_per_question_ms,omitempty"`
	Continuation     *continuationCheck `json:"continuation,omitempty"`
	SlackRetry       *slackRetryCheck   `json:"slack_retry,omitempty"`
	Calls            *callsCheck        `json:"calls,omitempty"`
	Abuse            *abuseReport       `json:"abuse,omitempty"`
}

// replicaLoad is one server's part of a run.
type replicaLoad struct {
	URL              string  `json:"url"`
	Answered         int     `json:"answered"`
	PerSecond        float64 `json:"answered_per_second"`
	CPUMS            float64 `json:"cpu_ms,omitempty"`
	CPUPerQuestionMS float64 `json:"cpu_per_question_ms,omitempty"`
}

// passed is every check of the run: the audit log and, with replicas, the
// conversation continued elsewhere and the Slack retry answered once.
func (r *loadReport) passed() bool {
	return r.Audit.Passed && (r.Continuation == nil || r.Continuation.OK) && (r.SlackRetry == nil || r.SlackRetry.OK) && (r.Calls == nil || r.Calls.OK)
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
	if loopbackHost(u.Hostname()) {
		return u, nil
	}
	return nil, fmt.Errorf("--url %s: bench load drives loopback servers only (localhost, 127.0.0.0/8, ::1); it is a load generator, not to be pointed at shared servers", raw)
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func demoToken(user string) string {
	if strings.HasPrefix(user, "demo-") {
		return user
	}
	return authz.DemoToken(user)
}

type loadOutcome struct {
	requestID string
	server    int // index of the URL asked
	dur       time.Duration
	err       error
	kind      string
	ids       []string
	denials   int
}

func runLoad(ctx context.Context, o loadOptions, progress io.Writer) (*loadReport, error) {
	if o.concurrency < 1 || o.duration <= 0 || len(o.users) == 0 {
		return nil, errors.New("bench load: --concurrency, --duration and --token-for must be positive / not empty")
	}
	if o.replicas > 0 {
		return runReplicated(ctx, o, progress)
	}
	u, err := loopbackOnly(o.url)
	if err != nil {
		return nil, err
	}
	store, where, err := openAuditForCheck(ctx, o)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	l, err := newLoadRun(ctx, store, where)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(u.String(), "/")
	rep, err := l.drive(ctx, o, []string{base}, demoToken, nil, progress)
	if err != nil {
		return nil, err
	}
	if err := l.check(ctx, rep); err != nil || !o.abuse {
		return rep, err
	}
	rep.Abuse, err = loadAbuse(ctx, o, base, progress)
	return rep, err
}

// loadRun is one run's questions and what the audit log must then hold.
type loadRun struct {
	store    audit.Store
	where    string
	prefix   string          // of the ids the clients send (X-Request-Id), for the servers' logs
	run      map[string]bool // the servers' request ids of the run's questions
	headSeq  int64
	reported map[string]bool // audit ids the answers cite
	failed   map[string]bool // request ids of questions not answered
}

// newLoadRun notes the log's head: the run's records are those after it,
// with one of the run's request ids -- a seq window, not a time window,
// since the server's clock may be pinned (--now).
func newLoadRun(ctx context.Context, store audit.Store, where string) (*loadRun, error) {
	l := &loadRun{store: store, where: where, prefix: "load-" + randomHex(4) + "-",
		run: map[string]bool{}, reported: map[string]bool{}, failed: map[string]bool{}}
	last, err := store.Search(ctx, audit.Query{Desc: true, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("bench load: audit search: %w", err)
	}
	if len(last) == 1 {
		l.headSeq = last[0].Seq
	}
	return l, nil
}

// drive asks from o.concurrency clients for o.duration, client w asking
// urls[w % len(urls)]; cpu, when not nil, reads each server's CPU so far.
func (l *loadRun) drive(ctx context.Context, o loadOptions, urls []string, token func(string) string, cpu func() ([]time.Duration, error), progress io.Writer) (*loadReport, error) {
	client := pooledClient()
	client.Timeout = o.timeout
	defer client.CloseIdleConnections()

	fmt.Fprintf(progress, "bench load: %d clients for %s against %s as %s\n", o.concurrency, o.duration, strings.Join(urls, ", "), strings.Join(o.users, ", "))
	var cpu0 []time.Duration
	if cpu != nil {
		var err error
		if cpu0, err = cpu(); err != nil {
			return nil, err
		}
	}
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
				oc := loadOutcome{server: w % len(urls)}
				t0 := time.Now()
				r, status, err := ask(ctx, client, urls[oc.server], token(user), q, fmt.Sprintf("%s%06d", l.prefix, n))
				oc.dur, oc.err = time.Since(t0), err
				if r != nil {
					oc.requestID = r.RequestID // the server's: what its records carry
				}
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
	var cpu1 []time.Duration
	if cpu != nil {
		var err error
		if cpu1, err = cpu(); err != nil {
			return nil, err
		}
	}

	rep := &loadReport{URL: strings.Join(urls, ", "), Users: o.users, Concurrency: o.concurrency, Duration: o.duration.String(), ErrorsByKind: map[string]int{}}
	var lat durations
	servers := make([]replicaLoad, len(urls))
	for _, oc := range outcomes {
		rep.Requests++
		if oc.requestID != "" {
			l.run[oc.requestID] = true
		}
		if oc.err != nil {
			rep.Errors++
			rep.ErrorsByKind[oc.kind]++
			if oc.requestID != "" {
				l.failed[oc.requestID] = true
			}
			continue
		}
		rep.OK++
		servers[oc.server].Answered++
		lat = append(lat, oc.dur)
		rep.Denials += oc.denials
		for _, id := range oc.ids {
			l.reported[id] = true
		}
	}
	rep.ToolCalls = len(l.reported)
	rep.Throughput = float64(rep.OK) / elapsed.Seconds()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	rep.Latency = latencyReport{P50: ms(lat.pct(50)), P90: ms(lat.pct(90)), P99: ms(lat.pct(99)), Max: ms(lat.pct(100)), Mean: ms(lat.mean())}
	if cpu != nil || len(urls) > 1 {
		var cpuAll time.Duration
		for i := range servers {
			s := &servers[i]
			s.URL = urls[i]
			s.PerSecond = float64(s.Answered) / elapsed.Seconds()
			if cpu != nil {
				d := cpu1[i] - cpu0[i]
				cpuAll += d
				s.CPUMS = ms(d)
				s.CPUPerQuestionMS = ms(d) / float64(max(1, s.Answered))
			}
		}
		rep.Servers = servers
		if cpu != nil {
			rep.CPUPerQuestionMS = ms(cpuAll) / float64(max(1, rep.OK))
		}
	}
	return rep, nil
}

// check fills rep.Audit: the store against what the answers reported.
func (l *loadRun) check(ctx context.Context, rep *loadReport) error {
	c, err := checkAudit(ctx, l.store, l.run, l.headSeq, l.reported, l.failed)
	if err != nil {
		return err
	}
	c.Store, c.AfterSeq = l.where, l.headSeq
	rep.Audit = c
	return nil
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

// checkAudit compares the records after afterSeq of the run's requests
// (run: the servers' request ids; a question that got no HTTP answer at
// all has none, and its records, if any, are not counted) with the audit
// ids the answers reported.
func checkAudit(ctx context.Context, store audit.Store, run map[string]bool, afterSeq int64, reported, failed map[string]bool) (auditCheck, error) {
	var c auditCheck
	recs, err := store.Search(ctx, audit.Query{AfterSeq: afterSeq})
	if err != nil {
		return c, fmt.Errorf("bench load: audit search: %w", err)
	}
	count := map[string]int{}
	for _, r := range recs {
		if !run[r.RequestID] {
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
	fmt.Fprintf(&b, "tool calls  %d reported by the answers (%d denials)\n", r.ToolCalls, r.Denials)
	for i, s := range r.Servers {
		fmt.Fprintf(&b, "replica %d   %s: %d answered (%.1f/s)", i+1, s.URL, s.Answered, s.PerSecond)
		if s.CPUMS > 0 {
			fmt.Fprintf(&b, ", CPU %.0f ms (%.2f ms per question)", s.CPUMS, s.CPUPerQuestionMS)
		}
		b.WriteString("\n")
	}
	if r.CPUPerQuestionMS > 0 {
		fmt.Fprintf(&b, "CPU         %.2f ms per answered question, all replicas\n", r.CPUPerQuestionMS)
	}
	if c := r.Calls; c != nil {
		verdict := "one record each"
		if !c.OK {
			verdict = "MISMATCH"
		}
		fmt.Fprintf(&b, "model asked the replicas for %d tool calls; the chain gained %d records: %s\n", c.Made, c.Recorded, verdict)
	}
	if c := r.Continuation; c != nil {
		if c.OK {
			fmt.Fprintf(&b, "conversation begun on replica %d, continued on replica %d: its model request carried the first turn\n", c.FirstReplica, c.SecondReplica)
		} else {
			fmt.Fprintf(&b, "conversation across replicas FAILED: %s\n", c.Problem)
		}
	}
	if sc := r.SlackRetry; sc != nil {
		if sc.OK {
			fmt.Fprintf(&b, "slack event %s to replica %d, retry to replica %d: answered once (%d chat.postMessage, %d audit record)\n", sc.EventID, sc.Replicas[0], sc.Replicas[1], sc.Placements, sc.Records)
		} else {
			fmt.Fprintf(&b, "slack retry across replicas FAILED: %s\n", sc.Problem)
		}
	}
	if r.Abuse != nil {
		b.WriteString(r.Abuse.line())
	}
	b.WriteString("\n")
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
