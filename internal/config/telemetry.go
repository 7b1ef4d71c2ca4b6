package config

import (
	"fmt"
	"net"
	"net/url"
)

// TelemetryConfig are the settings of the server's own telemetry: Prometheus metrics and OpenTelemetry
// traces of its work (not the fleet's metrics, which are the metrics-* settings).
type TelemetryConfig struct {
	TelemetryListen string `mapstructure:"telemetry-listen"`
	OTLPEndpoint    string `mapstructure:"otlp-endpoint"`
	OTLPCAFile      string `mapstructure:"otlp-ca-file"`
}

func telemetrySettings() []Setting {
	return []Setting{
		{Name: "telemetry-listen", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "address of a separate listener serving the server's own Prometheus metrics at /metrics (calls by tool, cluster and outcome, latencies, fan-out widths, credential provisioning, cache sizes, refusals by reason), without authentication: bind it where only the monitoring stack reaches it; empty: none"},
		{Name: "otlp-endpoint", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "OTLP/HTTP endpoint the server exports its traces to (http[s]://host:4318, to which /v1/traces is added, or the full URL of the traces path): one span per tool call, child spans per cluster and per API request, linked to the MCP request's trace context and its caller; empty: no traces"},
		{Name: "otlp-ca-file", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "PEM CA bundle that verifies an https --otlp-endpoint (default: system roots)"},
	}
}

func (c *TelemetryConfig) validateTelemetry() error {
	if c.TelemetryListen != "" {
		if _, _, err := net.SplitHostPort(c.TelemetryListen); err != nil {
			return &Error{Setting: "telemetry-listen", Err: fmt.Errorf("want host:port (e.g. 0.0.0.0:9464): %w", err)}
		}
	}
	if c.OTLPEndpoint != "" {
		u, err := url.Parse(c.OTLPEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{Setting: "otlp-endpoint", Err: fmt.Errorf("want an http or https URL such as http://otel-collector:4318, got %q", c.OTLPEndpoint)}
		}
	}
	if c.OTLPCAFile != "" && c.OTLPEndpoint == "" {
		return &Error{Setting: "otlp-ca-file", Err: fmt.Errorf("is set without --otlp-endpoint")}
	}
	return nil
}
