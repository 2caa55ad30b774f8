package assistant_test

import (
	"testing"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/assistanttest"
)

func TestInMemoryKeepsTheMemoryContract(t *testing.T) {
	t.Parallel()
	assistanttest.MemoryContract(t, func(t *testing.T, limits assistant.MemoryLimits) assistant.Memory {
		return assistant.NewInMemory(limits)
	})
}
