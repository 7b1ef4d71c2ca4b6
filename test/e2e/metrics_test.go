package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// metricsMSA is the ManagedServiceAccount of the servers the metrics tests start (read-only).
const metricsMSA = "e2e-metrics"

// metricsClusterService is where the fleet's clusters serve their own Prometheus: plain HTTP on 9090
// (an OpenShift cluster's is https on 9091, behind kube-rbac-proxy, the server's default).
var metricsClusterService = fmt.Sprintf("http:%s/%s:%d", fleet.ClusterMonitoringNamespace, fleet.PrometheusService, fleet.PrometheusServicePort)

// metricsServerArgs start a read-only server that finds the hub store at its default service and each
// cluster's Prometheus at the fleet's.
func metricsServerArgs(extra ...string) []string {
	return append([]string{"--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", metricsMSA,
		"--metrics-cluster-service", metricsClusterService}, extra...)
}

var alertSummary = regexp.MustCompile(`^(\d+) (firing|pending|firing or pending) alerts? on (\d+) of (\d+) clusters?`)

// alertAnswer is a metrics_alerts answer: the counts of its first line and its table.
type alertAnswer struct {
	alerts, with, asked int
	first               string
	rows                []map[string]string
	text                string
}

func parseAlerts(t *testing.T, text string) alertAnswer {
	t.Helper()
	first, rest, _ := strings.Cut(text, "\n")
	m := alertSummary.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("the answer does not start with the alerts summary:\n%s", text)
	}
	a := alertAnswer{first: first, text: text}
	a.alerts, _ = strconv.Atoi(m[1])
	a.with, _ = strconv.Atoi(m[3])
	a.asked, _ = strconv.Atoi(m[4])
	table, _, _ := strings.Cut(rest, "\nNot read:")
	a.rows = alertTable(table)
	return a
}

// alertTable reads the CLUSTER ALERT SEVERITY STATE SINCE SUMMARY table (the server's table layout; a
// cell may hold one space, as "4m2s ago"); lines around it (a fan-out's status, notes) are no rows.
func alertTable(text string) []map[string]string {
	lines := strings.Split(text, "\n")
	h := -1
	for i, line := range lines {
		if strings.HasPrefix(line, "CLUSTER ") && strings.Contains(line, " ALERT ") {
			h = i
			break
		}
	}
	if h < 0 {
		return nil
	}
	end := h + 1
	for end < len(lines) && strings.TrimSpace(lines[end]) != "" {
		end++
	}
	names, cells, ok := output.ParseTable(strings.Join(lines[h:end], "\n"))
	if !ok {
		return nil
	}
	var rows []map[string]string
	for _, c := range cells {
		row := map[string]string{}
		for k, name := range names {
			row[name] = c[k]
		}
		if row["STATE"] == "firing" || row["STATE"] == "pending" {
			rows = append(rows, row)
		}
	}
	return rows
}

// keys lists "cluster/alert/severity/state" of the rows, sorted.
func (a alertAnswer) keys() []string {
	var out []string
	for _, r := range a.rows {
		out = append(out, r["CLUSTER"]+"/"+r["ALERT"]+"/"+r["SEVERITY"]+"/"+r["STATE"])
	}
	sort.Strings(out)
	return out
}

func (a alertAnswer) has(cluster, alert, state string) bool {
	for _, r := range a.rows {
		if r["CLUSTER"] == cluster && r["ALERT"] == alert && r["STATE"] == state {
			return true
		}
	}
	return false
}

// waitAlerts calls metrics_alerts until ok accepts the answer (the rules need their for: durations).
func waitAlerts(t *testing.T, c *client.Client, args map[string]any, ok func(alertAnswer) bool) alertAnswer {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		text, isErr := callTool(t, c, "metrics_alerts", args)
		if isErr {
			t.Fatalf("metrics_alerts %v: %s", args, text)
		}
		a := parseAlerts(t, text)
		if ok(a) {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics_alerts %v never gave the expected answer; last:\n%s", args, text)
		}
		time.Sleep(time.Second) // polling a condition, with a deadline
	}
}

// rawResult is a metrics_query answer with raw: true.
type rawResult struct {
	Source     string `json:"source"`
	ResultType string `json:"resultType"`
	Result     []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
		Values [][2]any          `json:"values"`
	} `json:"result"`
	Warnings []string `json:"warnings"`
}

