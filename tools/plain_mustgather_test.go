package tools

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestOfflinePlainMustGather serves a plain OpenShift must-gather (no OCM object): it is a cluster for
// list_clusters, cluster_status and fan-out, its OCM state is unknown rather than a fault, and the
// file it holds that does not parse is said, not fatal.
func TestOfflinePlainMustGather(t *testing.T) {
	d := archiveDeps(t, filepath.Join("..", "mustgather", "testdata", "ocp-plain"))
	tests := []struct {
		name    string
		tool    string
		args    map[string]any
		want    []string
		notWant []string
	}{
		{"list_clusters lists it", "list_clusters", nil,
			[]string{"ocp-plain", "unknown"}, []string{"No ManagedCluster", "false"}},
		{"cluster_status: unknown, no fault", "cluster_status", map[string]any{"cluster": "ocp-plain"},
			[]string{"Cluster ocp-plain: Unknown", "not known from this archive", "Nodes: 1/1 Ready", "etcd-master-0"},
			[]string{"not accepted", "hubAcceptsClient=false", "Unavailable", "has not joined", "no lease"}},
		{"fan-out reaches it", "kubectl", map[string]any{"cluster": "*", "command": "get nodes"},
			[]string{"ocp-plain", "master-0", "Ready"}, []string{"selects no cluster"}},
		{"summary: no false verdict, the unreadable file noted", "must_gather_summary", nil,
			[]string{"Cluster ocp-plain", "etcd-master-0", "Files skipped as unreadable", "namespaces/openshift-etcd/core/services.yaml"},
			[]string{"Unavailable", "not accepted"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var text string
			var isErr bool
			switch tc.tool {
			case "list_clusters":
				text, isErr = callTool(t, listClusters(d), tc.args)
			case "cluster_status":
				text, isErr = callTool(t, clusterStatus(d), tc.args)
			case "kubectl":
				text, isErr = callTool(t, kubectlTool(d), tc.args)
			case "must_gather_summary":
				text, isErr = callTool(t, mustGatherSummaryTool(d), tc.args)
			}
			if isErr {
				t.Fatalf("tool error: %s", text)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing %q in:\n%s", w, text)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(text, w) {
					t.Errorf("unexpected %q in:\n%s", w, text)
				}
			}
		})
	}
}
