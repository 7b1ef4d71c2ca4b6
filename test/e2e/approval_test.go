package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// approvalToken finds the approval a preview returned.
var approvalToken = regexp.MustCompile(`approval set to:\n(\S+)\n`)

// previewWrite calls kubectl_write without an approval and returns the preview and its approval.
func previewWrite(t *testing.T, c *client.Client, cluster, command string) (string, string) {
	t.Helper()
	text, isErr := callTool(t, c, "kubectl_write", map[string]any{"cluster": cluster, "command": command})
	if isErr {
		t.Fatalf("preview of %s on %s: %s", command, cluster, text)
	}
	m := approvalToken.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("the preview of %s returned no approval:\n%s", command, text)
	}
	return text, m[1]
}

// approvedWrite presents an approval and returns the answer.
func approvedWrite(t *testing.T, c *client.Client, cluster, command, token string) (string, bool) {
	t.Helper()
	return callTool(t, c, "kubectl_write", map[string]any{"cluster": cluster, "command": command, "approval": token})
}

// frontendReplicas is spoke1's frontend Deployment's desired replicas and resourceVersion.
func frontendReplicas(t *testing.T, kube kubernetes.Interface) (int32, string) {
	t.Helper()
	dep, err := kube.AppsV1().Deployments(fleet.ShopNamespace).Get(context.Background(), "frontend", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return *dep.Spec.Replicas, dep.ResourceVersion
}

// restoreFrontend scales spoke1's frontend back to what it was when the test began.
func restoreFrontend(t *testing.T, kube kubernetes.Interface) {
	t.Helper()
	want, _ := frontendReplicas(t, kube)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		patch := []byte(`{"spec":{"replicas":` + itoa(want) + `}}`)
		if _, err := kube.AppsV1().Deployments(fleet.ShopNamespace).Patch(ctx, "frontend", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Errorf("scaling frontend back: %v", err)
		}
	})
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// TestApprovalTwoStep: a preview shows the diff and changes nothing; its approval runs the change once;
// an approval for another command or cluster, a used one, and one whose object changed are refused.
func TestApprovalTwoStep(t *testing.T) {
	kube := env.fleet.Spoke("spoke1").Kube
	restoreFrontend(t, kube)
	// The steps below scale by more than the guardrails allow (TestGuardrails tests those).
	s := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-writer", "--guardrails-allow", "max-scale-factor,pod-disruption-budgets")
	c := s.Client
	before, _ := frontendReplicas(t, kube)
	target := before + 1
	command := "scale deployment/frontend -n shop --replicas=" + itoa(target)

	text, token := previewWrite(t, c, "spoke1", command)
	for _, want := range []string{"nothing was changed", "deployments.apps shop/frontend (scale)", "-  replicas: " + itoa(before), "+  replicas: " + itoa(target)} {
		if !strings.Contains(text, want) {
			t.Errorf("the preview lacks %q:\n%s", want, text)
		}
	}
	if got, _ := frontendReplicas(t, kube); got != before {
		t.Fatalf("the preview changed the replicas: %d, want %d", got, before)
	}

	// Bound to the command and the cluster.
	for _, tc := range []struct{ cluster, command string }{
		{"spoke1", "scale deployment/frontend -n shop --replicas=" + itoa(target+1)},
		{"spoke2", command},
	} {
		if text, isErr := approvedWrite(t, c, tc.cluster, tc.command, token); !isErr || !strings.Contains(text, "not for this call") {
			t.Errorf("an approval of another call (%s on %s) was not refused: %v %s", tc.command, tc.cluster, isErr, text)
		}
	}
	if text, isErr := approvedWrite(t, c, "spoke1", command, token+"x"); !isErr || !strings.Contains(text, "not for this call") {
		t.Errorf("an altered approval was not refused: %v %s", isErr, text)
	}
	if got, _ := frontendReplicas(t, kube); got != before {
		t.Fatalf("a refused approval changed the replicas: %d", got)
	}

	if text, isErr := approvedWrite(t, c, "spoke1", command, token); isErr || !strings.Contains(text, "scaled") {
		t.Fatalf("the approved change did not run: %v %s", isErr, text)
	}
	if got, _ := frontendReplicas(t, kube); got != target {
		t.Fatalf("after approval the replicas are %d, want %d", got, target)
	}
	if text, isErr := approvedWrite(t, c, "spoke1", command, token); !isErr || !strings.Contains(text, "already used") {
		t.Errorf("a used approval was not refused: %v %s", isErr, text)
	}

	// Someone else changes the object between preview and approval: here, scales it.
	back := "scale deployment/frontend -n shop --replicas=" + itoa(before)
	_, token = previewWrite(t, c, "spoke1", back)
	bumped := target + 2
	bump := []byte(`{"spec":{"replicas":` + itoa(bumped) + `}}`)
	if _, err := kube.AppsV1().Deployments(fleet.ShopNamespace).Patch(context.Background(), "frontend", types.MergePatchType, bump, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if text, isErr := approvedWrite(t, c, "spoke1", back, token); !isErr || !strings.Contains(text, "changed since the preview") {
		t.Errorf("a stale approval was not refused: %v %s", isErr, text)
	}
	if got, _ := frontendReplicas(t, kube); got != bumped {
		t.Errorf("after the stale approval: replicas %d, want %d", got, bumped)
	}

	// Preview again, approve: it runs.
	_, token = previewWrite(t, c, "spoke1", back)
	if text, isErr := approvedWrite(t, c, "spoke1", back, token); isErr {
		t.Fatalf("the fresh approval was refused: %s", text)
	}
	if got, _ := frontendReplicas(t, kube); got != before {
		t.Errorf("replicas %d after scaling back, want %d", got, before)
	}
	// Deletes and cordons are previewed too, and the preview leaves them undone.
	text, _ = previewWrite(t, c, "spoke1", "delete deployment/frontend -n shop")
	if !strings.Contains(text, "- deployments.apps shop/frontend would be removed") {
		t.Errorf("the delete preview:\n%s", text)
	}
	if _, err := kube.AppsV1().Deployments(fleet.ShopNamespace).Get(context.Background(), "frontend", metav1.GetOptions{}); err != nil {
		t.Fatalf("the delete preview deleted: %v", err)
	}
	nodes, err := kube.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		t.Fatalf("nodes: %v", err)
	}
	node := nodes.Items[0].Name
	text, _ = previewWrite(t, c, "spoke1", "cordon "+node)
	if !strings.Contains(text, "nodes "+node) || !strings.Contains(text, "+  unschedulable: true") {
		t.Errorf("the cordon preview:\n%s", text)
	}
	if n, err := kube.CoreV1().Nodes().Get(context.Background(), node, metav1.GetOptions{}); err != nil || n.Spec.Unschedulable {
		t.Errorf("the cordon preview cordoned %s: %v", node, err)
	}
	for _, want := range []string{`"approval":"previewed"`, `"approval":"approval presented"`, `"approvedBy":"local (stdio)"`} {
		if !strings.Contains(s.Logs.String(), want) {
			t.Errorf("the audit log lacks %s", want)
		}
	}
}

