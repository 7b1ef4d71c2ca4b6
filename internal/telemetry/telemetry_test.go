package telemetry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/test/otlpsink"
)

// value reads one sample of the registry: the counter's value, or the histogram's count.
func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if matches(m, labels) {
				if h := m.GetHistogram(); h != nil {
					return float64(h.GetSampleCount())
				}
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func matches(m *dto.Metric, labels map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := labels[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(labels)
}

// runTool runs handler as the tool name inside the audit and telemetry middlewares, as the server does.
func runTool(t *testing.T, tel *Telemetry, ctx context.Context, name string, meta map[string]any,
	handler server.ToolHandlerFunc) *mcp.CallToolResult {
	t.Helper()
	log, closeLog, err := audit.Open(filepath.Join(t.TempDir(), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = closeLog() }()
	h := log.Middleware()(tel.Middleware()(handler))
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	if meta != nil {
		req.Params.Meta = &mcp.Meta{AdditionalFields: meta}
	}
	res, _ := h(ctx, req)
	return res
}

func TestCallsAreCountedByToolClusterOutcomeAndReason(t *testing.T) {
	tel, err := New(Options{}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	reg := tel.Registry()
	ctx := context.Background()
	// A fan-out of three clusters: one ok, one failed, one skipped; the call answers.
	runTool(t, tel, ctx, "kubectl", nil, func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		audit.Clusters(ctx, "a", "b", "c")
		FanOut(ctx, 3)
		_, done := Cluster(ctx, "a")
		done("ok")
		_, done = Cluster(ctx, "b")
		done("failed")
		Skipped(ctx, "c")
		return mcp.NewToolResultText("ok"), nil
	})
	// A change the guardrails refused.
	runTool(t, tel, ctx, "kubectl_write", nil, func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		audit.Guardrails(ctx, "max-replicas")
		audit.Refused(ctx, "too many replicas")
		return mcp.NewToolResultError("refused"), nil
	})
	// A cluster the caller may not read, and one with an error result counted with the call's outcome.
	runTool(t, tel, ctx, "cluster_status", nil, func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		audit.Denied(ctx, "d")
		return mcp.NewToolResultError("denied"), nil
	})
	runTool(t, tel, ctx, "cluster_status", nil, func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		audit.Clusters(ctx, "e")
		return nil, errors.New("boom")
	})
	tel.Provisioned(2*time.Second, nil)
	tel.Provisioned(time.Second, errors.New("no token"))
	tel.HTTPRefused("unauthenticated")
	tel.CacheSizes(map[string]func() int{"spoke-clients": func() int { return 3 }})

	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"mcmcp_tool_calls_total", map[string]string{"tool": "kubectl", "outcome": "ok"}, 1},
		{"mcmcp_tool_calls_total", map[string]string{"tool": "kubectl_write", "outcome": "refused"}, 1},
		{"mcmcp_tool_calls_total", map[string]string{"tool": "cluster_status", "outcome": "denied"}, 1},
		{"mcmcp_tool_calls_total", map[string]string{"tool": "cluster_status", "outcome": "failed"}, 1},
		{"mcmcp_tool_call_duration_seconds", map[string]string{"tool": "cluster_status"}, 2},
		{"mcmcp_cluster_calls_total", map[string]string{"tool": "kubectl", "cluster": "a", "outcome": "ok"}, 1},
		{"mcmcp_cluster_calls_total", map[string]string{"tool": "kubectl", "cluster": "b", "outcome": "failed"}, 1},
		{"mcmcp_cluster_calls_total", map[string]string{"tool": "kubectl", "cluster": "c", "outcome": "skipped"}, 1},
		// Counted once: the audit's list of clusters does not count a cluster a second time.
		{"mcmcp_cluster_calls_total", map[string]string{"tool": "kubectl", "cluster": "a", "outcome": "failed"}, 0},
		{"mcmcp_cluster_calls_total", map[string]string{"tool": "cluster_status", "cluster": "d", "outcome": "denied"}, 1},
		{"mcmcp_cluster_calls_total", map[string]string{"tool": "cluster_status", "cluster": "e", "outcome": "failed"}, 1},
		{"mcmcp_fanout_clusters", map[string]string{"tool": "kubectl"}, 1},
		{"mcmcp_refusals_total", map[string]string{"tool": "kubectl_write", "reason": "guardrail/max-replicas"}, 1},
		{"mcmcp_refusals_total", map[string]string{"tool": "kubectl_write", "reason": "request"}, 0},
		{"mcmcp_refusals_total", map[string]string{"tool": "cluster_status", "reason": "denied"}, 1},
		{"mcmcp_credential_provisions_total", map[string]string{"outcome": "ok"}, 1},
		{"mcmcp_credential_provisions_total", map[string]string{"outcome": "failed"}, 1},
		{"mcmcp_credential_provision_duration_seconds", nil, 2},
		{"mcmcp_http_refusals_total", map[string]string{"reason": "unauthenticated"}, 1},
		{"mcmcp_cache_entries", map[string]string{"cache": "spoke-clients"}, 3},
	} {
		if got := value(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestSpansFollowTheRequestsTraceContext(t *testing.T) {
	sink := otlpsink.Start()
	defer sink.Close()
	tel, err := New(Options{OTLPEndpoint: sink.URL()}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{}")) }))
	defer api.Close()
	httpc := &http.Client{Transport: tel.WrapTransport(http.DefaultTransport)}
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	ctx := auth.WithCaller(context.Background(), &auth.Caller{User: "alice"})
	runTool(t, tel, ctx, "kubectl", map[string]any{"traceparent": "00-" + traceID + "-b7ad6b7169203331-01"},
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			audit.Clusters(ctx, "spoke1")
			cctx, done := Cluster(ctx, "spoke1")
			req, _ := http.NewRequestWithContext(cctx, http.MethodGet, api.URL+"/api/v1/namespaces", nil)
			resp, err := httpc.Do(req)
			if err != nil {
				return nil, err
			}
			resp.Body.Close()
			done("ok")
			return mcp.NewToolResultText("ok"), nil
		})
	flush, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tel.Shutdown(flush); err != nil {
		t.Fatal(err)
	}
	spans := sink.Spans()
	byName := map[string]otlpsink.Span{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	tool, cluster, get := byName["tools/call kubectl"], byName["cluster spoke1"], byName["GET /api/v1/namespaces"]
	if len(spans) != 3 || tool.SpanID == "" || cluster.SpanID == "" || get.SpanID == "" {
		t.Fatalf("spans: %+v", spans)
	}
	for _, s := range spans {
		if s.TraceID != traceID || s.Service != "multicluster-mcp-server" {
			t.Errorf("span %q: trace %s service %q, want the request's trace %s", s.Name, s.TraceID, s.Service, traceID)
		}
	}
	if tool.ParentID != "b7ad6b7169203331" || cluster.ParentID != tool.SpanID || get.ParentID != cluster.SpanID {
		t.Errorf("parents: tool %s (want the request's b7ad6b7169203331), cluster %s (want %s), GET %s (want %s)",
			tool.ParentID, cluster.ParentID, tool.SpanID, get.ParentID, cluster.SpanID)
	}
	if tool.Attributes["enduser.id"] != "alice" || tool.Attributes["gen_ai.tool.name"] != "kubectl" ||
		tool.Attributes["mcp.method.name"] != "tools/call" || cluster.Attributes["mcmcp.cluster"] != "spoke1" {
		t.Errorf("attributes: tool %v cluster %v", tool.Attributes, cluster.Attributes)
	}
}

func TestWithoutAnEndpointNothingIsTraced(t *testing.T) {
	tel, err := New(Options{}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if tel.Tracing() || tel.WrapTransport(http.DefaultTransport) != http.DefaultTransport {
		t.Error("tracing without an endpoint")
	}
	if _, err := New(Options{OTLPEndpoint: "http://127.0.0.1:4318", OTLPCA: []byte("not pem")}, zap.NewNop()); err == nil {
		t.Error("a CA file without PEM was accepted")
	}
}
