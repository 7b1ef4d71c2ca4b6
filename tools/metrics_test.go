package tools

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics/metricstest"
)

// recordingStore is an HTTP endpoint that records what a fleet store is asked and answers every query
// with an empty vector: what these tests check is the request, never an answer's formatting.
type recordingStore struct {
	mu      sync.Mutex
	methods []string
	queries []string
}

func (r *recordingStore) start(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.methods = append(r.methods, req.Method)
		if q := req.URL.Query().Get("query"); q != "" {
			r.queries = append(r.queries, q)
		}
		r.queries = append(r.queries, req.URL.Query()["match[]"]...)
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(req.URL.Path, "/series"), strings.HasSuffix(req.URL.Path, "/values"):
			_, _ = w.Write([]byte(`{"status":"success","data":[]}`))
		default:
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (r *recordingStore) sent() ([]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.methods...), append([]string(nil), r.queries...)
}

func metricsDeps(t *testing.T, store *recordingStore) Deps {
	d := fixtureDeps()
	set, err := metrics.NewSet(metrics.Sources{URL: store.start(t)})
	if err != nil {
		t.Fatal(err)
	}
	d.Metrics, d.Clusters, d.FanOutConcurrency = set, unreachable{}, 4
	return d
}

// clustersOfEverySelector returns, for each selector of the query, the values its cluster matcher
// allows ("" when it has none).
func clustersOfEverySelector(t *testing.T, q string) []string {
	t.Helper()
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	if err != nil {
		t.Fatalf("sent %q, which does not parse: %v", q, err)
	}
	var out []string
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		got := ""
		for _, m := range vs.LabelMatchers {
			if m.Name == "cluster" && (m.Type == labels.MatchEqual || m.Type == labels.MatchRegexp) && got == "" {
				got = m.Value
			}
		}
		out = append(out, got)
		return nil
	})
	return out
}

// TestMetricsQueryRestrictsACallerToTheirClusters: an HTTP caller who may read east-prod only cannot
// read another cluster's series through a fleet store, whatever the query tries.
func TestMetricsQueryRestrictsACallerToTheirClusters(t *testing.T) {
	for _, q := range []string{
		`up{job="apiserver"}`,
		`up{cluster="west-stage"}`,
		`up{job="x"} or up{cluster="west-stage"}`,
		`label_replace(up{cluster="west-stage"}, "cluster", "east-prod", "", "")`,
		`max_over_time(up{cluster="west-stage"}[1h:1m] offset 1h)`,
		`sum(rate(apiserver_request_total{cluster=~"west.*"}[5m] @ end()))`,
	} {
		store := &recordingStore{}
		d := metricsDeps(t, store)
		d.Authz = reads("east-prod")
		text, isErr := callAs(t, d, alice, "metrics_query", map[string]any{"query": q})
		if isErr {
			t.Fatalf("%s: %s", q, text)
		}
		if !strings.Contains(text, "Source: metrics URL") {
			t.Errorf("%s: the answer does not say which source answered:\n%s", q, text)
		}
		methods, sent := store.sent()
		if len(sent) != 1 {
			t.Fatalf("%s: sent %v; want one query", q, sent)
		}
		for _, c := range clustersOfEverySelector(t, sent[0]) {
			if c != "east-prod" {
				t.Errorf("%s: sent %s, with a selector restricted to %q", q, sent[0], c)
			}
		}
		for _, m := range methods {
			if m != http.MethodGet {
				t.Errorf("%s: a %s request was sent", q, m)
			}
		}
	}
}

// TestMetricsQueryNamedClustersAreOneQuery: clusters named by the argument are one query with their
// matcher; without a caller and without a cluster argument the query goes unchanged.
func TestMetricsQueryNamedClustersAreOneQuery(t *testing.T) {
	store := &recordingStore{}
	d := metricsDeps(t, store)
	if text, isErr := callAs(t, d, nil, "metrics_query", map[string]any{"query": `up`, "cluster": "east-prod,west-stage"}); isErr {
		t.Fatal(text)
	}
	if text, isErr := callAs(t, d, nil, "metrics_query", map[string]any{"query": `up{job="x"}`}); isErr {
		t.Fatal(text)
	}
	_, sent := store.sent()
	if len(sent) != 2 {
		t.Fatalf("sent %v", sent)
	}
	if got := clustersOfEverySelector(t, sent[0]); len(got) != 1 || got[0] != "east-prod|west-stage" {
		t.Errorf("named clusters: sent %s", sent[0])
	}
	if sent[1] != `up{job="x"}` {
		t.Errorf("unrestricted: sent %s", sent[1])
	}
}

