package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

// run executes askmesh-bench in-process with the given arguments.
func run(t *testing.T, dataDir string, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"--data-dir", dataDir}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

// buildAskmesh builds the shipped askmesh binary for t.
func buildAskmesh(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the askmesh binary; not in -short")
	}
	bin := filepath.Join(t.TempDir(), "askmesh")
	build := exec.Command("go", "build", "-o", bin, "github.com/askmesh/askmesh/cmd/askmesh")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build askmesh: %v\n%s", err, out)
	}
	return bin
}

// startDemo builds the shipped askmesh binary and runs `askmesh demo` on the
// data directory, on a free loopback port, until the test ends: the load
// command is tested against the real server process it is made to drive.
func startDemo(t *testing.T, dataDir string) string {
	t.Helper()
	bin := buildAskmesh(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "demo", "--data-dir", dataDir, "--now", banktest.Now.Format(time.RFC3339), "--addr", addr)
	cmd.Env = os.Environ()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	base := "http://" + addr
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("askmesh demo stopped: %v\n%s", err, logs.String())
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("askmesh demo never became ready:\n%s", strings.TrimSpace(logs.String()))
	return ""
}