// TestApprovalExpires: an approval presented after its time is refused and changes nothing.
func TestApprovalExpires(t *testing.T) {
	kube := env.fleet.Spoke("spoke1").Kube
	restoreFrontend(t, kube)
	c := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-writer", "--approval-ttl", "2s").Client
	before, _ := frontendReplicas(t, kube)
	command := "scale deployment/frontend -n shop --replicas=" + itoa(before+2)
	_, token := previewWrite(t, c, "spoke1", command)
	time.Sleep(3 * time.Second)
	if text, isErr := approvedWrite(t, c, "spoke1", command, token); !isErr || !strings.Contains(text, "expired") {
		t.Errorf("an expired approval was not refused: %v %s", isErr, text)
	}
	if got, _ := frontendReplicas(t, kube); got != before {
		t.Errorf("an expired approval changed the replicas to %d", got)
	}
}

// answering is a client that answers elicitations as told and keeps what it was asked.
type answering struct {
	mu      sync.Mutex
	action  mcp.ElicitationResponseAction
	asked   []string
	approve bool
}

func (a *answering) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, req.Params.Message)
	res := &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: a.action}}
	if a.action == mcp.ElicitationResponseActionAccept {
		res.Content = map[string]any{"approve": a.approve}
	}
	return res, nil
}

// TestApprovalElicitation: a client that declares elicitation is asked, with the diff; accept runs the
// change, decline and cancel change nothing.
func TestApprovalElicitation(t *testing.T) {
	kube := env.fleet.Spoke("spoke1").Kube
	restoreFrontend(t, kube)
	person := &answering{}
	logs := &syncBuffer{}
	tr := transport.NewStdioWithOptions(env.serverBin, nil, []string{"--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-writer"},
		transport.WithCommandStderrWriter(logs))
	c := client.NewClient(tr, client.WithElicitationHandler(person))
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		_, _ = env.seen.Write([]byte(logs.String()))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "e2e-person", Version: "1"}
	init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize: %v\n%s", err, logs.String())
	}
	before, _ := frontendReplicas(t, kube)
	command := "scale deployment/frontend -n shop --replicas=" + itoa(before+1)
	for _, a := range []struct {
		action  mcp.ElicitationResponseAction
		approve bool
	}{{mcp.ElicitationResponseActionDecline, false}, {mcp.ElicitationResponseActionCancel, false}, {mcp.ElicitationResponseActionAccept, false}} {
		person.mu.Lock()
		person.action, person.approve = a.action, a.approve
		person.mu.Unlock()
		text, isErr := callTool(t, c, "kubectl_write", map[string]any{"cluster": "spoke1", "command": command})
		if !isErr || !strings.Contains(text, "not approved") {
			t.Errorf("%s (approve=%v): %v %s", a.action, a.approve, isErr, text)
		}
		if got, _ := frontendReplicas(t, kube); got != before {
			t.Fatalf("%s changed the replicas to %d", a.action, got)
		}
	}
	person.mu.Lock()
	person.action, person.approve = mcp.ElicitationResponseActionAccept, true
	person.mu.Unlock()
	if text, isErr := callTool(t, c, "kubectl_write", map[string]any{"cluster": "spoke1", "command": command}); isErr || !strings.Contains(text, "scaled") {
		t.Fatalf("accepted: %v %s", isErr, text)
	}
	if got, _ := frontendReplicas(t, kube); got != before+1 {
		t.Errorf("after acceptance the replicas are %d, want %d", got, before+1)
	}
	person.mu.Lock()
	asked := strings.Join(person.asked, "\n")
	person.mu.Unlock()
	if len(person.asked) != 4 || !strings.Contains(asked, "+  replicas: "+itoa(before+1)) || !strings.Contains(asked, "cluster spoke1") {
		t.Errorf("the person was asked %d times, without the diff:\n%s", len(person.asked), asked)
	}
	if !strings.Contains(logs.String(), `"approval":"elicitation"`) {
		t.Errorf("the audit log lacks the elicited approval")
	}
}
