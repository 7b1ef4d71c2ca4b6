// Package telemetry is the server's own telemetry: Prometheus metrics of its work (tool calls by tool,
// cluster and outcome, latencies, fan-out widths, credential provisioning, cache sizes, refusals by
// reason) served on a listener of their own, and OpenTelemetry traces (one span per tool call, child
// spans per cluster and per API request) exported over OTLP/HTTP when an endpoint is configured.
//
// Nothing here is global: the registry and the tracer provider belong to one Telemetry, and the spans of
// a call find their provider through the call's context.
package telemetry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"
)

// PathMetrics is where the telemetry listener serves the metrics.
const PathMetrics = "/metrics"

// instrumentation names the spans' and metrics' source.
const instrumentation = "github.com/ocm-fleet/multicluster-mcp-server"

// Options configure the telemetry.
type Options struct {
	// Listen is the metrics listener's address; empty serves none (the metrics are still counted, for
	// tests that read the registry).
	Listen string
	// OTLPEndpoint is the OTLP/HTTP base URL traces go to; empty exports none.
	OTLPEndpoint string
	// OTLPCA verifies an https endpoint (empty: system roots).
	OTLPCA []byte
	// ServiceVersion is the resource's service.version.
	ServiceVersion string
}

// Telemetry holds the metrics registry and the tracer provider of one server.
type Telemetry struct {
	opts     Options
	log      *zap.Logger
	registry *prometheus.Registry
	m        *metrics
	provider trace.TracerProvider
	tracer   trace.Tracer
	sdk      *sdktrace.TracerProvider // nil without an OTLP endpoint
}

// New builds the metrics and, with an endpoint, the trace exporter (which connects lazily: a collector
// that is down costs dropped spans, logged, never a failed call).
func New(o Options, log *zap.Logger) (*Telemetry, error) {
	t := &Telemetry{opts: o, log: log, registry: prometheus.NewRegistry()}
	t.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	t.m = newMetrics(t.registry)
	t.provider = noop.NewTracerProvider()
	if o.OTLPEndpoint != "" {
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(tracesURL(o.OTLPEndpoint)), otlptracehttp.WithTimeout(10 * time.Second)}
		if len(o.OTLPCA) > 0 {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(o.OTLPCA) {
				return nil, errors.New("the OTLP CA file holds no PEM certificate")
			}
			opts = append(opts, otlptracehttp.WithTLSClientConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
		}
		exp, err := otlptracehttp.New(context.Background(), opts...)
		if err != nil {
			return nil, fmt.Errorf("the OTLP trace exporter for %s: %w", o.OTLPEndpoint, err)
		}
		res := resource.NewWithAttributes(semconv.SchemaURL,
			semconv.ServiceName("multicluster-mcp-server"), semconv.ServiceVersion(o.ServiceVersion))
		t.sdk = sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())))
		t.provider = t.sdk
	}
	t.tracer = t.provider.Tracer(instrumentation)
	return t, nil
}

// tracesURL is the endpoint's traces path: a base URL (no path, as OTEL_EXPORTER_OTLP_ENDPOINT is
// given) gets /v1/traces; a URL with a path is used as it is.
func tracesURL(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Path != "" && u.Path != "/") {
		return endpoint
	}
	u.Path = "/v1/traces"
	return u.String()
}

// Registry is the metrics registry (for gauges of other parts, and tests).
func (t *Telemetry) Registry() *prometheus.Registry { return t.registry }

// Tracing says whether spans are exported.
func (t *Telemetry) Tracing() bool { return t.sdk != nil }

// CacheSizes registers mcmcp_cache_entries{cache}, each cache's size read at each scrape.
func (t *Telemetry) CacheSizes(sizes map[string]func() int) {
	for name, size := range sizes {
		t.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mcmcp_cache_entries",
			Help:        "Entries of the server's caches: spoke-clients (clusters' credentials and clients), kubectl-connections (clusters' connections and API discovery).",
			ConstLabels: prometheus.Labels{"cache": name}}, func() float64 { return float64(size()) }))
	}
}

// WrapTransport instruments an API client's transport: one span per request, child of the span in the
// request's context (the cluster's, under the tool call's); requests without one are not traced.
// Without tracing it returns rt as it is.
func (t *Telemetry) WrapTransport(rt http.RoundTripper) http.RoundTripper {
	if t == nil || t.sdk == nil {
		return rt
	}
	return otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(t.sdk),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		// Requests outside a traced call (shared discovery, informers) would each start a trace of their own.
		otelhttp.WithFilter(func(r *http.Request) bool { return trace.SpanContextFromContext(r.Context()).IsValid() }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }))
}

// Start listens on the configured address (an address that cannot be bound fails here, at start) and
// serves the metrics until ctx ends; the returned wait blocks until the listener has closed. Without a
// listener it does nothing.
func (t *Telemetry) Start(ctx context.Context) (wait func(), err error) {
	if t.opts.Listen == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", t.opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", t.opts.Listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle(PathMetrics, promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{Registry: t.registry}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	t.log.Info("serving the server's metrics", zap.String("address", ln.Addr().String()), zap.String("path", PathMetrics))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.log.Error("the metrics listener stopped", zap.Error(err))
		}
	}()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	return func() { <-done }, nil
}

// Shutdown flushes the spans not yet exported, within ctx.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("flushing traces to %s: %w", t.opts.OTLPEndpoint, err)
	}
	return nil
}
