// Package slack is askmesh's Slack app: app mentions, direct messages,
// assistant threads and the /askmesh command, over Socket Mode or the Events
// API, answered in the thread with live progress, tables, charts and sources.
package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/tools"
)

// Config turns the Slack app on. BotToken with AppToken runs Socket Mode;
// BotToken with SigningSecret serves the Events API on the HTTP server.
type Config struct {
	BotToken      string
	AppToken      string
	SigningSecret string
	// APIURL points the client at another Slack API base URL (tests, proxies).
	APIURL string
	// MaxConcurrent bounds questions answered at once (default 8); MaxQueued
	// bounds those waiting (default 100) before askmesh says it is busy.
	MaxConcurrent int
	MaxQueued     int
	// Streaming tries chat.startStream/appendStream for answer text, falling
	// back to updating a placeholder where the workspace does not support it.
	Streaming   bool
	IdentityTTL time.Duration
	// SuggestedPrompts are offered when an assistant thread starts.
	SuggestedPrompts []string
	// Users maps Slack user ids to directory ids for people whose Slack
	// email is not the one the directory knows them by (an alias domain, a
	// shared workspace). Everyone else is matched by email.
	Users map[string]string
	// BodyTimeout bounds reading an Events API or command body (default
	// 10s): until its signature checks, the sender is anyone.
	BodyTimeout time.Duration
}

// Enabled reports whether Slack is configured at all.
func (c Config) Enabled() bool { return c.BotToken != "" }

// SocketMode reports whether the app token is set.
func (c Config) SocketMode() bool { return c.BotToken != "" && c.AppToken != "" }

// EventsAPI reports whether the signing secret is set.
func (c Config) EventsAPI() bool { return c.BotToken != "" && c.SigningSecret != "" }

// Answerer answers questions; *assistant.Agent implements it.
type Answerer interface {
	Stream(ctx context.Context, req assistant.Request, emit func(assistant.Event)) (*assistant.Answer, error)
}

// Bot is the one handler behind both transports.
type Bot struct {
	cfg      Config
	client   *slack.Client
	agent    Answerer
	ids      *identities
	dedup    Deduper
	log      *slog.Logger
	slots    chan struct{}
	queued   chan struct{}
	wg       sync.WaitGroup
	botUser  string
	feedback FeedbackService // nil: no feedback buttons

	streamMu          sync.Mutex
	streamUnsupported bool
}

// Option adjusts a Bot.
type Option func(*Bot)

// WithDeduper shares retry de-duplication (PostgreSQL across replicas).
func WithDeduper(d Deduper) Option { return func(b *Bot) { b.dedup = d } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(b *Bot) { b.log = l } }

// New builds a bot.
func New(cfg Config, agent Answerer, dir Directory, opts ...Option) (*Bot, error) {
	if !cfg.Enabled() {
		return nil, errors.New("slack: SLACK_BOT_TOKEN is not set")
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 8
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = 100
	}
	if cfg.IdentityTTL <= 0 {
		cfg.IdentityTTL = 10 * time.Minute
	}
	client := newClient(cfg)
	b := &Bot{cfg: cfg, client: client, agent: agent, log: slog.Default(),
		ids:    &identities{client: client, dir: dir, mapped: cfg.Users, ttl: cfg.IdentityTTL, now: time.Now, cache: map[string]cachedIdentity{}},
		dedup:  newMemoryDeduper(time.Hour),
		slots:  make(chan struct{}, cfg.MaxConcurrent),
		queued: make(chan struct{}, cfg.MaxConcurrent+cfg.MaxQueued)}
	for _, o := range opts {
		o(b)
	}
	return b, nil
}

// newClient is the Slack Web API client for cfg's bot token, API URL and
// app-level token.
func newClient(cfg Config) *slack.Client {
	var opts []slack.Option
	if cfg.APIURL != "" {
		u := cfg.APIURL
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		opts = append(opts, slack.OptionAPIURL(u))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken))
	}
	return slack.New(cfg.BotToken, opts...)
}

