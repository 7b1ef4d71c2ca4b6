package e2e

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// ledgerPods are the names of spoke1's payments/ledger pods, and the node the first one runs on.
func ledgerPods(t *testing.T, kube kubernetes.Interface) ([]string, string) {
	t.Helper()
	list, err := kube.CoreV1().Pods("payments").List(context.Background(), metav1.ListOptions{LabelSelector: "app=ledger"})
	if err != nil || len(list.Items) == 0 {
		t.Fatalf("ledger pods: %v (%d)", err, len(list.Items))
	}
	names := make([]string, len(list.Items))
	for i, p := range list.Items {
		names[i] = p.Name
	}
	return names, list.Items[0].Spec.NodeName
}

// TestGuardrails: changes that would break spoke1's payments/ledger budget, grow frontend beyond the
// replica limit, or touch kube-system are refused, even with --approval=none, and change nothing; a
// change within bounds passes through approval as before.
func TestGuardrails(t *testing.T) {
	ctx := context.Background()
	kube := env.fleet.Spoke("spoke1").Kube
	restoreFrontend(t, kube)
	before, _ := frontendReplicas(t, kube)
	pods, node := ledgerPods(t, kube)
	s := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-writer", "--approval", "none")
	refused := func(command string, want ...string) {
		t.Helper()
		text, isErr := callTool(t, s.Client, "kubectl_write", map[string]any{"cluster": "spoke1", "command": command})
		if !isErr {
			t.Errorf("%s was not refused:\n%s", command, text)
			return
		}
		for _, w := range append(want, "nothing was changed") {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the refusal lacks %q:\n%s", command, w, text)
			}
		}
	}

	refused("drain "+node+" --ignore-daemonsets --delete-emptydir-data",
		"PodDisruptionBudget payments/ledger allows 0 disruptions: draining node "+node+" would take down",
		"(minAvailable 2, 2 healthy)", "rule pod-disruption-budgets", "--guardrails-allow=pod-disruption-budgets")
	if n, err := kube.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); err != nil || n.Spec.Unschedulable {
		t.Errorf("node %s was cordoned by a refused drain: %v", node, err)
	}
	refused("scale deployment/ledger -n payments --replicas=1",
		"PodDisruptionBudget payments/ledger allows 0 disruptions: scaling deployments.apps payments/ledger from 2 to 1 would take down 1 of its pods")
	if d, err := kube.AppsV1().Deployments("payments").Get(ctx, "ledger", metav1.GetOptions{}); err != nil || *d.Spec.Replicas != 2 {
		t.Errorf("ledger was scaled by a refused command: %v", err)
	}
	refused("scale deployment/frontend -n "+fleet.ShopNamespace+" --replicas=500",
		"would have 500 replicas, more than the limit of 50", "rule max-replicas", "--guardrails-max-replicas", "rule max-scale-factor")
	if now, _ := frontendReplicas(t, kube); now != before {
		t.Errorf("frontend went from %d to %d replicas on a refused scale", before, now)
	}
	refused("delete pod -n payments -l app=ledger", "PodDisruptionBudget payments/ledger allows 0 disruptions: deleting the pods would take down")
	if after, _ := ledgerPods(t, kube); strings.Join(after, ",") != strings.Join(pods, ",") {
		t.Errorf("ledger pods changed on a refused delete: %v, then %v", pods, after)
	}
	refused("label namespace kube-system e2e-guardrails=y",
		"namespaces kube-system is in the protected namespace kube-system", "rule protected-namespaces", "rule protected-kinds")
	if ns, err := kube.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{}); err != nil || ns.Labels["e2e-guardrails"] != "" {
		t.Errorf("kube-system was labelled by a refused command: %v", err)
	}
	logs := s.Logs.String()
	for _, want := range []string{`"guardrails":["pod-disruption-budgets"]`, `"guardrails":["max-replicas","max-scale-factor"]`, `"decision":"refused"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the audit log lacks %s", want)
		}
	}

	// Within bounds: up by one and back, each previewed and approved.
	c := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-writer").Client
	for _, n := range []int32{before + 1, before} {
		command := "scale deployment/frontend -n " + fleet.ShopNamespace + " --replicas=" + itoa(n)
		_, token := previewWrite(t, c, "spoke1", command)
		if text, isErr := approvedWrite(t, c, "spoke1", command, token); isErr || !strings.Contains(text, "scaled") {
			t.Fatalf("%s, approved: %s", command, text)
		}
		if now, _ := frontendReplicas(t, kube); now != n {
			t.Errorf("frontend has %d replicas, want %d", now, n)
		}
	}
}