func parseRaw(t *testing.T, text string) rawResult {
	t.Helper()
	var r rawResult
	// A capped answer may end with a note after the JSON: read the first value only.
	if err := json.NewDecoder(strings.NewReader(text)).Decode(&r); err != nil {
		t.Fatalf("raw answer is not JSON: %v\n%s", err, text)
	}
	return r
}

func rawQuery(t *testing.T, c *client.Client, args map[string]any) (rawResult, string, bool) {
	t.Helper()
	args["raw"] = true
	text, isErr := callTool(t, c, "metrics_query", args)
	if isErr {
		return rawResult{}, text, true
	}
	return parseRaw(t, text), text, false
}

// hubName is how the hub store names a cluster a fan-out names: the hub is local-cluster there.
func hubName(name string) string {
	if name == "hub" {
		return fleet.LocalClusterName
	}
	return name
}

// errorRateQuery is the API server error rate: the share of requests answered 4xx or 5xx.
const errorRateQuery = `sum(rate(apiserver_request_total{code=~"[45].."}[5m])) / sum(rate(apiserver_request_total[5m]))`

// TestMetricsFleetQuestion asks the question of the issue in two calls through the hub's fleet store
// (the Thanos querier, through the hub API server's service proxy): which clusters have firing alerts,
// and what does the API server error rate of the worst one look like over the last hour.
func TestMetricsFleetQuestion(t *testing.T) {
	c := stdioClient(t, metricsServerArgs()...).Client
	down := env.fleet.MetricsTargetDownCluster()
	all := env.fleet.ManagedClusterNames()

	// 1. Which clusters have firing alerts? Every cluster has its Watchdog; the worst, first, is the one
	// whose target is down.
	a := waitAlerts(t, c, map[string]any{"source": "hub"}, func(a alertAnswer) bool { return a.has(down, fleet.AlertTargetDown, "firing") })
	if !strings.Contains(a.first, "Source: hub store") {
		t.Errorf("the answer does not say it comes from the hub store: %s", a.first)
	}
	if a.asked != len(all) || a.with != len(all) || a.alerts != len(a.rows) {
		t.Errorf("summary %q: want %d firing alerts on %d of %d clusters", a.first, len(a.rows), len(all), len(all))
	}
	var want []string
	for _, name := range all {
		want = append(want, name+"/"+fleet.AlertWatchdog+"/none/firing")
	}
	want = append(want, down+"/"+fleet.AlertTargetDown+"/warning/firing")
	sort.Strings(want)
	if got := a.keys(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("firing alerts:\n got %v\nwant %v\n%s", got, want, a.text)
	}
	t.Logf("which clusters have firing alerts:\n%s", a.text)
	worst := a.rows[0]
	if worst["CLUSTER"] != down || worst["ALERT"] != fleet.AlertTargetDown || !strings.HasSuffix(worst["SINCE"], " ago") {
		t.Errorf("the most severe alert is not first, or lacks its since: %v\n%s", worst, a.text)
	}
	// Pending alerts are another question: the scheduler's unplaceable pod, on its spoke only.
	pending := pendingAlertCluster(t)
	p := waitAlerts(t, c, map[string]any{"source": "hub", "state": "pending"}, func(a alertAnswer) bool {
		return a.has(pending, fleet.AlertPodsPending, "pending")
	})
	for _, r := range p.rows {
		if r["STATE"] != "pending" || r["ALERT"] == fleet.AlertWatchdog {
			t.Errorf("state pending answered %v", r)
		}
	}

	// 2. The worst cluster's API server error rate over the last hour, in the compact form.
	worstCluster := worst["CLUSTER"]
	text, isErr := callTool(t, c, "metrics_query", map[string]any{"query": errorRateQuery, "cluster": worstCluster, "range": "1h", "source": "hub"})
	if isErr {
		t.Fatalf("error rate of %s: %s", worstCluster, text)
	}
	if !strings.Contains(text, "Source: hub store") || !strings.Contains(text, "1 series over 1h") {
		t.Errorf("the range answer does not say its source and shape:\n%s", text)
	}
	if !strings.ContainsAny(text, "▁▂▃▄▅▆▇█") {
		t.Errorf("no sparkline in the range answer:\n%s", text)
	}
	for _, other := range all {
		if other != worstCluster && strings.Contains(text, other) {
			t.Errorf("the answer about %s mentions %s:\n%s", worstCluster, other, text)
		}
	}
	t.Logf("the worst cluster's error rate over the last hour:\n%s", text)
	// The same in raw form: a matrix of one series, a share between 0 and 1, within the hour asked.
	r, text, isErr := rawQuery(t, c, map[string]any{"query": errorRateQuery, "cluster": worstCluster, "range": "1h", "source": "hub"})
	if isErr || r.ResultType != "matrix" || len(r.Result) != 1 || len(r.Result[0].Values) == 0 {
		t.Fatalf("raw error rate of %s: %s", worstCluster, text)
	}
	now := float64(time.Now().Unix())
	for _, pt := range r.Result[0].Values {
		ts, _ := pt[0].(float64)
		v, err := strconv.ParseFloat(fmt.Sprint(pt[1]), 64)
		if err != nil || v < 0 || v > 1 || ts < now-3660 || ts > now+60 {
			t.Errorf("point %v: not a share within the last hour", pt)
		}
	}
	// And it is the hub store's own figure: the tool's instant answer at a fixed time in the past equals
	// the querier's, asked directly for the same expression restricted by hand.
	at := time.Now().Add(-30 * time.Second).UTC().Truncate(time.Second)
	r, text, isErr = rawQuery(t, c, map[string]any{"query": errorRateQuery, "cluster": worstCluster, "end": at.Format(time.RFC3339), "source": "hub"})
	if isErr || r.ResultType != "vector" || len(r.Result) != 1 {
		t.Fatalf("instant error rate of %s: %s", worstCluster, text)
	}
	sel := `cluster="` + worstCluster + `"`
	body, err := env.fleet.Hub.ServiceProxyGet(context.Background(), fleet.ObservabilityNamespace, fleet.ThanosQueryService, fleet.ThanosQueryServicePort,
		"api/v1/query", url.Values{"query": {`sum(rate(apiserver_request_total{` + sel + `,code=~"[45].."}[5m])) / sum(rate(apiserver_request_total{` + sel + `}[5m]))`},
			"time": {strconv.FormatInt(at.Unix(), 10)}})
	if err != nil {
		t.Fatal(err)
	}
	var direct struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &direct); err != nil || len(direct.Data.Result) != 1 {
		t.Fatalf("direct query: %v %s", err, body)
	}
	if got, want := fmt.Sprint(r.Result[0].Value[1]), fmt.Sprint(direct.Data.Result[0].Value[1]); got != want {
		t.Errorf("the tool says %s at %s, the querier %s", got, at.Format(time.RFC3339), want)
	}
}