func TestMetricsGuardrailsRefuseBeforeAnythingIsSent(t *testing.T) {
	store := &recordingStore{}
	d := metricsDeps(t, store)
	for _, args := range []map[string]any{
		{"query": `up`},
		{"query": `up{job=~".*"}`},
		{"query": `rate(up{job="x"}[30d])`},
		{"query": `up{job="x"}`, "range": "30d"},
		{"query": `up{job="x"}`, "range": "1h", "step": "100ms"},
		{"query": `up{job="x"}`, "step": "1m"},
		{"query": `up{job="x"}`, "end": "yesterday"},
		{"query": `up{job="x"}`, "source": "elsewhere"},
		{"query": `up{`},
	} {
		text, isErr := callAs(t, d, nil, "metrics_query", args)
		if !isErr {
			t.Errorf("%v: not refused:\n%s", args, text)
		}
	}
	if text, isErr := callAs(t, d, nil, "metrics_series", map[string]any{"match": `{__name__=~".+"}`}); !isErr || !strings.Contains(text, "e.g.") {
		t.Errorf("series of everything: %s", text)
	}
	if _, sent := store.sent(); len(sent) != 0 {
		t.Errorf("refused calls sent %v", sent)
	}
}

func TestMetricsSeriesAndAlertsAreRestrictedToo(t *testing.T) {
	store := &recordingStore{}
	d := metricsDeps(t, store)
	d.Authz = reads("east-prod")
	if text, isErr := callAs(t, d, alice, "metrics_series", map[string]any{"match": `{__name__=~"apiserver_.*", job="apiserver"}`, "label": "__name__"}); isErr {
		t.Fatal(text)
	}
	text, isErr := callAs(t, d, alice, "metrics_alerts", nil)
	if isErr {
		t.Fatal(text)
	}
	if !strings.HasPrefix(text, "0 firing alerts on 0 of 1 cluster") {
		t.Errorf("alerts answer:\n%s", text)
	}
	_, sent := store.sent()
	if len(sent) < 2 {
		t.Fatalf("sent %v", sent)
	}
	for _, q := range sent {
		for _, c := range clustersOfEverySelector(t, q) {
			if c != "east-prod" {
				t.Errorf("sent %s, with a selector restricted to %q", q, c)
			}
		}
	}
}

func TestMetricsPerClusterFanOutReportsEachCluster(t *testing.T) {
	d := fixtureDeps()
	set, err := metrics.NewSet(metrics.Sources{ClusterService: metrics.ServiceRef{Scheme: "http", Namespace: "monitoring", Name: "prometheus", Port: "9090"}})
	if err != nil {
		t.Fatal(err)
	}
	d.Metrics, d.Clusters, d.FanOutConcurrency = set, unreachable{}, 4
	text, isErr := callAs(t, d, nil, "metrics_query", map[string]any{"query": `up{job="x"}`, "cluster": "*"})
	if !isErr || !strings.Contains(text, "Fan-out over") || !strings.Contains(text, "failed") {
		t.Errorf("every cluster unreachable: %v\n%s", isErr, text)
	}
	text, _ = callAs(t, d, nil, "metrics_alerts", map[string]any{"cluster": "*"})
	if !strings.HasPrefix(text, "0 firing alerts on 0 of ") || !strings.Contains(text, "unknown (not read)") {
		t.Errorf("alerts of unreachable clusters are unknown, not none:\n%s", text)
	}
}

