package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
)

// A question's model time is the sum of what the server reported for the
// requests whose body carries its id, and take waits for a report that
// comes in after the answer (the server reports after its last byte).
func TestModelLedgerWaitsForLateReports(t *testing.T) {
	t.Parallel()
	l := newModelLedger()
	served := func(id string, d time.Duration) {
		body := `{"model":"m","messages":[{"role":"user","content":"` + benchQuestion + ` (` + id + `)"}]}`
		l.served(openaitest.Served{Request: openaitest.Request{Body: []byte(body)}, Status: http.StatusOK, Duration: d})
	}
	served("bench-q1", 300*time.Millisecond)
	served("bench-q12", 100*time.Millisecond)
	go func() {
		time.Sleep(20 * time.Millisecond)
		served("bench-q1", 301*time.Millisecond)
	}()
	if d, n := l.take("bench-q1", 2); d != 601*time.Millisecond || n != 2 {
		t.Fatalf("q1: %s over %d requests, want 601ms over 2", d, n)
	}
	if d, n := l.take("bench-q12", 1); d != 100*time.Millisecond || n != 1 {
		t.Fatalf("q12: %s over %d requests", d, n)
	}
	if d, n := l.take("bench-q3", 0); d != 0 || n != 0 {
		t.Fatalf("unknown question: %s over %d requests", d, n)
	}
}

func TestQuestionTag(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"content":"How many? (bench-q42)"}`:   "bench-q42",
		`{"content":"x (bench-q7)"} (bench-q8)`: "bench-q7",
		`{"content":"no id (bench-q)"}`:         "",
		`{"content":"How many new customers?"}`: "",
	} {
		if got := questionTag([]byte(body)); got != want {
			t.Errorf("questionTag(%s) = %q, want %q", body, got, want)
		}
	}
}
