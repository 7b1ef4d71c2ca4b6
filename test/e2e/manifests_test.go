package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

func kustomize(t *testing.T, overlay string) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(fleet.ModuleRoot(), "manifests", "overlays", overlay))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", overlay, err)
	}
	var out []*unstructured.Unstructured
	for _, r := range res.Resources() {
		data, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// hubResource is the hub's client for o's kind, in o's namespace when the kind is namespaced.
func hubResource(t *testing.T, o *unstructured.Unstructured) dynamic.ResourceInterface {
	t.Helper()
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(env.fleet.Hub.Kube.Discovery()))
	m, err := mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
	if err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return env.fleet.Hub.Dynamic.Resource(m.Resource).Namespace(o.GetNamespace())
	}
	return env.fleet.Hub.Dynamic.Resource(m.Resource)
}

// apply server-side applies objects to the hub, for real or as a dry run.
func apply(t *testing.T, objs []*unstructured.Unstructured, dryRun bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, o := range objs {
		data, _ := json.Marshal(o.Object)
		opts := metav1.PatchOptions{FieldManager: "e2e", Force: ptr.To(true)}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		if _, err := hubResource(t, o).Patch(ctx, o.GetName(), types.ApplyPatchType, data, opts); err != nil {
			t.Fatalf("apply %s %s (dry run %v): %v", o.GetKind(), o.GetName(), dryRun, err)
		}
	}
}

// liveObject is o as the hub holds it.
func liveObject(t *testing.T, o *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	live, err := hubResource(t, o).Get(ctx, o.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("%s %s/%s on the hub: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
	}
	return live
}

func pick(objs []*unstructured.Unstructured, kinds ...string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		for _, k := range kinds {
			if o.GetKind() == k {
				out = append(out, o)
			}
		}
	}
	return out
}

// serviceAccountToken returns a token of that ServiceAccount on the hub, valid for an hour (the leak
// scan knows it).
func serviceAccountToken(t *testing.T, namespace, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr, err := env.fleet.Hub.Kube.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("a token of ServiceAccount %s/%s: %v", namespace, name, err)
	}
	env.rememberToken(tr.Status.Token)
	return tr.Status.Token
}

// tokenKubeconfig writes a hub kubeconfig that authenticates with token.
func tokenKubeconfig(t *testing.T, token string) string {
	t.Helper()
	_, _, ca := env.fleet.ServingCert()
	kubeconfig := filepath.Join(t.TempDir(), "sa.kubeconfig")
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["hub"] = &clientcmdapi.Cluster{Server: env.fleet.Hub.URL, CertificateAuthority: ca}
	cfg.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["sa"] = &clientcmdapi.Context{Cluster: "hub", AuthInfo: "sa"}
	cfg.CurrentContext = "sa"
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

// checkToolPaths calls every tool path (fleet view, hub and spoke reads, a fan-out, writes, must-gather,
// diagnose, runbooks) as an operator through srv, a read-write server started with --approval none whose
// hub identity is the deployed ServiceAccount; how names that identity in failures.
func checkToolPaths(t *testing.T, srv *httpServer, how string) {
	t.Helper()
	c := srv.streamableClient(t, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + fleet.OperatorToken}))
	calls := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"list_clusters", nil, "spoke3"},
		{"cluster_status", map[string]any{"cluster": "spoke1"}, "Cluster spoke1: Healthy"},
		{"cluster_status", map[string]any{"cluster": "hub"}, "Cluster local-cluster: Healthy"},
		{"kubectl", map[string]any{"cluster": "spoke1", "command": "get pods -A"}, "managed-serviceaccount-addon-agent"},
		{"kubectl", map[string]any{"cluster": "hub", "command": "get ns multicluster-mcp-server"}, "Active"},
		{"kubectl", map[string]any{"cluster": "*", "command": "get ns kube-system"}, "spoke2"},
		{"kubectl_write", map[string]any{"cluster": "spoke2", "command": "create configmap e2e-sa-role -n default --from-literal=a=b"}, "created"},
		{"kubectl_write", map[string]any{"cluster": "spoke2", "command": "delete configmap e2e-sa-role -n default"}, "deleted"},
		{"must_gather", map[string]any{"clusters": "spoke1"}, "2 of 2 cluster(s) collected"},
		{"diagnose", map[string]any{"cluster": "spoke1"}, "[warning] pod-crashlooping (cluster spoke1): Deployment payments/payments-api"},
		{"search_runbooks", map[string]any{"query": "lease not renewed"}, "runbook://ocm/cluster-unknown"},
	}
	for _, call := range calls {
		text, isErr := callTool(t, c, call.tool, call.args)
		if isErr || !strings.Contains(text, call.want) {
			t.Errorf("%s %v %s: error=%v, want %q in:\n%s", call.tool, call.args, how, isErr, call.want, text)
		}
	}
}

