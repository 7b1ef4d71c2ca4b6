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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// generateArchive writes a must-gather folder of n objects (pods, 90%; configmaps and events, the
// rest), about 10 KiB each, spread over 300 namespaces, with 997 distinct app labels.
func generateArchive(b *testing.B, dir string, n int) int64 {
	b.Helper()
	pad := strings.Repeat("x", 8*1024)
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

const podTemplate = `apiVersion: v1
kind: Pod
metadata:
  annotations:
    padding: %[4]s
  creationTimestamp: "2026-11-20T01:00:00Z"
  labels:
    app: app-%[1]d
    tier: backend
  name: %[3]s
  namespace: %[2]s
spec:
  containers:
  - image: registry.example/app:1
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
	b.ReportMetric(float64(size)/(1<<20), "archive-MB")
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
	kube := clientForB(b, a, "cluster1")
	ctx := context.Background()
	var lat []time.Duration
	for i := 0; i < 200; i++ {
		began := time.Now()
		pods, err := kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: fmt.Sprintf("app=app-%d", i%997)})
		if err != nil || len(pods.Items) == 0 {
			b.Fatalf("query: %v", err)
		}
		lat = append(lat, time.Since(began))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "query-p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "query-p99-ms")
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "sys-MB")
}
