package slack

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/assistanttest"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
	"github.com/askmesh/askmesh/internal/textfmt"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

var users = map[string]string{
	"UCAROL": "carol@bank.example",
	"UFRANK": "frank@bank.example",
	"UERIN":  "erin@bank.example",
	"UOTHER": "stranger@elsewhere.example",
}

type harness struct {
	t    *testing.T
	bot  *Bot
	fake *fakeSlack
	app  *app.App
	dir  string
}

func newHarness(t *testing.T, model assistant.Model, cfg Config) *harness {
	t.Helper()
	f := newFakeSlack(t)
	for id, email := range users {
		f.emails[id] = email
	}
	dir := banktest.PrivateDir(t)
	var opts []app.Option
	if model != nil {
		opts = append(opts, app.WithModel(model))
	}
	a, err := app.Build(context.Background(), app.Config{DataDir: dir, Now: banktest.Now.Format(time.RFC3339)}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	cfg.BotToken, cfg.SigningSecret, cfg.APIURL = "xoxb-test", secret, f.GetAPIURL()
	bot, err := New(cfg, a.Agent, a.Directory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bot.Wait)
	return &harness{t: t, bot: bot, fake: f, app: a, dir: dir}
}

// event posts a signed Events API callback and returns the response.
func (h *harness) event(eventID string, inner map[string]any, header http.Header) *httptest.ResponseRecorder {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": "T1", "api_app_id": "A1",
		"event_id": eventID, "event_time": time.Now().Unix(), "event": inner})
	return h.post("/slack/events", h.bot.EventsHandler(), body, sign(secret, time.Now(), body), header)
}

func (h *harness) post(path string, handler http.Handler, body []byte, signed http.Header, extra http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	for k, v := range signed {
		req.Header[k] = v
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return rec
}

func mention(user, text, ts, thread string) map[string]any {
	m := map[string]any{"type": "app_mention", "user": user, "text": "<@UBOT> " + text, "ts": ts, "channel": "CEXEC", "event_ts": ts}
	if thread != "" {
		m["thread_ts"] = thread
	}
	return m
}

// sqlCount runs an independent count on a demo SQLite file.
func (h *harness) sqlCount(db, query string) int {
	h.t.Helper()
	conn, err := sql.Open("sqlite", "file:"+filepath.Join(h.dir, db+".db")+"?mode=ro")
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRow(query).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

func isAnswer(thread string) func(apiCall) bool {
	return func(c apiCall) bool {
		return c.Method == "chat.update" && !strings.Contains(c.Form.Get("text"), "Working on it") &&
			!strings.HasPrefix(c.Form.Get("text"), ":hourglass") && c.Form.Get("blocks") != ""
	}
}

func TestMentionGetsThreadedAnswerWithTableAndChart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{})
	rec := h.event("Ev1", mention("UCAROL", "How many new customers did we acquire last month, compared with the month before?", "1763200001.000100", ""), nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("ack %d %s", rec.Code, rec.Body)
	}
	placeholder := h.fake.waitFor(t, "placeholder", func(c apiCall) bool { return c.Method == "chat.postMessage" })
	if placeholder.Form.Get("thread_ts") != "1763200001.000100" {
		t.Fatalf("placeholder not in the mention's thread: %v", placeholder.Form)
	}
	answer := h.fake.waitFor(t, "answer", isAnswer("1763200001.000100"))
	oct := h.sqlCount("growth", `SELECT count(*) FROM acquisitions WHERE acquired_at >= '2026-10-01T00:00:00.000000Z' AND acquired_at < '2026-11-01T00:00:00.000000Z'`)
	sep := h.sqlCount("growth", `SELECT count(*) FROM acquisitions WHERE acquired_at >= '2026-09-01T00:00:00.000000Z' AND acquired_at < '2026-10-01T00:00:00.000000Z'`)
	blocks := answer.Form.Get("blocks")
	for _, n := range []int{oct, sep} {
		if !strings.Contains(blocks, textfmt.GroupThousands(strconv.Itoa(n))) {
			t.Errorf("answer does not state %d: %s", n, blocks)
		}
	}
	if !strings.Contains(blocks, `"type":"table"`) || !strings.Contains(blocks, "customer-acquisition") {
		t.Errorf("answer lacks a table block or its source: %s", blocks)
	}
	// The chart is uploaded as a PNG into the same thread (files upload v2).
	up := h.fake.waitFor(t, "chart upload", func(c apiCall) bool { return c.Method == "upload.file" && bytes.HasPrefix(c.File, []byte("\x89PNG")) })
	if len(up.File) < 1000 {
		t.Fatalf("chart PNG is only %d bytes", len(up.File))
	}
	done := h.fake.waitFor(t, "upload completion", func(c apiCall) bool { return c.Method == "files.completeUploadExternal" })
	if done.Form.Get("thread_ts") != "1763200001.000100" || done.Form.Get("channel_id") != "CEXEC" {
		t.Fatalf("chart not posted in the thread: %v", done.Form)
	}
}