// TestManifestsOnTheHub: both overlays pass a server-side dry run; then the server runs with a token of
// exactly the manifests' ServiceAccount and completes every tool path; and the role is no broader than
// the manifest declares.
func TestManifestsOnTheHub(t *testing.T) {
	ro, rw := kustomize(t, "read-only"), kustomize(t, "read-write")
	for _, objs := range [][]*unstructured.Unstructured{ro, rw} {
		deploy := pick(objs, "Deployment")[0]
		args, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
		if len(args) != 1 || len(pick(objs, "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Service")) != 5 {
			t.Fatalf("unexpected manifests: %d objects", len(objs))
		}
	}
	// The ManifestWork grant is an opt-in component: its overlay adds the role and the flag, nothing else.
	mw := kustomize(t, "read-write-manifestwork-grant")
	if len(mw) != len(rw)+2 || len(pick(mw, "ClusterRole")) != 2 {
		t.Errorf("the manifestwork-grant overlay holds %d objects; want the read-write ones plus a ClusterRole and its binding", len(mw))
	}
	for _, objs := range [][]*unstructured.Unstructured{ro, rw} {
		deploy := pick(objs, "Deployment")[0]
		raw, _ := json.Marshal(deploy.Object["spec"])
		if strings.Contains(string(raw), "--spoke-cluster-role") || strings.Contains(string(raw), "--manifestwork-grant") {
			t.Errorf("an overlay binds a spoke role or the ManifestWork grant by default: %s", raw)
		}
	}
	apply(t, pick(ro, "Namespace"), false)
	apply(t, mw, true)
	apply(t, ro, true)
	apply(t, rw, true)
	apply(t, pick(ro, "ServiceAccount", "ClusterRole", "ClusterRoleBinding"), false)

	ctx := context.Background()
	kubeconfig := manifestsKubeconfig(t)

	t.Run("every tool path works with exactly that role", func(t *testing.T) {
		srv := startHTTPServer(t, "--kubeconfig", kubeconfig, "--must-gather-dir", t.TempDir(), "--approval", "none")
		checkToolPaths(t, srv, "with the manifests' role")
	})

	t.Run("an OpenShift caller's scoped token works on the hub", func(t *testing.T) {
		// The identity an OpenShift TokenReview returns for a scoped token: its scopes ride in an extra,
		// which the server must impersonate too (they narrow the token; dropping them would widen it).
		hub, err := ocm.ConnectHub(ocm.HubOptions{Kubeconfig: kubeconfig, Timeout: 15 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		reg, err := ocm.NewRegistry(hub)
		if err != nil {
			t.Fatal(err)
		}
		p, err := auth.NewProvider(hub, reg, auth.Options{})
		if err != nil {
			t.Fatal(err)
		}
		caller := &auth.Caller{User: "operator", UID: "operator-uid", Groups: []string{fleet.OperatorGroup, "system:authenticated"},
			Extra: map[string][]string{"scopes.authorization.openshift.io": {"user:full"}, "authentication.kubernetes.io/credential-id": {"JTI=e2e"}}}
		cfg, err := p.RESTConfig(auth.WithCaller(ctx, caller), ocm.Target{Name: ocm.HubName, Hub: true})
		if err != nil {
			t.Fatal(err)
		}
		kube, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		review, err := kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("the hub refused the impersonated OpenShift caller: %v", err)
		}
		u := review.Status.UserInfo
		if u.Username != "operator" || strings.Join(u.Extra["scopes.authorization.openshift.io"], ",") != "user:full" {
			t.Errorf("the hub saw %+v; want operator with its scopes", u)
		}
	})

	t.Run("the role is no broader than declared", func(t *testing.T) {
		role := pick(ro, "ClusterRole")[0]
		var rules []rbacv1.PolicyRule
		raw, _ := json.Marshal(role.Object["rules"])
		_ = json.Unmarshal(raw, &rules)
		for _, r := range rules {
			for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs} {
				for _, v := range list {
					if v == "*" {
						t.Errorf("wildcard in rule %+v", r)
					}
				}
			}
		}
		user := "system:serviceaccount:multicluster-mcp-server:multicluster-mcp-server"
		can := func(verb, group, resource, ns, name string) bool {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:multicluster-mcp-server", "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: group, Resource: resource, Namespace: ns, Name: name},
			}}
			res, err := env.fleet.Hub.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return res.Status.Allowed
		}
		forbidden := []struct{ verb, group, resource, ns, name string }{
			{"list", "", "secrets", "spoke1", ""},
			{"get", "", "secrets", "spoke1", "some-other-secret"},
			{"get", "", "secrets", "open-cluster-management-hub", ""},
			{"delete", "cluster.open-cluster-management.io", "managedclusters", "", "spoke1"},
			{"update", "cluster.open-cluster-management.io", "managedclusters", "", "spoke1"},
			{"create", "cluster.open-cluster-management.io", "managedclusters", "", ""},
			{"delete", "work.open-cluster-management.io", "manifestworks", "spoke1", "anything"},
			{"update", "work.open-cluster-management.io", "manifestworks", "spoke1", "someone-elses"},
			{"update", "authentication.open-cluster-management.io", "managedserviceaccounts", "spoke1", "someone-elses"},
			{"delete", "authentication.open-cluster-management.io", "managedserviceaccounts", "spoke1", "multicluster-mcp-server"},
			{"create", "work.open-cluster-management.io", "manifestworks", "spoke1", ""},
			{"update", "work.open-cluster-management.io", "manifestworks", "spoke1", "multicluster-mcp-server"},
			{"create", "", "serviceaccounts/token", "spoke1", "multicluster-mcp-server"},
			{"update", "certificates.k8s.io", "certificatesigningrequests/approval", "", "csr-1"},
			{"create", "", "namespaces", "", ""},
			{"create", "", "pods", "default", ""},
			{"get", "", "configmaps", "default", ""},
			{"create", "rbac.authorization.k8s.io", "clusterrolebindings", "", ""},
			{"escalate", "rbac.authorization.k8s.io", "clusterroles", "", ""},
			{"create", "certificates.k8s.io", "certificatesigningrequests", "", ""},
		}
		for _, f := range forbidden {
			if can(f.verb, f.group, f.resource, f.ns, f.name) {
				t.Errorf("the server's role allows %s %s.%s %s/%s", f.verb, f.resource, f.group, f.ns, f.name)
			}
		}
		allowed := []struct{ verb, group, resource, ns, name string }{
			{"watch", "cluster.open-cluster-management.io", "managedclusters", "", ""},
			{"get", "", "secrets", "spoke1", "multicluster-mcp-server"},
			{"create", "authentication.k8s.io", "tokenreviews", "", ""},
			{"impersonate", "", "users", "", "alice"},
			{"update", "authentication.open-cluster-management.io", "managedserviceaccounts", "spoke1", "multicluster-mcp-server"},
		}
		for _, a := range allowed {
			if !can(a.verb, a.group, a.resource, a.ns, a.name) {
				t.Errorf("the server's role lacks %s %s.%s %s/%s", a.verb, a.resource, a.group, a.ns, a.name)
			}
		}
	})
}

// manifestsKubeconfig is a hub kubeconfig with a token of exactly the manifests' ServiceAccount.
func manifestsKubeconfig(t *testing.T) string {
	t.Helper()
	return tokenKubeconfig(t, serviceAccountToken(t, "multicluster-mcp-server", "multicluster-mcp-server"))
}
