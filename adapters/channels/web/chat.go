package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/askmesh/askmesh/adapters/channels/mcp"
	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/internal/httpguard"
	"github.com/askmesh/askmesh/tools"
)

// chatRequest is POST /v1/chat's body.
type chatRequest struct {
	ConversationID string `json:"conversation_id"`
	Message        string `json:"message"`
}

// Channels, as audit records name them.
const (
	ChannelAPI    = "api"
	ChannelWeb    = "web"
	ChannelOpenAI = "openai"
	ChannelMCP    = mcp.Channel
)

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if !decodeJSON(w, r, &req, true, s.lim.MaxBodyBytes) {
		return
	}
	question, ok := s.checkMessage(w, req.Message)
	if !ok {
		return
	}
	if req.ConversationID != "" && !httpguard.ValidID(req.ConversationID) {
		writeError(w, http.StatusBadRequest, "invalid_request", "conversation_id must be 1 to 128 letters, digits or . _ : @ -")
		return
	}
	areq := s.request(r, channelOf(r), req.ConversationID, question)
	if wantsStream(r) {
		s.streamChat(w, r, areq)
		return
	}
	ans, err := s.o.Agent.Stream(r.Context(), areq, nil)
	if err != nil {
		s.answerError(w, r, err)
		return
	}
	w.Header().Set("X-Askmesh-Conversation-Id", ans.ConversationID)
	if channelOf(r) == ChannelWeb {
		writeJSON(w, http.StatusOK, forPage(s.log, ans))
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// checkMessage trims a question and enforces its bounds.
func (s *Server) checkMessage(w http.ResponseWriter, msg string) (string, bool) {
	q := strings.TrimSpace(msg)
	switch n := utf8.RuneCountInString(q); {
	case n == 0:
		writeError(w, http.StatusBadRequest, "invalid_request", "message is empty: ask a question")
		return "", false
	case n > s.lim.MaxMessageChars:
		writeError(w, http.StatusBadRequest, "message_too_long", fmt.Sprintf("message is %d characters; the limit is %d", n, s.lim.MaxMessageChars))
		return "", false
	}
	return q, true
}

// channelOf is the channel a request is recorded and decided under. It
// comes from the route the request reached (the web chat's own routes under
// /v1/web/ are "web"; the API's are "api"), never from a header the client
// chooses, since policy reads it as context.channel.
func channelOf(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/v1/web/") {
		return ChannelWeb
	}
	return ChannelAPI
}

// callerOf is who makes r's tool calls: the authenticated subject, with the
// HTTP request id as the audit records' request id.
func callerOf(r *http.Request, channel string) tools.Caller {
	return tools.Caller{Subject: subjectOf(r), Channel: channel, RequestID: RequestID(r.Context()), ClientRequestID: ClientRequestID(r.Context())}
}

// request builds the agent's request for a question asked through r.
func (s *Server) request(r *http.Request, channel, conversation, question string) assistant.Request {
	s.metrics.Question(channel)
	c := callerOf(r, channel)
	c.ConversationID = conversation
	return assistant.Request{Question: question, Caller: c}
}

// call runs one tool call with typed arguments through the executor.
func (s *Server) call(ctx context.Context, c tools.Caller, tool string, args any) (*tools.Result, error) {
	raw, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("encode %s arguments: %w", tool, err)
	}
	return s.o.Executor.Call(ctx, c, tools.Call{Tool: tool, Arguments: raw})
}

func wantsStream(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(v, "text/event-stream") {
			return true
		}
	}
	return false
}

// answerError maps an agent failure to a status. The agent has already
// recorded every tool call; what is left is why no answer came.
func (s *Server) answerError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := s.noAnswer(r, err)
	var le *tools.LimitError
	if errors.As(err, &le) {
		w.Header().Set("Retry-After", fmt.Sprint(le.RetrySeconds()))
	}
	writeError(w, status, code, msg)
}

// noAnswer classifies an agent failure and logs the server's own.
func (s *Server) noAnswer(r *http.Request, err error) (status int, code, msg string) {
	status, code, msg = classify(r.Context(), err)
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "no answer", "request_id", RequestID(r.Context()), "err", err)
	}
	return status, code, msg
}

