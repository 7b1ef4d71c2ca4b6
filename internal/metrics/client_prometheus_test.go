package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// prometheusBinary is a real Prometheus to test the client against: $PROMETHEUS_BIN, or prometheus on
// the PATH (Debian's package installs one). Without it the test is skipped.
func prometheusBinary(t *testing.T) string {
	if p := os.Getenv("PROMETHEUS_BIN"); p != "" {
		return p
	}
	p, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("no prometheus binary (set PROMETHEUS_BIN, or install the prometheus package)")
	}
	return p
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// startPrometheus runs a Prometheus on loopback that scrapes itself every second and has one rule that
// fires at once; it is stopped when the test ends.
func startPrometheus(t *testing.T) string {
	bin := prometheusBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	rules := `groups:
- name: test
  interval: 1s
  rules:
  - alert: AlwaysFiring
    expr: vector(1)
    labels: {severity: warning}
    annotations: {summary: "It always fires."}
  - alert: NeverFiring
    expr: vector(1) == 2
    labels: {severity: critical}
`
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
  external_labels: {cluster: test}
rule_files: [%q]
scrape_configs:
- job_name: prometheus
  static_configs: [{targets: [%q]}]
`, filepath.Join(dir, "rules.yml"), addr)
	for name, text := range map[string]string{"rules.yml": rules, "prometheus.yml": cfg} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus did not get ready at %s", base)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return base
}

// TestClientAgainstARealPrometheus: instant and range queries, series, label values, alerts and a
// refused query, against a Prometheus that scrapes itself, through GET requests only.
func TestClientAgainstARealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus")
	}
	base := startPrometheus(t)
	var methods []string
	c, err := NewClient(base, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		methods = append(methods, r.Method)
		return http.DefaultTransport.RoundTrip(r)
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Wait for two scrapes and a rule evaluation.
	var alerts []Alert
	for ctx.Err() == nil {
		list, err := c.Alerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if alerts = AlertsFromAPI(list, "test", []string{"firing"}); len(alerts) > 0 {
			if res, err := c.Query(ctx, `count_over_time(up{job="prometheus"}[1m])`, time.Now(), 10*time.Second); err == nil {
				if v, ok := res.Value.(model.Vector); ok && len(v) == 1 && v[0].Value >= 2 {
					break
				}
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	if len(alerts) != 1 || alerts[0].Name != "AlwaysFiring" || alerts[0].Severity != "warning" || alerts[0].Summary != "It always fires." || alerts[0].Since.IsZero() {
		t.Fatalf("alerts: %+v", alerts)
	}
	now := time.Now()
	res, err := c.Query(ctx, `up{job="prometheus"}`, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := res.Value.(model.Vector)
	if !ok || len(v) != 1 || v[0].Value != 1 || v[0].Metric["job"] != "prometheus" {
		t.Fatalf("instant: %#v", res.Value)
	}
	res, err = c.QueryRange(ctx, `up{job="prometheus"}`, now.Add(-time.Minute), now, time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := res.Value.(model.Matrix); !ok || len(m) != 1 || len(m[0].Values) < 2 {
		t.Fatalf("range: %#v", res.Value)
	}
	text := Render(Answer{Source: "test", Query: `up{job="prometheus"}`, Value: res.Value, Start: now.Add(-time.Minute), End: now, Step: time.Second}, 10)
	if !strings.Contains(text, "1 series over 1m") || !strings.Contains(text, "LAST") {
		t.Errorf("rendered:\n%s", text)
	}
	res, err = c.Query(ctx, `ALERTS{alertstate="firing"}`, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := AlertsFromSeries(res.Value.(model.Vector), "cluster", "test"); len(got) != 1 || got[0].Name != "AlwaysFiring" {
		t.Errorf("ALERTS: %+v", got)
	}
	series, _, err := c.Series(ctx, []string{`up{job="prometheus"}`}, now.Add(-time.Hour), now, 10)
	if err != nil || len(series) != 1 || series[0]["instance"] == "" {
		t.Errorf("series: %v %v", series, err)
	}
	names, _, err := c.LabelValues(ctx, "__name__", []string{`{job="prometheus"}`}, now.Add(-time.Hour), now, 0)
	if err != nil || len(names) < 10 || !contains(names, "up") {
		t.Errorf("metric names: %d %v", len(names), err)
	}
	_, err = c.Query(ctx, `sum(`, now, 0)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.ErrorType != "bad_data" {
		t.Errorf("a bad query: %v", err)
	}
	_, err = c.Query(ctx, `up`, now, 0)
	if err != nil {
		t.Errorf("a query without a matcher is the guardrails' business, not the client's: %v", err)
	}
	for _, m := range methods {
		if m != http.MethodGet {
			t.Errorf("the client sent a %s request", m)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestClientSendsOnlyGET(t *testing.T) {
	c, err := NewClient("http://127.0.0.1:1", roundTripFunc(func(*http.Request) (*http.Response, error) {
		t.Fatal("a request got past the GET guard")
		return nil, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/api/v1/query", nil)
	if _, err := c.http.Do(req); err == nil || !strings.Contains(err.Error(), "only GET") {
		t.Errorf("POST: %v", err)
	}
	if _, err := NewClient("ftp://x", nil); err == nil {
		t.Error("an ftp URL was taken")
	}
}
