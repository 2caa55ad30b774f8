package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

// bench load --abuse measures the well-behaved users alone and while frank
// sends MCP batches, slow bodies and oversized history, and reports both
// p99s; the server keeps answering them and refuses the batch of 1,000.
func TestBenchLoadAbuse(t *testing.T) {
	dir := banktest.PrivateDir(t)
	cfg := filepath.Join(t.TempDir(), "askmesh.yaml")
	// Bursts that outlast the load run before the abuse run: with a fast
	// planner, 300 ms of back-to-back questions spent a burst of 100 model
	// turns, and the calm phase met 429s.
	if err := os.WriteFile(cfg, []byte("web:\n  limits:\n    rate_per_minute: -1\nlimits:\n  tool_calls_per_minute: 1200\n  tool_call_burst: 2000\n  model_turns_per_minute: 1200\n  model_turn_burst: 2000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ASKMESH_CONFIG", cfg)
	base := startDemo(t, dir)
	out, err := run(t, dir, "load", "--url", base, "--concurrency", "2", "--duration", "300ms", "--token-for", "carol,alice,frank", "--abuse", "--json")
	if err != nil {
		t.Fatalf("bench load --abuse: %v\n%s", err, out)
	}
	var rep loadReport
	if err := json.Unmarshal([]byte(out[max(0, strings.Index(out, "{\n")):]), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	a := rep.Abuse
	if a == nil {
		t.Fatalf("no abuse report: %s", out)
	}
	if a.Abuser != "frank" || a.BaselineOK != 10 || a.AbusedOK != 10 || a.AbusedErrors != 0 || a.BaselineP99MS <= 0 || a.AbusedP99MS <= 0 || a.P99Ratio <= 0 {
		t.Errorf("well-behaved users: %+v", a)
	}
	if a.MCPBatches == 0 || a.MCPBatchRefused == 0 || a.MCPBatchRefused > a.MCPBatches || a.SlowBodies == 0 || a.Histories == 0 {
		t.Errorf("the abuser did not run every kind of abuse: %+v", a)
	}
	t.Log(a.line())
	if !rep.Audit.Passed {
		t.Errorf("audit check: %+v", rep.Audit)
	}
}