// auditProxyEvent is an audit line with what a service proxy request names.
type auditProxyEvent struct {
	Verb      string `json:"verb"`
	User      struct{ Username string }
	ObjectRef struct {
		Resource, Subresource, Namespace, Name string
	} `json:"objectRef"`
	ResponseStatus struct{ Code int } `json:"responseStatus"`
}

// auditLinesSince returns the lines of an audit log after offset.
func auditLinesSince(t *testing.T, path string, offset int64) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func proxyEventsSince(t *testing.T, path string, offset int64) []auditProxyEvent {
	t.Helper()
	var out []auditProxyEvent
	for _, line := range auditLinesSince(t, path, offset) {
		var e auditProxyEvent
		if json.Unmarshal([]byte(line), &e) == nil && e.ObjectRef.Subresource == "proxy" {
			out = append(out, e)
		}
	}
	return out
}

// TestMetricsAlertsThroughSpokeProxy answers the alerts question from each cluster's own Prometheus,
// reached only through that cluster's API server service proxy with the server's ManagedServiceAccount
// token: the spoke's audit log shows a GET on services/proxy by that ServiceAccount. The answer agrees
// with the hub store's.
func TestMetricsAlertsThroughSpokeProxy(t *testing.T) {
	c := stdioClient(t, metricsServerArgs()...).Client
	down := env.fleet.MetricsTargetDownCluster()
	spoke := env.fleet.Spoke(down)
	mark := fileSize(t, spoke.AuditLog)

	a := waitAlerts(t, c, map[string]any{"cluster": down, "source": "cluster"}, func(a alertAnswer) bool {
		return a.has(down, fleet.AlertTargetDown, "firing")
	})
	if !strings.Contains(a.first, "Source: each cluster's own Prometheus") || a.asked != 1 || a.with != 1 {
		t.Errorf("summary %q: want the cluster's own Prometheus, 1 of 1 cluster", a.first)
	}
	for _, r := range a.rows {
		if r["ALERT"] == fleet.AlertTargetDown && (r["SINCE"] == "-" || !strings.Contains(r["SUMMARY"], "Target "+fleet.DownTargetJob+" at ")) {
			t.Errorf("TargetDown from the cluster's Prometheus lacks its since or summary: %v", r)
		}
	}
	msaUser := "system:serviceaccount:" + fleet.AgentAddonNamespace + ":" + metricsMSA
	proxied := 0
	for _, e := range proxyEventsSince(t, spoke.AuditLog, mark) {
		if e.ObjectRef.Resource != "services" || e.ObjectRef.Namespace != fleet.ClusterMonitoringNamespace {
			continue
		}
		if e.User.Username != msaUser || e.Verb != "get" || e.ObjectRef.Name != fmt.Sprintf("http:%s:%d", fleet.PrometheusService, fleet.PrometheusServicePort) {
			t.Errorf("%s audit: %s services/proxy %s by %s", down, e.Verb, e.ObjectRef.Name, e.User.Username)
			continue
		}
		if e.ResponseStatus.Code == 200 {
			proxied++
		}
	}
	if proxied == 0 {
		t.Errorf("%s audit log shows no GET on services/proxy by %s", down, msaUser)
	}

	// Every cluster at once, per cluster: the same firing alerts as the hub store holds.
	fan := waitAlerts(t, c, map[string]any{"cluster": "*", "source": "cluster"}, func(a alertAnswer) bool {
		return a.has(down, fleet.AlertTargetDown, "firing")
	})
	hub := waitAlerts(t, c, map[string]any{"cluster": "*", "source": "hub"}, func(a alertAnswer) bool {
		return a.has(down, fleet.AlertTargetDown, "firing")
	})
	var fanKeys []string
	for _, k := range fan.keys() {
		cluster, rest, _ := strings.Cut(k, "/")
		fanKeys = append(fanKeys, hubName(cluster)+"/"+rest)
	}
	sort.Strings(fanKeys)
	if strings.Join(fanKeys, " ") != strings.Join(hub.keys(), " ") {
		t.Errorf("per cluster %v, hub store %v", fanKeys, hub.keys())
	}
}

