package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/index"
)

// BenchmarkIndex2000Clusters ingests 2,000 simulated clusters of 100 pods each into the fleet index and
// queries it, on the embedded store and (when a PostgreSQL is installed) on PostgreSQL.
//
// What is simulated: the clusters. Each pod is generated in-process as an API server returns it
// (metadata with labels, owner and managedFields, a spec of two containers, a status with conditions
// and container states; one pod in 20 Pending with its init container in CrashLoopBackOff), and goes
// through the collectors' own path: index.RowOf, then Store.Apply in batches of 2,000 ops as the
// collectors' writer sends them. No API server, watch or network is involved.
//
//	go test -run '^$' -bench Index2000 -benchtime 1x -timeout 30m ./test/bench/
func BenchmarkIndex2000Clusters(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchIndex(b, "") })
	b.Run("postgres", func(b *testing.B) {
		dsn, stop, err := benchPostgres(b)
		if err != nil {
			b.Skip(err)
		}
		defer stop()
		benchIndex(b, dsn)
	})
}

const (
	benchClusters = 2000
	benchPods     = 100
)

func indexBenchPod(cluster, i int) map[string]any {
	name := fmt.Sprintf("web-%d-%05d", cluster, i)
	status := map[string]any{"phase": "Running", "podIP": fmt.Sprintf("10.%d.%d.%d", cluster%250, i/250, i%250), "startTime": "2026-12-01T09:00:00Z",
		"conditions": []any{
			map[string]any{"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-12-01T09:00:00Z"},
			map[string]any{"type": "Initialized", "status": "True", "lastTransitionTime": "2026-12-01T09:00:01Z"},
			map[string]any{"type": "ContainersReady", "status": "True", "lastTransitionTime": "2026-12-01T09:00:03Z"},
			map[string]any{"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-01T09:00:03Z"},
		},
		"containerStatuses": []any{
			map[string]any{"name": "web", "ready": true, "restartCount": 0, "image": "quay.io/fleet/web:1.4.2", "imageID": "quay.io/fleet/web@sha256:" + strings.Repeat("ab", 32),
				"containerID": "containerd://" + strings.Repeat("cd", 32), "state": map[string]any{"running": map[string]any{"startedAt": "2026-12-01T09:00:02Z"}}},
			map[string]any{"name": "proxy", "ready": true, "restartCount": 0, "image": "quay.io/fleet/proxy:2.0", "state": map[string]any{"running": map[string]any{"startedAt": "2026-12-01T09:00:02Z"}}},
		}}
	if i%20 == 7 {
		status["phase"] = "Pending"
		status["initContainerStatuses"] = []any{map[string]any{"name": "migrate", "ready": false, "restartCount": 4,
			"state":     map[string]any{"waiting": map[string]any{"reason": "CrashLoopBackOff", "message": "back-off 1m20s restarting failed container"}},
			"lastState": map[string]any{"terminated": map[string]any{"reason": "Error", "exitCode": 1}}}}
	}
	return map[string]any{"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": fmt.Sprintf("team-%d", i%5), "uid": fmt.Sprintf("%08d-0000-4000-8000-%012d", cluster, i),
			"resourceVersion": strconv.Itoa(1000 + i), "creationTimestamp": "2026-12-01T09:00:00Z",
			"labels":          map[string]any{"app": fmt.Sprintf("web-%d", i%10), "pod-template-hash": "5cf8868d49", "team": fmt.Sprintf("team-%d", i%5)},
			"ownerReferences": []any{map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": fmt.Sprintf("web-%d-5cf8868d49", i%10), "uid": "rs-uid", "controller": true}},
			"managedFields":   []any{map[string]any{"manager": "kube-controller-manager", "operation": "Update", "fieldsV1": map[string]any{"f:metadata": map[string]any{}}}}},
		"spec": map[string]any{"nodeName": fmt.Sprintf("node-%d", i%3), "serviceAccountName": "default", "restartPolicy": "Always",
			"initContainers": []any{map[string]any{"name": "migrate", "image": "quay.io/fleet/migrate:1.0"}},
			"containers": []any{
				map[string]any{"name": "web", "image": "quay.io/fleet/web:1.4.2", "ports": []any{map[string]any{"containerPort": 8080, "protocol": "TCP"}},
					"resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "128Mi"}, "limits": map[string]any{"memory": "256Mi"}},
					"env":       []any{map[string]any{"name": "LOG_LEVEL", "value": "info"}}},
				map[string]any{"name": "proxy", "image": "quay.io/fleet/proxy:2.0"},
			}},
		"status": status,
	}
}

