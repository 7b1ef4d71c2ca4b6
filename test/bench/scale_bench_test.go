package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file sorts after list_clusters_bench_test.go: its 2,000 simulated clusters are registered last.

// scaleClusters is how many simulated distant clusters the benchmarks here use, and scaleDelay the
// round-trip time each request to one of them takes.
const (
	scaleClusters = 2000
	scaleDelay    = 50 * time.Millisecond
)

// distantClusters registers n simulated clusters (far-0000 ...), each behind its own latency proxy in front
// of spoke1's API server, and returns their names.
func distantClusters(b *testing.B, n int) []string {
	b.Helper()
	if shared.proxies == nil {
		ca, err := os.ReadFile(filepath.Join(shared.hub.Dir, "pki", "ca.crt"))
		if err != nil {
			b.Fatal(err)
		}
		shared.proxies = startLatencyProxies(b, scaleClusters, shared.hub.Spoke("spoke1").URL, ca, scaleDelay)
	}
	list := names("far", n)
	simulate(b, list, func(i int) string { return shared.proxies.urls[i] }, shared.proxies.ca, map[string]string{"bench": "distant"})
	return list
}

// BenchmarkFanOutDistant: `get namespaces` over 1, 100 and 1,000 simulated clusters, each on its own
// loopback address behind a proxy that holds every request 50 ms (see latencyProxies: every answer is a
// real kube-apiserver's, spoke1's), over HTTP with per-call authorization as the fleet operator, with the
// default caps and fan-out concurrency. The first call to each size provisions credentials, opens the
// connections and fills discovery, and is not timed. Target: 1,000 clusters within 10x of one.
func BenchmarkFanOutDistant(b *testing.B) {
	setup(b)
	list := distantClusters(b, 1000)
	kubeconfig, err := shared.hub.ServerKubeconfig()
	if err != nil {
		b.Fatal(err)
	}
	c, cmd := httpServer(b, "--kubeconfig", kubeconfig, "--read-only", "--manifestwork-grant")
	for _, n := range []int{1, 100, 1000} {
		args := map[string]any{"cluster": strings.Join(list[:n], ","), "command": "get namespaces", "timeout": "5m"}
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) {
			out := call(b, c, "kubectl", args)
			if n > 1 && !strings.HasPrefix(out, fmt.Sprintf("Fan-out over %d cluster(s): %d ok.", n, n)) {
				b.Fatalf("not every cluster answered:\n%.2000s", out)
			}
			serverMark, fleetMark := cpuTime(cmd.Process.Pid), fleetCPUTime()
			shared.proxies.takeRequests()
			timeCalls(b, func() { call(b, c, "kubectl", args) })
			reportCPU(b, cmd.Process.Pid, serverMark, fleetMark)
			byPath, total := shared.proxies.takeRequests()
			b.ReportMetric(float64(total)/float64(b.N)/float64(n), "spoke-requests/cluster/op")
			b.Logf("requests to the simulated clusters in %d call(s): %v", b.N, byPath)
			b.ReportMetric(float64(rssBytes(cmd.Process.Pid))/(1<<20), "server-RSS-MB")
		})
	}
}

// BenchmarkServerRSSDistant2000: the server's resident memory once it holds credentials, a connection and
// discovery for each of 2,000 simulated distant clusters (see distantClusters: each on its own loopback
// address behind a 50 ms proxy to spoke1's API server, so every one serves the same APIs), beside the
// informers' copy of every ManagedCluster on the hub (these 2,000 and the 2,000 of BenchmarkListClusters
// when it ran first). Credentials are provisioned by four untimed calls of 500 clusters each (first use
// of a cluster costs several hub requests, which the hub client's rate limit paces); then a fan-out over
// all 2,000 (by selector, over HTTP, with aggregate count to keep the answer within the cap) connects
// and discovers each, and is timed. Target: under 300 MB.
func BenchmarkServerRSSDistant2000(b *testing.B) {
	setup(b)
	list := distantClusters(b, scaleClusters)
	kubeconfig, err := shared.hub.ServerKubeconfig()
	if err != nil {
		b.Fatal(err)
	}
	c, cmd := httpServer(b, "--kubeconfig", kubeconfig, "--read-only", "--manifestwork-grant")
	b.ReportMetric(float64(rssBytes(cmd.Process.Pid))/(1<<20), "idle-RSS-MB")
	for i := 0; i < len(list); i += 500 {
		call(b, c, "kubectl", map[string]any{"cluster": strings.Join(list[i:i+500], ","), "command": "version", "timeout": "5m"})
	}
	args := map[string]any{"cluster": "selector:bench=distant", "command": "get namespaces", "timeout": "5m", "aggregate": "count"}
	out := call(b, c, "kubectl", args) // connects to and discovers every cluster: not timed
	m := regexp.MustCompile(`^Fan-out over (\d+) cluster\(s\): (\d+) ok`).FindStringSubmatch(out)
	if m == nil || m[1] != fmt.Sprint(scaleClusters) {
		b.Fatalf("unexpected answer:\n%.2000s", out)
	}
	ok, _ := strconv.Atoi(m[2])
	b.ReportMetric(float64(ok), "clusters-ok")
	if ok < scaleClusters {
		b.Errorf("only %d clusters answered:\n%.2000s", ok, out)
	}
	serverMark, fleetMark := cpuTime(cmd.Process.Pid), fleetCPUTime()
	timeCalls(b, func() { call(b, c, "kubectl", args) })
	reportCPU(b, cmd.Process.Pid, serverMark, fleetMark)
	b.ReportMetric(float64(rssBytes(cmd.Process.Pid))/(1<<20), "server-RSS-MB")
}
