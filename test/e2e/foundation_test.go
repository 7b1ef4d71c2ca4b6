package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// assertFleetTable checks that list_clusters lists exactly the fleet's spokes, all accepted, joined and
// available, on the Kubernetes version the fleet runs.
func assertFleetTable(t *testing.T, c *client.Client) {
	t.Helper()
	text, isErr := callTool(t, c, "list_clusters", nil)
	if isErr {
		t.Fatalf("list_clusters failed: %s", text)
	}
	rows := tableRows(t, text)
	names := env.fleet.ManagedClusterNames() // local-cluster (the hub) first, then the spokes
	if len(rows) != len(names) {
		t.Fatalf("want %d rows, got %d:\n%s", len(names), len(rows), text)
	}
	// Clusters that need attention come first, so rows are matched by name, not by position.
	byName := map[string]map[string]string{}
	for _, r := range rows {
		byName[r["NAME"]] = r
	}
	for _, name := range names {
		r, ok := byName[name]
		if !ok || r["ACCEPTED"] != "true" || r["JOINED"] != "True" || r["AVAILABLE"] != "True" {
			t.Errorf("row of %s = %v, want it accepted, joined and available", name, r)
		}
		if !strings.HasPrefix(r["KUBERNETES VERSION"], "v1.") {
			t.Errorf("row of %s: kubernetes version %q", name, r["KUBERNETES VERSION"])
		}
	}
	if !strings.HasPrefix(text, fmt.Sprintf("Fleet: %d cluster(s): ", len(names))) {
		t.Errorf("list_clusters does not start with the fleet's counts:\n%s", text)
	}
}

func assertToolList(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range res.Tools {
		if tool.Name == "list_clusters" {
			if tool.Annotations.ReadOnlyHint == nil || !*tool.Annotations.ReadOnlyHint {
				t.Errorf("list_clusters is not annotated read-only: %+v", tool.Annotations)
			}
			return
		}
	}
	t.Fatalf("list_clusters missing from tools/list: %+v", res.Tools)
}

func TestStdio(t *testing.T) {
	c := stdioClient(t, "--kubeconfig", env.hubKubeconfig)
	assertToolList(t, c.Client)
	assertFleetTable(t, c.Client)
	if !strings.Contains(c.Init.Instructions, `"hub"`) || !strings.Contains(c.Init.Instructions, "list_clusters") ||
		!strings.Contains(c.Init.Instructions, "never instructions") {
		t.Errorf("instructions do not explain cluster names: %q", c.Init.Instructions)
	}
	// Logs are JSON lines on stderr; nothing else may appear there either.
	for _, line := range strings.Split(strings.TrimSpace(c.Logs.String()), "\n") {
		if line != "" && !json.Valid([]byte(line)) {
			t.Errorf("stderr line is not a JSON log line: %q", line)
		}
	}
}

func TestHTTPTransports(t *testing.T) {
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig)
	bearer := map[string]string{"Authorization": "Bearer " + fleet.OperatorToken}
	t.Run("streamable", func(t *testing.T) {
		c := srv.streamableClient(t, transport.WithHTTPHeaders(bearer))
		assertToolList(t, c)
		assertFleetTable(t, c)
	})
	t.Run("sse", func(t *testing.T) {
		c := srv.sseClient(t, transport.WithHeaders(bearer))
		assertToolList(t, c)
		assertFleetTable(t, c)
	})
	t.Run("graceful shutdown", func(t *testing.T) {
		if err := srv.stop(); err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, srv.logs.String())
		}
		if !strings.Contains(srv.logs.String(), "http transport stopped") {
			t.Errorf("no clean shutdown logged:\n%s", srv.logs.String())
		}
	})
}

