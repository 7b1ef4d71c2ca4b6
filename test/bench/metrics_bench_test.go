package bench

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// metricsBenchQuery is the query of BenchmarkMetricsRange100: the API server's request rate per cluster
// and code, about five series a cluster.
const metricsBenchQuery = `sum by (cluster, code) (rate(apiserver_request_total[5m]))`

// BenchmarkMetricsRange100: metrics_query over a range of 1h (default step) on 100 clusters
// (`cluster: selector:bench=fanout`, the simulated clusters of BenchmarkFanOutGetNamespaces), over stdio
// with the default caps and guardrails (500 series, 32 KiB of text), through each of two sources:
//
//   - source=hub-store: ONE query, restricted by the server to the 100 clusters' cluster label, to a real
//     Prometheus (the fleet's build) given as --metrics-url (source: url). It holds the series of 100
//     cluster label values, all copies of one real cluster's: it federates spoke1's Prometheus
//     (apiserver_request_total) 100 times, every 5 s, each scrape job setting cluster=<simulated name>.
//     A Thanos querier in front, as ACM observability has, is not part of it.
//   - source=cluster: the fan-out, one range query per cluster to "its own" Prometheus through its API
//     server's service proxy (--metrics-cluster-service http:openshift-monitoring/prometheus-k8s:9090)
//     with its ManagedServiceAccount token. All 100 simulated clusters are spoke1's real API server,
//     so the 100 queries reach one real Prometheus (started for spoke1 as Options.Metrics would), which
//     scrapes spoke1's API server every 2 s; the server merges the answers under the cluster label.
//
// Both stores hold only the minutes since the benchmark started them (it waits until they have 3
// minutes), so of the range's 60 steps only the last few have points: the raw answer is smaller than an
// hour of history would make it, the compact one (a fixed-width sparkline per series) about the same.
// Reported: p50/p99 of the compact call, the compact text's bytes, series shown (after the 500-series
// and 32 KiB caps) and bytes per series shown, series in the answer, and the bytes of the same call with
// raw: true (capped at 32 KiB like every answer; the log says when it was). The clusters' credentials
// are provisioned by untimed kubectl calls, and the first call of each source is not timed.
func BenchmarkMetricsRange100(b *testing.B) {
	setup(b)
	simulateClusters(b, 100)
	ctx := context.Background()
	spoke := shared.hub.Spoke("spoke1")
	if err := shared.hub.StartClusterMetrics(ctx, spoke); err != nil {
		b.Fatal(err)
	}
	started := time.Now()
	grantPrometheusProxy(b)
	store := startStorePrometheus(b, spoke.PrometheusURL, 100)
	waitStore(b, store, 100)
	if rest := 3*time.Minute - time.Since(started); rest > 0 {
		time.Sleep(rest) // a few points of rate over the range in both stores
	}
	kubeconfig, err := shared.hub.ServerKubeconfig()
	if err != nil {
		b.Fatal(err)
	}
	c, cmd := stdioServer(b, "--kubeconfig", kubeconfig, "--read-only", "--manifestwork-grant",
		"--metrics-cluster-service", "http:"+fleet.ClusterMonitoringNamespace+"/"+fleet.PrometheusService+":"+strconv.Itoa(fleet.PrometheusServicePort),
		"--metrics-url", store.URL)
	for _, src := range []struct{ name, source string }{{"hub-store", "url"}, {"cluster", "cluster"}} {
		b.Run("source="+src.name, func(b *testing.B) {
			if src.source == "cluster" {
				// The clusters' credentials are provisioned first, untimed, ten clusters a call: on first
				// use each costs hub requests that the hub client's rate limit paces.
				for i := 0; i < 100; i += 10 {
					batch := make([]string, 10)
					for j := range batch {
						batch[j] = fmt.Sprintf("sim-%03d", i+j)
					}
					call(b, c, "kubectl", map[string]any{"cluster": strings.Join(batch, ","), "command": "version", "timeout": "5m"})
				}
			}
			args := map[string]any{"query": metricsBenchQuery, "cluster": "selector:bench=fanout", "source": src.source, "range": "1h"}
			out := call(b, c, "metrics_query", args) // credentials and connections: not timed
			total, shown := seriesCounts(b, out)
			if src.source == "cluster" && !strings.HasPrefix(out, "Fan-out over 100 cluster(s): 100 ok.") {
				b.Fatalf("not every cluster answered:\n%.3000s", out)
			}
			if clusters := len(regexp.MustCompile(`(?m)^sim-\d{3}\s`).FindAllString(out, -1)); total < 100 || clusters == 0 {
				b.Fatalf("%d series, %d rows of simulated clusters:\n%.3000s", total, clusters, out)
			}
			rawArgs := map[string]any{}
			for k, v := range args {
				rawArgs[k] = v
			}
			rawArgs["raw"] = true
			raw := call(b, c, "metrics_query", rawArgs)
			serverMark, fleetMark := cpuTime(cmd.Process.Pid), fleetCPUTime()
			timeCalls(b, func() { out = call(b, c, "metrics_query", args) })
			reportCPU(b, cmd.Process.Pid, serverMark, fleetMark)
			b.ReportMetric(float64(len(out)), "answer-bytes")
			b.ReportMetric(float64(total), "series")
			b.ReportMetric(float64(shown), "series-shown")
			b.ReportMetric(float64(len(out))/float64(shown), "bytes/series-shown")
			b.ReportMetric(float64(len(raw)), "raw-bytes")
			b.Logf("%s: %d series, %d shown, %d bytes; raw %d bytes (truncated: %v)\n%.1500s",
				src.name, total, shown, len(out), len(raw), strings.Contains(raw, "[output truncated"), out)
		})
	}
}

