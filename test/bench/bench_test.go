// Package bench holds benchmarks that need real parts: a real hub API server and the built server binary
// driven by a real MCP client. Run them with `make bench`.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
	clusterv1beta2 "open-cluster-management.io/api/cluster/v1beta2"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// shared is set up once per `go test` process: benchmarks run their function several times.
var shared struct {
	hub       *fleet.Fleet
	serverBin string
	tmp       string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.hub != nil {
		shared.hub.Stop()
	}
	if shared.tmp != "" {
		os.RemoveAll(shared.tmp)
	}
	os.Exit(code)
}

func setup(b *testing.B) {
	b.Helper()
	if shared.hub != nil {
		return
	}
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "mcmcp-bench-")
	if err != nil {
		b.Fatal(err)
	}
	shared.tmp = tmp
	shared.serverBin = os.Getenv("MCMCP_SERVER_BIN")
	if shared.serverBin == "" {
		shared.serverBin = filepath.Join(tmp, "multicluster-mcp-server")
		cmd := exec.Command("go", "build", "-o", shared.serverBin, "./cmd/multicluster-mcp-server")
		cmd.Dir = fleet.ModuleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("build: %v\n%s", err, out)
		}
	}
	if shared.hub, err = fleet.Start(ctx, fleet.Options{Spokes: 1, WithoutClusterPermissionCRD: true}); err != nil {
		b.Fatal(err)
	}
}

// registerClusters creates n synthetic ManagedClusters with a realistic status (the registration
// controller leaves clusters it has not accepted alone).
func registerClusters(b *testing.B, n int) {
	b.Helper()
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		set := &clusterv1beta2.ManagedClusterSet{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("set-%d", i)}}
		if _, err := shared.hub.HubCluster.ClusterV1beta2().ManagedClusterSets().Create(ctx, set, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			b.Fatal(err)
		}
	}
	mcs := shared.hub.HubCluster.ClusterV1().ManagedClusters()
	existing, err := mcs.List(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for i := len(existing.Items); i < n; i++ {
		mc := &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{
			Name:   fmt.Sprintf("bench-%04d", i),
			Labels: map[string]string{"cluster.open-cluster-management.io/clusterset": fmt.Sprintf("set-%d", i%10), "region": []string{"eu", "us", "ap"}[i%3]},
		}}
		if _, err := mcs.Create(ctx, mc, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		// The registration controller edits new clusters too: retry on conflict.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := mcs.Get(ctx, mc.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			now := metav1.Now()
			cur.Status.Version.Kubernetes = "v1.36.3"
			cur.Status.Conditions = append(cur.Status.Conditions,
				metav1.Condition{Type: clusterv1.ManagedClusterConditionJoined, Status: metav1.ConditionTrue, Reason: "ManagedClusterJoined", LastTransitionTime: now},
				metav1.Condition{Type: clusterv1.ManagedClusterConditionAvailable, Status: metav1.ConditionTrue, Reason: "ManagedClusterAvailable", LastTransitionTime: now})
			_, err = mcs.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// stdioServer starts the server binary over stdio and keeps its process, to read its RSS.
func stdioServer(b *testing.B, args ...string) (*client.Client, *exec.Cmd) {
	b.Helper()
	var cmd *exec.Cmd
	tr := transport.NewStdioWithOptions(shared.serverBin, nil, args, transport.WithCommandFunc(
		func(ctx context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
			cmd = exec.CommandContext(ctx, command, args...)
			cmd.Env = append(os.Environ(), env...)
			return cmd, nil
		}))
	c := client.NewClient(tr)
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	if _, err := c.Initialize(context.Background(), mcp.InitializeRequest{}); err != nil {
		b.Fatal(err)
	}
	return c, cmd
}

func call(b *testing.B, c *client.Client, tool string, args map[string]any) string {
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = tool, args
	res, err := c.CallTool(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	if res.IsError {
		b.Fatalf("%s: %v", tool, res.Content)
	}
	return res.Content[0].(mcp.TextContent).Text
}

func rssBytes(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// cpuTime is the user plus system CPU time a process has used so far (0 when /proc cannot tell).
func cpuTime(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(fields[12], 10, 64) // field 15
	const clockTicksPerSecond = 100                  // USER_HZ on every Linux architecture Go supports
	return time.Duration(utime+stime) * time.Second / clockTicksPerSecond
}

// fleetCPUTime is the CPU time every process of the test fleet has used so far.
func fleetCPUTime() time.Duration {
	var total time.Duration
	for _, p := range shared.hub.Processes() {
		if pid := p.PID(); pid > 0 {
			total += cpuTime(pid)
		}
	}
	return total
}

// reportCPU adds the CPU time per operation of the server and of the fleet since the given marks: on a
// machine with few cores it tells CPU-bound work from waiting.
func reportCPU(b *testing.B, serverPID int, serverMark, fleetMark time.Duration) {
	perOp := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(perOp(cpuTime(serverPID)-serverMark), "server-cpu-ms/op")
	b.ReportMetric(perOp(fleetCPUTime()-fleetMark), "fleet-cpu-ms/op")
}

// timeCalls runs one call b.N times, timed one by one, and reports their p50 and p99.
func timeCalls(b *testing.B, run func()) {
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		began := time.Now()
		run()
		lat = append(lat, time.Since(began))
	}
	b.StopTimer()
	reportLatencies(b, lat)
}

// reportLatencies adds p50 and p99 (milliseconds) to the benchmark's metrics.
func reportLatencies(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pick := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pick(0.50), "p50-ms")
	b.ReportMetric(pick(0.99), "p99-ms")
}

// BenchmarkListClusters1000 measures list_clusters over MCP (stdio) with 1000 ManagedClusters on a real
// hub. Targets: p50 under 50 ms, server RSS under 200 MB.
func BenchmarkListClusters1000(b *testing.B) {
	setup(b)
	registerClusters(b, 1000)
	c, cmd := stdioServer(b, "--kubeconfig", shared.hub.Hub.Kubeconfig, "--read-only")
	if rows := strings.Count(call(b, c, "list_clusters", map[string]any{"clusterset": "set-3"}), "\n") - 1; rows != 100 {
		b.Fatalf("clusterset set-3 lists %d clusters, want 100", rows)
	}
	timeCalls(b, func() { call(b, c, "list_clusters", nil) })
	b.ReportMetric(float64(rssBytes(cmd.Process.Pid))/(1<<20), "server-RSS-MB")
}
