package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
	"github.com/ocm-fleet/multicluster-mcp-server/test/otlpsink"
)

// TestServerTelemetry: a real run of the HTTP server with its metrics listener and OTLP export. The
// operator's fan-out over two spokes (carrying a client's trace context in _meta), alice's call on a
// cluster she may not read and her refused command, and a request without a token show up in /metrics
// with their tool, cluster, outcome and reason; a real Prometheus scrapes the listener; the spans reach
// an OTLP/HTTP receiver as one trace under the client's span: the tool call, a span per cluster, and
// under each the requests to that cluster's API server.
func TestServerTelemetry(t *testing.T) {
	grantUsers(t)
	sink := otlpsink.Start()
	defer sink.Close()
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA,
		"--telemetry-listen", "127.0.0.1:0", "--otlp-endpoint", sink.URL())
	telemetryAddr := loggedAddress(srv.logs.String(), "serving the server's metrics")
	if telemetryAddr == "" {
		t.Fatalf("the server did not log its metrics listener:\n%s", srv.logs.String())
	}
	operator, alice := asUser(t, srv, fleet.OperatorToken), asUser(t, srv, fleet.AliceToken)

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = "kubectl"
	req.Params.Arguments = map[string]any{"cluster": "spoke1,spoke2", "command": "get namespaces"}
	req.Params.Meta = &mcp.Meta{AdditionalFields: map[string]any{"traceparent": "00-" + traceID + "-" + parentID + "-01"}}
	res, err := operator.CallTool(ctx, req)
	if err != nil || res.IsError {
		t.Fatalf("the fan-out: %v %+v", err, res)
	}
	if text, isErr := callTool(t, alice, "cluster_status", map[string]any{"cluster": "spoke2"}); !isErr {
		t.Fatalf("alice read spoke2:\n%s", text)
	}
	if text, isErr := callTool(t, alice, "kubectl", map[string]any{"cluster": "spoke1", "command": "exec -n default some-pod -- ls"}); !isErr {
		t.Fatalf("a refused command answered:\n%s", text)
	}
	if resp, _ := rawPost(t, srv.base+"/mcp", nil, pingBody); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %d", resp.StatusCode)
	}

	t.Run("/metrics counts by tool, cluster, outcome and reason", func(t *testing.T) {
		families := scrape(t, "http://"+telemetryAddr+"/metrics")
		for _, c := range []struct {
			name   string
			labels map[string]string
			min    float64
		}{
			{"mcmcp_tool_calls_total", map[string]string{"tool": "kubectl", "outcome": "ok"}, 1},
			{"mcmcp_tool_calls_total", map[string]string{"tool": "kubectl", "outcome": "refused"}, 1},
			{"mcmcp_tool_calls_total", map[string]string{"tool": "cluster_status", "outcome": "denied"}, 1},
			{"mcmcp_cluster_calls_total", map[string]string{"tool": "kubectl", "cluster": "spoke1", "outcome": "ok"}, 1},
			{"mcmcp_cluster_calls_total", map[string]string{"tool": "kubectl", "cluster": "spoke2", "outcome": "ok"}, 1},
			{"mcmcp_cluster_calls_total", map[string]string{"tool": "cluster_status", "cluster": "spoke2", "outcome": "denied"}, 1},
			{"mcmcp_refusals_total", map[string]string{"tool": "kubectl", "reason": "request"}, 1},
			{"mcmcp_refusals_total", map[string]string{"tool": "cluster_status", "reason": "denied"}, 1},
			{"mcmcp_http_refusals_total", map[string]string{"reason": "unauthenticated"}, 1},
			{"mcmcp_fanout_clusters", map[string]string{"tool": "kubectl"}, 1},
			{"mcmcp_tool_call_duration_seconds", map[string]string{"tool": "kubectl"}, 2},
			{"mcmcp_credential_provisions_total", map[string]string{"outcome": "ok"}, 2},
			{"mcmcp_cache_entries", map[string]string{"cache": "spoke-clients"}, 2},
			{"mcmcp_cache_entries", map[string]string{"cache": "kubectl-connections"}, 2},
		} {
			if got := sample(families, c.name, c.labels); got < c.min {
				t.Errorf("%s%v = %v, want at least %v", c.name, c.labels, got, c.min)
			}
		}
		if got := sample(families, "mcmcp_cluster_calls_total", map[string]string{"tool": "kubectl", "cluster": "spoke2", "outcome": "ok"}); got != 1 {
			t.Errorf("spoke2 counted %v times for one fan-out", got)
		}
	})

	t.Run("a real Prometheus scrapes the listener", func(t *testing.T) {
		prom, err := env.fleet.StartPrometheus(ctx, filepath.Join(t.TempDir(), "prometheus"), fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
- job_name: multicluster-mcp-server
  static_configs:
  - targets: ['%s']
`, telemetryAddr))
		if err != nil {
			t.Fatal(err)
		}
		defer prom.Stop()
		if _, err := prom.Query(ctx, `sum(mcmcp_cluster_calls_total{job="multicluster-mcp-server",tool="kubectl",outcome="ok"})`,
			func(body string) bool { return strings.Contains(body, `,"2"]`) }); err != nil {
			t.Error(err)
		}
	})

	t.Run("one trace under the client's span", func(t *testing.T) {
		wait, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		ofTrace := func(spans []otlpsink.Span) []otlpsink.Span {
			var out []otlpsink.Span
			for _, s := range spans {
				if s.TraceID == traceID {
					out = append(out, s)
				}
			}
			return out
		}
		// The tool span ends last: once it is in, its children are too (a batch holds them in order).
		spans, err := sink.WaitFor(wait, func(spans []otlpsink.Span) bool {
			for _, s := range ofTrace(spans) {
				if s.Name == "tools/call kubectl" {
					return true
				}
			}
			return false
		})
		if err != nil {
			t.Fatal(err)
		}
		spans = ofTrace(spans)
		byID := map[string]otlpsink.Span{}
		var tool otlpsink.Span
		for _, s := range spans {
			byID[s.SpanID] = s
			if s.Name == "tools/call kubectl" {
				tool = s
			}
		}
		if tool.ParentID != parentID || tool.Attributes["enduser.id"] != "operator" ||
			tool.Attributes["mcmcp.outcome"] != "ok" {
			t.Errorf("the tool span: parent %s (want the client's %s), attributes %v", tool.ParentID, parentID, tool.Attributes)
		}
		requests := map[string]int{}
		clusters := map[string]bool{}
		for _, s := range spans {
			parent := byID[s.ParentID]
			switch {
			case strings.HasPrefix(s.Name, "cluster "):
				if s.ParentID != tool.SpanID {
					t.Errorf("%s is not a child of the tool span", s.Name)
				}
				clusters[strings.TrimPrefix(s.Name, "cluster ")] = true
			case strings.HasPrefix(s.Name, "GET /"):
				if !strings.HasPrefix(parent.Name, "cluster ") {
					t.Errorf("request span %s has parent %q, want a cluster's", s.Name, parent.Name)
					continue
				}
				requests[strings.TrimPrefix(parent.Name, "cluster ")]++
			}
		}
		var trail []string
		for _, s := range spans {
			trail = append(trail, fmt.Sprintf("%s <- %s", s.Name, byID[s.ParentID].Name))
		}
		t.Logf("trace %s, %d spans: %s", traceID, len(spans), strings.Join(trail, "; "))
		if !clusters["spoke1"] || !clusters["spoke2"] || len(clusters) != 2 {
			t.Errorf("cluster spans: %v", clusters)
		}
		if requests["spoke1"] == 0 || requests["spoke2"] == 0 {
			t.Errorf("API request spans per cluster: %v (spans: %d)", requests, len(spans))
		}
		for _, s := range spans {
			for k, v := range s.Attributes {
				if strings.Contains(strings.ToLower(k), "authorization") || strings.Contains(v, fleet.OperatorToken) {
					t.Errorf("span %s carries %s=%s", s.Name, k, v)
				}
			}
		}
	})
}

// scrape reads a Prometheus text exposition.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %d %s", url, resp.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// sample is the value of the family's series with the labels (a histogram's count), summed over the
// series that have them.
func sample(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	var sum float64
	for _, m := range families[name].GetMetric() {
		ok := true
		for _, lp := range m.GetLabel() {
			if v, want := labels[lp.GetName()]; want && v != lp.GetValue() {
				ok = false
			}
		}
		if !ok {
			continue
		}
		switch {
		case m.GetHistogram() != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		}
	}
	return sum
}