// Wait blocks until every accepted question has been answered (shutdown).
func (b *Bot) Wait() { b.wg.Wait() }

// kinds of inbound messages.
const (
	kindMention   = "mention"
	kindDM        = "dm"
	kindAssistant = "assistant"
	kindCommand   = "command"
)

// inbound is one question, whatever transport brought it.
type inbound struct {
	kind     string
	channel  string
	user     string
	text     string
	ts       string // the message's own timestamp
	threadTS string // the thread it belongs to, if any
	eventID  string // for de-duplication
	command  string // for slash commands: the command name
}

// thread is where the answer goes: the existing thread, or a new one under
// the question. It is also the conversation id, so follow-ups in the thread
// see the history.
func (in inbound) thread() string {
	if in.threadTS != "" {
		return in.threadTS
	}
	return in.ts
}

var mentionRe = regexp.MustCompile(`<@[A-Z0-9]+(\|[^>]*)?>`)

// accept de-duplicates and queues a question; it never blocks on the
// answer, so every transport can acknowledge Slack at once.
func (b *Bot) accept(ctx context.Context, in inbound) {
	in.text = strings.TrimSpace(mentionRe.ReplaceAllString(in.text, ""))
	if in.eventID != "" {
		first, err := b.dedup.FirstSeen(ctx, in.eventID)
		if err != nil {
			// When unsure, answer: a duplicate answer is better than none.
			b.log.WarnContext(ctx, "slack de-duplication failed", "event", in.eventID, "err", err)
		} else if !first {
			b.log.InfoContext(ctx, "slack retry ignored", "event", in.eventID)
			return
		}
	}
	select {
	case b.queued <- struct{}{}:
	default:
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.post(context.Background(), in, "askmesh is busy answering other questions. Please ask again in a minute.")
		}()
		return
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer func() { <-b.queued }()
		b.slots <- struct{}{}
		defer func() { <-b.slots }()
		// The work outlives the request that brought it: Slack has its ack.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		b.answer(ctx, in)
	}()
}

// answer runs one question end to end.
func (b *Bot) answer(ctx context.Context, in inbound) {
	if in.text == "" {
		b.post(ctx, in, "Ask me a question about the company's data, e.g. _How many new customers did we acquire last month?_")
		return
	}
	subj, err := b.ids.resolve(ctx, in.user)
	if err != nil {
		b.log.ErrorContext(ctx, "slack identity", "user", in.user, "err", err)
		b.post(ctx, in, "I could not tell who you are (Slack's user lookup failed), so I cannot answer. Please try again.")
		return
	}
	if !subj.Known {
		b.log.InfoContext(ctx, "unknown slack user asks", "user", in.user, "subject", subj.ID)
	}
	prog := b.startProgress(ctx, in)
	ans, err := b.agent.Stream(ctx, assistant.Request{
		Caller:   tools.Caller{Subject: subj, Channel: "slack", ConversationID: in.channel + ":" + in.thread()},
		Question: in.text,
	}, prog.event)
	if err != nil {
		b.log.ErrorContext(ctx, "slack answer failed", "err", err)
		prog.fail(ctx, "Sorry, I could not answer: "+err.Error())
		return
	}
	if !subj.Known && len(ans.Denials) > 0 {
		ans.Text = "You are not in askmesh's directory yet (your Slack email is not listed), so I can only tell you what anyone may see. " + ans.Text
	}
	prog.finish(ctx, ans)
}

// post sends a plain message in the question's thread (or privately for
// slash commands).
func (b *Bot) post(ctx context.Context, in inbound, text string) {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	err := withRateLimit(ctx, func() error {
		if in.kind == kindCommand {
			_, err := b.client.PostEphemeralContext(ctx, in.channel, in.user, opts...)
			return err
		}
		_, _, err := b.client.PostMessageContext(ctx, in.channel, append(opts, slack.MsgOptionTS(in.thread()))...)
		return err
	})
	if err != nil {
		b.log.ErrorContext(ctx, "slack post failed", "channel", in.channel, "err", err)
	}
}

