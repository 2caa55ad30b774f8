package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
)

// apiCall is one Web API call the bot made, as Slack would have received it.
type apiCall struct {
	Method string
	Form   url.Values
	File   []byte // the bytes of an upload
}

// fakeSlack is slack-go's slacktest server plus the Web API methods it
// lacks (chat.update, files upload v2, assistant.threads.*, chat streaming,
// users.info with emails), recording every call the bot makes.
type fakeSlack struct {
	*slacktest.Server
	mu       sync.Mutex
	calls    []apiCall
	emails   map[string]string // user id -> email
	seq      int
	limited  map[string]int // method -> how many 429s to answer first
	noStream bool           // chat.startStream answers unknown_method
	notify   chan apiCall
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{emails: map[string]string{}, limited: map[string]int{}, notify: make(chan apiCall, 256)}
	record := func(method string, answer func(w http.ResponseWriter, c apiCall)) func(slacktest.Customize) {
		return func(c slacktest.Customize) {
			c.Handle("/"+method, func(w http.ResponseWriter, r *http.Request) {
				call := apiCall{Method: method}
				ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
				switch {
				case strings.HasPrefix(ct, "multipart/"):
					mr := multipart.NewReader(r.Body, params["boundary"])
					for {
						p, err := mr.NextPart()
						if err != nil {
							break
						}
						b, _ := io.ReadAll(p)
						if p.FormName() == "file" || p.FileName() != "" {
							call.File = b
						}
					}
				case ct == "application/json":
					body, _ := io.ReadAll(r.Body)
					var m map[string]any
					_ = json.Unmarshal(body, &m)
					call.Form = url.Values{}
					for k, v := range m {
						if s, ok := v.(string); ok {
							call.Form.Set(k, s)
						} else {
							b, _ := json.Marshal(v)
							call.Form.Set(k, string(b))
						}
					}
				default:
					_ = r.ParseForm()
					call.Form = r.PostForm
					if len(call.Form) == 0 {
						call.Form = r.Form
					}
				}
				f.mu.Lock()
				if f.limited[method] > 0 {
					f.limited[method]--
					f.mu.Unlock()
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(http.StatusTooManyRequests)
					_, _ = io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
					return
				}
				f.calls = append(f.calls, call)
				f.mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				answer(w, call)
				select {
				case f.notify <- call:
				default:
				}
			})
		}
	}
	ok := func(extra string) func(w http.ResponseWriter, c apiCall) {
		return func(w http.ResponseWriter, c apiCall) {
			_, _ = fmt.Fprintf(w, `{"ok":true%s}`, extra)
		}
	}
	withTS := func(w http.ResponseWriter, c apiCall) {
		f.mu.Lock()
		f.seq++
		ts := fmt.Sprintf("1763200000.%06d", f.seq)
		f.mu.Unlock()
		_, _ = fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, c.Form.Get("channel"), ts)
	}
	f.Server = slacktest.NewTestServer(
		record("chat.postMessage", withTS),
		record("chat.update", withTS),
		record("chat.delete", withTS),
		record("chat.postEphemeral", func(w http.ResponseWriter, c apiCall) {
			_, _ = io.WriteString(w, `{"ok":true,"message_ts":"1763200000.999999"}`)
		}),
		record("chat.startStream", func(w http.ResponseWriter, c apiCall) {
			if f.noStream {
				_, _ = io.WriteString(w, `{"ok":false,"error":"unknown_method"}`)
				return
			}
			withTS(w, c)
		}),
		record("chat.appendStream", withTS),
		record("chat.stopStream", withTS),
		record("assistant.threads.setStatus", ok("")),
		record("assistant.threads.setSuggestedPrompts", ok("")),
		record("users.info", func(w http.ResponseWriter, c apiCall) {
			id := c.Form.Get("user")
			f.mu.Lock()
			email := f.emails[id]
			f.mu.Unlock()
			_, _ = fmt.Fprintf(w, `{"ok":true,"user":{"id":%q,"name":%q,"real_name":%q,"profile":{"email":%q}}}`, id, id, "Person "+id, email)
		}),
		record("files.getUploadURLExternal", func(w http.ResponseWriter, c apiCall) {
			f.mu.Lock()
			f.seq++
			id := fmt.Sprintf("F%06d", f.seq)
			f.mu.Unlock()
			_, _ = fmt.Fprintf(w, `{"ok":true,"upload_url":%q,"file_id":%q}`, f.GetAPIURL()+"upload.file?id="+id, id)
		}),
		record("upload.file", ok("")),
		record("files.completeUploadExternal", func(w http.ResponseWriter, c apiCall) {
			var files []map[string]any
			_ = json.Unmarshal([]byte(c.Form.Get("files")), &files)
			b, _ := json.Marshal(files)
			_, _ = fmt.Fprintf(w, `{"ok":true,"files":%s}`, b)
		}),
	)
	f.Start()
	t.Cleanup(f.Stop)
	return f
}

// callsOf returns the recorded calls of one method.
func (f *fakeSlack) callsOf(method string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// waitFor waits until a call matching ok arrives.
func (f *fakeSlack) waitFor(t *testing.T, what string, ok func(apiCall) bool) apiCall {
	t.Helper()
	f.mu.Lock()
	for _, c := range f.calls {
		if ok(c) {
			f.mu.Unlock()
			return c
		}
	}
	f.mu.Unlock()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case c := <-f.notify:
			if ok(c) {
				return c
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s; calls: %s", what, f.summary())
			return apiCall{}
		}
	}
}

func (f *fakeSlack) summary() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	for _, c := range f.calls {
		parts = append(parts, c.Method)
	}
	return strings.Join(parts, ", ")
}

// sign makes Slack's v0 signature headers for a body at a time.
func sign(secret string, at time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}
