package slack

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/askmesh/askmesh/internal/httpguard"
)

// maxBody caps a request from Slack; real events are a few kilobytes, and
// the body is read before its signature can be checked, so the bound is
// small: an unsigned request costs at most this much to refuse.
const maxBody = 256 << 10

// bodyTimeout bounds reading a body from a client not yet known to be
// Slack, unless Config.BodyTimeout says otherwise.
const bodyTimeout = 10 * time.Second

// verified accepts only POST, checks the signature headers and Slack's
// five-minute replay window before reading anything, then reads the body
// (small bound, read deadline) and checks the v0 signature over it. Forged
// or stale requests get 401 and no work.
func (b *Bot) verified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return nil, false
	}
	// The headers and the timestamp first: a request without a fresh
	// signature is refused before its body is read.
	sv, err := slack.NewSecretsVerifier(r.Header, b.cfg.SigningSecret)
	if err != nil {
		b.log.WarnContext(r.Context(), "slack request rejected", "err", err, "remote", r.RemoteAddr)
		http.Error(w, "invalid Slack signature or timestamp", http.StatusUnauthorized)
		return nil, false
	}
	if r.ContentLength > maxBody {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	body, err := httpguard.ReadBody(w, r, maxBody, cmp.Or(b.cfg.BodyTimeout, bodyTimeout))
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		case errors.Is(err, httpguard.ErrSlowBody):
			http.Error(w, "request body too slow", http.StatusRequestTimeout)
		default:
			http.Error(w, "cannot read request body", http.StatusBadRequest)
		}
		return nil, false
	}
	_, _ = sv.Write(body)
	if err := sv.Ensure(); err != nil {
		b.log.WarnContext(r.Context(), "slack request rejected", "err", err, "remote", r.RemoteAddr)
		http.Error(w, "invalid Slack signature or timestamp", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// EventsHandler serves /slack/events: url_verification, and events
// acknowledged at once, the work running afterwards.
func (b *Bot) EventsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := b.verified(w, r)
		if !ok {
			return
		}
		ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
		if err != nil {
			http.Error(w, "malformed event: "+err.Error(), http.StatusBadRequest)
			return
		}
		switch ev.Type {
		case slackevents.URLVerification:
			var ch slackevents.ChallengeResponse
			if err := json.Unmarshal(body, &ch); err != nil {
				http.Error(w, "malformed challenge", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, ch.Challenge)
		case slackevents.CallbackEvent:
			b.dispatch(r.Context(), ev)
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
}

// CommandsHandler serves /slack/commands: /askmesh <question>.
func (b *Bot) CommandsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := b.verified(w, r)
		if !ok {
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "malformed command", http.StatusBadRequest)
			return
		}
		reply := b.command(r.Context(), slack.SlashCommand{Command: form.Get("command"), Text: form.Get("text"),
			UserID: form.Get("user_id"), ChannelID: form.Get("channel_id"), TriggerID: form.Get("trigger_id")})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(reply)
	})
}

// commandReply is the immediate, private answer to a slash command.
type commandReply struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

func (b *Bot) command(ctx context.Context, c slack.SlashCommand) commandReply {
	q := strings.TrimSpace(c.Text)
	if q == "" || q == "help" {
		return commandReply{ResponseType: "ephemeral", Text: "Ask a question about the company's data: `" + c.Command + " How many new customers did we acquire last month?`"}
	}
	b.accept(ctx, inbound{kind: kindCommand, channel: c.ChannelID, user: c.UserID, text: q, command: c.Command, eventID: "cmd:" + c.TriggerID})
	return commandReply{ResponseType: "ephemeral", Text: ":hourglass_flowing_sand: Working on it…"}
}

// dispatch turns a callback event into a question (or suggested prompts).
func (b *Bot) dispatch(ctx context.Context, ev slackevents.EventsAPIEvent) {
	var eventID string
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok {
		eventID = cb.EventID
	}
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		if e.BotID != "" {
			return
		}
		b.accept(ctx, inbound{kind: kindMention, channel: e.Channel, user: e.User, text: e.Text, ts: e.TimeStamp, threadTS: e.ThreadTimeStamp, eventID: eventID})
	case *slackevents.MessageEvent:
		// Only people's direct messages: channel messages arrive as
		// app_mention, and edits, joins and the bot's own posts are ignored.
		if e.ChannelType != slackevents.ChannelTypeIM || e.BotID != "" || e.SubType != "" || e.User == "" {
			return
		}
		kind := kindDM
		if e.ThreadTimeStamp != "" {
			kind = kindAssistant
		}
		b.accept(ctx, inbound{kind: kind, channel: e.Channel, user: e.User, text: e.Text, ts: e.TimeStamp, threadTS: e.ThreadTimeStamp, eventID: eventID})
	case *slackevents.AssistantThreadStartedEvent:
		go b.suggest(e.AssistantThread.ChannelID, e.AssistantThread.ThreadTimeStamp)
	}
}

// suggest offers starter questions in a new assistant thread.
func (b *Bot) suggest(channel, thread string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10e9)
	defer cancel()
	prompts := b.cfg.SuggestedPrompts
	if len(prompts) == 0 {
		prompts = []string{
			"What data do we have about customer transactions?",
			"How many new customers did we acquire last month, compared with the month before?",
			"Which campaign had the best conversion rate this year?",
		}
	}
	params := slack.AssistantThreadsSetSuggestedPromptsParameters{Title: "Try asking", ChannelID: channel, ThreadTS: thread}
	for _, p := range prompts {
		title := p
		if len(title) > 40 {
			title = title[:37] + "..."
		}
		params.Prompts = append(params.Prompts, slack.AssistantThreadsPrompt{Title: title, Message: p})
	}
	if err := b.client.SetAssistantThreadsSuggestedPromptsContext(ctx, params); err != nil {
		b.log.WarnContext(ctx, "slack suggested prompts failed", "err", err)
	}
}
