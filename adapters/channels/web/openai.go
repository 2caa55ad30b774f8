package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/httpguard"
)

// ModelID is the one model the OpenAI-compatible API offers.
const ModelID = "askmesh"

// ConversationHeader carries a conversation id in and out of the
// OpenAI-compatible API (the `user` field may carry it in too).
const ConversationHeader = "X-Askmesh-Conversation-Id"

type completionRequest struct {
	Model         string              `json:"model"`
	Messages      []completionMessage `json:"messages"`
	Stream        bool                `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	User string `json:"user"`
}

type completionMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text reads content given as a string, null, or an array of parts (only
// text parts count: askmesh answers questions about data, not images).
func (m completionMessage) text() (string, error) {
	c := bytes.TrimSpace(m.Content)
	switch {
	case len(c) == 0 || string(c) == "null":
		return "", nil
	case c[0] == '"':
		var s string
		err := json.Unmarshal(c, &s)
		return s, err
	case c[0] == '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(c, &parts); err != nil {
			return "", err
		}
		var b strings.Builder
		for _, p := range parts {
			if p.Type == "text" {
				b.WriteString(p.Text)
			}
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("content must be a string or an array of parts")
}

type completionChoice struct {
	Index        int                `json:"index"`
	Message      *completionContent `json:"message,omitempty"`
	Delta        *completionContent `json:"delta,omitempty"`
	FinishReason *string            `json:"finish_reason"`
}

type completionContent struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content"`
}

type completionUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type completion struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint string             `json:"system_fingerprint,omitempty"`
	Choices           []completionChoice `json:"choices"`
	Usage             *completionUsage   `json:"usage,omitempty"`
}

