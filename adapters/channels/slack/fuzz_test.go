package slack_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/channels/slack"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/authz"
)

const fuzzSecret = "fuzz-signing-secret-0123456789ab"

// noAnswers stands in for the agent: a request that gets past the signature
// check must not cost a model call in a fuzz loop.
type noAnswers struct{}

func (noAnswers) Stream(context.Context, assistant.Request, func(assistant.Event)) (*assistant.Answer, error) {
	return nil, errors.New("fuzz: no answers")
}

type noDirectory struct{}

func (noDirectory) Lookup(id string) authz.Subject { return authz.Subject{ID: id} }

func signature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// Signature modes: how the fuzzer's request is signed.
const (
	modeAsGiven    = iota // timestamp and signature headers exactly as fuzzed
	modeValid             // a correct signature, timestamp now
	modeWrongKey          // signed with another secret, timestamp now
	modeValidForTS        // a correct signature over the fuzzed timestamp
	modes
)

// FuzzSignatureVerification: whatever the body, timestamp and signature,
// the Slack endpoints never panic, and only a correct v0 signature over a
// fresh timestamp gets past the check (401 otherwise).
func FuzzSignatureVerification(f *testing.F) {
	now := strconv.FormatInt(time.Now().Unix(), 10)
	for _, b := range []string{
		`{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","token":"x"}`,
		`{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"reaction_added"}}`,
		`token=x&command=%2Faskmesh&text=help&user_id=U1&channel_id=C1`,
		``, `{`, "\x00\xff", `{"type":"event_callback","event":null}`,
	} {
		for m := range uint8(modes) {
			f.Add([]byte(b), now, "v0=00", m, false)
			f.Add([]byte(b), "1", signature(fuzzSecret, "1", []byte(b)), m, true)
		}
	}
	f.Add([]byte(`{}`), now, signature(fuzzSecret, now, []byte(`{}`)), uint8(modeAsGiven), false)
	f.Add([]byte(`{}`), "not-a-number", "v1=abc", uint8(modeAsGiven), true)
	f.Add([]byte(`{}`), "-99999999999999999999", "", uint8(modeValidForTS), false)

	bot, err := slack.New(slack.Config{BotToken: "xoxb-fuzz", SigningSecret: fuzzSecret, APIURL: "http://127.0.0.1:1/", MaxConcurrent: 1, MaxQueued: 1},
		noAnswers{}, noDirectory{}, slack.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(bot.Wait)
	events, commands := bot.EventsHandler(), bot.CommandsHandler()

	f.Fuzz(func(t *testing.T, body []byte, ts, sig string, mode uint8, command bool) {
		at := time.Now()
		switch mode % modes {
		case modeValid:
			ts = strconv.FormatInt(at.Unix(), 10)
			sig = signature(fuzzSecret, ts, body)
		case modeWrongKey:
			ts = strconv.FormatInt(at.Unix(), 10)
			sig = signature("another-secret", ts, body)
		case modeValidForTS:
			sig = signature(fuzzSecret, ts, body)
		}
		req := httptest.NewRequest(http.MethodPost, "/slack/events", bytes.NewReader(body))
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
		h := events
		if command {
			h = commands
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req) // a panic fails the fuzz run

		valid := sig == signature(fuzzSecret, ts, body)
		sec, perr := strconv.ParseInt(ts, 10, 64)
		age := at.Unix() - sec
		fresh := perr == nil && age > -240 && age < 240 // well inside Slack's five minutes
		stale := perr != nil || age < -360 || age > 360
		switch {
		case !valid && rec.Code != http.StatusUnauthorized:
			t.Fatalf("forged signature got %d, want 401 (ts %q, sig %q)", rec.Code, ts, sig)
		case valid && stale && rec.Code != http.StatusUnauthorized:
			t.Fatalf("stale timestamp %q got %d, want 401", ts, rec.Code)
		case valid && fresh && rec.Code == http.StatusUnauthorized:
			t.Fatalf("a correctly signed, fresh request was refused: %s", rec.Body)
		}
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
