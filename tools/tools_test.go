package tools

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"k8s.io/client-go/rest"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/runbooks"
	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// noClusters satisfies Connector for tests that only look at tool definitions.
type noClusters struct{}

func (noClusters) RESTConfig(context.Context, ocm.Target) (*rest.Config, error) { return nil, nil }
func (noClusters) Provisioned(string) bool                                      { return false }
func (noClusters) CredentialState(context.Context, string) []string             { return nil }

func toolsOf(t *testing.T, d Deps) map[string]mcp.Tool {
	t.Helper()
	s := server.NewMCPServer("test", "0")
	Register(s, d)
	out := map[string]mcp.Tool{}
	for name, st := range s.ListTools() {
		out[name] = st.Tool
	}
	return out
}

// engineAndRunbooks gives what the kubectl and runbook tools need to be registered.
func engineAndRunbooks(t *testing.T) (*kubectl.Engine, *runbooks.Set) {
	t.Helper()
	engine, err := kubectl.NewEngine(kubectl.Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	books, err := runbooks.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return engine, books
}

// TestToolDefinitions checks every tool in every mode: which tools exist, snake_case names, a title and
// a description, every annotation set, and read-only mode offering read-only tools only.
func TestToolDefinitions(t *testing.T) {
	engine, books := engineAndRunbooks(t)
	set, err := metrics.NewSet(metrics.Sources{})
	if err != nil {
		t.Fatal(err)
	}
	live := Deps{Source: fixtureFleet(), Clusters: noClusters{}, Kubectl: engine, Runbooks: books, MustGatherDir: t.TempDir(), Metrics: set}
	ro := live
	ro.ReadOnly = true
	offline := Deps{Source: fixtureFleet(), Clusters: noClusters{}, Kubectl: engine, Runbooks: books, ReadOnly: true, Offline: true, Archive: &mustgather.Archive{}}
	modes := []struct {
		name string
		deps Deps
		want []string
	}{
		{"live", live, []string{"cluster_status", "diagnose", "fleet_dashboard", "kubectl", "kubectl_write", "list_clusters", "metrics_alerts", "metrics_query", "metrics_series", "must_gather", "search_runbooks"}},
		{"read-only", ro, []string{"cluster_status", "diagnose", "fleet_dashboard", "kubectl", "list_clusters", "metrics_alerts", "metrics_query", "metrics_series", "search_runbooks"}},
		{"offline", offline, []string{"cluster_status", "diagnose", "fleet_dashboard", "kubectl", "list_clusters", "metrics_alerts", "must_gather_summary", "search_runbooks"}},
	}
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			tools := toolsOf(t, m.deps)
			var names []string
			for n := range tools {
				names = append(names, n)
			}
			sort.Strings(names)
			if strings.Join(names, ",") != strings.Join(m.want, ",") {
				t.Fatalf("tools %v, want %v", names, m.want)
			}
			for name, tool := range tools {
				a := tool.Annotations
				if !snake.MatchString(name) || a.Title == "" || len(tool.Description) < 40 {
					t.Errorf("%s: name, title or description missing", name)
				}
				if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil {
					t.Errorf("%s: an annotation is not set: %+v", name, a)
					continue
				}
				if m.deps.ReadOnly && !*a.ReadOnlyHint {
					t.Errorf("%s is offered in read-only mode but is not read-only", name)
				}
				if *a.ReadOnlyHint && *a.DestructiveHint {
					t.Errorf("%s is both read-only and destructive", name)
				}
			}
		})
	}
}

// TestREADMEDocumentsEveryTool keeps the README's tool table in step with the tools the server offers:
// one row per tool, in the table itself (a blank line would end it), with the tool's annotations.
func TestREADMEDocumentsEveryTool(t *testing.T) {
	engine, books := engineAndRunbooks(t)
	set, err := metrics.NewSet(metrics.Sources{})
	if err != nil {
		t.Fatal(err)
	}
	all := toolsOf(t, Deps{Source: fixtureFleet(), Clusters: noClusters{}, Kubectl: engine, Runbooks: books, MustGatherDir: t.TempDir(), Metrics: set})
	for name, tool := range toolsOf(t, Deps{Source: fixtureFleet(), Clusters: noClusters{}, Kubectl: engine, Offline: true, Archive: &mustgather.Archive{}, Index: emptyIndex(t)}) {
		all[name] = tool
	}
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := readmeToolRows(string(data))
	for name, tool := range all {
		row, ok := rows[name]
		if !ok {
			t.Errorf("the README's tool table has no row for %s", name)
			continue
		}
		annotations := row[len(row)-1]
		readOnly := strings.Contains(annotations, "read-only") && !strings.Contains(annotations, "not read-only")
		if *tool.Annotations.ReadOnlyHint != readOnly {
			t.Errorf("README row %s says %q, but ReadOnlyHint is %v", name, annotations, *tool.Annotations.ReadOnlyHint)
		}
		if *tool.Annotations.DestructiveHint != (strings.Contains(annotations, "destructive") && !strings.Contains(annotations, "not destructive")) {
			t.Errorf("README row %s says %q, but DestructiveHint is %v", name, annotations, *tool.Annotations.DestructiveHint)
		}
	}
	for name := range rows {
		if _, ok := all[name]; !ok {
			t.Errorf("the README documents a tool %s that the server does not offer", name)
		}
	}
}

// readmeToolRows returns the cells of each row of the README's tool table, by tool name.
func readmeToolRows(readme string) map[string][]string {
	rows := map[string][]string{}
	lines := strings.Split(readme, "\n")
	for i, line := range lines {
		if !strings.HasPrefix(line, "| tool |") {
			continue
		}
		for _, row := range lines[i+2:] {
			if !strings.HasPrefix(row, "| `") {
				return rows
			}
			var cells []string
			for _, c := range strings.Split(strings.Trim(row, "|"), " | ") {
				cells = append(cells, strings.TrimSpace(c))
			}
			rows[strings.Trim(cells[0], "`")] = cells
		}
	}
	return rows
}

// TestOfflineFanOutCoversTheArchive: offline, a fan-out covers the clusters the archive holds; a cluster
// the hub knows but the collection did not reach is listed as left out, not as a failure.
func TestOfflineFanOutCoversTheArchive(t *testing.T) {
	d := archiveDeps(t, sampleWithout(t, "spoke3"))
	ctx := context.Background()
	tests := []struct {
		cluster   string
		isErr     bool
		want, not []string
	}{
		{"*", false, []string{"CLUSTER ", "spoke1 ", "spoke2 ", "Skipped:\n  spoke3: not in the must-gather (it holds: hub, spoke1, spoke2)"}, []string{"Failed on"}},
		{"spoke1,spoke3", false, []string{"spoke1 ", "Skipped:\n  spoke3: not in the must-gather"}, []string{"Failed on", "\nspoke2 "}},
		{"spoke3", true, []string{"the must-gather holds no data for cluster spoke3 (it holds: hub, spoke1, spoke2)"}, nil},
		{"spoke3,spoke3", true, []string{"selects no cluster you may use; left out:\n  spoke3: not in the must-gather"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.cluster, func(t *testing.T) {
			res, _ := d.kubectlCall(ctx, kubectl.ReadTool, callArgs{cluster: tc.cluster, command: "get namespaces open-cluster-management-agent"})
			text := res.Content[0].(mcp.TextContent).Text
			if res.IsError != tc.isErr {
				t.Fatalf("isError=%v, want %v:\n%s", res.IsError, tc.isErr, text)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing %q in:\n%s", w, text)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(text, n) {
					t.Errorf("unexpected %q in:\n%s", n, text)
				}
			}
		})
	}
}
