package state

import (
	"context"
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/assistanttest"
	"github.com/askmesh/askmesh/internal/pgtest"
)

func TestPostgresMemoryKeepsTheMemoryContract(t *testing.T) {
	t.Parallel()
	assistanttest.MemoryContract(t, func(t *testing.T, limits assistant.MemoryLimits) assistant.Memory {
		m, err := OpenPostgresMemory(context.Background(), pgtest.NewDatabase(t), limits)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		return m
	})
}
