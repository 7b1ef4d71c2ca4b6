package bench

import (
	"regexp"
	"strings"
	"testing"
)

// This file sorts after list_clusters_bench_test.go, whose 2,000 synthetic ManagedClusters it shares,
// and before scale_bench_test.go, which registers 2,000 more behind latency proxies.

// BenchmarkDiagnoseFleet2000: a fleet-wide `diagnose` (no cluster named) over HTTP with per-call
// authorization as the fleet operator, with the default caps and concurrency, on a real hub holding the
// test fleet's clusters and 2,000 synthetic ManagedClusters (Joined and Available, labelled into 10
// clustersets, with no lease renewed and no API server behind them: registerClusters). What it measures:
// the hub-evidence part of the diagnosis (clusters, leases, add-ons, ManagedServiceAccounts,
// ManifestWorks) for 2,000 clusters, plus the workload analyzers on the fleet's own clusters, whose
// API servers answer; the synthetic clusters are never contacted (a diagnosis provisions no
// credentials). What it does not: 2,000 answering spokes (their workload checks would add one snapshot
// of pods, Services, Deployments, Jobs, nodes and events each, bounded by the fan-out concurrency).
func BenchmarkDiagnoseFleet2000(b *testing.B) {
	setup(b)
	registerClusters(b, 2000)
	kubeconfig, err := shared.hub.ServerKubeconfig()
	if err != nil {
		b.Fatal(err)
	}
	c, cmd := httpServer(b, "--kubeconfig", kubeconfig, "--read-only")
	out := call(b, c, "diagnose", nil) // fills the informers: not timed
	if !regexp.MustCompile(`^(Diagnosis of the fleet: \d+ finding|No problem found for the fleet)`).MatchString(out) || !strings.Contains(out, "bench-") {
		b.Fatalf("unexpected answer:\n%.2000s", out)
	}
	serverMark, fleetMark := cpuTime(cmd.Process.Pid), fleetCPUTime()
	timeCalls(b, func() { call(b, c, "diagnose", nil) })
	reportCPU(b, cmd.Process.Pid, serverMark, fleetMark)
	b.ReportMetric(float64(rssBytes(cmd.Process.Pid))/(1<<20), "server-RSS-MB")
}