// progress shows what the bot is doing while it works, then the answer.
type progress struct {
	b           *Bot
	in          inbound
	placeholder string // ts of the message to replace with the answer
	streamTS    string // ts of a streaming message, when streaming works
	mu          sync.Mutex
	lastStatus  string
	pending     bytes.Buffer
}

func (b *Bot) startProgress(ctx context.Context, in inbound) *progress {
	p := &progress{b: b, in: in}
	if in.kind == kindCommand {
		return p // slash commands answer once, when ready
	}
	if in.kind == kindAssistant {
		p.setStatus(ctx, "is thinking…")
	}
	err := withRateLimit(ctx, func() error {
		_, ts, err := b.client.PostMessageContext(ctx, in.channel, slack.MsgOptionText(":hourglass_flowing_sand: Working on it…", false), slack.MsgOptionTS(in.thread()))
		p.placeholder = ts
		return err
	})
	if err != nil {
		b.log.WarnContext(ctx, "slack placeholder failed", "err", err)
	}
	return p
}

func (p *progress) setStatus(ctx context.Context, status string) {
	err := p.b.client.SetAssistantThreadsStatusContext(ctx, slack.AssistantThreadsSetStatusParameters{
		ChannelID: p.in.channel, ThreadTS: p.in.thread(), Status: status})
	if err != nil {
		p.b.log.DebugContext(ctx, "slack set status failed", "err", err)
	}
}

// statusFor says in words what a tool call is doing.
func statusFor(tc *assistant.ToolCallRecord) string {
	return tools.Progress(tc.Tool, tc.Product) + "…"
}

func (p *progress) event(ev assistant.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch ev.Type {
	case assistant.EventToolStarted:
		status := statusFor(ev.ToolCall)
		p.mu.Lock()
		same := status == p.lastStatus
		p.lastStatus = status
		p.mu.Unlock()
		if same {
			return
		}
		if p.in.kind == kindAssistant {
			p.setStatus(ctx, status)
		}
		if p.placeholder != "" && p.streamTS == "" {
			_ = withRateLimit(ctx, func() error {
				_, _, _, err := p.b.client.UpdateMessageContext(ctx, p.in.channel, p.placeholder,
					slack.MsgOptionText(":hourglass_flowing_sand: "+capitalize(status), false))
				return err
			})
		}
	case assistant.EventText:
		if p.b.cfg.Streaming && p.in.kind != kindCommand {
			p.stream(ctx, ev.Text)
		}
	}
}

