package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

const (
	freezeLabel   = "multicluster-mcp-server.io/change-freeze"
	noGatherLabel = "multicluster-mcp-server.io/no-must-gather"
)

// shopPolicy is a team's policy: frontend is scaled by the shop team only, and the message shows the
// preview's replicas before and after.
const shopPolicy = `package mcmcp

deny contains {"rule": "shop-scales-frontend", "msg": msg} if {
	input.tool == "kubectl_write"
	some obj in input.objects
	obj.resource == "deployments"
	obj.name == "frontend"
	obj.subresource == "scale"
	not "shop-team" in input.caller.groups
	msg := sprintf("%s: scaling frontend from %d to %d needs the shop team", [obj.ref, obj.before.spec.replicas, obj.after.spec.replicas])
}
`

// labelCluster sets (value != "") or removes a label on a ManagedCluster through the hub, and waits until
// the server's view of the fleet shows it (its informer), through list_clusters.
func labelCluster(t *testing.T, c *client.Client, cluster, key, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	patch := `{"metadata":{"labels":{"` + key + `":null}}}`
	if value != "" {
		patch = `{"metadata":{"labels":{"` + key + `":"` + value + `"}}}`
	}
	if _, err := env.fleet.HubCluster.ClusterV1().ManagedClusters().Patch(ctx, cluster, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("labelling %s: %v", cluster, err)
	}
	if c == nil {
		return
	}
	selector := key + "=" + value
	if value == "" {
		selector = "!" + key
	}
	row := regexp.MustCompile(`(?m)^` + cluster + `\s`)
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		text, isErr := callTool(t, c, "list_clusters", map[string]any{"selector": selector})
		return !isErr && row.MatchString(text), nil
	})
	if err != nil {
		t.Fatalf("the server never saw %s with %s", cluster, selector)
	}
}

// serverWrites lists the write requests (not dry runs) the server's identities sent to a cluster since
// an offset of its audit log.
func serverWrites(t *testing.T, c *fleet.Cluster, offset int64, msa string) []string {
	t.Helper()
	users := map[string]bool{fleet.ServerUser: true, "system:serviceaccount:open-cluster-management-agent-addon:" + msa: true}
	var out []string
	for _, e := range auditSince(t, c.AuditLog, offset) {
		switch e.Verb {
		case "get", "list", "watch":
			continue
		}
		review := strings.Contains(e.RequestURI, "/apis/authorization.k8s.io/") || strings.Contains(e.RequestURI, "/apis/authentication.k8s.io/")
		if users[e.User.Username] && !review && !strings.Contains(e.RequestURI, "dryRun=All") {
			out = append(out, e.Verb+" "+e.RequestURI)
		}
	}
	return out
}

