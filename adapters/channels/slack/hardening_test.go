package slack

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawPost writes a request's head (and part of a body) on a raw
// connection and returns the status line of the answer.
func rawPost(t *testing.T, addr, head, partialBody string, wait time.Duration) (string, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := fmt.Fprint(conn, head+partialBody); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "no answer: " + err.Error(), time.Since(start)
	}
	return strings.TrimSpace(line), time.Since(start)
}

// An unsigned request is refused from its headers, before any of its body
// is read; a signed one whose body trickles is cut off at the body timeout.
func TestEventsRefuseUnsignedAndSlowBodies(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, Config{BodyTimeout: 300 * time.Millisecond})
	ts := httptest.NewServer(h.bot.EventsHandler())
	t.Cleanup(ts.Close)
	addr := strings.TrimPrefix(ts.URL, "http://")

	unsigned := "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n"
	status, took := rawPost(t, addr, unsigned, `{"type":`, 5*time.Second)
	if !strings.Contains(status, " 401 ") {
		t.Errorf("unsigned request with a 1 MiB body never sent: %q after %s, want 401 at once", status, took)
	}

	body := `{"type":"event_callback","event_id":"Ev1","event":{}}`
	signed := sign(secret, time.Now(), []byte(body))
	head := "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n", len(body))
	for k := range signed {
		head += k + ": " + signed.Get(k) + "\r\n"
	}
	status, took = rawPost(t, addr, head+"\r\n", body[:10], 5*time.Second)
	if !strings.Contains(status, fmt.Sprint(" ", http.StatusRequestTimeout, " ")) {
		t.Errorf("a trickled body: %q after %s, want 408 after the 300ms body timeout", status, took)
	}
}
