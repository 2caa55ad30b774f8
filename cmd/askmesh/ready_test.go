package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

type readyBody struct {
	Status   string            `json:"status"`
	Checks   map[string]string `json:"checks"`
	Products map[string]int    `json:"products"`
}

func getReady(t *testing.T, base string) (int, readyBody) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b readyBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func waitReady(t *testing.T, what string, base string, ok func(int, readyBody) bool) (int, readyBody) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		code, b := getReady(t, base)
		if ok(code, b) {
			return code, b
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: /readyz still answers %d %+v", what, code, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// /readyz means ready: it fails while the configured model cannot be
// reached (the in-process OpenAI-compatible server, stopped) and recovers
// when it is back on the same address; /healthz stays up throughout.
func TestReadyzFollowsTheModel(t *testing.T) {
	model := openaitest.NewServer(t)
	addr := model.Listener.Addr().String()
	cfg := filepath.Join(t.TempDir(), "askmesh.yaml")
	// No cached success: every probe asks the model.
	if err := os.WriteFile(cfg, []byte("model:\n  provider: openai\n  base_url: "+model.BaseURL()+"\n  api_key: test\nweb:\n  limits:\n    ready_cache: -1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ASKMESH_CONFIG", cfg)
	base, _ := startServing(t, banktest.PrivateDir(t), "serve")

	code, b := getReady(t, base)
	if code != http.StatusOK || b.Status != "ready" || b.Checks["model"] != "ok" || b.Checks["audit"] != "ok" || b.Checks["products"] != "ok" ||
		b.Products["ok"] != 7 || b.Products["unavailable"] != 0 {
		t.Fatalf("with the model up: %d %+v", code, b)
	}

	model.Close()
	code, b = getReady(t, base)
	if code != http.StatusServiceUnavailable || b.Status != "unavailable" || b.Checks["model"] != "unavailable" ||
		b.Checks["audit"] != "ok" || b.Checks["products"] != "ok" {
		t.Fatalf("with the model down: %d %+v", code, b)
	}
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("liveness follows the process, not the model: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// The model comes back on the same address.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	back := &http.Server{Handler: model.Config.Handler}
	go back.Serve(ln)
	t.Cleanup(func() { back.Close() })
	waitReady(t, "the model is back", base, func(code int, b readyBody) bool {
		return code == http.StatusOK && b.Status == "ready" && b.Checks["model"] == "ok"
	})
}
