package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/askmesh/askmesh/adapters/channels/web"
	"github.com/askmesh/askmesh/audit"
)

func (h *harness) openaiClient(token string) *goopenai.Client {
	cfg := goopenai.DefaultConfig(token)
	cfg.BaseURL = h.ts.URL + "/v1"
	cfg.HTTPClient = h.ts.Client()
	return goopenai.NewClientWithConfig(cfg)
}

func TestOpenAICompatibleAPIWithGoOpenAI(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	ctx := context.Background()
	client := h.openaiClient("demo-carol")
	oct, sep := octSep(t, h.dir)

	models, err := client.ListModels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(models.Models) != 1 || models.Models[0].ID != "askmesh" || models.Models[0].Object != "model" {
		t.Fatalf("models %+v", models.Models)
	}
	if m, err := client.GetModel(ctx, "askmesh"); err != nil || m.ID != "askmesh" {
		t.Fatalf("GetModel: %+v %v", m, err)
	}

	t.Run("completion", func(t *testing.T) {
		res, err := client.CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{Model: "askmesh",
			Messages: []goopenai.ChatCompletionMessage{
				{Role: goopenai.ChatMessageRoleSystem, Content: "You are helpful."},
				{Role: goopenai.ChatMessageRoleUser, Content: acquisitionQuestion},
			}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Object != "chat.completion" || res.Model != "askmesh" || !strings.HasPrefix(res.ID, "chatcmpl-") || res.Created == 0 {
			t.Fatalf("envelope %+v", res)
		}
		if len(res.Choices) != 1 || res.Choices[0].FinishReason != goopenai.FinishReasonStop || res.Choices[0].Message.Role != "assistant" {
			t.Fatalf("choices %+v", res.Choices)
		}
		content := res.Choices[0].Message.Content
		for _, want := range []string{thousands(oct), thousands(sep), "customer-acquisition", "| "} {
			if !strings.Contains(content, want) {
				t.Errorf("content lacks %q:\n%s", want, content)
			}
		}
		if res.Usage.TotalTokens != res.Usage.PromptTokens+res.Usage.CompletionTokens {
			t.Fatalf("usage %+v", res.Usage)
		}
	})

	t.Run("stream", func(t *testing.T) {
		stream, err := client.CreateChatCompletionStream(ctx, goopenai.ChatCompletionRequest{Model: "askmesh", Stream: true,
			StreamOptions: &goopenai.StreamOptions{IncludeUsage: true},
			Messages:      []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: acquisitionQuestion}}})
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		var content strings.Builder
		var chunks, finishes, usages int
		for {
			chunk, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if chunk.Object != "chat.completion.chunk" || chunk.Model != "askmesh" {
				t.Fatalf("chunk %+v", chunk)
			}
			if chunks == 0 && (len(chunk.Choices) != 1 || chunk.Choices[0].Delta.Role != "assistant") {
				t.Fatalf("first chunk does not open the assistant's message: %+v", chunk)
			}
			chunks++
			if chunk.Usage != nil {
				usages++
				continue
			}
			content.WriteString(chunk.Choices[0].Delta.Content)
			if chunk.Choices[0].FinishReason == goopenai.FinishReasonStop {
				finishes++
			}
		}
		if finishes != 1 || usages != 1 {
			t.Fatalf("%d finish chunks, %d usage chunks", finishes, usages)
		}
		for _, want := range []string{thousands(oct), thousands(sep), "customer-acquisition"} {
			if !strings.Contains(content.String(), want) {
				t.Errorf("streamed content lacks %q:\n%s", want, content.String())
			}
		}
	})

	t.Run("conversation continues by header", func(t *testing.T) {
		// go-openai cannot set headers per request; the raw API can.
		res, body := h.do("POST", "/v1/chat/completions", "demo-carol", map[string]any{"model": "askmesh",
			"messages": []map[string]any{
				{"role": "user", "content": "How many new customers did we acquire last month?"},
				{"role": "assistant", "content": "We acquired some customers."},
				{"role": "user", "content": []map[string]string{{"type": "text", "text": acquisitionQuestion}}},
			}}, map[string]string{web.ConversationHeader: "oai-conv-1"})
		if res.StatusCode != 200 || res.Header.Get(web.ConversationHeader) != "oai-conv-1" {
			t.Fatalf("%d %q %s", res.StatusCode, res.Header.Get(web.ConversationHeader), body)
		}
		_, conv := h.do("GET", "/v1/conversations/oai-conv-1", "demo-carol", nil, nil)
		for _, want := range []string{"How many new customers did we acquire last month?", "We acquired some customers.", acquisitionQuestion} {
			if !strings.Contains(string(conv), want) {
				t.Errorf("history lacks %q: %s", want, conv)
			}
		}
		recs, _ := h.app.Audit.Search(ctx, audit.Query{Subject: "carol@bank.example"})
		if len(recs) == 0 || recs[len(recs)-1].Channel != "openai" || recs[len(recs)-1].ConversationID != "oai-conv-1" {
			t.Fatalf("audit records do not carry the openai channel and conversation: %+v", recs)
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := h.openaiClient("wrong-token").CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{Model: "askmesh",
			Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: "hi"}}})
		var apiErr *goopenai.APIError
		if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != http.StatusUnauthorized || apiErr.Type != "authentication_error" {
			t.Fatalf("wrong token: %v", err)
		}
		_, err = client.CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{Model: "gpt-4o",
			Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: "hi"}}})
		if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != http.StatusNotFound || !strings.Contains(apiErr.Message, `"askmesh"`) {
			t.Fatalf("unknown model: %v", err)
		}
		_, err = client.CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{Model: "askmesh",
			Messages: []goopenai.ChatCompletionMessage{{Role: "system", Content: "only a system message"}}})
		if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != http.StatusBadRequest || !strings.Contains(apiErr.Message, "user message") {
			t.Fatalf("no user message: %v", err)
		}
	})
}
