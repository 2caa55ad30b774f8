package bankgen_test

import (
	"os"
	"testing"

	"github.com/askmesh/askmesh/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
