package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// TestRunbooksAndPrompts: the runbooks are MCP resources (the team's beside the built-in ones), the
// search finds them, and the prompts set the agent up.
func TestRunbooksAndPrompts(t *testing.T) {
	dir := t.TempDir()
	team := "# Spokes behind the emea VPN\n\nWhen the emea VPN flaps, spokes there go Unknown.\n\n## Fixes\nRestart vpn-gateway on the spoke.\n"
	if err := os.WriteFile(filepath.Join(dir, "emea-vpn.md"), []byte(team), 0o600); err != nil {
		t.Fatal(err)
	}
	s := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA, "--runbooks", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.ListResources(ctx, mcp.ListResourcesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	uris := map[string]bool{}
	for _, r := range res.Resources {
		uris[r.URI] = r.MIMEType == "text/markdown"
	}
	for _, want := range []string{"runbook://ocm/cluster-unknown", "runbook://ocm/agent-hub-credentials-invalid", "runbook://ocm/addon-not-created",
		"runbook://ocm/addon-unavailable", "runbook://ocm/serviceaccount-token-missing", "runbook://ocm/manifestwork-failed",
		"runbook://ocm/placement-no-decisions", "runbook://ocm/spoke-api-unreadable", "runbook://team/emea-vpn"} {
		if !uris[want] {
			t.Errorf("resource %s missing (or not markdown): %v", want, uris)
		}
	}
	req := mcp.ReadResourceRequest{}
	req.Params.URI = "runbook://team/emea-vpn"
	read, err := s.ReadResource(ctx, req)
	if err != nil || len(read.Contents) != 1 || !strings.Contains(read.Contents[0].(mcp.TextResourceContents).Text, "vpn-gateway") {
		t.Errorf("reading the team's runbook: %v %+v", err, read)
	}
	text, isErr := callTool(t, s.Client, "search_runbooks", map[string]any{"query": "lease not renewed cluster Unknown"})
	if isErr || !strings.HasPrefix(text, "## Cluster status Unknown") || !strings.Contains(text, "runbook://ocm/cluster-unknown") {
		t.Errorf("search: %v\n%s", isErr, text)
	}
	text, _ = callTool(t, s.Client, "search_runbooks", map[string]any{"query": "emea vpn flaps"})
	if !strings.Contains(strings.SplitN(text, "\n", 2)[0], "runbook://team/emea-vpn") {
		t.Errorf("the team's runbook is not found first:\n%s", text)
	}
	prompts, err := s.ListPrompts(ctx, mcp.ListPromptsRequest{})
	if err != nil || len(prompts.Prompts) != 4 {
		t.Fatalf("prompts: %v %+v", err, prompts)
	}
	preq := mcp.GetPromptRequest{}
	preq.Params.Name, preq.Params.Arguments = "troubleshoot_cluster", map[string]string{"cluster": "spoke2"}
	p, err := s.GetPrompt(ctx, preq)
	if err != nil || len(p.Messages) != 1 {
		t.Fatalf("get prompt: %v", err)
	}
	body := p.Messages[0].Content.(mcp.TextContent).Text
	for _, want := range []string{"cluster_status with cluster=spoke2", "diagnose with cluster=spoke2", "search_runbooks", "asking the user first", "kubectl_write"} {
		if !strings.Contains(body, want) {
			t.Errorf("troubleshoot_cluster lacks %q:\n%s", want, body)
		}
	}
}
