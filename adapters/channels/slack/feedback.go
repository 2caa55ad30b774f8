package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/feedback"
	"github.com/askmesh/askmesh/tools"
)

// FeedbackService records feedback; *feedback.Service implements it.
type FeedbackService interface {
	Submit(ctx context.Context, caller tools.Caller, sub feedback.Submission) (*feedback.Entry, error)
}

// WithFeedback adds Slack's feedback buttons to every answer and records
// the clicks (the last click on an answer wins).
func WithFeedback(f FeedbackService) Option { return func(b *Bot) { b.feedback = f } }

// feedbackAction is the action id of the feedback buttons; their values
// are "up:<request id>" and "down:<request id>".
const feedbackAction = "askmesh_feedback"

// feedbackBlock is the answer's thumbs up / thumbs down.
func feedbackBlock(ans *assistant.Answer) slack.Block {
	up := slack.NewFeedbackButton(slack.NewTextBlockObject(slack.PlainTextType, "Good answer", false, false), feedback.Up+":"+ans.RequestID).
		WithAccessibilityLabel("Mark this answer as good")
	down := slack.NewFeedbackButton(slack.NewTextBlockObject(slack.PlainTextType, "Wrong answer", false, false), feedback.Down+":"+ans.RequestID).
		WithAccessibilityLabel("Mark this answer as wrong")
	return slack.NewContextActionsBlock("feedback", slack.NewFeedbackButtonsBlockElement(feedbackAction, up, down))
}

// withFeedback appends the buttons to an answer's first message.
func (b *Bot) withFeedback(blocks []slack.Block, ans *assistant.Answer) []slack.Block {
	if b.feedback == nil || ans.RequestID == "" || len(blocks) >= maxBlocks {
		return blocks
	}
	return append(blocks, feedbackBlock(ans))
}

// InteractionsHandler serves /slack/interactions (the app's interactivity
// request URL): feedback clicks, signed like events, acknowledged at once.
func (b *Bot) InteractionsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := b.verified(w, r)
		if !ok {
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "malformed interaction", http.StatusBadRequest)
			return
		}
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
			http.Error(w, "malformed interaction payload", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
		b.interaction(cb)
	})
}

// socketInteraction acknowledges and handles an interaction over Socket Mode.
func (b *Bot) socketInteraction(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	if evt.Request != nil {
		if err := sm.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
			b.log.WarnContext(ctx, "slack ack failed", "err", err)
		}
	}
	if cb, ok := evt.Data.(slack.InteractionCallback); ok {
		b.interaction(cb)
	}
}

// interaction records feedback clicks, after the ack: identity lookups and
// the audit append must not hold Slack's three seconds.
func (b *Bot) interaction(cb slack.InteractionCallback) {
	b.choice(context.Background(), cb) // a clarification's button, if it is one
	if b.feedback == nil || cb.Type != slack.InteractionTypeBlockActions {
		return
	}
	for _, act := range cb.ActionCallback.BlockActions {
		if act.ActionID != feedbackAction {
			continue
		}
		rating, requestID, ok := strings.Cut(act.Value, ":")
		if !ok {
			continue
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			subj, err := b.ids.resolve(ctx, cb.User.ID)
			if err != nil {
				b.log.ErrorContext(ctx, "slack identity", "user", cb.User.ID, "err", err)
				return
			}
			conv := ""
			if cb.Channel.ID != "" && cb.Message.ThreadTimestamp != "" {
				conv = cb.Channel.ID + ":" + cb.Message.ThreadTimestamp
			}
			if _, err := b.feedback.Submit(ctx, tools.Caller{Subject: subj, Channel: "slack"},
				feedback.Submission{RequestID: requestID, Rating: rating, ConversationID: conv, Answer: cb.Message.Text}); err != nil {
				b.log.WarnContext(ctx, "slack feedback not recorded", "user", cb.User.ID, "err", err)
			}
		}()
	}
}
