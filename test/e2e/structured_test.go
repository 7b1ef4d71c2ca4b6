package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// TestStructuredResults: a client that reads structure gets list_clusters, cluster_status, diagnose and
// a kubectl fan-out as data that agrees with the fleet, each tool declaring the schema its data
// follows (the server checks every result against it).
func TestStructuredResults(t *testing.T) {
	c := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA).Client
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	schemas := map[string]bool{}
	for _, tool := range list.Tools {
		schemas[tool.Name] = tool.OutputSchema.Type == "object"
	}
	for _, name := range []string{"list_clusters", "cluster_status", "diagnose", "kubectl"} {
		if !schemas[name] {
			t.Errorf("%s declares no output schema", name)
		}
	}
	data := func(name string, args map[string]any, into any) string {
		t.Helper()
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = name, args
		res, err := c.CallTool(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		text := ""
		if len(res.Content) > 0 {
			if tc, ok := mcp.AsTextContent(res.Content[0]); ok {
				text = tc.Text
			}
		}
		if res.IsError || res.StructuredContent == nil {
			t.Fatalf("%s: error %v, structured %v:\n%s", name, res.IsError, res.StructuredContent != nil, text)
		}
		raw, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, raw)
		}
		return text
	}

	var fleetData struct {
		Total, Healthy, Attention, Unknown int
		Clusters                           []struct{ Name, State, Available, Joined string }
	}
	data("list_clusters", map[string]any{}, &fleetData)
	names := map[string]bool{}
	for _, cl := range fleetData.Clusters {
		names[cl.Name] = true
		if cl.State == "" || cl.Available == "" || cl.Joined == "" {
			t.Errorf("cluster row %+v", cl)
		}
	}
	if fleetData.Total != 4 || fleetData.Healthy+fleetData.Attention+fleetData.Unknown != 4 || !names["local-cluster"] || !names["spoke1"] || !names["spoke3"] {
		t.Errorf("list_clusters data: %+v", fleetData)
	}

	var status struct {
		Cluster, Verdict, Cause string
		Conditions              []struct{ Type, Status string }
		Live                    *struct{ NodesReady, NodesTotal int }
	}
	text := data("cluster_status", map[string]any{"cluster": "spoke1"}, &status)
	available := false
	for _, cond := range status.Conditions {
		available = available || cond.Type == "ManagedClusterConditionAvailable"
	}
	if status.Cluster != "spoke1" || !strings.HasPrefix(text, "Cluster spoke1: "+status.Verdict) || !available || status.Live == nil || status.Live.NodesTotal == 0 {
		t.Errorf("cluster_status data %+v against:\n%.300s", status, text)
	}

	var diag struct {
		Subject, Verdict string
		Findings         []struct {
			ID, Severity, Subject string
			Evidence              []string
		}
		Checked []string
	}
	data("diagnose", map[string]any{"cluster": "spoke1"}, &diag)
	crash := false
	for _, f := range diag.Findings {
		crash = crash || (f.ID == "pod-crashlooping" && len(f.Evidence) > 0)
	}
	if diag.Subject != "cluster spoke1" || diag.Verdict != "findings" || !crash || len(diag.Checked) == 0 {
		t.Errorf("diagnose data: %+v", diag)
	}

	var run struct {
		Clusters, OK, Failed, Denied, TimedOut, Skipped int
	}
	data("kubectl", map[string]any{"cluster": "spoke1,spoke2", "command": "get namespaces"}, &run)
	if run.OK != 2 || run.Clusters != 2 || run.Failed+run.Denied+run.TimedOut+run.Skipped != 0 {
		t.Errorf("kubectl fan-out data: %+v", run)
	}
}

// TestCompletions: a client completing the troubleshoot_workload prompt gets the cluster names, then the
// namespaces of the cluster it chose, read from that cluster; runbook names complete from the template.
func TestCompletions(t *testing.T) {
	c := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA).Client
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	complete := func(ref any, name, value string, args map[string]string) []string {
		t.Helper()
		req := mcp.CompleteRequest{}
		req.Params.Ref = ref
		req.Params.Argument = mcp.CompleteArgument{Name: name, Value: value}
		req.Params.Context = mcp.CompleteContext{Arguments: args}
		res, err := c.Complete(ctx, req)
		if err != nil {
			t.Fatalf("complete %s=%q: %v", name, value, err)
		}
		return res.Completion.Values
	}
	prompt := mcp.PromptReference{Type: "ref/prompt", Name: "troubleshoot_workload"}
	if got := complete(prompt, "cluster", "spo", nil); strings.Join(got, ",") != "spoke1,spoke2,spoke3" {
		t.Errorf("clusters spo*: %v", got)
	}
	got := complete(prompt, "namespace", "", map[string]string{"cluster": "spoke1"})
	if !slices.Contains(got, "kube-system") || !slices.Contains(got, "default") {
		t.Errorf("namespaces of spoke1: %v", got)
	}
	if got := complete(prompt, "namespace", "kube-", map[string]string{"cluster": "spoke1"}); len(got) == 0 || !allPrefixed(got, "kube-") {
		t.Errorf("namespaces kube-* of spoke1: %v", got)
	}
	tmpl := mcp.ResourceReference{Type: "ref/resource", URI: "runbook://{source}/{name}"}
	if got := complete(tmpl, "name", "pod-", map[string]string{"source": "ocm"}); !slices.Contains(got, "pod-crashloop") {
		t.Errorf("runbooks pod-*: %v", got)
	}
}

func allPrefixed(values []string, prefix string) bool {
	for _, v := range values {
		if !strings.HasPrefix(v, prefix) {
			return false
		}
	}
	return true
}