// completions serves POST /v1/chat/completions: the last user message is the
// question; earlier messages seed a new conversation's history.
func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	var req completionRequest
	if !decodeJSON(w, r, &req, false, s.lim.MaxBodyBytes) {
		return
	}
	if req.Model != "" && req.Model != ModelID {
		writeError(w, http.StatusNotFound, "model_not_found", fmt.Sprintf("the model %q does not exist; use %q", req.Model, ModelID))
		return
	}
	last := -1
	for i, m := range req.Messages {
		if m.Role == assistant.RoleUser {
			last = i
		}
	}
	if last < 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", "messages must include a user message: its text is the question")
		return
	}
	raw, err := req.Messages[last].text()
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("messages[%d].content: %v", last, err))
		return
	}
	question, ok := s.checkMessage(w, raw)
	if !ok {
		return
	}
	conv := r.Header.Get(ConversationHeader)
	if conv == "" {
		conv = req.User
	}
	if conv != "" && !httpguard.ValidID(conv) {
		writeError(w, http.StatusBadRequest, "invalid_request", "the conversation id ("+ConversationHeader+" or user) must be 1 to 128 letters, digits or . _ : @ -")
		return
	}
	areq := s.request(r, ChannelOpenAI, conv, question)
	if areq.Caller.ConversationID == "" {
		areq.Caller.ConversationID = uuid.NewString()
	}
	if err := s.seedHistory(r, areq.Caller.ConversationID, req.Messages[:last]); err != nil {
		s.log.ErrorContext(r.Context(), "seed conversation", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "conversations are unavailable; try again shortly")
		return
	}
	w.Header().Set(ConversationHeader, areq.Caller.ConversationID)
	id := "chatcmpl-" + strings.ReplaceAll(areq.Caller.RequestID, "-", "")
	created := time.Now().Unix()
	if req.Stream {
		s.streamCompletion(w, r, areq, id, created, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	ans, err := s.o.Agent.Stream(r.Context(), areq, nil)
	if err != nil {
		s.answerError(w, r, err)
		return
	}
	stop := "stop"
	writeJSON(w, http.StatusOK, completion{ID: id, Object: "chat.completion", Created: created, Model: ModelID,
		Choices: []completionChoice{{Message: &completionContent{Role: assistant.RoleAssistant, Content: Markdown(ans)}, FinishReason: &stop}},
		Usage:   usageOf(ans)})
}

// The bounds of the history a client may hand over (OpenAI-compatible).
const (
	seedMaxMessages = 20
	seedMaxBytes    = 32 << 10
)

// seedHistory stores the client's earlier turns as the conversation's
// history when askmesh holds none for it, so clients that resend the whole
// conversation (as OpenAI clients do) get follow-ups answered in context.
// Only user and assistant text is kept; it is the asker's own context.
func (s *Server) seedHistory(r *http.Request, conv string, earlier []completionMessage) error {
	// Only the most recent turns, within seedMaxMessages and seedMaxBytes,
	// are taken: a client resending 200 messages of 4.5 KB must not make
	// each of its conversations cost a quarter megabyte of memory.
	if len(earlier) > seedMaxMessages {
		earlier = earlier[len(earlier)-seedMaxMessages:]
	}
	var msgs []assistant.Message
	size := 0
	for i := len(earlier) - 1; i >= 0; i-- {
		m := earlier[i]
		if m.Role != assistant.RoleUser && m.Role != assistant.RoleAssistant {
			continue
		}
		t, err := m.text()
		if err != nil || strings.TrimSpace(t) == "" {
			continue
		}
		if rs := []rune(t); len(rs) > s.lim.MaxMessageChars {
			t = string(rs[:s.lim.MaxMessageChars])
		}
		if size += len(t); size > seedMaxBytes {
			break
		}
		msgs = append([]assistant.Message{{Role: m.Role, Content: t}}, msgs...)
	}
	if len(msgs) == 0 {
		return nil
	}
	subject := subjectOf(r).ID
	have, err := s.o.Agent.Memory().Load(r.Context(), subject, conv)
	if err != nil || len(have) > 0 {
		return err
	}
	return s.o.Agent.Memory().Save(r.Context(), subject, conv, msgs)
}

func usageOf(ans *assistant.Answer) *completionUsage {
	return &completionUsage{PromptTokens: ans.Usage.PromptTokens, CompletionTokens: ans.Usage.CompletionTokens,
		TotalTokens: ans.Usage.PromptTokens + ans.Usage.CompletionTokens}
}

// streamCompletion streams chat.completion.chunk events: the role first, the
// model's text as it comes, the rest of the answer (tables, sources) at the
// end, then finish_reason "stop", the usage if asked, and [DONE].
func (s *Server) streamCompletion(w http.ResponseWriter, r *http.Request, req assistant.Request, id string, created int64, includeUsage bool) {
	out := startSSE(w)
	stop := out.keepAlive(s.lim.KeepAlive)
	defer stop()
	chunk := func(delta *completionContent, finish *string) {
		b, _ := json.Marshal(completion{ID: id, Object: "chat.completion.chunk", Created: created, Model: ModelID,
			Choices: []completionChoice{{Delta: delta, FinishReason: finish}}})
		out.send("", b)
	}
	chunk(&completionContent{Role: assistant.RoleAssistant}, nil)
	var sent strings.Builder
	emit := func(ev assistant.Event) {
		if ev.Type == assistant.EventText && ev.Text != "" {
			sent.WriteString(ev.Text)
			chunk(&completionContent{Content: ev.Text}, nil)
		}
	}
	ans, err := s.o.Agent.Stream(r.Context(), req, emit)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		b, _ := json.Marshal(newError(s.noAnswer(r, err)))
		out.send("", b)
		return
	}
	full := Markdown(ans)
	rest := full
	if streamed := sent.String(); streamed != "" {
		if strings.HasPrefix(full, streamed) {
			rest = full[len(streamed):]
		} else {
			// The streamed text was the model thinking aloud between tool
			// calls; the answer follows it.
			rest = "\n\n" + full
		}
	}
	if rest != "" {
		chunk(&completionContent{Content: rest}, nil)
	}
	finish := "stop"
	chunk(&completionContent{}, &finish)
	if includeUsage {
		b, _ := json.Marshal(completion{ID: id, Object: "chat.completion.chunk", Created: created, Model: ModelID,
			Choices: []completionChoice{}, Usage: usageOf(ans)})
		out.send("", b)
	}
	out.send("", []byte("[DONE]"))
}

type modelEntry struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (s *Server) modelEntry() modelEntry {
	return modelEntry{ID: ModelID, Object: "model", Created: s.started.Unix(), OwnedBy: "askmesh"}
}

func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []modelEntry{s.modelEntry()}})
}

func (s *Server) model(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != ModelID {
		writeError(w, http.StatusNotFound, "model_not_found", fmt.Sprintf("the model %q does not exist; use %q", r.PathValue("id"), ModelID))
		return
	}
	writeJSON(w, http.StatusOK, s.modelEntry())
}