var (
	seriesTotalRe = regexp.MustCompile(`(\d+) series over `)
	seriesShownRe = regexp.MustCompile(`Showing (\d+) of (\d+) series`)
)

// seriesCounts reads a compact range answer: how many series it has, and how many rows it shows (after
// the series cap and the output cap).
func seriesCounts(b *testing.B, out string) (total, shown int) {
	b.Helper()
	m := seriesTotalRe.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("no series count in:\n%.3000s", out)
	}
	total, _ = strconv.Atoi(m[1])
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if !strings.Contains(l, "LAST") || !strings.Contains(l, "TREND") {
			continue
		}
		for _, row := range lines[i+1:] {
			if strings.TrimSpace(row) == "" || strings.HasPrefix(row, "Showing ") || strings.HasPrefix(row, "[output truncated") {
				break
			}
			shown++
		}
		break
	}
	if shown == 0 {
		b.Fatalf("no series rows in:\n%.3000s", out)
	}
	if m := seriesShownRe.FindStringSubmatch(out); m != nil {
		if n, _ := strconv.Atoi(m[1]); n < shown {
			b.Fatalf("%d rows but %q", shown, m[0])
		}
	}
	return total, shown
}

// grantPrometheusProxy lets the simulated clusters' credentials (the bench-viewer ServiceAccount on
// spoke1, see simulate) reach Prometheus through spoke1's service proxy, as the spoke grant would.
func grantPrometheusProxy(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	rbac := shared.hub.Spoke("spoke1").Kube.RbacV1()
	ns := fleet.ClusterMonitoringNamespace
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "bench-prometheus-proxy", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"services/proxy"}, Verbs: []string{"get"},
			ResourceNames: []string{fmt.Sprintf("http:%s:%d", fleet.PrometheusService, fleet.PrometheusServicePort)}}}}
	if _, err := rbac.Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bench-prometheus-proxy", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "default", Name: "bench-viewer"}}}
	if _, err := rbac.RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
}

// startStorePrometheus runs the fleet's Prometheus as a fleet store of n clusters (sim-000 ...): n scrape
// jobs federating the API server's request counters from the Prometheus at source, each labelling its
// series cluster=<simulated name>. It is stopped when the benchmark ends.
func startStorePrometheus(b *testing.B, source string, n int) *fleet.Prometheus {
	b.Helper()
	u, err := url.Parse(source)
	if err != nil {
		b.Fatal(err)
	}
	dir, err := os.MkdirTemp(shared.tmp, "store-prometheus-")
	if err != nil {
		b.Fatal(err)
	}
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 5s\n  scrape_timeout: 5s\nscrape_configs:\n")
	for i := range n {
		name := fmt.Sprintf("sim-%03d", i)
		fmt.Fprintf(&cfg, `- job_name: %s
  honor_labels: true
  metrics_path: /federate
  params:
    'match[]': ['apiserver_request_total{job="apiserver"}']
  static_configs:
  - targets: ['%s']
  metric_relabel_configs:
  - target_label: %s
    replacement: %s
`, name, u.Host, fleet.MetricsClusterLabel, name)
	}
	prom, err := shared.hub.StartPrometheus(context.Background(), dir, cfg.String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(prom.Stop)
	return prom
}

// waitStore waits until the store answers the benchmark's query for n clusters.
func waitStore(b *testing.B, store *fleet.Prometheus, n int) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := store.Query(ctx, `count(count by (cluster) (rate(apiserver_request_total{cluster=~"sim-.*"}[5m])))`,
		func(body string) bool { return strings.Contains(body, fmt.Sprintf(`,"%d"]`, n)) }); err != nil {
		b.Fatalf("the store Prometheus never held %d clusters' series: %v", n, err)
	}
}
