package slack

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// choice handles a click on one of a clarification's buttons (Events API
// or Socket Mode, through interaction): the chosen question is asked in
// the thread, as if the person had typed it there.
func (b *Bot) choice(ctx context.Context, cb slack.InteractionCallback) {
	if cb.Type != slack.InteractionTypeBlockActions {
		return
	}
	for _, a := range cb.ActionCallback.BlockActions {
		if a == nil || !strings.HasPrefix(a.ActionID, choicePrefix) || strings.TrimSpace(a.Value) == "" {
			continue
		}
		channel := cb.Channel.ID
		if channel == "" {
			channel = cb.Container.ChannelID
		}
		msgTS := cb.Container.MessageTs
		if msgTS == "" {
			msgTS = cb.Message.Timestamp
		}
		thread := cb.Container.ThreadTs
		if thread == "" {
			thread = cb.Message.ThreadTimestamp
		}
		kind := kindMention
		if strings.HasPrefix(channel, "D") {
			kind = kindDM
		}
		b.wg.Add(1)
		go func() { // after the ack: Slack allows three seconds
			defer b.wg.Done()
			mctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			b.markChosen(mctx, channel, msgTS, cb.User.ID, a)
		}()
		// Retried deliveries of one click carry the same action_ts.
		b.accept(ctx, inbound{kind: kind, channel: channel, user: cb.User.ID, text: a.Value, ts: msgTS, threadTS: thread,
			eventID: "action:" + channel + ":" + msgTS + ":" + a.ActionTs})
		return // one choice per click
	}
}

// markChosen replaces the buttons with who chose what, so the question
// back cannot be answered twice.
func (b *Bot) markChosen(ctx context.Context, channel, ts, user string, a *slack.BlockAction) {
	if channel == "" || ts == "" {
		return
	}
	label := a.Value
	if a.Text.Text != "" {
		label = a.Text.Text
	}
	note := fmt.Sprintf("<@%s> chose *%s*", user, mrkdwn(label))
	err := withRateLimit(ctx, func() error {
		_, _, _, err := b.client.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(note, false),
			slack.MsgOptionBlocks(slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, note, false, false))))
		return err
	})
	if err != nil {
		b.log.WarnContext(ctx, "slack: could not mark the chosen option", "channel", channel, "err", err)
	}
}