func TestDeniedQuestionStatesReasonAndIsAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{})
	h.event("Ev2", mention("UFRANK", "How many loan applications were approved last month?", "1763200002.000100", ""), nil)
	answer := h.fake.waitFor(t, "answer", isAnswer(""))
	if !strings.Contains(answer.Form.Get("blocks"), "Not allowed") {
		t.Fatalf("denial not stated: %s", answer.Form.Get("blocks"))
	}
	recs, err := h.app.Audit.Search(context.Background(), audit.Query{Decision: audit.DecisionDeny})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || recs[0].Subject != "frank@bank.example" || recs[0].Channel != "slack" || recs[0].Product != "loan-applications" {
		t.Fatalf("no deny record naming frank's email: %+v", recs)
	}
	if !strings.Contains(answer.Form.Get("blocks"), strings.SplitN(recs[0].Reason, ";", 2)[0]) {
		t.Fatalf("the reason in Slack differs from the audited one %q", recs[0].Reason)
	}
}

func TestFollowUpInThreadUsesHistory(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{})
	h.event("Ev3", mention("UCAROL", "How many new customers did we acquire last month?", "1763200003.000100", ""), nil)
	h.fake.waitFor(t, "first answer", isAnswer(""))
	h.event("Ev4", mention("UCAROL", "and the month before?", "1763200003.000200", "1763200003.000100"), nil)
	sep := h.sqlCount("growth", `SELECT count(*) FROM acquisitions WHERE acquired_at >= '2026-09-01T00:00:00.000000Z' AND acquired_at < '2026-10-01T00:00:00.000000Z'`)
	h.fake.waitFor(t, "follow-up answer with September's count", func(c apiCall) bool {
		return isAnswer("")(c) && strings.Contains(c.Form.Get("blocks"), textfmt.GroupThousands(strconv.Itoa(sep))) && strings.Contains(c.Form.Get("blocks"), "September")
	})
}

func TestForgedAndStaleRequestsAreRejected(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{})
	body, _ := json.Marshal(map[string]any{"type": "event_callback", "event_id": "EvX", "event": mention("UCAROL", "hi", "1.1", "")})
	forged := sign("not-the-secret", time.Now(), body)
	if rec := h.post("/slack/events", h.bot.EventsHandler(), body, forged, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("forged signature: %d", rec.Code)
	}
	stale := sign(secret, time.Now().Add(-6*time.Minute), body)
	if rec := h.post("/slack/events", h.bot.EventsHandler(), body, stale, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("stale timestamp: %d", rec.Code)
	}
	tampered := sign(secret, time.Now(), body)
	if rec := h.post("/slack/events", h.bot.EventsHandler(), append(body, ' '), tampered, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("tampered body: %d", rec.Code)
	}
	big := bytes.Repeat([]byte("x"), maxBody+1)
	if rec := h.post("/slack/events", h.bot.EventsHandler(), big, sign(secret, time.Now(), big), nil); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", rec.Code)
	}
	h.bot.Wait()
	if calls := h.fake.summary(); calls != "" {
		t.Fatalf("rejected requests caused Slack calls: %s", calls)
	}
}

func TestURLVerification(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{})
	body := []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	rec := h.post("/slack/events", h.bot.EventsHandler(), body, sign(secret, time.Now(), body), nil)
	if rec.Code != http.StatusOK || rec.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("url_verification: %d %q", rec.Code, rec.Body)
	}
}

func TestRetriedEventIsAnsweredOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{})
	ev := mention("UCAROL", "How many new customers did we acquire last month?", "1763200005.000100", "")
	h.event("EvR", ev, nil)
	retry := http.Header{}
	retry.Set("X-Slack-Retry-Num", "1")
	retry.Set("X-Slack-Retry-Reason", "http_timeout")
	if rec := h.event("EvR", ev, retry); rec.Code != http.StatusOK {
		t.Fatalf("retry not acknowledged: %d", rec.Code)
	}
	h.fake.waitFor(t, "answer", isAnswer(""))
	h.bot.Wait()
	if n := len(h.fake.callsOf("chat.postMessage")); n != 1 {
		t.Fatalf("%d placeholders for one event delivered twice", n)
	}
	recs, _ := h.app.Audit.Search(context.Background(), audit.Query{})
	if len(recs) != 1 {
		t.Fatalf("%d tool calls audited for one question", len(recs))
	}
}

// blockingModel holds its one answer until released: a deliberately slow
// model. entered is closed when the question reaches it.
func blockingModel(release, entered chan struct{}) *assistanttest.Script {
	return &assistanttest.Script{ModelName: "slow", Turns: []assistanttest.Turn{
		func(ctx context.Context, _ assistant.ModelRequest) (*assistant.Reply, error) {
			close(entered)
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return assistanttest.TextReply("finally"), nil
		},
	}}
}