func classify(ctx context.Context, err error) (int, string, string) {
	var le *tools.LimitError
	switch {
	case errors.As(err, &le):
		return http.StatusTooManyRequests, "rate_limited", le.Error()
	case ctx.Err() != nil:
		return 499, "cancelled", "the request was cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "timeout", "no answer within the time allowed; try a narrower question"
	case errors.Is(err, assistant.ErrNoAnswer):
		return http.StatusServiceUnavailable, "model_unavailable", "the model is unavailable; try again shortly"
	}
	return http.StatusInternalServerError, "internal", "the question could not be answered; quote request id " + RequestID(ctx)
}

// sse writes server-sent events; emit may be called from the agent's tool
// goroutines, and the keep-alive ticker writes too, so writes are serialized.
type sse struct {
	mu     sync.Mutex
	w      http.ResponseWriter
	rc     *http.ResponseController
	closed bool
}

func startSSE(w http.ResponseWriter) *sse {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	s := &sse{w: w, rc: http.NewResponseController(w)}
	_ = s.rc.Flush()
	return s
}

// send writes one event (event may be "" for data-only events, as OpenAI
// streams are) and flushes it.
func (s *sse) send(event string, data []byte) {
	var b strings.Builder
	if event != "" {
		b.WriteString("event: " + event + "\n")
	}
	b.WriteString("data: ")
	b.Write(data)
	b.WriteString("\n\n")
	s.write(b.String())
}

func (s *sse) comment(text string) { s.write(": " + text + "\n\n") }

// write writes and flushes text unless the client has left.
func (s *sse) write(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if _, err := io.WriteString(s.w, text); err != nil {
		s.closed = true // the client left; the request context ends the work
		return
	}
	_ = s.rc.Flush()
}