func benchIndex(b *testing.B, dsn string) {
	ctx := context.Background()
	for n := 0; n < b.N; n++ {
		s, err := index.Open(ctx, index.Options{DSN: dsn, Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		began := time.Now()
		ops := make([]index.Op, 0, 2000)
		var payloadBytes int64
		for c := 0; c < benchClusters; c++ {
			cluster := fmt.Sprintf("cluster-%04d", c)
			for i := 0; i < benchPods; i++ {
				row, err := index.RowOf(cluster, "pods", "", "v1", "Pod", indexBenchPod(c, i))
				if err != nil {
					b.Fatal(err)
				}
				payloadBytes += int64(len(row.Payload))
				ops = append(ops, index.Op{Row: row, Epoch: 1})
				if len(ops) == cap(ops) {
					if err := s.Apply(ctx, ops); err != nil {
						b.Fatal(err)
					}
					ops = ops[:0]
				}
			}
		}
		if err := s.Apply(ctx, ops); err != nil {
			b.Fatal(err)
		}
		ingest := time.Since(began)
		states := make([]index.ClusterState, benchClusters)
		for c := range states {
			states[c] = index.ClusterState{Cluster: fmt.Sprintf("cluster-%04d", c), State: index.StateLive, Synced: time.Now()}
		}
		if err := s.SetClusters(ctx, states); err != nil {
			b.Fatal(err)
		}
		objects := float64(benchClusters * benchPods)
		size, err := s.Size(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)

		q := `select cluster, namespace, name from k8s_resource where kind = 'Pod' and payload->>'$.status.phase' = 'Pending'`
		init := `select cluster, namespace, name from k8s_resource where kind = 'Pod' and exists (select 1 from json_each(payload->'$.status.initContainerStatuses') c where c.value->>'$.state.waiting.reason' = 'CrashLoopBackOff')`
		if s.Dialect() == index.Postgres {
			q = `select cluster, namespace, name from k8s_resource where kind = 'Pod' and payload->'status'->>'phase' = 'Pending'`
			init = `select cluster, namespace, name from k8s_resource where kind = 'Pod' and exists (select 1 from jsonb_array_elements(payload->'status'->'initContainerStatuses') c where c->'state'->'waiting'->>'reason' = 'CrashLoopBackOff')`
		}
		all := index.Scope{All: true}
		some := index.Scope{}
		for c := 0; c < 100; c++ {
			some.Clusters = append(some.Clusters, fmt.Sprintf("cluster-%04d", c*20))
		}
		p50 := func(stmt string, scope index.Scope, wantMore int64) time.Duration {
			var took []time.Duration
			for i := 0; i < 9; i++ {
				res, err := s.Query(ctx, stmt, scope, 200, time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				if int64(len(res.Rows))+res.More != wantMore {
					b.Fatalf("%d rows and %d more, want %d", len(res.Rows), res.More, wantMore)
				}
				took = append(took, res.Elapsed)
			}
			sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
			return took[len(took)/2]
		}
		pending := int64(benchClusters * benchPods / 20)
		qAll := p50(q, all, pending)
		qInit := p50(init, all, pending)
		qSome := p50(q, some, pending/20)
		b.ReportMetric(objects/ingest.Seconds(), "objects/s")
		b.ReportMetric(float64(size)/(1<<20), "index-MB")
		b.ReportMetric(float64(payloadBytes)/(1<<20), "payload-MB")
		b.ReportMetric(float64(qAll.Microseconds())/1000, "p50-phase-ms")
		b.ReportMetric(float64(qInit.Microseconds())/1000, "p50-init-ms")
		b.ReportMetric(float64(qSome.Microseconds())/1000, "p50-phase-100clusters-ms")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
		b.Logf("%s: %d objects in %s; store %d MiB (payload %d MiB); JSON-path filter p50 %s over all, %s with json_each, %s over 100 clusters; heap %d MiB",
			s.Dialect(), int(objects), ingest.Round(time.Millisecond), size>>20, payloadBytes>>20, qAll, qInit, qSome, ms.HeapInuse>>20)
		s.Close()
	}
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// benchPostgres starts the distribution's PostgreSQL in a temp folder (as the postgres user when run as
// root), or says why it cannot.
func benchPostgres(b *testing.B) (string, func(), error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	bin := ""
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			bin = d
			break
		}
	}
	if bin == "" {
		return "", nil, fmt.Errorf("no PostgreSQL installed (apt-get install -y postgresql)")
	}
	dir, err := os.MkdirTemp("", "bench-postgres-")
	if err != nil {
		return "", nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", nil, err
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", nil, err
		}
	}
	cmd := func(name string, args ...string) *exec.Cmd {
		c := exec.Command(filepath.Join(bin, name), args...)
		c.Dir, c.Env = dir, []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
		if cred != nil {
			c.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		return c
	}
	data := filepath.Join(dir, "data")
	if out, err := cmd("initdb", "-D", data, "-U", "mcmcp", "--auth=trust", "--no-sync").CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	var log bytes.Buffer
	p := cmd("postgres", "-D", data, "-p", strconv.Itoa(port), "-h", "127.0.0.1", "-k", dir, "-c", "fsync=off", "-c", "shared_buffers=128MB")
	p.Stdout, p.Stderr = &log, &log
	if err := p.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = p.Process.Signal(syscall.SIGINT)
		_ = p.Wait()
		_ = os.RemoveAll(dir)
	}
	for i := 0; i < 100; i++ {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
			_ = c.Close()
			time.Sleep(500 * time.Millisecond)
			return fmt.Sprintf("postgres://mcmcp@127.0.0.1:%d/postgres?sslmode=disable", port), stop, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("postgres did not start: %s", log.String())
}
