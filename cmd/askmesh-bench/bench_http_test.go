package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/models/openai/openaitest"
)

// A question's model time is the sum of what the server reported for the
// requests tagged with it, and take waits for a report that comes in after
// the answer (the server reports after its last byte).
func TestModelLedgerWaitsForLateReports(t *testing.T) {
	t.Parallel()
	l := newModelLedger()
	served := func(id string, d time.Duration) {
		h := http.Header{}
		h.Set(benchQuestionHeader, id)
		l.served(openaitest.Served{Request: openaitest.Request{Header: h}, Status: http.StatusOK, Duration: d})
	}
	l.sent("q1")
	l.sent("q1")
	l.sent("q2")
	served("q1", 300*time.Millisecond)
	served("q2", 100*time.Millisecond)
	go func() {
		time.Sleep(20 * time.Millisecond)
		served("q1", 301*time.Millisecond)
	}()
	if d, n := l.take("q1"); d != 601*time.Millisecond || n != 2 {
		t.Fatalf("q1: %s over %d requests, want 601ms over 2", d, n)
	}
	if d, n := l.take("q2"); d != 100*time.Millisecond || n != 1 {
		t.Fatalf("q2: %s over %d requests", d, n)
	}
	if d, n := l.take("q3"); d != 0 || n != 0 {
		t.Fatalf("unknown question: %s over %d requests", d, n)
	}
}