// TestMetricsPerCallerVisibility: a caller allowed to read spoke1 only sees spoke1's series through the
// hub store, whatever the query tries: or-ing another cluster's selector, regexes over cluster names,
// label_replace, series and alerts listings. The marker is the down target's up series, which exists only
// on another spoke: an unrestricted caller sees it.
func TestMetricsPerCallerVisibility(t *testing.T) {
	grantUsers(t)
	srv := startHTTPServer(t, metricsServerArgs()...)
	alice, operator := asUser(t, srv, fleet.AliceToken), asUser(t, srv, fleet.OperatorToken)
	down := env.fleet.MetricsTargetDownCluster()
	if down == "spoke1" {
		t.Fatal("the down target must be on another spoke than alice's")
	}
	marker := `up{job="` + fleet.DownTargetJob + `"}`

	r, text, isErr := rawQuery(t, operator, map[string]any{"query": marker, "source": "hub"})
	if isErr || len(r.Result) != 1 || r.Result[0].Metric["cluster"] != down {
		t.Fatalf("the operator does not see the marker on %s: %s", down, text)
	}
	r, text, isErr = rawQuery(t, alice, map[string]any{"query": `up{job="apiserver"}`, "source": "hub"})
	if isErr || len(r.Result) != 1 || r.Result[0].Metric["cluster"] != "spoke1" {
		t.Fatalf("alice's own API server series: %s", text)
	}
	tricks := []string{
		marker,
		marker + ` or up{cluster="` + down + `"}`,
		`up{job="apiserver"} or on() up{cluster="` + down + `"}`,
		`up{job="` + fleet.DownTargetJob + `", cluster=~"spoke1|` + down + `"}`,
		`up{job="` + fleet.DownTargetJob + `", cluster!="spoke1"}`,
		`label_replace(` + marker + `, "cluster", "spoke1", "", "")`,
		`count by (cluster) ({__name__="up", job=~"apiserver|` + fleet.DownTargetJob + `"})`,
		`{__name__=~"up|ALERTS", job="` + fleet.DownTargetJob + `"}`,
		`ALERTS{alertname="` + fleet.AlertTargetDown + `"}`,
		`sum by (cluster) (up{job="apiserver"} offset 10s)`,
	}
	for _, q := range tricks {
		r, text, isErr := rawQuery(t, alice, map[string]any{"query": q, "source": "hub"})
		if isErr {
			t.Logf("alice's %s: refused: %s", q, text)
			continue // a refusal leaks nothing
		}
		t.Logf("alice's %s: %d series", q, len(r.Result))
		for _, s := range r.Result {
			if s.Metric["cluster"] != "spoke1" || s.Metric["job"] == fleet.DownTargetJob || s.Metric["alertname"] == fleet.AlertTargetDown {
				t.Errorf("alice's %s reached another cluster's series %v:\n%s", q, s.Metric, text)
			}
		}
	}
	// The restriction holds inside functions too: for alice the marker is absent.
	if r, text, isErr := rawQuery(t, alice, map[string]any{"query": "absent(" + marker + ")", "source": "hub"}); isErr || len(r.Result) != 1 {
		t.Errorf("absent(marker) for alice: %s", text)
	}
	// A cluster she may not read, named: refused.
	if text, isErr := callTool(t, alice, "metrics_query", map[string]any{"query": marker, "cluster": down, "source": "hub"}); !isErr || !strings.Contains(text, "alice may not read cluster "+down) {
		t.Errorf("alice naming %s: %v %s", down, isErr, text)
	}
	// Series and alerts listings: hers only.
	text, isErr = callTool(t, alice, "metrics_series", map[string]any{"match": `up{job=~"apiserver|` + fleet.DownTargetJob + `"}`, "label": "cluster", "source": "hub"})
	if isErr || !strings.Contains(text, "spoke1") || strings.Contains(text, down) || strings.Contains(text, fleet.LocalClusterName) {
		t.Errorf("alice's cluster label values: %v\n%s", isErr, text)
	}
	text, isErr = callTool(t, alice, "metrics_series", map[string]any{"match": marker, "source": "hub"})
	if isErr || strings.Contains(text, down) {
		t.Errorf("alice's series of the marker: %v\n%s", isErr, text)
	}
	a := waitAlerts(t, alice, map[string]any{"source": "hub"}, func(a alertAnswer) bool { return a.has("spoke1", fleet.AlertWatchdog, "firing") })
	if a.asked != 1 {
		t.Errorf("alice's alerts are asked of %d clusters: %s", a.asked, a.first)
	}
	for _, row := range a.rows {
		if row["CLUSTER"] != "spoke1" {
			t.Errorf("alice sees an alert of %s: %v", row["CLUSTER"], row)
		}
	}
}

