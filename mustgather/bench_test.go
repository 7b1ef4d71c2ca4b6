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

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// generateArchive writes a must-gather folder of n objects (pods, 90%; configmaps and events, the
// rest), about 10 KiB each, spread over 300 namespaces, with 997 distinct app labels.
func generateArchive(b *testing.B, dir string, n int) int64 {
	b.Helper()
	pad := strings.Repeat("x", 10*1024+512)
	var total int64
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("ns-%03d", i%300)
		var path, body string
		switch {
		case i%10 < 9:
			name := fmt.Sprintf("pod-%06d", i)
			path = filepath.Join(dir, "cluster1", "namespaces", ns, "core", "pods", name+".yaml")
			body = fmt.Sprintf(podTemplate, i%997, ns, name, pad, i%7)
		case i%10 == 9 && i%20 == 9:
			name := fmt.Sprintf("cm-%06d", i)
			path = filepath.Join(dir, "cluster1", "namespaces", ns, "core", "configmaps", name+".yaml")
			body = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  blob: %s\n", name, ns, pad)
		default:
			name := fmt.Sprintf("ev-%06d", i)
			path = filepath.Join(dir, "cluster1", "namespaces", ns, "core", "events", name+".yaml")
			body = fmt.Sprintf("apiVersion: v1\nkind: Event\nmetadata:\n  name: %s\n  namespace: %s\ninvolvedObject:\n  kind: Pod\n  name: pod-%06d\nreason: BackOff\ntype: Warning\nmessage: %s\n", name, ns, i-1, pad[:2000])
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
		n, _ := strconv.Atoi(s)
		return n
	}
	return 100_000
}

// BenchmarkOpenLargeArchive: open and index an archive of 100,000 objects (about 1 GB), then time
// `get pods -A -l app=x` against it through the archive's API. Reports open time, peak heap and p50/p99.
// Targets: open under 10 s, p50 under 20 ms.
func BenchmarkOpenLargeArchive(b *testing.B) {
	dir := b.TempDir()
	n := benchObjects(b)
	size := generateArchive(b, dir, n)
	b.ResetTimer()
	var a *Archive
	var openTime time.Duration
	for i := 0; i < b.N; i++ {
		if a != nil {
			a.Close()
		}
		runtime.GC()
		began := time.Now()
		var err error
		a, err = Open(dir, OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		openTime = time.Since(began)
	}
	b.StopTimer()
	defer a.Close()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(openTime.Seconds(), "open-s")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
	// `kubectl get pods -A -l app=x` the way the kubectl tool runs it offline: the in-process kubectl over
	// the archive's API (a table with metadata rows).
	engine, err := kubectl.NewEngine(kubectl.Options{WorkDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := Connector{Archive: a}.RESTConfig(context.Background(), ocm.Target{Name: "cluster1"})
	if err != nil {
		b.Fatal(err)
	}
	query := func(label string) time.Duration {
		words, _ := kubectl.Split("get pods -A -l app=" + label)
		plan, err := kubectl.Check(words, kubectl.ReadTool, false)
		if err != nil {
			b.Fatal(err)
		}
		began := time.Now()
		res := engine.Run(context.Background(), kubectl.Request{Key: "cluster1", Config: cfg, Plan: plan, Timeout: time.Minute})
		if res.Err != nil || !strings.Contains(res.Stdout, "pod-") {
			b.Fatalf("query: %v %s", res.Err, res.Stderr)
		}
		return time.Since(began)
	}
	// The first time a set of objects is asked for, their files are parsed; then they are cached.
	var cold []time.Duration
	for i := 1; i <= 20; i++ {
		cold = append(cold, query(fmt.Sprintf("app-%d", i)))
	}
	sort.Slice(cold, func(i, j int) bool { return cold[i] < cold[j] })
	b.ReportMetric(float64(cold[len(cold)/2].Microseconds())/1000, "first-query-p50-ms")
	var lat []time.Duration
	for i := 0; i < 200; i++ {
		lat = append(lat, query("app-0"))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "query-p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "query-p99-ms")
	b.ReportMetric(float64(size)/(1<<20), "archive-MB")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
}

// peakRSS is the process's high-water resident memory (VmHWM), generation of the archive included.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