// stream sends answer text as it arrives, where the workspace supports it.
func (p *progress) stream(ctx context.Context, text string) {
	b := p.b
	b.streamMu.Lock()
	unsupported := b.streamUnsupported
	b.streamMu.Unlock()
	if unsupported {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.streamTS == "" {
		_, ts, err := b.client.StartStreamContext(ctx, p.in.channel, slack.MsgOptionTS(p.in.thread()), slack.MsgOptionMarkdownText(text))
		if err != nil {
			// Not available here: remember, and use the update path.
			b.log.InfoContext(ctx, "slack streaming unavailable; updating messages instead", "err", err)
			b.streamMu.Lock()
			b.streamUnsupported = true
			b.streamMu.Unlock()
			return
		}
		p.streamTS = ts
		return
	}
	if _, _, err := b.client.AppendStreamContext(ctx, p.in.channel, p.streamTS, slack.MsgOptionMarkdownText(text)); err != nil {
		b.log.WarnContext(ctx, "slack append stream failed", "err", err)
	}
}

func (p *progress) fail(ctx context.Context, text string) {
	if p.in.kind == kindAssistant {
		p.setStatus(ctx, "")
	}
	if p.placeholder != "" {
		_ = withRateLimit(ctx, func() error {
			_, _, _, err := p.b.client.UpdateMessageContext(ctx, p.in.channel, p.placeholder, slack.MsgOptionText(text, false))
			return err
		})
		return
	}
	p.b.post(ctx, p.in, text)
}

// finish replaces the placeholder (or ends the stream) with the answer,
// posts further tables in the thread and uploads charts and CSVs.
func (p *progress) finish(ctx context.Context, ans *assistant.Answer) {
	b, in := p.b, p.in
	r := render(ans)
	r.messages[0] = b.withFeedback(r.messages[0], ans)
	first := []slack.MsgOption{slack.MsgOptionText(r.fallback, false), slack.MsgOptionBlocks(r.messages[0]...)}
	var err error
	switch {
	case in.kind == kindCommand && len(ans.Tables) == 0 && len(ans.Denials) > 0:
		// A refusal is said privately to the person who asked.
		if err := withRateLimit(ctx, func() error {
			_, err := b.client.PostEphemeralContext(ctx, in.channel, in.user, first...)
			return err
		}); err != nil {
			b.log.ErrorContext(ctx, "slack answer post failed", "err", err)
		}
		return
	case in.kind == kindCommand:
		question := fmt.Sprintf("<@%s> asked: _%s_", in.user, mrkdwn(in.text))
		blocks := append([]slack.Block{slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, question, false, false))}, r.messages[0]...)
		err = withRateLimit(ctx, func() error {
			_, ts, err := b.client.PostMessageContext(ctx, in.channel, slack.MsgOptionText(r.fallback, false), slack.MsgOptionBlocks(blocks...))
			in.ts = ts // further tables and files go in the new message's thread
			return err
		})
	case p.streamTS != "":
		_, _, err = b.client.StopStreamContext(ctx, in.channel, p.streamTS, slack.MsgOptionBlocks(r.messages[0]...))
		if p.placeholder != "" {
			_, _, _ = b.client.DeleteMessageContext(ctx, in.channel, p.placeholder)
		}
	case p.placeholder != "":
		err = withRateLimit(ctx, func() error {
			_, _, _, err := b.client.UpdateMessageContext(ctx, in.channel, p.placeholder, first...)
			return err
		})
	default:
		err = withRateLimit(ctx, func() error {
			_, _, err := b.client.PostMessageContext(ctx, in.channel, append(first, slack.MsgOptionTS(in.thread()))...)
			return err
		})
	}
	if err != nil {
		b.log.ErrorContext(ctx, "slack answer post failed", "err", err)
		return
	}
	if in.kind == kindAssistant {
		p.setStatus(ctx, "")
	}
	postFollowUps(ctx, b.client, b.log, in.channel, in.thread(), r)
}

// postFollowUps posts what follows an answer's first message in its thread
// ts: further tables, then the charts and CSVs as uploads. Failures are
// logged: the answer itself is already posted.
func postFollowUps(ctx context.Context, client *slack.Client, log *slog.Logger, channel, ts string, r rendered) {
	for _, blocks := range r.messages[1:] {
		if err := withRateLimit(ctx, func() error {
			_, _, err := client.PostMessageContext(ctx, channel, slack.MsgOptionText("More results", false), slack.MsgOptionBlocks(blocks...), slack.MsgOptionTS(ts))
			return err
		}); err != nil {
			log.WarnContext(ctx, "slack thread reply failed", "channel", channel, "err", err)
		}
	}
	for _, f := range r.files {
		if err := withRateLimit(ctx, func() error {
			_, err := client.UploadFileContext(ctx, slack.UploadFileParameters{Channel: channel, ThreadTimestamp: ts,
				Filename: f.name, Title: f.title, Reader: bytes.NewReader(f.data), FileSize: len(f.data)})
			return err
		}); err != nil {
			log.WarnContext(ctx, "slack file upload failed", "file", f.name, "err", err)
		}
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
