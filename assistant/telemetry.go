package assistant

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/tools"
)

// Telemetry makes the cost of each question visible as OpenTelemetry
// traces and metrics that follow the GenAI semantic conventions: an
// invoke_agent span per question, with a chat span per model turn and an
// execute_tool span per tool call under it (the executor adds the policy
// decision and the audit append beneath those), token usage on the spans
// and the gen_ai.client.operation.duration and gen_ai.client.token.usage
// histograms. The zero value records nothing.
type Telemetry struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Provider is gen_ai.provider.name: openai, azure.ai.openai, anthropic,
	// ollama, ... Empty: the prefix of the model's name ("openai" of
	// "openai:gpt-4o"), or "askmesh" (the offline planner).
	Provider string
	// CaptureContent puts tool call arguments and results on execute_tool
	// spans. Off by default: they can hold data that whoever reads the
	// traces may not see.
	CaptureContent bool
}

// ScopeName is the instrumentation scope of the agent's spans and metrics.
const ScopeName = "github.com/askmesh/askmesh/assistant"

// AgentName is gen_ai.agent.name.
const AgentName = "askmesh"

// The semantic conventions' bucket boundaries.
var (
	durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	tokenBuckets    = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
)

type genAI struct {
	tracer   trace.Tracer
	model    string // gen_ai.request.model
	duration metric.Float64Histogram
	tokens   metric.Int64Histogram
	provider string
	capture  bool
	// ok are the attribute sets of a chat that did not fail (duration,
	// input tokens, output tokens), built once: every model turn records
	// them, and building a set allocates.
	ok [3]metric.MeasurementOption
}

func newGenAI(t Telemetry, modelName string) (*genAI, error) {
	// Model names are "provider:model" (the offline planner's has no
	// provider); the conventions keep the two apart.
	provider, model, ok := strings.Cut(modelName, ":")
	if !ok {
		provider, model = AgentName, modelName
	}
	if t.Provider == "" {
		t.Provider = provider
	}
	if t.TracerProvider == nil {
		t.TracerProvider = tracenoop.NewTracerProvider()
	}
	if t.MeterProvider == nil {
		t.MeterProvider = metricnoop.NewMeterProvider()
	}
	m := t.MeterProvider.Meter(ScopeName)
	duration, err := m.Float64Histogram("gen_ai.client.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("GenAI operation duration"), metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err != nil {
		return nil, err
	}
	tokens, err := m.Int64Histogram("gen_ai.client.token.usage", metric.WithUnit("{token}"),
		metric.WithDescription("Measures number of input and output tokens used"), metric.WithExplicitBucketBoundaries(tokenBuckets...))
	if err != nil {
		return nil, err
	}
	g := &genAI{tracer: t.TracerProvider.Tracer(ScopeName), model: model, duration: duration, tokens: tokens, provider: t.Provider, capture: t.CaptureContent}
	g.ok = g.chatAttributes(nil)
	return g, nil
}

// chatAttributes are the attribute sets of a chat's duration and its input
// and output tokens.
func (g *genAI) chatAttributes(err error) [3]metric.MeasurementOption {
	attrs := []attribute.KeyValue{
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.provider.name", g.provider),
		attribute.String("gen_ai.request.model", g.model),
	}
	if err != nil {
		attrs = append(attrs, attribute.String("error.type", errorType(err)))
	}
	return [3]metric.MeasurementOption{metric.WithAttributes(attrs...),
		metric.WithAttributes(append(attrs, attribute.String("gen_ai.token.type", "input"))...),
		metric.WithAttributes(append(attrs, attribute.String("gen_ai.token.type", "output"))...)}
}

func (g *genAI) startAgent(ctx context.Context, caller tools.Caller) (context.Context, trace.Span) {
	return g.tracer.Start(ctx, "invoke_agent "+AgentName, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"),
		attribute.String("gen_ai.agent.name", AgentName),
		attribute.String("gen_ai.provider.name", g.provider),
		attribute.String("gen_ai.request.model", g.model),
		attribute.String("gen_ai.conversation.id", caller.ConversationID),
		attribute.String("askmesh.request.id", caller.RequestID),
		attribute.String("askmesh.channel", caller.Channel),
	))
}

func (g *genAI) endAgent(span trace.Span, ans *Answer, err error) {
	if span.IsRecording() {
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
			span.SetAttributes(attribute.String("error.type", errorType(err)))
		}
		if ans != nil {
			span.SetAttributes(
				attribute.Int("gen_ai.usage.input_tokens", ans.Usage.PromptTokens),
				attribute.Int("gen_ai.usage.output_tokens", ans.Usage.CompletionTokens),
				attribute.Int("askmesh.steps", ans.Steps),
				attribute.Int("askmesh.tool_calls", len(ans.ToolCalls)),
			)
		}
	}
	span.End()
}

func (g *genAI) startChat(ctx context.Context) (context.Context, trace.Span) {
	return g.tracer.Start(ctx, "chat "+g.model, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.provider.name", g.provider),
		attribute.String("gen_ai.request.model", g.model),
	))
}

func (g *genAI) endChat(ctx context.Context, span trace.Span, d time.Duration, reply *Reply, err error) {
	opts := g.ok
	if err != nil {
		opts = g.chatAttributes(err)
	}
	g.duration.Record(ctx, d.Seconds(), opts[0])
	if reply != nil {
		g.tokens.Record(ctx, int64(reply.Usage.PromptTokens), opts[1])
		g.tokens.Record(ctx, int64(reply.Usage.CompletionTokens), opts[2])
	}
	if span.IsRecording() {
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
			span.SetAttributes(attribute.String("error.type", errorType(err)))
		}
		if reply != nil {
			finish := reply.FinishReason
			if finish == "" && len(reply.Message.ToolCalls) > 0 {
				finish = "tool_calls"
			} else if finish == "" {
				finish = "stop"
			}
			span.SetAttributes(
				attribute.Int("gen_ai.usage.input_tokens", reply.Usage.PromptTokens),
				attribute.Int("gen_ai.usage.output_tokens", reply.Usage.CompletionTokens),
				attribute.StringSlice("gen_ai.response.finish_reasons", []string{finish}),
			)
		}
	}
	span.End()
}

func (g *genAI) startTool(ctx context.Context, tc ToolCall) (context.Context, trace.Span) {
	ctx, span := g.tracer.Start(ctx, "execute_tool "+tc.Name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"),
		attribute.String("gen_ai.tool.name", tc.Name),
		attribute.String("gen_ai.tool.call.id", tc.ID),
		attribute.String("gen_ai.tool.type", "function"),
	))
	if g.capture && span.IsRecording() {
		span.SetAttributes(attribute.String("gen_ai.tool.call.arguments", string(tc.Arguments)))
	}
	return ctx, span
}

func (g *genAI) endTool(span trace.Span, rec *ToolCallRecord, content string) {
	if span.IsRecording() {
		span.SetAttributes(attribute.String("askmesh.policy.decision", rec.Decision))
		if rec.AuditID != "" {
			span.SetAttributes(attribute.String("askmesh.audit.id", rec.AuditID))
		}
		if rec.Decision == audit.DecisionError {
			span.SetStatus(codes.Error, "the tool call failed")
			span.SetAttributes(attribute.String("error.type", "tool_error"))
		}
		if g.capture {
			span.SetAttributes(attribute.String("gen_ai.tool.call.result", content))
		}
	}
	span.End()
}

// errorType is error.type: the kind of failure, never its text.
func errorType(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "_OTHER"
}
