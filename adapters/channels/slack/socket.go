package slack

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode connects with the app-level token and answers until ctx
// ends. socketmode.Client reconnects by itself when Slack asks it to
// (disconnect envelopes) or the connection drops. Each envelope is
// acknowledged before any work starts.
func (b *Bot) RunSocketMode(ctx context.Context) error {
	if !b.cfg.SocketMode() {
		return errors.New("slack: Socket Mode needs SLACK_APP_TOKEN")
	}
	sm := socketmode.New(b.client)
	errc := make(chan error, 1)
	go func() { errc <- sm.RunContext(ctx) }()
	for {
		select {
		case <-ctx.Done():
			b.Wait()
			return nil
		case err := <-errc:
			if ctx.Err() != nil {
				b.Wait()
				return nil
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt, ok := <-sm.Events:
			if !ok {
				return errors.New("slack socket mode: event stream closed")
			}
			b.socketEvent(ctx, sm, evt)
		}
	}
}

func (b *Bot) socketEvent(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		if evt.Request != nil {
			if err := sm.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
				b.log.WarnContext(ctx, "slack ack failed", "err", err)
			}
		}
		if ev, ok := evt.Data.(slackevents.EventsAPIEvent); ok {
			b.dispatch(ctx, ev)
		}
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if evt.Request == nil || !ok {
			return
		}
		reply := b.command(ctx, cmd)
		if err := sm.AckCtx(ctx, evt.Request.EnvelopeID, reply); err != nil {
			b.log.WarnContext(ctx, "slack ack failed", "err", err)
		}
	case socketmode.EventTypeInteractive:
		b.socketInteraction(ctx, sm, evt)
	case socketmode.EventTypeConnected:
		b.log.InfoContext(ctx, "slack socket mode connected")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
		b.log.WarnContext(ctx, "slack socket mode connection trouble", "data", fmt.Sprint(evt.Data))
	}
}
