package slack

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/askmesh/askmesh/authz"
)

// Directory resolves an identity to a subject; authz.Directory implements it.
type Directory interface {
	Lookup(id string) authz.Subject
}

// identities maps Slack users to directory subjects through their email
// (users.info), cached for a while: Slack rate-limits users.info, and a
// person's email rarely changes.
type identities struct {
	client *slack.Client
	dir    Directory
	mapped map[string]string // Slack user id -> directory id, from configuration
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedIdentity
}

type cachedIdentity struct {
	subject authz.Subject
	until   time.Time
}

func (ids *identities) resolve(ctx context.Context, userID string) (authz.Subject, error) {
	if id, ok := ids.mapped[userID]; ok {
		// Configuration names this person: no users.info call, no email.
		return ids.dir.Lookup(id), nil
	}
	ids.mu.Lock()
	if c, ok := ids.cache[userID]; ok && ids.now().Before(c.until) {
		ids.mu.Unlock()
		return c.subject, nil
	}
	ids.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var u *slack.User
	err := withRateLimit(ctx, func() error {
		var err error
		u, err = ids.client.GetUserInfoContext(ctx, userID)
		return err
	})
	if err != nil {
		return authz.Subject{}, fmt.Errorf("slack users.info %s: %w", userID, err)
	}
	email := strings.ToLower(strings.TrimSpace(u.Profile.Email))
	var subj authz.Subject
	if email == "" || u.IsBot {
		// Without an email (the users:read.email scope is missing, or a
		// bot) nobody can be matched: policy sees an unknown subject.
		subj = authz.Subject{ID: "slack:" + userID, Known: false}
	} else {
		subj = ids.dir.Lookup(email)
	}
	if subj.Name == "" {
		subj.Name = u.RealName
	}
	ids.mu.Lock()
	ids.cache[userID] = cachedIdentity{subject: subj, until: ids.now().Add(ids.ttl)}
	ids.mu.Unlock()
	return subj, nil
}

// withRateLimit retries a Slack call that was rate limited (HTTP 429),
// waiting the Retry-After Slack asked for, up to three times.
func withRateLimit(ctx context.Context, call func() error) error {
	for attempt := 0; ; attempt++ {
		err := call()
		rl, ok := err.(*slack.RateLimitedError)
		if !ok || attempt == 3 {
			return err
		}
		wait := rl.RetryAfter
		if wait <= 0 {
			wait = time.Second
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (while rate limited: %v)", ctx.Err(), err)
		case <-time.After(wait):
		}
	}
}
