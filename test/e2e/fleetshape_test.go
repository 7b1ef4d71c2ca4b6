package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// The hub registers itself as local-cluster, as ACM and MCE hubs do, and the server takes that cluster
// for the hub: cluster=local-cluster and cluster=hub read the same API server.
func TestLocalClusterIsTheHub(t *testing.T) {
	ctx := context.Background()
	mc, err := env.fleet.HubCluster.ClusterV1().ManagedClusters().Get(ctx, fleet.LocalClusterName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if mc.Labels["local-cluster"] != "true" || !mc.Spec.HubAcceptsClient {
		t.Errorf("local-cluster labels %v, accepted %v", mc.Labels, mc.Spec.HubAcceptsClient)
	}
	for _, cond := range []string{clusterv1.ManagedClusterConditionJoined, clusterv1.ManagedClusterConditionAvailable} {
		if err := env.fleet.WaitClusterCondition(ctx, fleet.LocalClusterName, cond, metav1.ConditionTrue, time.Minute); err != nil {
			t.Error(err)
		}
	}
	if err := env.fleet.WaitAddonAvailable(ctx, fleet.LocalClusterName, fleet.MSAAddonName, time.Minute); err != nil {
		t.Error(err)
	}
	c := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA).Client
	for _, cluster := range []string{"local-cluster", "hub"} {
		text, isErr := callTool(t, c, "kubectl", map[string]any{"cluster": cluster, "command": "get nodes"})
		if isErr || !strings.Contains(text, "hub-node-1") || strings.Contains(text, "spoke") {
			t.Errorf("cluster=%s get nodes (error %v):\n%s", cluster, isErr, text)
		}
	}
}

// kwok plays the kubelet: nodes are Ready, sample pods run, Jobs complete, Services have endpoints, and
// the API server reads pod logs from kwok's kubelet endpoint.
func TestKwokWorkloads(t *testing.T) {
	c := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA).Client
	for _, tc := range []struct {
		command string
		want    []string
	}{
		{"get nodes", []string{"spoke2-node-1", "spoke2-node-2", "Ready"}},
		{"get pods -n shop", []string{"frontend-", "backend-", "Running", "db-migrate-", "Completed"}},
		{"get ds -n monitoring node-exporter", []string{"node-exporter   2         2         2"}},
		{"get endpointslices -n shop -l kubernetes.io/service-name=frontend", []string{"8080"}},
		{"get pvc -n shop backend-data", []string{"Bound"}},
		{"get pdb,hpa -n shop", []string{"poddisruptionbudget.policy/frontend", "horizontalpodautoscaler.autoscaling/order-worker"}},
		{"logs -n shop deploy/frontend --tail=2", []string{"slow request", `msg="ready"`}},
	} {
		text, isErr := callTool(t, c, "kubectl", map[string]any{"cluster": "spoke2", "command": tc.command})
		for _, w := range tc.want {
			if isErr || !strings.Contains(text, w) {
				t.Errorf("spoke2 %s (error %v) lacks %q:\n%s", tc.command, isErr, w, text)
				break
			}
		}
	}
}

