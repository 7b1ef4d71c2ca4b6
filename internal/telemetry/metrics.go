package telemetry

import "github.com/prometheus/client_golang/prometheus"

// metrics are the server's counters and histograms. Label values are bounded: tools and outcomes are
// fixed sets, clusters are the fleet's (one series per cluster a tool reached), reasons are rule names.
type metrics struct {
	calls        *prometheus.CounterVec   // tool, outcome
	callSeconds  *prometheus.HistogramVec // tool
	clusterCalls *prometheus.CounterVec   // tool, cluster, outcome
	fanOut       *prometheus.HistogramVec // tool
	provisions   *prometheus.CounterVec   // outcome
	provisionSec prometheus.Histogram
	refusals     *prometheus.CounterVec // tool, reason
	httpRefusals *prometheus.CounterVec // reason
}

func newMetrics(r *prometheus.Registry) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mcmcp_tool_calls_total",
			Help: "Tool calls by tool and outcome (ok, error: the tool answered with an error, failed, cancelled, refused, denied)."},
			[]string{"tool", "outcome"}),
		callSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mcmcp_tool_call_duration_seconds",
			Help: "How long tool calls took, by tool.", Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}},
			[]string{"tool"}),
		clusterCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mcmcp_cluster_calls_total",
			Help: "Work on one cluster within a tool call (every cluster of a fan-out counts once), by tool, cluster and outcome (ok, failed, denied, timeout, skipped)."},
			[]string{"tool", "cluster", "outcome"}),
		fanOut: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mcmcp_fanout_clusters",
			Help: "How many clusters one fan-out worked on, by tool.", Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000}},
			[]string{"tool"}),
		provisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mcmcp_credential_provisions_total",
			Help: "First uses of a cluster that provisioned its ManagedServiceAccount credentials and RBAC grant, by outcome (ok, failed)."},
			[]string{"outcome"}),
		provisionSec: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mcmcp_credential_provision_duration_seconds",
			Help: "How long provisioning a cluster's credentials took.", Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mcmcp_refusals_total",
			Help: "Tool calls refused, by tool and reason (request: the request is not allowed as asked; denied: the caller may not use a cluster; guardrail/<rule>, budget/<name>, policy/<rule>, approval-declined)."},
			[]string{"tool", "reason"}),
		httpRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mcmcp_http_refusals_total",
			Help: "HTTP requests refused before any tool ran, by reason (unauthorized, forbidden origin, rate_limited, unknown_session ...)."},
			[]string{"reason"}),
	}
	r.MustRegister(m.calls, m.callSeconds, m.clusterCalls, m.fanOut, m.provisions, m.provisionSec, m.refusals, m.httpRefusals)
	return m
}
