package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics"
	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm/diagnose"
)

// TestToolSnapshots keeps one snapshot of every tool definition (name, description, schemas,
// annotations) per mode in testdata: a change to what clients see shows in review. Run
// `go test ./tools -run TestToolSnapshots -update` after changing a tool on purpose.
func TestToolSnapshots(t *testing.T) {
	engine, books := engineAndRunbooks(t)
	set, err := metrics.NewSet(metrics.Sources{})
	if err != nil {
		t.Fatal(err)
	}
	live := Deps{Source: fixtureFleet(), Clusters: noClusters{}, Kubectl: engine, Runbooks: books, MustGatherDir: "/must-gather", Metrics: set}
	ro := live
	ro.ReadOnly = true
	ro.Index = emptyIndex(t) // the fleet index, as with --index
	offline := Deps{Source: fixtureFleet(), Clusters: noClusters{}, Kubectl: engine, Runbooks: books, ReadOnly: true, Offline: true, Archive: &mustgather.Archive{}, Index: emptyIndex(t)}
	for _, m := range []struct {
		name string
		deps Deps
	}{{"live", live}, {"read-only", ro}, {"offline", offline}} {
		t.Run(m.name, func(t *testing.T) {
			tools := toolsOf(t, m.deps)
			list := make([]mcp.Tool, 0, len(tools))
			for _, tool := range tools {
				list = append(list, tool)
				if tool.OutputSchema.Type != "" && tool.OutputSchema.Type != "object" {
					t.Errorf("%s: output schema of type %q, want object", tool.Name, tool.OutputSchema.Type)
				}
			}
			sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
			data, err := json.MarshalIndent(list, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "tools_"+m.name+".json", string(data)+"\n")
		})
	}
}

// TestStructuredResultsMatchTheirSchemas calls the tools that declare an output schema through a server
// that validates every result against it (as the server runs): the call succeeds, and its data says
// what its text says.
func TestStructuredResultsMatchTheirSchemas(t *testing.T) {
	s := server.NewMCPServer("test", "0", server.WithOutputSchemaValidation())
	Register(s, fixtureDeps())
	call := func(name string, args map[string]any) mcp.CallToolResult {
		t.Helper()
		req, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": map[string]any{"name": name, "arguments": args}})
		out, err := json.Marshal(s.HandleMessage(context.Background(), req))
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			Result mcp.CallToolResult `json:"result"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		if resp.Result.IsError {
			t.Fatalf("%s: error result: %s", name, out)
		}
		return resp.Result
	}
	res := call("list_clusters", map[string]any{})
	var fleet FleetData
	raw, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(raw, &fleet); err != nil {
		t.Fatal(err)
	}
	clusters, _ := fixtureFleet().ManagedClusters(context.Background(), labels.Everything())
	if fleet.Total != len(clusters) || len(fleet.Clusters) != len(clusters) || fleet.Healthy+fleet.Attention+fleet.Unknown != fleet.Total {
		t.Errorf("structured fleet %+v, want %d clusters", fleet, len(clusters))
	}
	for i, c := range fleet.Clusters {
		if c.Name == "" || c.State == "" || (c.State == "attention") != (len(c.Reasons) > 0) {
			t.Errorf("cluster %d: %+v", i, c)
		}
		if i > 0 && fleet.Clusters[i-1].State != "attention" && c.State == "attention" {
			t.Errorf("%s needs attention but comes after %s", c.Name, fleet.Clusters[i-1].Name)
		}
	}
	if none := call("list_clusters", map[string]any{"selector": "env=none"}); none.StructuredContent == nil {
		t.Error("an empty selection has no structured content")
	}
	for _, name := range []string{"east-prod", "west-stage", "new-edge"} {
		res := call("cluster_status", map[string]any{"cluster": name})
		var st StatusData
		raw, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		text := res.Content[0].(mcp.TextContent).Text
		if st.Cluster != name || st.Verdict == "" || !strings.HasPrefix(text, "Cluster "+name+": "+st.Verdict+"\nCause: "+st.Cause+"\n") {
			t.Errorf("%s: data %+v against text %.200q", name, st, text)
		}
	}
}

// The findings a diagnosis holds as data are cut to the answer's size, keeping the first (most probable
// cause), and the cut is counted.
func TestDiagnosisDataIsBounded(t *testing.T) {
	rep := &diagnose.Report{Target: diagnose.Target{Cluster: "spoke1"}, Checked: []string{"lease"}}
	for i := range 300 {
		rep.Findings = append(rep.Findings, diagnose.Finding{ID: fmt.Sprintf("f%d", i), Severity: diagnose.Severity(i % 3), Title: strings.Repeat("x", 200)})
	}
	d := diagnosisData(rep, 8<<10)
	if d.Subject != "cluster spoke1" || d.Verdict != "findings" || d.Critical+d.Warning+d.Info != 300 || d.Omitted == 0 ||
		len(d.Findings)+d.Omitted != 300 || d.Findings[0].ID != "f0" {
		t.Errorf("subject %q verdict %q counts %d/%d/%d, %d findings, %d omitted", d.Subject, d.Verdict, d.Critical, d.Warning, d.Info, len(d.Findings), d.Omitted)
	}
	if raw, _ := json.Marshal(d.Findings); len(raw) > 9<<10 {
		t.Errorf("findings are %d bytes of JSON", len(raw))
	}
	if ok := diagnosisData(&diagnose.Report{}, 8<<10); ok.Verdict != "ok" || ok.Findings == nil || ok.Checked == nil {
		t.Errorf("no finding: %+v", ok)
	}
}

func TestRunData(t *testing.T) {
	runs := []clusterRun{
		{cluster: "a", res: kubectl.Result{Stdout: "x", Capped: true}},
		{cluster: "b", res: kubectl.Result{Err: errors.New("connection refused\nmore")}},
		{cluster: "c", res: kubectl.Result{Err: fmt.Errorf("late: %w", kubectl.ErrTimeout)}},
		{cluster: "d", res: kubectl.Result{Err: &auth.DeniedError{Caller: "alice", Cluster: "d", What: "read"}}},
	}
	d := runData(runs, map[string]string{"e": "not available"})
	want := []ClusterOutcome{{"b", "failed", "connection refused more"}, {"c", "timed out", "late: timed out"}, {"d", "denied", d.NotOK[2].Error}, {"e", "skipped", "not available"}}
	if d.Clusters != 5 || d.OK != 1 || d.Failed != 1 || d.TimedOut != 1 || d.Denied != 1 || d.Skipped != 1 || len(d.Capped) != 1 || fmt.Sprint(d.NotOK) != fmt.Sprint(want) {
		t.Errorf("%+v", d)
	}
}