// TestMetricsGuardrails: queries that would read too much are refused before any request leaves the
// server, with a message saying how to narrow them.
func TestMetricsGuardrails(t *testing.T) {
	c := stdioClient(t, metricsServerArgs()...).Client
	// Warm up: the server has found the hub store, so that silence afterwards means something.
	if text, isErr := callTool(t, c, "metrics_query", map[string]any{"query": `up{job="apiserver"}`, "source": "hub"}); isErr {
		t.Fatalf("warm-up: %s", text)
	}
	mark := fileSize(t, env.fleet.Hub.AuditLog)
	refused := []struct {
		args map[string]any
		want []string // all in the message (case-insensitive)
	}{
		{map[string]any{"query": "up"}, []string{"matcher"}},
		{map[string]any{"query": `{__name__=~".+"}`}, []string{"selects everything", "e.g."}},
		{map[string]any{"query": `rate(apiserver_request_total{code=~".*"}[5m])`}, []string{`code=~".*"`, "e.g."}},
		{map[string]any{"query": `sum(up{job=~".+"})`, "cluster": "*"}, []string{`job=~".+"`, "e.g."}},
		{map[string]any{"query": `up{job="apiserver"}`, "range": "30d"}, []string{"range"}},
		{map[string]any{"query": `up{job="apiserver"}`, "range": "24h", "step": "1s"}, []string{"step"}},
	}
	for _, tc := range refused {
		text, isErr := callTool(t, c, "metrics_query", tc.args)
		if !isErr {
			t.Errorf("%v was not refused:\n%s", tc.args, text)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(strings.ToLower(text), strings.ToLower(w)) {
				t.Errorf("refusal of %v does not mention %q: %s", tc.args, w, text)
			}
		}
	}
	if text, isErr := callTool(t, c, "metrics_series", map[string]any{"match": `{__name__=~".+"}`}); !isErr {
		t.Errorf("metrics_series over every series was not refused:\n%s", text)
	}
	for _, e := range proxyEventsSince(t, env.fleet.Hub.AuditLog, mark) {
		if e.User.Username == fleet.ServerUser && e.ObjectRef.Namespace == fleet.ObservabilityNamespace {
			t.Errorf("a refused query reached the hub store: %s %s", e.Verb, e.ObjectRef.Name)
		}
	}
}

