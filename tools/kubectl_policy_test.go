package tools

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/policy"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// The namespace the policy is given is the one kubectl's flag parsing reads, however it is written.
func TestPolicyNamespaceIsKubectls(t *testing.T) {
	cases := map[string]string{
		"scale deployment/web -n shop --replicas=2": "shop",
		"delete pod x --namespace=a":                "a",
		"label pod x --namespace b k=v":             "b",
		"annotate -nc pod x k=v":                    "c",
		"delete -n=d pod x":                         "d",
		"cordon node-1":                             "",
	}
	for line, want := range cases {
		words, err := kubectl.Split(line)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := kubectl.Check(words, kubectl.WriteTool, false)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if got := plan.Flags["namespace"]; got != want {
			t.Errorf("%s: %q, want %q", line, got, want)
		}
	}
}

func TestPolicyCluster(t *testing.T) {
	mc := &clusterv1.ManagedCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "spoke1", Labels: map[string]string{ocm.ClusterSetLabel: "east", "environment": "production"}},
		Status:     clusterv1.ManagedClusterStatus{ClusterClaims: []clusterv1.ManagedClusterClaim{{Name: "platform.open-cluster-management.io", Value: "AWS"}}},
	}
	got := policyCluster(ocm.Target{Name: "spoke1", Cluster: mc})
	want := policy.Cluster{Name: "spoke1", Labels: mc.Labels, Clusterset: "east", Claims: map[string]string{"platform.open-cluster-management.io": "AWS"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%+v, want %+v", got, want)
	}
	if got := policyCluster(ocm.Target{Name: "hub", Hub: true}); got.Name != "hub" || !got.Hub || got.Labels != nil {
		t.Errorf("hub without a ManagedCluster: %+v", got)
	}
}

// TestPolicyDecide: denials become the refusal with their rules (and how to switch a built-in one off,
// for changes), one line for a collection's cluster; a policy that cannot decide refuses.
func TestPolicyDecide(t *testing.T) {
	dir := t.TempDir()
	src := "package mcmcp\n\ndeny contains \"team rule\" if input.cluster.name == \"team\"\n\ndeny contains {\"rule\": \"broken\", \"msg\": sprintf(\"%d\", [to_number(input.cluster.name)])} if input.cluster.name == \"broken\"\n"
	if err := os.WriteFile(filepath.Join(dir, "team.rego"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := policy.New(context.Background(), policy.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{Policy: e}
	frozen := policy.Cluster{Name: "spoke1", Labels: map[string]string{"multicluster-mcp-server.io/change-freeze": "true"}}
	cases := []struct {
		name string
		in   policy.Input
		want string
	}{
		{name: "allowed", in: policy.Input{Tool: policy.ToolKubectlWrite, Cluster: policy.Cluster{Name: "spoke1"}}},
		{name: "built-in", in: policy.Input{Tool: policy.ToolKubectlWrite, Cluster: frozen},
			want: "Refused by policy; nothing was changed:\n- cluster spoke1 is under a change freeze (its ManagedCluster is labelled multicluster-mcp-server.io/change-freeze=true): no change may be made to it through this server until the label is removed on the hub [rule change-freeze; built in, --policy-disable=change-freeze switches it off]"},
		{name: "folder's", in: policy.Input{Tool: policy.ToolKubectlWrite, Cluster: policy.Cluster{Name: "team"}},
			want: "Refused by policy; nothing was changed:\n- team rule [rule policy]"},
		{name: "collection", in: policy.Input{Tool: policy.ToolMustGather, Cluster: policy.Cluster{Name: "team"}},
			want: "refused by policy: team rule [rule policy]"},
		{name: "fails closed", in: policy.Input{Tool: policy.ToolKubectlWrite, Cluster: policy.Cluster{Name: "broken"}},
			want: "the policy could not decide, so it refuses (nothing was changed): the policy evaluation failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := d.policyDecide(context.Background(), tc.in, "nothing was changed")
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}
