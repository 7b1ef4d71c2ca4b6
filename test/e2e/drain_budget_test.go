package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// setLedgerMinAvailable sets spoke1's payments/ledger budget and waits until the disruption controller
// has judged it: disruptionsAllowed is what the test needs next.
func setLedgerMinAvailable(t *testing.T, kube kubernetes.Interface, minAvailable, allowed int32) {
	t.Helper()
	ctx := context.Background()
	patch := []byte(`{"spec":{"minAvailable":` + itoa(minAvailable) + `}}`)
	if _, err := kube.PolicyV1().PodDisruptionBudgets("payments").Patch(ctx, "ledger", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("patching ledger's budget: %v", err)
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		b, err := kube.PolicyV1().PodDisruptionBudgets("payments").Get(ctx, "ledger", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return b.Status.ObservedGeneration == b.Generation && b.Status.DisruptionsAllowed == allowed, nil
	})
	if err != nil {
		t.Fatalf("ledger's budget never allowed %d disruptions: %v", allowed, err)
	}
}

// TestDrainWhenBudgetPermits: draining the node of one of ledger's pods is refused while its budget
// allows no disruption, and once the budget allows one the same drain passes the guardrails: its
// preview lists the evictions and offers an approval. Nothing is drained (the preview changes nothing);
// the budget is put back as the fleet's fault has it.
func TestDrainWhenBudgetPermits(t *testing.T) {
	ctx := context.Background()
	kube := env.fleet.Spoke("spoke1").Kube
	pods, node := ledgerPods(t, kube)
	onNode := 0
	for _, name := range pods {
		p, err := kube.CoreV1().Pods("payments").Get(ctx, name, metav1.GetOptions{})
		if err == nil && p.Spec.NodeName == node {
			onNode++
		}
	}
	if onNode != 1 {
		t.Fatalf("the test needs one ledger pod on %s, found %d", node, onNode)
	}
	s := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-writer")
	drain := map[string]any{"cluster": "spoke1", "command": "drain " + node + " --ignore-daemonsets --delete-emptydir-data"}
	if text, isErr := callTool(t, s.Client, "kubectl_write", drain); !isErr || !strings.Contains(text, "PodDisruptionBudget payments/ledger allows 0 disruptions") {
		t.Fatalf("the drain while the budget allows nothing: error=%v:\n%s", isErr, text)
	}
	t.Cleanup(func() { setLedgerMinAvailable(t, kube, 2, 0) })
	setLedgerMinAvailable(t, kube, 1, 1)
	text, isErr := callTool(t, s.Client, "kubectl_write", drain)
	if isErr || !strings.Contains(text, "approval set to:") || strings.Contains(text, "Refused") {
		t.Fatalf("the drain once the budget allows it: error=%v:\n%s", isErr, text)
	}
	for _, name := range pods {
		p, err := kube.CoreV1().Pods("payments").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("ledger pod %s is gone after a preview: %v", name, err)
		}
		if p.Spec.NodeName == node && !strings.Contains(text, name) {
			t.Errorf("the preview does not list the eviction of %s:\n%s", name, text)
		}
	}
	if n, err := kube.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); err != nil || n.Spec.Unschedulable {
		t.Errorf("node %s was cordoned by a preview: %v", node, err)
	}
}
