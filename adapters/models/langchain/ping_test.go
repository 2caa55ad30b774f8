package langchain_test

import (
	"context"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/adapters/models/langchain"
	"github.com/askmesh/askmesh/adapters/models/langchain/langchaintest"
)

// Ping lists Anthropic's models with the key and version headers, spending
// no scripted turn; a server that is gone is an error naming the model.
func TestAnthropicPing(t *testing.T) {
	t.Parallel()
	srv := langchaintest.NewAnthropicServer(t)
	m, err := langchain.New(context.Background(), langchain.Config{Provider: langchain.Anthropic, APIKey: "test-key", BaseURL: srv.URL, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Ping(context.Background()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("ping used %d scripted turns", n)
	}
	srv.Close()
	if err := m.Ping(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "anthropic:claude-sonnet-4-5: ") {
		t.Fatalf("ping with the server gone: %v", err)
	}
}