// Start injects one workload fault of each kind on the clusters; each shows as a real cluster shows it.
func TestInjectedFaultsLookReal(t *testing.T) {
	c := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA).Client
	faults := env.fleet.Faults()
	if len(faults) != 9 {
		t.Fatalf("faults %+v", faults)
	}
	seen := map[string]bool{}
	for _, flt := range faults {
		seen[flt.Cluster] = true
		get := func(command string) string {
			t.Helper()
			text, isErr := callTool(t, c, "kubectl", map[string]any{"cluster": flt.Cluster, "command": command})
			if isErr {
				t.Errorf("%s %s: %s", flt.Cluster, command, text)
			}
			return text
		}
		podsOf := func() string {
			return get("get pods -n "+flt.Namespace+" -l app="+flt.Name) + get("describe pods -n "+flt.Namespace+" -l app="+flt.Name)
		}
		var seenText string
		var want []string
		switch flt.Kind {
		case fleet.FaultCrashLoop:
			seenText, want = podsOf(), []string{"CrashLoopBackOff", "0/1", "Exit Code:    1"}
			if logs := get("logs -n " + flt.Namespace + " deploy/" + flt.Name + " --previous --tail=5"); !strings.Contains(logs, "panic: database unavailable") {
				t.Errorf("previous logs of the crashing container:\n%s", logs)
			}
		case fleet.FaultImagePull:
			seenText, want = podsOf(), []string{"ImagePullBackOff", "Error: ImagePullBackOff"}
		case fleet.FaultOOMKilled:
			seenText, want = podsOf(), []string{"CrashLoopBackOff", "OOMKilled", "Exit Code:    137"}
		case fleet.FaultUnschedulable:
			seenText, want = podsOf(), []string{"Pending", "FailedScheduling", "didn't match Pod's node affinity/selector"}
		case fleet.FaultJobFailed:
			seenText = get("describe job -n "+flt.Namespace+" "+flt.Name) + get("logs -n "+flt.Namespace+" job/"+flt.Name)
			want = []string{"BackoffLimitExceeded", "AccessDenied: role fleet-export may not write"}
		case fleet.FaultNoEndpoints:
			seenText = get("get endpointslices -n "+flt.Namespace+" -l kubernetes.io/service-name="+flt.Name) + get("get pods -n "+flt.Namespace+" -l app="+flt.Name+"-primary")
			want = []string{"<unset>", "Running"}
		case fleet.FaultPDBBlocks:
			seenText, want = get("describe pdb -n "+flt.Namespace+" "+flt.Name), []string{"Allowed disruptions:  0", "Min available:  2"}
		case fleet.FaultRolloutStuck:
			seenText = get("describe deployment -n "+flt.Namespace+" "+flt.Name) + get("describe replicasets -n "+flt.Namespace+" -l app="+flt.Name)
			want = []string{"ReplicaFailure   True    FailedCreate", "exceeded quota: storefront-pods"}
		case fleet.FaultNodePressure:
			seenText, want = get("describe node "+flt.Name), []string{"MemoryPressure", "KubeletHasInsufficientMemory"}
		default:
			t.Errorf("fault kind %s has no check", flt.Kind)
		}
		for _, w := range want {
			if !strings.Contains(seenText, w) {
				t.Errorf("%s %s/%s (%s) lacks %q:\n%s", flt.Cluster, flt.Namespace, flt.Name, flt.Kind, w, seenText)
			}
		}
	}
	if len(seen) < 4 {
		t.Errorf("the faults are not spread over the clusters: %+v", faults)
	}
}

// Tests inject their own faults and remove them.
func TestInjectAndRemoveFault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	spoke := env.fleet.Spokes[1]
	if err := env.fleet.InjectCrashLoop(ctx, spoke.Name, "e2e-faults", "crasher"); err != nil {
		t.Fatal(err)
	}
	pods, err := spoke.Kube.CoreV1().Pods("e2e-faults").List(ctx, metav1.ListOptions{LabelSelector: "app=crasher"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods %v %v", pods, err)
	}
	cs := pods.Items[0].Status.ContainerStatuses
	if len(cs) != 1 || cs[0].State.Waiting == nil || cs[0].State.Waiting.Reason != "CrashLoopBackOff" || cs[0].RestartCount == 0 {
		t.Errorf("container status %+v", cs)
	}
	if err := env.fleet.RemoveFault(ctx, spoke.Name, "e2e-faults", "crasher"); err != nil {
		t.Fatal(err)
	}
	if err := spoke.Kube.CoreV1().Namespaces().Delete(ctx, "e2e-faults", metav1.DeleteOptions{}); err != nil {
		t.Error(err)
	}
	if err := env.fleet.InjectOOMKilled(ctx, "nowhere", "x", "y"); err == nil {
		t.Error("a fault on an unknown cluster was accepted")
	}
}

// A fleet diagnosis covers local-cluster like any other cluster.
func TestDiagnoseFleetCoversLocalCluster(t *testing.T) {
	c := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA).Client
	text, isErr := callTool(t, c, "diagnose", map[string]any{})
	if isErr || !strings.Contains(text, "local-cluster: acceptance, join, availability and lease") {
		t.Errorf("diagnose (error %v):\n%s", isErr, text)
	}
	text, isErr = callTool(t, c, "diagnose", map[string]any{"cluster": "local-cluster"})
	if isErr || strings.Contains(text, "no registration of its own") {
		t.Errorf("diagnose cluster=local-cluster (error %v):\n%s", isErr, text)
	}
}
