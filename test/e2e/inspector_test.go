package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInspectorCLIInterop drives the stdio server with a client that is not mcp-go: the MCP Inspector's
// CLI (Node.js), as installed by `make tools`.
func TestInspectorCLIInterop(t *testing.T) {
	dir := os.Getenv("MCP_INSPECTOR_DIR")
	if dir == "" {
		t.Skip("MCP_INSPECTOR_DIR is not set: run through `make test`, which installs @modelcontextprotocol/inspector-cli")
	}
	modules := filepath.Join(dir, "node_modules")
	cli := filepath.Join(modules, ".bin", "mcp-inspector-cli")
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		full := append([]string{"--cli", env.serverBin, "--kubeconfig", env.hubKubeconfig}, args...)
		cmd := exec.CommandContext(ctx, cli, full...)
		// The CLI loads ../package.json relative to its working directory.
		cmd.Dir = modules
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if exit, ok := err.(*exec.ExitError); ok {
				stderr = string(exit.Stderr)
			}
			t.Fatalf("inspector %v: %v\n%s\n%s", args, err, out, stderr)
		}
		return string(out)
	}

	var list struct {
		Tools []struct{ Name string } `json:"tools"`
	}
	if err := json.Unmarshal([]byte(run("--method", "tools/list")), &list); err != nil {
		t.Fatalf("tools/list output is not JSON: %v", err)
	}
	found := false
	for _, tool := range list.Tools {
		found = found || tool.Name == "list_clusters"
	}
	if !found {
		t.Fatalf("list_clusters missing: %+v", list.Tools)
	}

	var call struct {
		Content []struct{ Text string } `json:"content"`
		IsError bool                    `json:"isError"`
	}
	if err := json.Unmarshal([]byte(run("--method", "tools/call", "--tool-name", "list_clusters")), &call); err != nil {
		t.Fatalf("tools/call output is not JSON: %v", err)
	}
	if call.IsError || len(call.Content) == 0 {
		t.Fatalf("list_clusters failed: %+v", call)
	}
	rows := tableRows(t, call.Content[0].Text)
	hubRow := false
	for _, r := range rows {
		hubRow = hubRow || (r["NAME"] == env.fleet.ManagedClusterNames()[0] && strings.EqualFold(r["AVAILABLE"], "true"))
	}
	if names := env.fleet.ManagedClusterNames(); len(rows) != len(names) || !hubRow {
		t.Fatalf("unexpected table from the inspector:\n%s", call.Content[0].Text)
	}
}
