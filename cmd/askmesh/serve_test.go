package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
)

// startServing runs `askmesh <command> --addr <free loopback port>`
// in-process (serve or demo) until the test ends, and returns its base URL
// once it is ready.
func startServing(t *testing.T, dataDir, command string) (string, *syncBuffer) {
	t.Helper()
	return startCommand(t, dataDir, "/readyz", command)
}

// startCommand runs `askmesh <args> --addr <free loopback port>` in-process
// until the test ends, which it must then do without error, and returns its
// base URL once GET ready answers 200.
func startCommand(t *testing.T, dataDir, ready string, args ...string) (string, *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	root := newRoot()
	out := &syncBuffer{}
	root.SetOut(out)
	root.SetErr(out)
	root.SetArgs(append(append([]string{"--data-dir", dataDir, "--now", banktest.Now.Format(time.RFC3339)}, args...), "--addr", addr))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s ended with %v", args[0], err)
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(base + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, out
			}
		}
		select {
		case err := <-done:
			t.Fatalf("%s stopped: %v\n%s", args[0], err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never became ready: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func slackSigned(t *testing.T, url, secret, body string, at time.Time) *http.Response {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// With a bot token and a signing secret, serve mounts Slack's Events API
// beside the HTTP API, and only Slack's signed requests get through.
func TestServeMountsSlackEventsAPI(t *testing.T) {
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-test")
	t.Setenv("SLACK_APP_TOKEN", "")
	t.Setenv("SLACK_SIGNING_SECRET", secret)
	t.Setenv("SLACK_API_URL", "http://127.0.0.1:1/") // never called for a challenge
	base, out := startServing(t, banktest.PrivateDir(t), "serve")
	if !strings.Contains(out.String(), base+"/slack/events") {
		t.Errorf("serve does not announce the Slack endpoints:\n%s", out.String())
	}
	body := `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`

	resp := slackSigned(t, base+"/slack/events", secret, body, time.Now())
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(got) != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("url_verification: %d %q", resp.StatusCode, got)
	}
	for name, r := range map[string]*http.Response{
		"forged": slackSigned(t, base+"/slack/events", "not-the-secret", body, time.Now()),
		"stale":  slackSigned(t, base+"/slack/events", secret, body, time.Now().Add(-10*time.Minute)),
	} {
		r.Body.Close()
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s request: %d, want 401", name, r.StatusCode)
		}
	}
}
