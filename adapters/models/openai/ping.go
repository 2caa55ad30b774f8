package openai

import (
	"context"
	"fmt"
	"time"
)

// pingTimeout bounds Ping: readiness probes and askmesh doctor wait no longer.
const pingTimeout = 5 * time.Second

// Ping lists the server's models: a cheap authenticated request that shows
// the server is reachable and takes the key, without spending tokens. It is
// not retried: a probe reports what is, now.
func (m *Model) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, min(pingTimeout, m.cfg.Timeout))
	defer cancel()
	if _, err := m.client.ListModels(ctx); err != nil {
		return fmt.Errorf("%s: %w", m.name, describe(err))
	}
	return nil
}
