package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// TestBudgets: a server with small budgets lets spoke1 take two changes and refuses the third, naming
// the budget, when the next change fits and the setting, with no request reaching spoke1; a caller's
// read fan-outs stop at their width budget, and a second must-gather is refused. The audit lines name
// the budgets.
func TestBudgets(t *testing.T) {
	ctx := context.Background()
	kube := env.fleet.Spoke("spoke1").Kube
	t.Cleanup(func() {
		patch := []byte(`{"metadata":{"annotations":{"e2e-budget":null}}}`)
		if _, err := kube.AppsV1().Deployments(fleet.ShopNamespace).Patch(context.Background(), "frontend", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Errorf("removing the annotation: %v", err)
		}
	})
	s := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-writer", "--approval", "none",
		"--budget-changes-per-cluster", "2", "--budget-fanout-clusters-per-caller", "3", "--budget-must-gathers-per-caller", "1",
		"--must-gather-dir", t.TempDir())
	annotate := func(v string) (string, bool) {
		return callTool(t, s.Client, "kubectl_write", map[string]any{"cluster": "spoke1",
			"command": "annotate deployment frontend -n " + fleet.ShopNamespace + " e2e-budget=" + v + " --overwrite"})
	}
	annotation := func() string {
		d, err := kube.AppsV1().Deployments(fleet.ShopNamespace).Get(ctx, "frontend", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d.Annotations["e2e-budget"]
	}
	for _, v := range []string{"1", "2"} {
		if text, isErr := annotate(v); isErr {
			t.Fatalf("change %s within the budget was refused: %s", v, text)
		}
	}
	mark := fileSize(t, env.fleet.Spoke("spoke1").AuditLog)
	began := time.Now()
	text, isErr := annotate("3")
	for _, want := range []string{"budget changes-per-cluster is spent: cluster spoke1 has used 2 of 2 change(s) in the last 1h0m0s",
		"the next fits at", "Nothing was done", "--budget-changes-per-cluster"} {
		if !isErr || !strings.Contains(text, want) {
			t.Errorf("the third change: error=%v, want %q in:\n%s", isErr, want, text)
		}
	}
	if got := annotation(); got != "2" {
		t.Errorf("frontend's annotation is %q after a refused change, want 2", got)
	}
	writer := "system:serviceaccount:open-cluster-management-agent-addon:e2e-writer"
	for _, e := range auditSince(t, env.fleet.Spoke("spoke1").AuditLog, mark) {
		if e.User.Username == writer && e.StageTimestamp.After(began) {
			t.Errorf("spoke1 audit: %s %s by the writer after the budget was spent", e.Verb, e.RequestURI)
		}
	}

	fanOut := map[string]any{"cluster": "spoke1,spoke2", "command": "get namespaces"}
	if text, isErr := callTool(t, s.Client, "kubectl", fanOut); isErr {
		t.Fatalf("a fan-out within the budget: %s", text)
	}
	if text, isErr := callTool(t, s.Client, "kubectl", fanOut); !isErr || !strings.Contains(text, "budget fanout-clusters-per-caller is spent: caller local (stdio) has used 2 of 3 cluster read(s)") {
		t.Errorf("the second fan-out: error=%v:\n%s", isErr, text)
	}
	if text, isErr := callTool(t, s.Client, "kubectl", map[string]any{"cluster": "spoke2", "command": "get namespaces"}); isErr {
		t.Errorf("a read of one cluster spends no fan-out budget: %s", text)
	}

	gather := map[string]any{"clusters": "spoke1"}
	if text, isErr := callTool(t, s.Client, "must_gather", gather); isErr || !strings.Contains(text, "Wrote ") {
		t.Fatalf("the first must-gather: %s", text)
	}
	if text, isErr := callTool(t, s.Client, "must_gather", gather); !isErr || !strings.Contains(text, "budget must-gathers-per-caller is spent") {
		t.Errorf("the second must-gather: error=%v:\n%s", isErr, text)
	}
	for _, want := range []string{`"budget":"changes-per-cluster"`, `"budget":"fanout-clusters-per-caller"`, `"budget":"must-gathers-per-caller"`} {
		waitLog(t, s.Logs, want)
	}
}

// waitLog waits for a line in a server's log: the audit line of a call is written after its answer.
func waitLog(t *testing.T, logs *syncBuffer, want string) {
	t.Helper()
	select {
	case <-logs.WaitFor(want):
	case <-time.After(30 * time.Second):
		t.Errorf("the server's log lacks %s", want)
	}
}
