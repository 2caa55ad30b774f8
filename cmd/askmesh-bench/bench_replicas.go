package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/examples/bank"
	"github.com/askmesh/askmesh/examples/bank/bankgen"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxReplicas bounds the replicated mode: it is a test of sharing, run on
// one machine, not a way to start a fleet.
const maxReplicas = 3

// clusterOptions say how to start the replicas.
type clusterOptions struct {
	bin     string // the askmesh binary
	dataDir string // the demo mesh, read by every replica
	// dsn is the PostgreSQL database they share; empty, each keeps the
	// audit log in SQLite in the data directory and conversations in memory.
	dsn          string
	replicas     int
	modelLatency time.Duration
	// model, when set, is the scripted model to point the replicas at
	// (its caller sets it up and closes it); else one is started with
	// modelLatency and benchScript.
	model *openaitest.Server
	users []string
}

// replicaCluster is N `askmesh serve` processes on loopback ports sharing
// one PostgreSQL database (audit chain, conversations, Slack event
// de-duplication), each answering with the OpenAI adapter pointed at one
// scripted OpenAI-compatible server in this process, and each posting to
// one Slack API stand-in here.
type replicaCluster struct {
	procs  []*replicaProc
	model  *openaitest.Server
	slack  *slackStandIn
	tb     *cleanupTB
	tmp    string
	tokens map[string]string // user as given -> bearer token
	secret string            // Slack signing secret
	slackU map[string]string // user as given -> Slack user id
}

type replicaProc struct {
	url    string
	cmd    *exec.Cmd
	log    string // its stdout and stderr
	exited chan struct{}
	err    error // set before exited is closed
}

// findAskmesh returns the askmesh binary: path when given, else the one
// next to this executable (make puts both in bin/), else askmesh on PATH.
func findAskmesh(path string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("--askmesh: %w", err)
		}
		return path, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "askmesh")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("askmesh")
	if err != nil {
		return "", errors.New("no askmesh binary: build it (make build puts it in bin/, next to askmesh-bench) or pass --askmesh")
	}
	return p, nil
}