// TestPolicy: a built-in policy refuses a change on a cluster the hub labels frozen, a policy of a
// --policy-dir folder refuses by what the preview shows, and must_gather leaves out a cluster the
// policy denies; each refusal changes nothing on the cluster and names its rule in the audit line.
func TestPolicy(t *testing.T) {
	spoke1 := env.fleet.Spoke("spoke1")
	kube := spoke1.Kube
	restoreFrontend(t, kube)
	before, _ := frontendReplicas(t, kube)
	scale := "scale deployment/frontend -n " + fleet.ShopNamespace + " --replicas=" + itoa(before+1)
	const msa = "e2e-policy"

	t.Run("custom policy from a folder", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "shop.rego"), []byte(shopPolicy), 0o600); err != nil {
			t.Fatal(err)
		}
		s := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", msa, "--approval", "none", "--policy-dir", dir)
		mark := fileSize(t, spoke1.AuditLog)
		text, isErr := callTool(t, s.Client, "kubectl_write", map[string]any{"cluster": "spoke1", "command": scale})
		want := "deployments.apps shop/frontend (scale): scaling frontend from " + itoa(before) + " to " + itoa(before+1) + " needs the shop team [rule shop-scales-frontend]"
		if !isErr || !strings.Contains(text, "Refused by policy; nothing was changed") || !strings.Contains(text, want) {
			t.Errorf("the scale was not refused by the folder's policy:\n%s", text)
		}
		if now, _ := frontendReplicas(t, kube); now != before {
			t.Errorf("frontend went from %d to %d replicas on a refused scale", before, now)
		}
		if w := serverWrites(t, spoke1, mark, msa); len(w) > 0 {
			t.Errorf("spoke1's audit log shows writes of a refused change: %v", w)
		}
		if logs := s.Logs.String(); !strings.Contains(logs, `"policy":["shop-scales-frontend"]`) || !strings.Contains(logs, `"decision":"refused"`) {
			t.Errorf("the audit line lacks the rule:\n%s", logs)
		}
	})

	t.Run("a policy that does not compile stops the start", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "broken.rego"), []byte("package mcmcp\n\ndeny contains msg if {\n\tmsg :=\n}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, env.serverBin, "--kubeconfig", env.hubKubeconfig, "--policy-dir", dir).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "broken.rego is not valid Rego") || !strings.Contains(string(out), "broken.rego:5:") {
			t.Errorf("the server started, or its error does not name the file and line: %v\n%s", err, out)
		}
	})

	t.Run("change freeze on cluster labels", func(t *testing.T) {
		s := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", msa, "--approval", "none")
		t.Cleanup(func() { labelCluster(t, nil, "spoke1", freezeLabel, "") })
		labelCluster(t, s.Client, "spoke1", freezeLabel, "true")
		mark := fileSize(t, spoke1.AuditLog)
		text, isErr := callTool(t, s.Client, "kubectl_write", map[string]any{"cluster": "spoke1", "command": scale})
		for _, w := range []string{"Refused by policy; nothing was changed",
			"cluster spoke1 is under a change freeze (its ManagedCluster is labelled multicluster-mcp-server.io/change-freeze=true)",
			"[rule change-freeze; built in, --policy-disable=change-freeze switches it off]"} {
			if !isErr || !strings.Contains(text, w) {
				t.Errorf("the refusal lacks %q:\n%s", w, text)
			}
		}
		if now, _ := frontendReplicas(t, kube); now != before {
			t.Errorf("frontend went from %d to %d replicas on a frozen cluster", before, now)
		}
		if w := serverWrites(t, spoke1, mark, msa); len(w) > 0 {
			t.Errorf("spoke1's audit log shows writes of a refused change: %v", w)
		}
		if logs := s.Logs.String(); !strings.Contains(logs, `"policy":["change-freeze"]`) {
			t.Errorf("the audit line lacks the rule:\n%s", logs)
		}
		// Reads go on on a frozen cluster.
		if text, isErr := callTool(t, s.Client, "kubectl", map[string]any{"cluster": "spoke1", "command": "get deployment frontend -n " + fleet.ShopNamespace}); isErr {
			t.Errorf("reads stop on a frozen cluster:\n%s", text)
		}
		// Lifted: the same change runs.
		labelCluster(t, s.Client, "spoke1", freezeLabel, "")
		if text, isErr := callTool(t, s.Client, "kubectl_write", map[string]any{"cluster": "spoke1", "command": scale}); isErr || !strings.Contains(text, "scaled") {
			t.Errorf("the scale after the freeze was lifted: %s", text)
		}
		if now, _ := frontendReplicas(t, kube); now != before+1 {
			t.Errorf("frontend has %d replicas after the freeze was lifted, want %d", now, before+1)
		}
	})

	t.Run("must_gather leaves out a denied cluster", func(t *testing.T) {
		spoke2 := env.fleet.Spoke("spoke2")
		s := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", msa, "--must-gather-dir", t.TempDir())
		t.Cleanup(func() { labelCluster(t, nil, "spoke2", noGatherLabel, "") })
		labelCluster(t, s.Client, "spoke2", noGatherLabel, "true")
		mark := fileSize(t, spoke2.AuditLog)
		text, _, _ := collect(t, s, map[string]any{"clusters": "spoke1,spoke2"})
		if !regexp.MustCompile(`(?m)^spoke2: NOT collected: refused by policy: cluster spoke2 is labelled multicluster-mcp-server.io/no-must-gather=true`).MatchString(text) ||
			!regexp.MustCompile(`(?m)^spoke1: \d+ objects`).MatchString(text) || !strings.Contains(text, "2 of 3 cluster(s) collected") {
			t.Errorf("summary:\n%s", text)
		}
		users := map[string]bool{fleet.ServerUser: true, "system:serviceaccount:open-cluster-management-agent-addon:" + msa: true}
		for _, e := range auditSince(t, spoke2.AuditLog, mark) {
			if users[e.User.Username] {
				t.Errorf("spoke2 was read by a collection the policy refused: %s %s", e.Verb, e.RequestURI)
			}
		}
		if logs := s.Logs.String(); !strings.Contains(logs, `"policy":["must-gather-restricted"]`) {
			t.Errorf("the audit line lacks the rule:\n%s", logs)
		}
	})
}
