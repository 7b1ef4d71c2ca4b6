package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// TestConformance runs the server scenarios of @modelcontextprotocol/conformance (Node 22, installed by
// `make tools`) against the HTTP transport, with the expected failures of test/conformance, each of which
// carries its reason. The suite runs without credentials, so authentication is off for this server.
func TestConformance(t *testing.T) {
	node, suite := os.Getenv("CONFORMANCE_NODE"), os.Getenv("CONFORMANCE_JS")
	if node == "" || suite == "" {
		t.Skip("CONFORMANCE_NODE and CONFORMANCE_JS are not set: run through `make test`, which installs Node 22 and @modelcontextprotocol/conformance")
	}
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--insecure-no-auth", "--rate-limit", "100000", "--read-only", "--msa-name", roMSA)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	baseline := filepath.Join(fleet.ModuleRoot(), "test", "conformance", "expected-failures.yaml")
	cmd := exec.CommandContext(ctx, node, suite, "server", "--url", srv.base+"/mcp", "--suite", "all", "--expected-failures", baseline, "-o", t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("conformance:\n%s", lastLines(string(out), 50))
	if err != nil {
		t.Fatalf("conformance failed: %v", err)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