// ensureMesh generates the demo mesh in dir when there is none and returns
// the instant to pin the replicas' clock to: noon of the mesh's last day.
func ensureMesh(ctx context.Context, dir string, progress io.Writer) (time.Time, error) {
	m, err := bankgen.ReadManifest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(progress, "bench load: generating the demo mesh in %s\n", dir)
		m, err = bankgen.GenerateSQLite(ctx, bankgen.Options{DataDir: dir, Seed: 42, Scale: 1, AsOf: benchAsOf})
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("bench load: demo mesh: %w", err)
	}
	day, err := m.AsOfDate()
	if err != nil {
		return time.Time{}, err
	}
	return day.Add(12 * time.Hour), nil
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startCluster starts the replicas and waits until each is ready.
func startCluster(ctx context.Context, o clusterOptions, progress io.Writer) (_ *replicaCluster, err error) {
	if o.replicas < 1 || o.replicas > maxReplicas {
		return nil, fmt.Errorf("bench load: --replicas %d: want 1 to %d", o.replicas, maxReplicas)
	}
	now, err := ensureMesh(ctx, o.dataDir, progress)
	if err != nil {
		return nil, err
	}
	dir, err := demoDirectory()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "askmesh-replicas-")
	if err != nil {
		return nil, fmt.Errorf("bench load: %w", err)
	}
	c := &replicaCluster{tb: &cleanupTB{}, tmp: tmp, tokens: map[string]string{}, slackU: map[string]string{}, secret: randomHex(16)}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	if c.model = o.model; c.model == nil {
		c.model = openaitest.NewServer(c.tb)
		c.model.SetLatency(o.modelLatency)
		c.model.SetResponder(benchScript)
	}
	c.slack = newSlackStandIn()
	c.tb.Cleanup(c.slack.Close)

	// One configuration for every replica: what they must share (the
	// database, the keys, the tokens) is the same by construction.
	var cfg app.Config
	cfg.DataDir = o.dataDir
	cfg.Now = now.Format(time.RFC3339)
	cfg.Audit.Postgres = o.dsn  // empty: SQLite at <data_dir>/governance.db
	cfg.Memory.Postgres = o.dsn // empty: in memory
	cfg.Model = app.ModelConfig{Provider: "openai", Name: "gpt-bench", BaseURL: c.model.BaseURL()}
	// A load test is not a test of the per-user budgets.
	cfg.Limits.ToolCallsPerMinute, cfg.Limits.ConcurrentToolCalls, cfg.Limits.ModelTurnsPerMinute = -1, -1, -1
	cfg.Web.Limits.RatePerMinute = -1
	cfg.Web.Limits.PublicRatePerMinute = -1
	cfg.Web.Auth.Tokens = map[string]string{}
	cfg.Slack.Users = map[string]string{}
	cfg.CursorKey, cfg.MaskKey = randomHex(32), randomHex(32)
	for _, u := range o.users {
		id, ok := directoryID(dir, u)
		if !ok {
			return nil, fmt.Errorf("bench load: --token-for %s: not in the demo directory", u)
		}
		tok, err := authz.NewToken()
		if err != nil {
			return nil, err
		}
		c.tokens[u] = tok
		cfg.Web.Auth.Tokens[authz.HashToken(tok)] = id
		c.slackU[u] = "U" + strings.ToUpper(strings.NewReplacer("@", "", ".", "", "-", "").Replace(id))
		cfg.Slack.Users[c.slackU[u]] = id
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("bench load: replica configuration: %w", err)
	}
	cfgPath := filepath.Join(tmp, "askmesh.yaml")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		return nil, fmt.Errorf("bench load: %w", err)
	}
	// Nothing of this environment's askmesh, model or Slack settings may
	// reach the replicas: they get the file and the secrets, no more.
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "TMPDIR=" + os.TempDir(),
		"ASKMESH_CONFIG=" + cfgPath, "OPENAI_API_KEY=bench",
		"SLACK_BOT_TOKEN=xoxb-bench", "SLACK_SIGNING_SECRET=" + c.secret, "SLACK_API_URL=" + c.slack.URL + "/api/"}

	for i := range o.replicas {
		p, err := startReplica(o.bin, env, filepath.Join(tmp, fmt.Sprintf("replica%d.log", i+1)))
		if err != nil {
			return nil, err
		}
		c.procs = append(c.procs, p)
	}
	for i, p := range c.procs {
		if err := p.waitReady(ctx, 2*time.Minute); err != nil {
			return nil, fmt.Errorf("bench load: replica %d: %w", i+1, err)
		}
	}
	store := "SQLite audit log, conversations in memory"
	if o.dsn != "" {
		store = "sharing " + redactDSN(o.dsn)
	}
	fmt.Fprintf(progress, "bench load: %d askmesh serve processes ready (%s), %s\n", len(c.procs), strings.Join(c.urls(), ", "), store)
	return c, nil
}

func demoDirectory() (*authz.Directory, error) {
	b, err := bank.Files.ReadFile(bank.DirectoryFile)
	if err != nil {
		return nil, fmt.Errorf("bench load: demo directory: %w", err)
	}
	return authz.LoadDirectory(bytes.NewReader(b))
}

// directoryID finds a user by id or by first name, as the demo tokens do.
func directoryID(dir *authz.Directory, user string) (string, bool) {
	if s := dir.Lookup(user); s.Known {
		return s.ID, true
	}
	for _, u := range dir.Users() {
		if authz.DemoToken(u.ID) == demoToken(user) {
			return u.ID, true
		}
	}
	return "", false
}

