// Package telemetry exports askmesh's OpenTelemetry traces and metrics over
// OTLP/HTTP. It is off unless an endpoint is configured: without one,
// askmesh uses no-op providers and records nothing.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Config chooses where telemetry goes.
type Config struct {
	// Endpoint is the OTLP/HTTP base URL of a collector, e.g.
	// http://otel-collector:4318; traces go to <Endpoint>/v1/traces and
	// metrics to <Endpoint>/v1/metrics. Empty: telemetry is off.
	Endpoint string `yaml:"otlp_endpoint"`
	// Headers are sent with every export (an API key, say).
	Headers map[string]string `yaml:"headers"`
	// ServiceName is service.name (default askmesh).
	ServiceName string `yaml:"service_name"`
	// CaptureContent puts tool call arguments and results in spans. Off by
	// default: they can hold data the readers of the traces may not see.
	CaptureContent bool `yaml:"capture_content"`
	// MetricInterval is how often metrics are exported (default 60s).
	MetricInterval time.Duration `yaml:"metric_interval"`
}

// Providers are what instrumented code is given.
type Providers struct {
	Tracer trace.TracerProvider
	Meter  metric.MeterProvider
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
}

// Shutdown flushes what is buffered and stops exporting; a no-op when
// telemetry is off.
func (p *Providers) Shutdown(ctx context.Context) error {
	if p == nil || p.tp == nil {
		return nil
	}
	return errors.Join(p.tp.Shutdown(ctx), p.mp.Shutdown(ctx))
}

// Flush exports what is buffered now.
func (p *Providers) Flush(ctx context.Context) error {
	if p == nil || p.tp == nil {
		return nil
	}
	return errors.Join(p.tp.ForceFlush(ctx), p.mp.ForceFlush(ctx))
}

// Setup builds the providers for cfg: nil providers (off) when no endpoint
// is set.
func Setup(ctx context.Context, cfg Config, version string) (*Providers, error) {
	if cfg.Endpoint == "" {
		return &Providers{}, nil
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("telemetry: otlp_endpoint %q: want an http or https URL such as http://collector:4318", cfg.Endpoint)
	}
	name := cfg.ServiceName
	if name == "" {
		name = "askmesh"
	}
	res := resource.NewSchemaless(attribute.String("service.name", name), attribute.String("service.version", version))
	traceURL, metricURL := u.JoinPath("v1/traces").String(), u.JoinPath("v1/metrics").String()
	topts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(traceURL), otlptracehttp.WithTimeout(10 * time.Second)}
	mopts := []otlpmetrichttp.Option{otlpmetrichttp.WithEndpointURL(metricURL), otlpmetrichttp.WithTimeout(10 * time.Second)}
	if len(cfg.Headers) > 0 {
		topts = append(topts, otlptracehttp.WithHeaders(cfg.Headers))
		mopts = append(mopts, otlpmetrichttp.WithHeaders(cfg.Headers))
	}
	te, err := otlptracehttp.New(ctx, topts...)
	if err != nil {
		return nil, fmt.Errorf("telemetry: trace exporter: %w", err)
	}
	me, err := otlpmetrichttp.New(ctx, mopts...)
	if err != nil {
		return nil, fmt.Errorf("telemetry: metric exporter: %w", err)
	}
	interval := cfg.MetricInterval
	if interval <= 0 {
		interval = time.Minute
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(te), sdktrace.WithResource(res))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me, sdkmetric.WithInterval(interval))), sdkmetric.WithResource(res))
	return &Providers{Tracer: tp, Meter: mp, tp: tp, mp: mp}, nil
}
