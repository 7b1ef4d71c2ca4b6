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

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// shared is set up once per `go test` process: benchmarks run their function several times.
var shared struct {
	hub       *fleet.Fleet
	serverBin string
	tmp       string
	// proxies stand for distant clusters (latency_bench_test.go), started once.
	proxies *latencyProxies
	// grants reports the simulated clusters' grant ManifestWorks applied (simgrants_test.go).
	grants *simulatedGrants
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.proxies != nil {
		shared.proxies.stop()
	}
	if shared.grants != nil {
		shared.grants.stop()
	}
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
