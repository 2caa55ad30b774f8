package app_test

import (
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/askmesh/askmesh/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// discardLogger keeps expected warnings (denials, outages) out of test output.
func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
