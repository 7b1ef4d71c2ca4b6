package mustgather

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// generateArchive writes a must-gather folder of one cluster with n objects (pods, 90%; configmaps and
// Warning events, the rest), about 10 KiB each, spread over 300 namespaces, with 997 distinct app
// labels, a log for one pod in 100, and the collection time. It simulates a large spoke's archive as
// the collector writes it (one file per object); real objects carry their bulk in many small fields
// rather than one long value, which makes them slower to parse than these.
func generateArchive(b *testing.B, dir string, n int) int64 {
	b.Helper()
	pad := strings.Repeat("x", 10*1024+512)
	var total int64
	if err := os.WriteFile(filepath.Join(dir, "timestamp"), []byte("2026-11-20 02:00:00.0 +0000 UTC\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("ns-%03d", i%300)
		var path, body string
		switch {
		case i%10 < 9:
			name := fmt.Sprintf("pod-%06d", i)
			path = filepath.Join(dir, "cluster1", "namespaces", ns, "core", "pods", name+".yaml")
			body = fmt.Sprintf(podTemplate, i%997, ns, name, pad, i%7)
			if i%100 == 1 {
				log := filepath.Join(dir, "cluster1", "namespaces", ns, "pods", name, "app", "app", "logs", "current.log")
				if err := os.MkdirAll(filepath.Dir(log), 0o755); err != nil {
					b.Fatal(err)
				}
				line := "2026-11-20T01:00:05.000000000Z started, serving on :8080\n"
				if err := os.WriteFile(log, []byte(strings.Repeat(line, 200)), 0o644); err != nil {
					b.Fatal(err)
				}
			}
		case i%10 == 9 && i%20 == 9:
			name := fmt.Sprintf("cm-%06d", i)
			path = filepath.Join(dir, "cluster1", "namespaces", ns, "core", "configmaps", name+".yaml")
			body = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  blob: %s\n", name, ns, pad)
		default:
			name := fmt.Sprintf("ev-%06d", i)
			path = filepath.Join(dir, "cluster1", "namespaces", ns, "core", "events", name+".yaml")
			body = fmt.Sprintf("apiVersion: v1\nkind: Event\nmetadata:\n  name: %s\n  namespace: %s\ninvolvedObject:\n  kind: Pod\n  name: pod-%06d\n  namespace: ns-%03d\nreason: BackOff\ntype: Warning\ncount: 3\nlastTimestamp: \"2026-11-20T01:30:00Z\"\nmessage: %s\n", name, ns, i-1, (i-1)%300, pad[:2000])
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(body))
	}
	return total
}

// podTemplate carries its bulk in the pod spec (an environment variable), where real pods carry theirs
// once managedFields are dropped, as the collector does.
const podTemplate = `apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: "2026-11-20T01:00:00Z"
  labels:
    app: app-%[1]d
    tier: backend
  name: %[3]s
  namespace: %[2]s
spec:
  containers:
  - env:
    - name: PADDING
      value: %[4]s
    image: registry.example/app:1
    name: app
  nodeName: worker-%[5]d
status:
  containerStatuses:
  - name: app
    ready: true
    restartCount: 0
    state:
      running:
        startedAt: "2026-11-20T01:00:05Z"
  phase: Running
`

func benchObjects(b *testing.B) int {
	if s := os.Getenv("MG_BENCH_OBJECTS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 100_000
}

// openBench generates an archive of n objects (see generateArchive), opens it and waits until every
// object is decoded, reporting the open time, the time until the index is complete, the heap in use
// after a collection and the resident memory then, and the archive's size.
func openBench(b *testing.B, n int) *Archive {
	b.Helper()
	dir := b.TempDir()
	size := generateArchive(b, dir, n)
	runtime.GC()
	began := time.Now()
	a, err := Open(dir, OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	opened := time.Since(began)
	b.Cleanup(a.Close)
	if err := a.Indexed(context.Background()); err != nil {
		b.Fatal(err)
	}
	indexed := time.Since(began)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.Logf("%d objects, %.0f MB: opened in %s, index complete after %s, heap in use %.0f MB, RSS %.0f MB (peak %.0f MB, generation included)",
		n, float64(size)/(1<<20), opened.Round(time.Millisecond), indexed.Round(time.Millisecond),
		float64(ms.HeapInuse)/(1<<20), float64(procStatus("VmRSS:"))/(1<<20), float64(peakRSS())/(1<<20))
	b.ReportMetric(opened.Seconds(), "open-s")
	b.ReportMetric(indexed.Seconds(), "indexed-s")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
	b.ReportMetric(float64(size)/(1<<20), "archive-MB")
	return a
}

// kubectlRunner runs kubectl commands the way the kubectl tool runs them offline: the in-process
// kubectl over the archive's API, stopped at what the tool shows of one cluster by default.
func kubectlRunner(b testing.TB, a *Archive, cluster string) func(line string) kubectl.Result {
	return meteredRunner(b, a, cluster, nil)
}

// meteredRunner is kubectlRunner, with the archive's answers metered when m is set.
func meteredRunner(b testing.TB, a *Archive, cluster string, m *meter) func(line string) kubectl.Result {
	b.Helper()
	engine, err := kubectl.NewEngine(kubectl.Options{WorkDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	cfg := m.config(b, a, cluster)
	return func(line string) kubectl.Result {
		words, _ := kubectl.Split(line)
		plan, err := kubectl.Check(words, kubectl.ReadTool, false)
		if err != nil {
			b.Fatal(err)
		}
		return engine.Run(context.Background(), kubectl.Request{Key: cluster, Config: cfg, Plan: plan, Timeout: time.Minute, OutputBytes: toolShows})
	}
}

// toolShows is what the kubectl tool shows of one cluster's output with the default settings (its
// answer's cap less the room it keeps for saying the output was cut).
const toolShows = output.DefaultMaxBytes - 512

// BenchmarkOfflineQueries times every query shape the offline server answers on one generated
// archive of 100,000 objects (about 1 GB; MG_BENCH_OBJECTS sets another count): kubectl get by label
// (the indexed query the others are compared with), over all namespaces, with a field selector, in one
// namespace, by name, describe, logs, another kind, -o yaml of one namespace; and the archive reads of
// cluster_status and must_gather_summary (nodes, every pod as table pages, Warning events, through
// client-go, as ocm.GatherLive makes them; the tools' text formatting is not timed). Each op is one
// call, stopped at what the kubectl tool shows of one cluster by default (toolShows) and with kubectl's
// default pages of 500; the archive is opened once, and its index completed, before every sub-benchmark.
//
// Besides the time of each op, it reports per op the requests the archive's API server answered, the
// time it took to make them (server-ms) and their bytes, the process's CPU time (cpu-ms: the server's
// and the client's, which decodes and prints every row it is sent; a get whose output is a prefix of
// the whole list stops fetching pages once it holds more than the tool shows, while events are sorted
// by time and so read whole) and whether the output was capped. On a machine shared with other work, ns/op holds the time spent waiting for a CPU too:
// cpu-ms and server-ms say what the op itself costs.
func BenchmarkOfflineQueries(b *testing.B) {
	n := benchObjects(b)
	a := openBench(b, n)
	m := &meter{}
	run := meteredRunner(b, a, "cluster1", m)
	shapes := []struct{ name, line, want string }{
		{"label", "get pods -A -l app=app-5", "pod-"},
		{"all-namespaces", "get pods -A", "pod-"},
		{"field-selector", "get pods -A --field-selector spec.nodeName=worker-3", "pod-"},
		{"namespace", "get pods -n ns-007", "pod-"},
		{"name", "get pod pod-000001 -n ns-001", "pod-000001"},
		{"describe", "describe pod pod-000001 -n ns-001", "pod-000001"},
		{"logs", "logs pod-000001 -n ns-001", "started"},
		{"events-all-namespaces", "get events -A", "BackOff"},
		{"yaml-namespace", "get configmaps -n ns-009 -o yaml", "ConfigMap"},
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			m.start()
			capped := 0
			for i := 0; i < b.N; i++ {
				res := run(s.line)
				if res.Err != nil || !strings.Contains(res.Stdout, s.want) {
					b.Fatalf("%s: %v %s %.200s", s.line, res.Err, res.Stderr, res.Stdout)
				}
				if res.Capped {
					capped++
				}
			}
			m.report(b, b.N)
			b.ReportMetric(float64(capped)/float64(b.N), "capped/op")
		})
	}
	// Latency of the label-indexed query over many calls (ns/op is the mean).
	b.Run("label-latency", func(b *testing.B) {
		var lat []time.Duration
		for i := 0; i < max(b.N, 200); i++ {
			began := time.Now()
			if res := run(fmt.Sprintf("get pods -A -l app=app-%d", i%20)); res.Err != nil || !strings.Contains(res.Stdout, "pod-") {
				b.Fatalf("query: %v %s", res.Err, res.Stderr)
			}
			lat = append(lat, time.Since(began))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	})
	b.Run("cluster-status-reads", func(b *testing.B) {
		b.ReportAllocs()
		m.start()
		for i := 0; i < b.N; i++ {
			gatherArchived(b, a, "cluster1", m)
		}
		m.report(b, b.N)
	})
	b.Run("summary-reads", func(b *testing.B) {
		b.ReportAllocs()
		m.start()
		for i := 0; i < b.N; i++ {
			if _, err := a.Source(); err != nil {
				b.Fatal(err)
			}
			for _, name := range a.Names() {
				gatherArchived(b, a, name, m)
			}
		}
		m.report(b, b.N)
	})
}

// gatherArchived reads one cluster's nodes, pods and warnings from the archive as cluster_status does.
func gatherArchived(b *testing.B, a *Archive, cluster string, m *meter) {
	b.Helper()
	kube, err := kubernetes.NewForConfig(m.config(b, a, cluster))
	if err != nil {
		b.Fatal(err)
	}
	s, err := ocm.GatherLive(context.Background(), kube, a.ReferenceTime(), 100*365*24*time.Hour)
	if err != nil || len(s.Warnings) == 0 {
		b.Fatalf("gather: %v", err)
	}
}

// peakRSS is the process's high-water resident memory (VmHWM), generation of the archive included.
func peakRSS() int64 { return procStatus("VmHWM:") }

// procStatus reads one memory figure of /proc/self/status, in bytes.
func procStatus(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