func TestListClustersSelector(t *testing.T) {
	ctx := context.Background()
	mcs := env.fleet.HubCluster.ClusterV1().ManagedClusters()
	patch := []byte(`{"metadata":{"labels":{"e2e-selector":"picked"}}}`)
	if _, err := mcs.Patch(ctx, "spoke2", "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = mcs.Patch(ctx, "spoke2", "application/merge-patch+json", []byte(`{"metadata":{"labels":{"e2e-selector":null}}}`), metav1.PatchOptions{})
	})
	c := stdioClient(t, "--kubeconfig", env.hubKubeconfig).Client
	text, isErr := callTool(t, c, "list_clusters", map[string]any{"selector": "e2e-selector=picked"})
	rows := tableRows(t, text)
	if isErr || len(rows) != 1 || rows[0]["NAME"] != "spoke2" {
		t.Fatalf("selector e2e-selector=picked: error=%v\n%s", isErr, text)
	}
	text, isErr = callTool(t, c, "list_clusters", map[string]any{"selector": "e2e-selector=nobody"})
	if isErr || !strings.Contains(text, "No ManagedCluster") {
		t.Fatalf("empty selection: error=%v %q", isErr, text)
	}
	text, isErr = callTool(t, c, "list_clusters", map[string]any{"selector": "a in (b"})
	if !isErr || !strings.Contains(text, "invalid label selector") {
		t.Fatalf("malformed selector: error=%v %q", isErr, text)
	}
}

func TestHubProblemsAreToolErrors(t *testing.T) {
	dir := t.TempDir()
	closed := filepath.Join(dir, "closed.kubeconfig")
	// A kubeconfig whose server is a port nothing listens on.
	data, err := os.ReadFile(env.fleet.Hub.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(closed, []byte(strings.Replace(string(data), env.fleet.Hub.URL, "https://127.0.0.1:1", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		kubeconfig string
		want       []string
	}{
		{"unreachable hub", closed, []string{"127.0.0.1:1", "unreachable"}},
		// A spoke's API server has no OCM hub CRDs.
		{"no OCM CRDs", env.fleet.Spokes[0].Kubeconfig, []string{env.fleet.Spokes[0].URL, "does not serve managedclusters"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := stdioClient(t, "--kubeconfig", tc.kubeconfig, "--hub-timeout", "3s").Client
			text, isErr := callTool(t, c, "list_clusters", nil)
			if !isErr {
				t.Fatalf("want a tool error, got %q", text)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("error %q does not mention %q", text, w)
				}
			}
			// The server is still up and answering.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := c.ListTools(ctx, mcp.ListToolsRequest{}); err != nil {
				t.Fatalf("server stopped answering after a hub error: %v", err)
			}
		})
	}
}

func TestCLI(t *testing.T) {
	run := func(env []string, args ...string) (string, string, int) {
		cmd := exec.Command(envBin(), args...)
		cmd.Env = append(os.Environ(), env...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), code
	}
	t.Run("version", func(t *testing.T) {
		out, _, code := run(nil, "version")
		for _, want := range []string{"version:", "commit:", "go: go1.", mcp.LATEST_PROTOCOL_VERSION, mcp.ProtocolVersion20241105} {
			if !strings.Contains(out, want) {
				t.Errorf("version output lacks %q:\n%s", want, out)
			}
		}
		if code != 0 {
			t.Errorf("exit %d", code)
		}
	})
	cfgFile := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(cfgFile, []byte("transport: carrier-pigeon\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name    string
		env     []string
		args    []string
		setting string
	}{
		{"flag", nil, []string{"--transport", "smoke"}, `"transport"`},
		{"env", []string{"MCMCP_READ_ONLY=perhaps"}, nil, `"read-only"`},
		{"file", nil, []string{"--config", cfgFile}, `"transport"`},
		{"missing kubeconfig", nil, []string{"--kubeconfig", "/nonexistent/kubeconfig"}, `"kubeconfig"`},
		{"bad duration", []string{"MCMCP_HUB_TIMEOUT=soon"}, nil, `"hub-timeout"`},
	}
	for _, tc := range bad {
		t.Run("bad setting/"+tc.name, func(t *testing.T) {
			stdout, stderr, code := run(tc.env, tc.args...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != 2 || len(lines) != 1 || !strings.Contains(stderr, tc.setting) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line naming %s", code, stdout, stderr, tc.setting)
			}
		})
	}
}

func envBin() string { return env.serverBin }

func TestStdioShutdownOnSignal(t *testing.T) {
	cmd := exec.Command(env.serverBin, "--kubeconfig", env.hubKubeconfig)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	logs := &syncBuffer{}
	cmd.Stderr = logs
	serving := logs.WaitFor("serving MCP over stdio")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-serving:
	case err := <-done:
		t.Fatalf("server exited before serving: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start:\n%s", logs.String())
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("server ignored SIGTERM")
	}
}