func startReplica(bin string, env []string, logPath string) (*replicaProc, error) {
	// A free port, released for the replica to take: a race with other
	// programs on this machine, which would show as a replica failing to
	// listen, named in the error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench load: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("bench load: %w", err)
	}
	cmd := exec.Command(bin, "serve", "--addr", addr)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("bench load: start %s: %w", bin, err)
	}
	p := &replicaProc{url: "http://" + addr, cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	return p, nil
}

func (p *replicaProc) pid() int { return p.cmd.Process.Pid }

// logTail is the end of the replica's log, for errors.
func (p *replicaProc) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return strings.TrimSpace(string(b))
}

func (p *replicaProc) waitReady(ctx context.Context, limit time.Duration) error {
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("askmesh serve stopped: %v\n%s", p.err, p.logTail())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := client.Get(p.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("askmesh serve not ready after %s:\n%s", limit, p.logTail())
}

func (c *replicaCluster) urls() []string {
	out := make([]string, len(c.procs))
	for i, p := range c.procs {
		out[i] = p.url
	}
	return out
}

// cpu is each replica's CPU so far.
func (c *replicaCluster) cpu() ([]time.Duration, error) {
	out := make([]time.Duration, len(c.procs))
	for i, p := range c.procs {
		d, err := processCPU(p.pid())
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// shutdown stops the replicas as an orchestrator would (SIGTERM): each
// finishes its requests and its Slack answers, and commits its queued
// audit records, before it exits. It reports replicas that failed.
func (c *replicaCluster) shutdown() error {
	var errs []error
	for _, p := range c.procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for i, p := range c.procs {
		select {
		case <-p.exited:
		case <-time.After(90 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
			errs = append(errs, fmt.Errorf("replica %d did not stop within 90s of SIGTERM; killed", i+1))
			continue
		}
		if p.err != nil {
			errs = append(errs, fmt.Errorf("replica %d exited: %v\n%s", i+1, p.err, p.logTail()))
		}
	}
	c.procs = nil
	return errors.Join(errs...)
}

// stop ends whatever is still running and removes the temporary files.
func (c *replicaCluster) stop() {
	for _, p := range c.procs {
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	c.procs = nil
	c.tb.close()
	os.RemoveAll(c.tmp)
}

// continuationCheck is a conversation started on one replica and continued
// on another: the second replica must answer with the first turn in the
// history it sends the model.
type continuationCheck struct {
	FirstReplica  int    `json:"first_replica"`
	SecondReplica int    `json:"second_replica"`
	Conversation  string `json:"conversation_id"`
	// HistorySent says the second replica's model request carried the
	// first turn: its question, its tool call and result, and its answer.
	HistorySent bool   `json:"history_sent"`
	Problem     string `json:"problem,omitempty"`
	OK          bool   `json:"ok"`
}

// continueConversation asks on replica 0 and follows up on replica 1.
func (c *replicaCluster) continueConversation(ctx context.Context, client *http.Client, user, run string) continuationCheck {
	cc := continuationCheck{FirstReplica: 1, SecondReplica: min(2, len(c.procs))}
	first := benchQuestion + " (" + run + ", turn 1)"
	second := "And the month before that? (" + run + ", turn 2)"
	r1, _, err := askIn(ctx, client, c.procs[cc.FirstReplica-1].url, c.tokens[user], first, "", run+"-turn1")
	if err != nil {
		cc.Problem = "first turn: " + err.Error()
		return cc
	}
	cc.Conversation = r1.ConversationID
	r2, _, err := askIn(ctx, client, c.procs[cc.SecondReplica-1].url, c.tokens[user], second, r1.ConversationID, run+"-turn2")
	if err != nil {
		cc.Problem = "second turn: " + err.Error()
		return cc
	}
	if r2.ConversationID != r1.ConversationID {
		cc.Problem = fmt.Sprintf("the second turn answered in conversation %q, not %q", r2.ConversationID, r1.ConversationID)
		return cc
	}
	// The model request that opened the second turn, as the model received it.
	var sent *openaitest.Request
	for _, r := range c.model.Requests() {
		if n := len(r.Messages); n > 0 && r.Messages[n-1].Role == "user" && r.Messages[n-1].Content == second {
			sent = &r
			break
		}
	}
	if sent == nil {
		cc.Problem = "the model never received the second turn"
		return cc
	}
	var sawQuestion, sawCall, sawResult, sawAnswer bool
	for _, m := range sent.Messages {
		switch {
		case m.Role == "user" && m.Content == first:
			sawQuestion = true
		case m.Role == "assistant" && len(m.ToolCalls) > 0 && sawQuestion:
			sawCall = true
		case m.Role == "tool" && sawCall:
			sawResult = true
		case m.Role == "assistant" && m.Content == benchAnswer && sawResult:
			sawAnswer = true
		}
	}
	cc.HistorySent = sawQuestion && sawCall && sawResult && sawAnswer
	if !cc.HistorySent {
		cc.Problem = fmt.Sprintf("replica %d sent the model %d messages without the first turn (question %v, tool call %v, result %v, answer %v)",
			cc.SecondReplica, len(sent.Messages), sawQuestion, sawCall, sawResult, sawAnswer)
		return cc
	}
	cc.OK = true
	return cc
}

// askIn asks in a conversation (a new one when conversation is empty).
func askIn(ctx context.Context, c *http.Client, base, token, question, conversation, requestID string) (*chatReply, int, error) {
	chat := map[string]string{"message": question}
	if conversation != "" {
		chat["conversation_id"] = conversation
	}
	return postChat(ctx, c, base, token, chat, requestID)
}

// callsCheck compares the tool calls the scripted model asked the replicas
// for, over the whole replicated run (warm-ups, the conversation, the
// Slack question and the load, answered or not), with the audit records
// appended in that time.
type callsCheck struct {
	Made     int  `json:"tool_calls_made"`
	Recorded int  `json:"records"`
	OK       bool `json:"ok"`
}

// slackRetryCheck is one Slack event delivered to one replica and, as
// Slack retries it (X-Slack-Retry-Num, same event id), to another.
type slackRetryCheck struct {
	EventID    string `json:"event_id"`
	Replicas   []int  `json:"replicas"` // which received the delivery, then the retry
	Acked      []int  `json:"acked"`    // their HTTP statuses
	Placements int    `json:"post_message_calls"`
	Answers    int    `json:"answers"`
	Records    int    `json:"audit_records"` // of channel slack
	Problem    string `json:"problem,omitempty"`
	OK         bool   `json:"ok"`
}

// sendSlackRetry delivers one app_mention to replica 0 and its retry to
// replica 1 at the same time, as Slack does when an ack is slow.
func (c *replicaCluster) sendSlackRetry(ctx context.Context, client *http.Client, user, question, run string) slackRetryCheck {
	sc := slackRetryCheck{EventID: "Ev" + strings.ToUpper(run), Replicas: []int{1, min(2, len(c.procs))}}
	ts := fmt.Sprintf("%d.000100", time.Now().Unix())
	body, _ := json.Marshal(map[string]any{"token": "unused", "team_id": "TBENCH", "api_app_id": "ABENCH", "type": "event_callback",
		"event_id": sc.EventID, "event_time": time.Now().Unix(), "event": map[string]any{
			"type": "app_mention", "user": c.slackU[user], "text": "<@UASKMESH> " + question, "ts": ts, "channel": slackBenchChannel, "event_ts": ts}})
	sc.Acked = make([]int, 2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for i, r := range sc.Replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.procs[r-1].url+"/slack/events", bytes.NewReader(body))
			if err == nil {
				signSlack(req.Header, c.secret, time.Now(), body)
				req.Header.Set("Content-Type", "application/json")
				if i > 0 {
					req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(i))
					req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
				}
				var resp *http.Response
				if resp, err = client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					sc.Acked[i] = resp.StatusCode
				}
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("replica %d: %v", r, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sc.Problem = strings.Join(errs, "; ")
	return sc
}

// signSlack sets Slack's v0 request signature (HMAC-SHA256 of
// "v0:<timestamp>:<body>" with the signing secret).
func signSlack(h http.Header, secret string, at time.Time, body []byte) {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
}

const slackBenchChannel = "CBENCHLOAD"

// slackStandIn answers, on loopback, the Slack Web API methods the bot
// calls to answer a mention (its placeholder, progress updates, the answer,
// uploads), and records every call: the replicated load counts how often
// one event was answered.
type slackStandIn struct {
	*httptest.Server
	mu    sync.Mutex
	calls []slackCall
	seq   int
}

type slackCall struct {
	Method, Channel, Text string
}

func newSlackStandIn() *slackStandIn {
	s := &slackStandIn{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

func (s *slackStandIn) handle(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	form := url.Values{}
	switch ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); {
	case ct == "application/json":
		var m map[string]any
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m)
		for k, v := range m {
			if str, ok := v.(string); ok {
				form.Set(k, str)
			}
		}
	case strings.HasPrefix(ct, "multipart/"):
		_ = r.ParseMultipartForm(1 << 20)
		form = r.Form
	default:
		_ = r.ParseForm()
		form = r.Form
	}
	s.mu.Lock()
	s.calls = append(s.calls, slackCall{Method: method, Channel: form.Get("channel"), Text: form.Get("text")})
	s.seq++
	ts := fmt.Sprintf("1763200000.%06d", s.seq)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	var out map[string]any
	switch method {
	case "chat.postMessage", "chat.update", "chat.delete":
		out = map[string]any{"ok": true, "channel": form.Get("channel"), "ts": cmp.Or(form.Get("ts"), ts)}
	case "chat.postEphemeral":
		out = map[string]any{"ok": true, "message_ts": ts}
	case "files.getUploadURLExternal":
		out = map[string]any{"ok": true, "upload_url": s.URL + "/upload/F" + ts, "file_id": "F" + ts}
	case "files.completeUploadExternal":
		out = map[string]any{"ok": true, "files": []map[string]any{{"id": "F" + ts}}}
	default: // setStatus, the upload itself: accepted
		out = map[string]any{"ok": true}
	}
	_ = json.NewEncoder(w).Encode(out)
}

// count returns the calls of method to channel, and how many of those
// carry text beyond the bot's "working on it" placeholder.
func (s *slackStandIn) count(method, channel string) (all, answers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c.Method != method || c.Channel != channel {
			continue
		}
		all++
		if c.Text != "" && !strings.HasPrefix(c.Text, ":hourglass") {
			answers++
		}
	}
	return all, answers
}

// waitAnswer waits until the bot has put an answer in channel.
func (s *slackStandIn) waitAnswer(ctx context.Context, channel string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		_, upd := s.count("chat.update", channel)
		_, posted := s.count("chat.postMessage", channel)
		if upd+posted > 0 {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// runReplicated is `load --replicas N`.
func runReplicated(ctx context.Context, o loadOptions, progress io.Writer) (*loadReport, error) {
	if o.databaseURL == "" {
		return nil, errors.New("bench load --replicas: --database-url is required: the PostgreSQL database the replicas share (create one, e.g. createdb askmesh_replicas)")
	}
	if pc, err := pgconn.ParseConfig(o.databaseURL); err != nil {
		return nil, fmt.Errorf("bench load --replicas: --database-url: %w", err)
	} else if !strings.HasPrefix(pc.Host, "/") && !loopbackHost(pc.Host) {
		return nil, fmt.Errorf("bench load --replicas: --database-url %s: a PostgreSQL server on this machine only (loopback or a Unix socket)", redactDSN(o.databaseURL))
	}
	bin, err := findAskmesh(o.askmesh)
	if err != nil {
		return nil, fmt.Errorf("bench load --replicas: %w", err)
	}
	c, err := startCluster(ctx, clusterOptions{bin: bin, dataDir: o.dataDir, dsn: o.databaseURL, replicas: o.replicas,
		modelLatency: o.modelLatency, users: o.users}, progress)
	if err != nil {
		return nil, err
	}
	defer c.stop()
	store, err := auditlog.OpenPostgres(ctx, o.databaseURL)
	if err != nil {
		return nil, fmt.Errorf("bench load: audit store: %w", err)
	}
	defer store.Close()
	l, err := newLoadRun(ctx, store, "postgres "+redactDSN(o.databaseURL))
	if err != nil {
		return nil, err
	}
	client := pooledClient()
	client.Timeout = o.timeout
	defer client.CloseIdleConnections()
	token := func(u string) string { return c.tokens[u] }

	// Each replica's first questions pay one-time costs (connections,
	// caches, OPA's first evaluation): not part of the measured run.
	for _, url := range c.urls() {
		for i := range benchWarmups {
			if _, _, err := ask(ctx, client, url, token(o.users[i%len(o.users)]), benchQuestion, "warmup-"+randomHex(4)); err != nil {
				return nil, fmt.Errorf("bench load: warm-up on %s: %w", url, err)
			}
		}
	}
	asker := o.users[0]
	cont := c.continueConversation(ctx, client, asker, "conversation-"+randomHex(4))
	slackCheck := c.sendSlackRetry(ctx, client, asker, benchQuestion, randomHex(6))

	rep, err := l.drive(ctx, o, c.urls(), token, c.cpu, progress)
	if err != nil {
		return nil, err
	}
	rep.Continuation = &cont
	answered := c.slack.waitAnswer(ctx, slackBenchChannel, o.timeout)
	// Every replica finishes its requests, Slack answers and queued audit
	// records before it exits: what is counted next is final.
	if err := c.shutdown(); err != nil {
		return nil, fmt.Errorf("bench load: %w", err)
	}
	slackCheck.Placements, _ = c.slack.count("chat.postMessage", slackBenchChannel)
	_, slackCheck.Answers = c.slack.count("chat.update", slackBenchChannel)
	recs, err := store.Search(ctx, audit.Query{AfterSeq: l.headSeq})
	if err != nil {
		return nil, fmt.Errorf("bench load: audit search: %w", err)
	}
	for _, r := range recs {
		if r.Channel == "slack" {
			slackCheck.Records++
		}
	}
	// Every tool call the model asked any replica for (the script asks one
	// in each turn that does not end with a tool result) is one record.
	calls := callsCheck{Recorded: len(recs)}
	for _, r := range c.model.Requests() {
		if n := len(r.Messages); n == 0 || r.Messages[n-1].Role != "tool" {
			calls.Made++
		}
	}
	calls.OK = calls.Made == calls.Recorded && calls.Made > 0
	rep.Calls = &calls
	var problems []string
	if slackCheck.Problem != "" {
		problems = append(problems, slackCheck.Problem)
	}
	for i, st := range slackCheck.Acked {
		if st != http.StatusOK {
			problems = append(problems, fmt.Sprintf("replica %d answered the delivery with HTTP %d", slackCheck.Replicas[i], st))
		}
	}
	if !answered {
		problems = append(problems, "no answer was posted within "+o.timeout.String())
	}
	if slackCheck.Placements != 1 || slackCheck.Answers != 1 || slackCheck.Records != 1 {
		problems = append(problems, fmt.Sprintf("one event delivered twice: %d chat.postMessage, %d answers, %d audit records of channel slack; want 1 each",
			slackCheck.Placements, slackCheck.Answers, slackCheck.Records))
	}
	slackCheck.Problem = strings.Join(problems, "; ")
	slackCheck.OK = len(problems) == 0
	rep.SlackRetry = &slackCheck
	return rep, l.check(ctx, rep)
}
