package e2e

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// TestDeleteCascade: the preview of a Deployment's delete names the ReplicaSet and the pods the garbage
// collector would remove with it, and changes nothing (with the budget rule allowed, since frontend's
// budget protects its pods); with the rule on, deleting frontend or ledger is refused for their
// cascade, while deleting ledger with --cascade=orphan (which leaves its pods running) is previewed.
func TestDeleteCascade(t *testing.T) {
	ctx := context.Background()
	kube := env.fleet.Spoke("spoke1").Kube
	s := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-writer")
	lenient := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-writer", "--guardrails-allow", "pod-disruption-budgets")
	rs, err := kube.AppsV1().ReplicaSets(fleet.ShopNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=frontend"})
	if err != nil || len(rs.Items) == 0 {
		t.Fatalf("frontend's ReplicaSets: %v", err)
	}
	pods, err := kube.CoreV1().Pods(fleet.ShopNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=frontend"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("frontend's pods: %v", err)
	}
	deleteFrontend := map[string]any{"cluster": "spoke1", "command": "delete deployment frontend -n " + fleet.ShopNamespace}
	text, isErr := callTool(t, lenient.Client, "kubectl_write", deleteFrontend)
	if isErr {
		t.Fatalf("preview: %s", text)
	}
	want := []string{"- deployments.apps " + fleet.ShopNamespace + "/frontend would be removed", "the garbage collector would then remove",
		"replicasets.apps " + fleet.ShopNamespace + "/" + rs.Items[0].Name + " (owned by deployments.apps " + fleet.ShopNamespace + "/frontend)",
		"pods " + fleet.ShopNamespace + "/" + pods.Items[0].Name + " (owned by replicasets.apps " + fleet.ShopNamespace + "/"}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the preview lacks %q:\n%s", w, text)
		}
	}
	if _, err := kube.AppsV1().Deployments(fleet.ShopNamespace).Get(ctx, "frontend", metav1.GetOptions{}); err != nil {
		t.Fatalf("frontend is gone after a preview: %v", err)
	}

	text, isErr = callTool(t, s.Client, "kubectl_write", deleteFrontend)
	if !isErr || !strings.Contains(text, "PodDisruptionBudget "+fleet.ShopNamespace+"/frontend allows 1 disruptions: the delete's cascade (--cascade=background) would take down") {
		t.Errorf("deleting frontend: error=%v:\n%s", isErr, text)
	}
	text, isErr = callTool(t, s.Client, "kubectl_write", map[string]any{"cluster": "spoke1", "command": "delete deployment ledger -n payments"})
	if !isErr || !strings.Contains(text, "PodDisruptionBudget payments/ledger allows 0 disruptions: the delete's cascade (--cascade=background) would take down 2 of its pods") {
		t.Errorf("deleting ledger: error=%v:\n%s", isErr, text)
	}
	text, isErr = callTool(t, s.Client, "kubectl_write", map[string]any{"cluster": "spoke1", "command": "delete deployment ledger -n payments --cascade=orphan"})
	if isErr || strings.Contains(text, "garbage collector") || !strings.Contains(text, "deployments.apps payments/ledger would be removed") {
		t.Errorf("deleting ledger, orphaning its pods: error=%v:\n%s", isErr, text)
	}
	if d, err := kube.AppsV1().Deployments("payments").Get(ctx, "ledger", metav1.GetOptions{}); err != nil || d.DeletionTimestamp != nil {
		t.Errorf("ledger was deleted by a refusal or a preview: %v", err)
	}
	waitLog(t, s.Logs, `"guardrails":["pod-disruption-budgets"]`)
}