// TestMetricsSourceDown stops one cluster's Prometheus: a fan-out over the clusters' own Prometheus
// says which cluster failed and why, and answers for the others; the alerts list it as unknown, never as
// without alerts; the hub store still answers for the others. The Prometheus is started again after.
func TestMetricsSourceDown(t *testing.T) {
	c := stdioClient(t, metricsServerArgs()...).Client
	victim := env.fleet.Spoke("spoke1")
	down := env.fleet.MetricsTargetDownCluster()
	victim.Prometheus.Stop(10 * time.Second)
	t.Cleanup(func() {
		if err := victim.Prometheus.Start(); err != nil {
			t.Fatal(err)
		}
		waitPrometheus(t, victim)
	})

	text, isErr := callTool(t, c, "metrics_query", map[string]any{"query": `up{job="apiserver"}`, "cluster": "*", "source": "cluster"})
	if isErr {
		t.Fatalf("one cluster down fails the whole fan-out:\n%s", text)
	}
	t.Logf("with spoke1's Prometheus down, per cluster:\n%s", text)
	failure := regexp.MustCompile(`(?m)^\s*spoke1: .*(refused|unavailable|503|no endpoints|error trying to reach)`)
	if !failure.MatchString(text) {
		t.Errorf("the answer does not say why spoke1 failed:\n%s", text)
	}
	for _, other := range env.fleet.Managed() {
		if other != victim && !strings.Contains(text, other.ManagedClusterName()) && !(other == env.fleet.Hub && strings.Contains(text, "hub")) {
			t.Errorf("no answer for %s:\n%s", other.ManagedClusterName(), text)
		}
	}

	a := waitAlerts(t, c, map[string]any{"cluster": "*", "source": "cluster"}, func(a alertAnswer) bool { return a.has(down, fleet.AlertTargetDown, "firing") })
	if !strings.Contains(a.first, "unknown (not read): spoke1") || strings.Contains(a.first, "clusters with none: spoke1") {
		t.Errorf("spoke1 is not reported unknown: %s", a.first)
	}
	for _, r := range a.rows {
		if r["CLUSTER"] == "spoke1" {
			t.Errorf("an alert of the stopped Prometheus: %v", r)
		}
	}

	// The hub store: spoke1's sidecar answers but its Prometheus does not; the others' series come.
	r, text, isErr := rawQuery(t, c, map[string]any{"query": `up{job="apiserver"}`, "cluster": "*", "source": "hub"})
	if isErr {
		t.Fatalf("the hub store with one Prometheus down: %s", text)
	}
	got := map[string]bool{}
	for _, s := range r.Result {
		got[s.Metric["cluster"]] = true
	}
	for _, other := range env.fleet.Managed() {
		if other != victim && !got[other.ManagedClusterName()] {
			t.Errorf("the hub store lost %s with spoke1's Prometheus down:\n%s", other.ManagedClusterName(), text)
		}
	}
}

// waitPrometheus waits until a cluster's Prometheus answers through its service proxy and the hub store
// holds its fresh series again.
func waitPrometheus(t *testing.T, c *fleet.Cluster) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res, err := env.fleet.PromQuery(ctx, c, fleet.ClusterMonitoringNamespace, fleet.PrometheusService, fleet.PrometheusServicePort, `up{job="apiserver"} == 1`)
		if err == nil && len(res) == 1 {
			hub, err := hubQuery(ctx, `up{job="apiserver", cluster="`+c.ManagedClusterName()+`"} == 1`)
			if err == nil && len(hub) == 1 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's Prometheus did not come back: %v\n%s", c.Name, err, c.Prometheus.Tail(2000))
		}
		time.Sleep(250 * time.Millisecond) // polling a condition, with a deadline
	}
}