func (s *sse) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// keepAlive writes a comment whenever the stream has been quiet, so proxies
// do not close it during a long model turn; stop it before returning.
func (s *sse) keepAlive(every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.comment("keep-alive")
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (s *Server) streamChat(w http.ResponseWriter, r *http.Request, req assistant.Request) {
	w.Header().Set("X-Askmesh-Request-Id", req.Caller.RequestID)
	out := startSSE(w)
	stop := out.keepAlive(s.lim.KeepAlive)
	defer stop()
	sentError := false
	emit := func(ev assistant.Event) {
		if ev.Type == assistant.EventError {
			sentError = true
		}
		var v any = ev
		if ev.Type == assistant.EventAnswer && channelOf(r) == ChannelWeb {
			// The page gets the answer's charts drawn (see forPage).
			v = struct {
				assistant.Event
				Answer webAnswer `json:"answer"`
			}{ev, forPage(s.log, ev.Answer)}
		}
		b, err := json.Marshal(v)
		if err != nil {
			s.log.ErrorContext(r.Context(), "event could not be encoded", "type", ev.Type, "err", err)
			return
		}
		out.send(ev.Type, b)
	}
	_, err := s.o.Agent.Stream(r.Context(), req, emit)
	if err != nil {
		if r.Context().Err() != nil {
			s.log.InfoContext(r.Context(), "client left; the agent stopped", "request_id", req.Caller.RequestID)
			return
		}
		_, code, msg := s.noAnswer(r, err)
		if !sentError {
			b, _ := json.Marshal(struct {
				assistant.Event
				Code string `json:"code"`
			}{assistant.Event{Type: assistant.EventError, At: time.Now().UTC(), Error: msg}, code})
			out.send(assistant.EventError, b)
		}
	}
}

// conversationView is GET /v1/conversations/{id}'s body.
type conversationView struct {
	ID       string              `json:"id"`
	Messages []assistant.Message `json:"messages"`
}

// conversation returns the asker's own conversation. Memory is keyed by
// (subject, id), so another person's conversation is simply not found: the
// 404 does not reveal that it exists.
func (s *Server) conversation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !httpguard.ValidID(id) {
		writeError(w, http.StatusNotFound, "not_found", "conversation not found")
		return
	}
	msgs, err := s.o.Agent.Memory().Load(r.Context(), subjectOf(r).ID, id)
	if err != nil {
		s.log.ErrorContext(r.Context(), "load conversation", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "conversations are unavailable; try again shortly")
		return
	}
	view := conversationView{ID: id, Messages: []assistant.Message{}}
	for _, m := range msgs {
		if m.Role != assistant.RoleSystem {
			view.Messages = append(view.Messages, m)
		}
	}
	if len(view.Messages) == 0 {
		writeError(w, http.StatusNotFound, "not_found", "conversation not found")
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// WatchProduct is the product the web chat's live view follows.
const WatchProduct = "customer-transactions"

// me says who the token authenticates, for the page's header, and what
// the page should offer them: the audit review and the live view appear
// only for people policy lets read the product behind them (and policy
// still decides every call). A web session also gets its
// CSRF token, which the page sends on every state-changing request.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	subj := subjectOf(r)
	groups := subj.Groups
	if groups == nil {
		groups = []string{}
	}
	out := map[string]any{"id": subj.ID, "name": subj.Name, "groups": groups,
		"attributes": subj.Attributes, "known": subj.Known, "offers": s.offers(s.access(r))}
	if sess := stateOf(r.Context()).session; sess != nil {
		out["session"] = map[string]any{"csrf_token": sess.csrf, "expires_at": sess.expires.UTC().Format(time.RFC3339)}
	}
	writeJSON(w, http.StatusOK, out)
}

// access asks policy, in one evaluation that records nothing, what the
// asker may do with each product of the catalog, as the web chat would ask
// it. Nil when it cannot be asked: then nothing is offered (fail closed).
func (s *Server) access(r *http.Request) map[string]tools.Access {
	if s.o.Access == nil || s.o.Catalog == nil {
		return nil
	}
	var names []string
	for _, p := range s.o.Catalog.List() {
		names = append(names, p.Name)
	}
	acc, err := s.o.Access.Access(r.Context(), callerOf(r, ChannelWeb), names, authz.ActionQueryRecords, authz.ActionQueryMetrics)
	if err != nil {
		s.log.WarnContext(r.Context(), "policy could not say what to offer", "err", err)
		return nil
	}
	out := make(map[string]tools.Access, len(acc))
	for _, a := range acc {
		out[a.Product] = a
	}
	return out
}

// offers are the page's links a person can use: the audit review and the
// live view read records of the product behind them.
func (s *Server) offers(acc map[string]tools.Access) map[string]bool {
	return map[string]bool{
		"audit_review": s.o.AuditReview != nil && acc[AuditProduct].May(authz.ActionQueryRecords),
		"watch":        s.o.Executor != nil && acc[WatchProduct].May(authz.ActionQueryRecords),
	}
}

// examples suggests questions about the products policy lets the asker
// query: carol is not offered an auditor's question she would be refused.
// Suggestions only; policy still decides every call.
func (s *Server) examples(w http.ResponseWriter, r *http.Request) {
	out := []map[string]string{}
	acc := s.access(r)
	if s.o.Catalog != nil {
		for _, p := range s.o.Catalog.List() {
			if a := acc[p.Name]; !a.May(authz.ActionQueryMetrics) && !a.May(authz.ActionQueryRecords) {
				continue
			}
			for i, q := range p.ExampleQuestions {
				if i == 2 {
					break
				}
				out = append(out, map[string]string{"product": p.Name, "question": q})
			}
		}
	}
	if len(out) == 0 {
		// Everyone may discover what the catalog holds.
		out = append(out, map[string]string{"question": "What data do we have about customers?"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"examples": out})
}

// demoUser is one entry of GET /v1/demo/users.
type demoUser struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Title  string   `json:"title,omitempty"`
	Groups []string `json:"groups"`
	Token  string   `json:"token"`
}

func (s *Server) demoUsers(w http.ResponseWriter, _ *http.Request) {
	titles := map[string]string{}
	if l, ok := s.o.Directory.(userLister); ok {
		for _, u := range l.Users() {
			titles[u.ID] = u.Title
		}
	}
	out := make([]demoUser, 0, len(s.o.DemoUsers))
	for _, id := range s.o.DemoUsers {
		subj := s.auth.lookup(id)
		groups := subj.Groups
		if groups == nil {
			groups = []string{}
		}
		out = append(out, demoUser{ID: id, Name: subj.Name, Title: titles[id], Groups: groups, Token: authz.DemoToken(id)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out,
		"warning": "demo mode: these tokens are public; never run demo mode with real data"})
}
