package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// access is one question put to a spoke's authorizer.
type access struct{ verb, group, resource, sub, ns, name string }

// spokeCan asks spoke's own API server, with a SubjectAccessReview, whether the ServiceAccount of msa
// may do a.
func spokeCan(t *testing.T, spoke *fleet.Cluster, msa string, a access) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   saUser(msa),
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + fleet.AgentAddonNamespace, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.sub,
			Namespace: a.ns, Name: a.name},
	}}
	res, err := spoke.Kube.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Status.Allowed
}

// neverGranted holds what no mode's spoke grant may allow: minting or approving credentials,
// impersonation, RBAC changes (and so escalation), processes and tunnels in pods, the kubelet proxy.
var neverGranted = []access{
	{"create", "", "serviceaccounts", "token", "default", "default"},
	{"create", "", "serviceaccounts", "token", "kube-system", "default"},
	{"impersonate", "", "users", "", "", "admin"},
	{"impersonate", "", "groups", "", "", "system:masters"},
	{"impersonate", "", "serviceaccounts", "", "kube-system", "default"},
	{"impersonate", "authentication.k8s.io", "uids", "", "", "x"},
	{"create", "rbac.authorization.k8s.io", "clusterrolebindings", "", "", ""},
	{"create", "rbac.authorization.k8s.io", "rolebindings", "", "default", ""},
	{"update", "rbac.authorization.k8s.io", "clusterroles", "", "", "view"},
	{"bind", "rbac.authorization.k8s.io", "clusterroles", "", "", "cluster-admin"},
	{"escalate", "rbac.authorization.k8s.io", "clusterroles", "", "", ""},
	{"create", "", "pods", "exec", "default", "p"},
	{"create", "", "pods", "attach", "default", "p"},
	{"create", "", "pods", "portforward", "default", "p"},
	{"get", "", "nodes", "proxy", "", "n"},
	{"create", "certificates.k8s.io", "certificatesigningrequests", "", "", ""},
	{"update", "certificates.k8s.io", "certificatesigningrequests", "approval", "", "csr"},
	{"approve", "certificates.k8s.io", "signers", "", "", "kubernetes.io/kube-apiserver-client"},
	{"create", "apiextensions.k8s.io", "customresourcedefinitions", "", "", ""},
	{"create", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", "", "", ""},
	{"delete", "", "namespaces", "", "", "kube-system"},
}

// TestSpokeGrantLeastPrivilege provisions both modes' grants on a real spoke and asks the spoke's own
// authorizer what each allows.
func TestSpokeGrantLeastPrivilege(t *testing.T) {
	spoke := env.fleet.Spoke("spoke2")
	write, writeReg := newProvider(t, auth.Options{MSAName: "e2e-lp-write"})
	spokeClient(t, write, writeReg, "spoke2")
	read, readReg := newProvider(t, auth.Options{MSAName: "e2e-lp-read", ReadOnly: true})
	spokeClient(t, read, readReg, "spoke2")

	writes := []access{
		{"create", "", "configmaps", "", "default", ""},
		{"patch", "apps", "deployments", "", "default", "web"},
		{"update", "apps", "deployments", "scale", "default", "web"},
		{"create", "", "pods", "eviction", "default", "p"},
		{"patch", "", "nodes", "", "", "spoke2-node-1"},
		{"delete", "", "pods", "", "default", "p"},
		{"create", "", "secrets", "", "default", ""},
		{"create", "batch", "jobs", "", "default", ""},
	}
	reads := []access{
		{"list", "", "pods", "", "", ""},
		{"list", "", "nodes", "", "", ""},
		{"get", "", "pods", "log", "default", "p"},
		{"list", "coordination.k8s.io", "leases", "", "", ""},
		{"list", "rbac.authorization.k8s.io", "clusterrolebindings", "", "", ""},
		{"list", "work.open-cluster-management.io", "appliedmanifestworks", "", "", ""},
	}
	for _, a := range append(writes, reads...) {
		if !spokeCan(t, spoke, "e2e-lp-write", a) {
			t.Errorf("the read-write grant lacks %+v", a)
		}
	}
	for _, a := range reads {
		if !spokeCan(t, spoke, "e2e-lp-read", a) {
			t.Errorf("the read-only grant lacks %+v", a)
		}
	}
	for _, a := range append(writes, access{"list", "", "secrets", "", "", ""}, access{"get", "", "secrets", "", "kube-system", "x"}) {
		if spokeCan(t, spoke, "e2e-lp-read", a) {
			t.Errorf("the read-only grant allows %+v", a)
		}
	}
	for _, msa := range []string{"e2e-lp-write", "e2e-lp-read"} {
		for _, a := range neverGranted {
			if spokeCan(t, spoke, msa, a) {
				t.Errorf("the %s grant allows %+v", msa, a)
			}
		}
	}
	t.Logf("spoke grants: %d writes and %d reads allowed in read-write mode, %d reads in read-only; %d accesses refused to both",
		len(writes), len(reads), len(reads), len(neverGranted))
}

// TestGrantModeConflict: a second server with the same --msa-name but another mode must refuse the
// cluster, not rewrite the grant the first one relies on.
func TestGrantModeConflict(t *testing.T) {
	ctx := context.Background()
	ro, roReg := newProvider(t, auth.Options{MSAName: "e2e-mode", ReadOnly: true})
	spokeClient(t, ro, roReg, "spoke1")
	cp := env.fleet.Hub.Dynamic.Resource(auth.ClusterPermissionGVR).Namespace("spoke1")
	before, err := cp.Get(ctx, "e2e-mode", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rw, rwReg := newProvider(t, auth.Options{MSAName: "e2e-mode"})
	target, err := ocm.Resolve(ctx, rwReg, "spoke1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = rw.RESTConfig(ctx, target)
	if err == nil || !strings.Contains(err.Error(), "--msa-name") || !strings.Contains(err.Error(), "read-only/view") {
		t.Fatalf("a read-write server on a read-only ManagedServiceAccount: %v; want a refusal naming both grants and --msa-name", err)
	}
	after, err := cp.Get(ctx, "e2e-mode", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.GetResourceVersion() != before.GetResourceVersion() {
		t.Errorf("the refused server changed the grant (resourceVersion %s -> %s)", before.GetResourceVersion(), after.GetResourceVersion())
	}
	if spokeCan(t, env.fleet.Spoke("spoke1"), "e2e-mode", access{"create", "", "configmaps", "", "default", ""}) {
		t.Errorf("the read-only identity can write after the refused server ran")
	}
}

// TestEmbeddedSecretsElidedLive puts credentials where they hide on a real hub and spoke: a Secret in a
// ManifestWork's workload (applied by the real work agent), and a token annotation as OpenShift writes
// it. No output format of kubectl may show them.
func TestEmbeddedSecretsElidedLive(t *testing.T) {
	ctx := context.Background()
	const clear = "embedded-s3cr3t-that-must-not-leak"
	b64 := "ZW1iZWRkZWQtczNjcjN0LXRoYXQtbXVzdC1ub3QtbGVhaw" // without padding
	mwGVR := schema.GroupVersionResource{Group: "work.open-cluster-management.io", Version: "v1", Resource: "manifestworks"}
	secret := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "e2e-embedded", "namespace": "default"},
		"stringData": map[string]any{"password": clear}}
	mw := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "work.open-cluster-management.io/v1", "kind": "ManifestWork",
		"metadata": map[string]any{"name": "e2e-embedded", "namespace": "spoke1"},
		"spec":     map[string]any{"workload": map[string]any{"manifests": []any{secret}}},
	}}
	if _, err := env.fleet.Hub.Dynamic.Resource(mwGVR).Namespace("spoke1").Create(ctx, mw, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = env.fleet.Hub.Dynamic.Resource(mwGVR).Namespace("spoke1").Delete(context.Background(), "e2e-embedded", metav1.DeleteOptions{})
	})
	spoke := env.fleet.Spoke("spoke1")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "e2e-token-annotation", Namespace: "default",
		Annotations: map[string]string{"openshift.io/token-secret.value": clear}}}
	if _, err := spoke.Kube.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = spoke.Kube.CoreV1().ConfigMaps("default").Delete(context.Background(), "e2e-token-annotation", metav1.DeleteOptions{})
	})
	c := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA).Client
	calls := []struct{ cluster, command string }{
		{"hub", "get manifestwork e2e-embedded -n spoke1 -o yaml"},
		{"hub", "get manifestwork e2e-embedded -n spoke1 -o json"},
		{"hub", "get manifestworks -A -o yaml"},
		{"hub", "get manifestwork e2e-embedded -n spoke1 -o jsonpath='{.spec.workload.manifests[0].stringData.password}'"},
		{"hub", "describe manifestwork e2e-embedded -n spoke1"},
		{"spoke1", "get cm e2e-token-annotation -n default -o yaml"},
		{"spoke1", "get cm -n default -o json"},
		{"spoke1", "describe cm e2e-token-annotation -n default"},
	}
	for _, call := range calls {
		text, isErr := callTool(t, c, "kubectl", map[string]any{"cluster": call.cluster, "command": call.command})
		if isErr {
			t.Errorf("%s on %s: %s", call.command, call.cluster, text)
			continue
		}
		if strings.Contains(text, clear) || strings.Contains(text, b64) {
			t.Errorf("%s on %s showed the embedded credential:\n%s", call.command, call.cluster, text)
		}
	}
	text, _ := callTool(t, c, "kubectl", map[string]any{"cluster": "hub", "command": "get manifestwork e2e-embedded -n spoke1 -o yaml"})
	if !strings.Contains(text, "e2e-embedded") || !strings.Contains(text, "<elided") {
		t.Errorf("the ManifestWork is not shown with its Secret elided:\n%s", text)
	}
}