func TestSlowModelNeverDelaysTheAck(t *testing.T) {
	t.Parallel()
	release, entered := make(chan struct{}), make(chan struct{})
	h := newHarness(t, blockingModel(release, entered), Config{})
	rec := h.event("EvSlow", mention("UCAROL", "anything", "1763200006.000100", ""), nil)
	// The ack is back while the model has not answered: it was not waited for.
	if rec.Code != http.StatusOK {
		t.Fatalf("ack %d", rec.Code)
	}
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the question never reached the model")
	}
	if len(h.fake.callsOf("chat.update")) != 0 {
		t.Fatal("an answer was posted before the model answered")
	}
	close(release)
	h.fake.waitFor(t, "the slow answer", func(c apiCall) bool {
		return c.Method == "chat.update" && strings.Contains(c.Form.Get("text"), "finally")
	})
}

func TestSlashCommandAnswersInChannelAndDenialsPrivately(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{})
	command := func(user, text, trigger string) *httptest.ResponseRecorder {
		form := fmt.Sprintf("command=%%2Faskmesh&text=%s&user_id=%s&channel_id=CGEN&trigger_id=%s", strings.ReplaceAll(text, " ", "+"), user, trigger)
		return h.post("/slack/commands", h.bot.CommandsHandler(), []byte(form), sign(secret, time.Now(), []byte(form)), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	}
	rec := command("UCAROL", "How many new customers did we acquire last month?", "T1")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"response_type":"ephemeral"`) {
		t.Fatalf("command ack: %d %s", rec.Code, rec.Body)
	}
	h.fake.waitFor(t, "answer in channel", func(c apiCall) bool {
		return c.Method == "chat.postMessage" && c.Form.Get("channel") == "CGEN" && strings.Contains(c.Form.Get("blocks"), "asked")
	})
	command("UFRANK", "list loan applications", "T2")
	eph := h.fake.waitFor(t, "private denial", func(c apiCall) bool { return c.Method == "chat.postEphemeral" && c.Form.Get("user") == "UFRANK" })
	if !strings.Contains(eph.Form.Get("blocks"), "Not allowed") {
		t.Fatalf("denial not stated privately: %v", eph.Form)
	}
}

// A person whose Slack email the directory does not know can be mapped by
// Slack user id in configuration; the mapping decides who is asking.
func TestConfiguredSlackUserMapping(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{Users: map[string]string{"UOTHER": "erin@bank.example"}})
	h.event("EvM", mention("UOTHER", "Total deposits in Europe last week, by channel", "1763200009.000100", ""), nil)
	h.fake.waitFor(t, "answer", isAnswer(""))
	recs, err := h.app.Audit.Search(context.Background(), audit.Query{Subject: "erin@bank.example"})
	if err != nil || len(recs) == 0 || recs[0].Channel != "slack" || recs[0].Decision != audit.DecisionAllow {
		t.Fatalf("the mapped user's call is not erin's: %+v %v", recs, err)
	}
	if n := len(h.fake.callsOf("users.info")); n != 0 {
		t.Errorf("users.info called %d times for a mapped user", n)
	}
}

func TestUnknownSlackUserGetsClearMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{})
	h.event("EvU", mention("UOTHER", "How many new customers did we acquire last month?", "1763200008.000100", ""), nil)
	ans := h.fake.waitFor(t, "answer", isAnswer(""))
	if !strings.Contains(ans.Form.Get("blocks"), "not in askmesh") {
		t.Fatalf("unknown user not told why: %s", ans.Form.Get("blocks"))
	}
}

func TestRateLimitedPostIsRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{})
	h.fake.mu.Lock()
	h.fake.limited["chat.postMessage"] = 1
	h.fake.mu.Unlock()
	h.event("EvL", mention("UCAROL", "How many new customers did we acquire last month?", "1763200009.000100", ""), nil)
	h.fake.waitFor(t, "answer after a 429", isAnswer(""))
}

func TestStreamingWhereSupportedAndFallback(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{Streaming: true})
	h.event("EvS1", mention("UCAROL", "How many new customers did we acquire last month?", "1763200010.000100", ""), nil)
	stop := h.fake.waitFor(t, "stream stop", func(c apiCall) bool { return c.Method == "chat.stopStream" })
	if !strings.Contains(stop.Form.Get("blocks"), "customer-acquisition") {
		t.Fatalf("stream did not end with the answer's blocks: %v", stop.Form)
	}
	if len(h.fake.callsOf("chat.startStream")) != 1 {
		t.Fatal("stream not started once")
	}

	h2 := newHarness(t, nil, Config{Streaming: true})
	h2.fake.noStream = true
	h2.event("EvS2", mention("UCAROL", "How many new customers did we acquire last month?", "1763200011.000100", ""), nil)
	h2.fake.waitFor(t, "update-path answer", isAnswer(""))
}