// TestOfflineAlertsFromAMustGather: an OpenShift must-gather's rules.json answers the alerts question;
// the test fleet's own sample holds no alert data and says so.
func TestOfflineAlertsFromAMustGather(t *testing.T) {
	d := archiveDeps(t, filepath.Join("..", "mustgather", "testdata", "ocp-plain"))
	text, isErr := callTool(t, metricsAlertsTool(d), nil)
	if isErr {
		t.Fatal(text)
	}
	lines := strings.Split(text, "\n")
	if !strings.HasPrefix(lines[0], "2 firing alerts on 1 of 1 cluster") {
		t.Errorf("summary: %s", lines[0])
	}
	if strings.Join(strings.Fields(lines[3]), " ") != "ocp-plain KubeAPIErrorBudgetBurn critical firing 91m ago The API server is burning too much error budget." ||
		!strings.Contains(lines[4], "Watchdog") {
		t.Errorf("table:\n%s", text)
	}
	all, _ := callTool(t, metricsAlertsTool(d), map[string]any{"state": "all"})
	if !strings.Contains(all, "KubePodCrashLooping") || !strings.Contains(all, "pending") {
		t.Errorf("state all:\n%s", all)
	}
	if text, isErr := callTool(t, metricsAlertsTool(d), map[string]any{"source": "hub"}); !isErr {
		t.Errorf("offline source hub: %s", text)
	}
	sample := archiveDeps(t, filepath.Join("..", "mustgather", "testdata", "sample-fleet.tar.gz"))
	text, isErr = callTool(t, metricsAlertsTool(sample), nil)
	if isErr || !strings.HasPrefix(text, "The must-gather holds no alert data") {
		t.Errorf("sample: %v %s", isErr, text)
	}
}

// TestClusterStatusMetrics: with a source, cluster_status reads the cluster's metrics restricted to it,
// and what has no series is unknown, never a finding; without one it says there is no source.
func TestClusterStatusMetrics(t *testing.T) {
	store := &recordingStore{}
	d := metricsDeps(t, store)
	text, isErr := callAs(t, d, nil, "cluster_status", map[string]any{"cluster": "east-prod"})
	if isErr {
		t.Fatal(text)
	}
	for _, want := range []string{"Metrics (metrics URL ", "firing alerts: none", "API server 5xx: unknown (no apiserver_request_total series)",
		"container restarts, last hour: unknown (no kube_pod_container_status_restarts_total series", "node pressure: unknown ("} {
		if !strings.Contains(text, want) {
			t.Errorf("cluster_status lacks %q:\n%s", want, text)
		}
	}
	_, sent := store.sent()
	if len(sent) < 4 {
		t.Fatalf("sent %v", sent)
	}
	for _, q := range sent {
		for _, c := range clustersOfEverySelector(t, q) {
			if c != "east-prod" {
				t.Errorf("sent %s, with a selector restricted to %q", q, c)
			}
		}
	}
	if text, _ := callAs(t, fixtureDeps(), nil, "cluster_status", map[string]any{"cluster": "east-prod"}); !strings.Contains(text, "Metrics: no source") {
		t.Errorf("without a source:\n%s", text)
	}
}

// TestMetricsQueryThroughARealPrometheus: the tool's whole path, from the arguments to the compact
// answer, against a real Prometheus used as the metrics URL (built with the test fleet).
func TestMetricsQueryThroughARealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus")
	}
	base := metricstest.Start(t)
	d := fixtureDeps()
	set, err := metrics.NewSet(metrics.Sources{URL: base})
	if err != nil {
		t.Fatal(err)
	}
	d.Metrics, d.Now = set, time.Now
	deadline := time.Now().Add(30 * time.Second)
	var text string
	for time.Now().Before(deadline) {
		text, _ = callAs(t, d, nil, "metrics_alerts", map[string]any{"source": "url"})
		if strings.Contains(text, "AlwaysFiring") {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !strings.Contains(text, "AlwaysFiring") || !strings.Contains(text, "warning") {
		t.Fatalf("alerts:\n%s", text)
	}
	// Prometheus discovers its targets within 5 s, then scrapes every second: wait for a few scrapes.
	for time.Now().Before(deadline) {
		text, _ = callAs(t, d, nil, "metrics_query", map[string]any{"query": `count_over_time(up{job="prometheus"}[1m])`})
		if strings.Contains(text, "VALUE") && !strings.Contains(text, "VALUE\n1\n") {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	text, isErr := callAs(t, d, nil, "metrics_query", map[string]any{"query": `rate(prometheus_http_requests_total{handler="/api/v1/query"}[10s])`, "range": "1m", "step": "2s"})
	if isErr {
		t.Fatal(text)
	}
	t.Log(text)
	for _, want := range []string{"Source: metrics URL " + base, "over 1m", "every 2s", "LAST", "TREND"} {
		if !strings.Contains(text, want) {
			t.Errorf("range answer lacks %q:\n%s", want, text)
		}
	}
	text, isErr = callAs(t, d, nil, "metrics_series", map[string]any{"match": `{job="prometheus"}`, "label": "__name__"})
	if isErr || !strings.Contains(text, "prometheus_http_requests_total") {
		t.Errorf("metric names: %v\n%.400s", isErr, text)
	}
}