// peakRSS is a process's high-water resident memory in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// TestRunawayOutputBounded: a command whose output would be far larger than any answer is stopped
// while it prints, within its timeout and with bounded memory; templates that loop beyond their input
// are refused before anything runs.
func TestRunawayOutputBounded(t *testing.T) {
	ctx := context.Background()
	spoke := env.fleet.Spoke("spoke1")
	const ns = "e2e-runaway"
	if _, err := spoke.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = spoke.Kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	blob := strings.Repeat("x", 200<<10)
	for i := range 40 { // 40 x 200 KiB = 8 MiB of data in one list
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("big-%02d", i), Namespace: ns}, Data: map[string]string{"blob": blob}}
		if _, err := spoke.Kube.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA)
	c := srv.streamableClient(t, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + fleet.OperatorToken}))
	refused := []string{
		`get cm -n ` + ns + ` -o go-template='{{range .items}}{{range $.items}}{{range $.items}}{{.metadata.name}}{{end}}{{end}}{{end}}'`,
		`get cm -n ` + ns + ` -o go-template='{{range 1000000000}}{{end}}'`,
		`get cm -n ` + ns + ` -o go-template='{{define "loop"}}{{template "loop" .}}{{end}}{{template "loop" .}}'`,
	}
	for _, cmd := range refused {
		began := time.Now()
		text, isErr := callTool(t, c, "kubectl", map[string]any{"cluster": "spoke1", "command": cmd, "timeout": "5s"})
		if !isErr || !strings.Contains(text, "template") {
			t.Errorf("%s: error=%v, want a refusal of the template:\n%s", cmd, isErr, text)
		}
		t.Logf("refused in %s: %s", time.Since(began).Round(time.Millisecond), cmd)
	}
	// The largest answers a template may give: every value printed three times per item, 24 MiB.
	heavy := []string{
		`get cm -n ` + ns + ` -o go-template='{{range .items}}{{range .data}}{{.}}{{.}}{{.}}{{end}}{{end}}'`,
		`get cm -n ` + ns + ` -o yaml`,
		`get cm -n ` + ns + ` -o jsonpath='{range .items[*]}{.data.blob}{.data.blob}{.data.blob}{end}'`,
	}
	for _, cmd := range heavy {
		began := time.Now()
		text, isErr := callTool(t, c, "kubectl", map[string]any{"cluster": "spoke1", "command": cmd, "timeout": "5s"})
		took := time.Since(began)
		if isErr || !strings.Contains(text, "stopped when its output reached the server's cap") || len(text) > 40<<10 {
			t.Errorf("%s: error=%v, %d bytes; want a capped answer with the note:\n%.600s", cmd, isErr, len(text), text)
		}
		if took > 6*time.Second {
			t.Errorf("%s took %s; want it ended within its 5s timeout + 1s", cmd, took)
		}
		t.Logf("capped in %s: %s", took.Round(time.Millisecond), cmd)
	}
	if peak := peakRSS(t, srv.cmd.Process.Pid); peak > 256<<20 {
		t.Errorf("server peak RSS %d MiB; want under 256 MiB", peak>>20)
	} else {
		t.Logf("server peak RSS over the runaway commands: %d MiB", peak>>20)
	}
}
