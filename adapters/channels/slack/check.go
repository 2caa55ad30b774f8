package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CheckCredentials checks Slack's settings the way serve will use them and
// asks Slack who the bot token belongs to (auth.test, which changes
// nothing). It returns the bot's user and team on success.
func CheckCredentials(ctx context.Context, cfg Config) (string, error) {
	if !cfg.Enabled() {
		return "", errors.New("SLACK_BOT_TOKEN is not set")
	}
	var errs []error
	if !strings.HasPrefix(cfg.BotToken, "xoxb-") {
		errs = append(errs, errors.New("SLACK_BOT_TOKEN does not start with xoxb-: use the app's Bot User OAuth Token"))
	}
	switch {
	case cfg.AppToken != "" && !strings.HasPrefix(cfg.AppToken, "xapp-"):
		errs = append(errs, errors.New("SLACK_APP_TOKEN does not start with xapp-: use an app-level token with the connections:write scope"))
	case !cfg.SocketMode() && !cfg.EventsAPI():
		errs = append(errs, errors.New("neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (Events API) is set"))
	}
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := newClient(cfg).AuthTestContext(ctx)
	if err != nil {
		return "", fmt.Errorf("auth.test with SLACK_BOT_TOKEN: %w", err)
	}
	return fmt.Sprintf("%s in %s", resp.User, resp.Team), nil
}
