// Package metricstest runs a real Prometheus for tests: on loopback, scraping itself every second, with
// one alerting rule that fires at once (AlwaysFiring, severity warning) and one that never does.
package metricstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// prometheusBinary is a real Prometheus to test the client against: $PROMETHEUS_BIN (`make test-unit`
// sets the one the test fleet builds), or prometheus on the PATH. Without one the test fails: it is
// never skipped silently (go test -short leaves the tests that start a Prometheus out, and says so).
func prometheusBinary(t testing.TB) string {
	if p := os.Getenv("PROMETHEUS_BIN"); p != "" {
		return p
	}
	p, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("no prometheus binary: run `make test-unit`, which builds the test fleet's, set PROMETHEUS_BIN, or use go test -short")
	}
	return p
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs a Prometheus on loopback that scrapes itself every second and has one rule that
// fires at once; it is stopped when the test ends.
func Start(t testing.TB) string {
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
