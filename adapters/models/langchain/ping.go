package langchain

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// pingTimeout bounds Ping: readiness probes and askmesh doctor wait no longer.
const pingTimeout = 5 * time.Second

// anthropicPing lists Anthropic's models: authenticated, spends no tokens.
type anthropicPing struct {
	url, key string
	client   *http.Client
}

// Ping checks that the provider is reachable and takes the key, without
// generating anything: Anthropic's model list, or Ollama's through its
// OpenAI-compatible API.
func (m *Model) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if p, ok := m.delegate.(interface{ Ping(context.Context) error }); ok {
		return p.Ping(ctx)
	}
	if m.ping.url == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.ping.url, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", m.name, err)
	}
	req.Header.Set("x-api-key", m.ping.key)
	req.Header.Set("anthropic-version", "2023-06-01")
	c := m.ping.client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", m.name, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %s", m.name, resp.Status)
	}
	return nil
}
