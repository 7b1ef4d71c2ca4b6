package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// newProvider connects a credentials provider to the fleet's hub, as the server does.
func newProvider(t *testing.T, o auth.Options) (*auth.Provider, *ocm.Registry) {
	t.Helper()
	hub, err := ocm.ConnectHub(ocm.HubOptions{Kubeconfig: env.fleet.Hub.Kubeconfig, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := ocm.NewRegistry(hub)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	reg.Start(ctx)
	p, err := auth.NewProvider(hub, reg, o)
	if err != nil {
		t.Fatal(err)
	}
	return p, reg
}

func spokeClient(t *testing.T, p *auth.Provider, reg *ocm.Registry, cluster string) (kubernetes.Interface, *rest.Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	target, err := ocm.Resolve(ctx, reg, cluster)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	cfg, err := p.RESTConfig(ctx, target)
	if err != nil {
		t.Fatalf("credentials for %s: %v", cluster, err)
	}
	t.Logf("credentials for %s ready in %s", cluster, time.Since(began).Round(time.Millisecond))
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return kube, cfg
}

func whoami(t *testing.T, kube kubernetes.Interface) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("whoami: %v", err)
	}
	return res.Status.UserInfo.Username
}

func saUser(name string) string {
	return "system:serviceaccount:" + fleet.AgentAddonNamespace + ":" + name
}

func TestReadOnlyCredentials(t *testing.T) {
	p, reg := newProvider(t, auth.Options{MSAName: "e2e-ro", ReadOnly: true})
	kube, _ := spokeClient(t, p, reg, "spoke1")
	ctx := context.Background()
	if got := whoami(t, kube); got != saUser("e2e-ro") {
		t.Errorf("identity on the spoke = %q", got)
	}
	if _, err := kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("view role cannot list pods: %v", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "e2e-ro-probe", Namespace: "default"}}
	_, err := kube.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("read-only token created a ConfigMap; want Forbidden from the spoke's RBAC, got %v", err)
	}
	// The hub holds the ManagedServiceAccount; the spoke holds its ServiceAccount and a view binding.
	if _, err := env.fleet.Spoke("spoke1").Kube.CoreV1().ServiceAccounts(fleet.AgentAddonNamespace).Get(ctx, "e2e-ro", metav1.GetOptions{}); err != nil {
		t.Errorf("spoke ServiceAccount: %v", err)
	}
	crb, err := env.fleet.Spoke("spoke1").Kube.RbacV1().ClusterRoleBindings().Get(ctx, "e2e-ro:view", metav1.GetOptions{})
	if err != nil || crb.RoleRef.Name != "view" {
		t.Errorf("spoke binding e2e-ro:view: %v %+v", err, crb)
	}
}

func TestClusterPermissionSpec(t *testing.T) {
	p, reg := newProvider(t, auth.Options{MSAName: "e2e-cp", ReadOnly: true})
	spokeClient(t, p, reg, "spoke2")
	cp, err := env.fleet.Hub.Dynamic.Resource(auth.ClusterPermissionGVR).Namespace("spoke2").Get(context.Background(), "e2e-cp", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		ClusterRole struct {
			Rules []rbacv1.PolicyRule `json:"rules"`
		} `json:"clusterRole"`
		ClusterRoleBindings []struct {
			Name    string         `json:"name"`
			RoleRef rbacv1.RoleRef `json:"roleRef"`
			Subject rbacv1.Subject `json:"subject"`
		} `json:"clusterRoleBindings"`
	}
	raw, _ := json.Marshal(cp.Object["spec"])
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	msaSubject := rbacv1.Subject{APIGroup: "authentication.open-cluster-management.io", Kind: "ManagedServiceAccount", Name: "e2e-cp"}
	b := spec.ClusterRoleBindings
	if len(b) != 2 || b[0].Name != "e2e-cp:view" || b[0].RoleRef.Name != "view" || b[0].Subject != msaSubject ||
		b[1].Name != "e2e-cp:fleet-reader" || b[1].RoleRef.Name != "e2e-cp" || b[1].Subject != msaSubject {
		t.Errorf("ClusterPermission bindings: %s", raw)
	}
	for _, r := range spec.ClusterRole.Rules {
		for _, v := range r.Verbs {
			if v != "get" && v != "list" && v != "watch" {
				t.Errorf("reader rule grants %q: %+v", v, r)
			}
		}
		for _, res := range r.Resources {
			if res == "secrets" || res == "*" {
				t.Errorf("reader rule reaches %q", res)
			}
		}
	}
	// The stand-in controller renders it; the spoke holds the role and both bindings.
	spoke := env.fleet.Spoke("spoke2").Kube.RbacV1()
	if _, err := spoke.ClusterRoles().Get(context.Background(), "e2e-cp", metav1.GetOptions{}); err != nil {
		t.Errorf("reader ClusterRole on the spoke: %v", err)
	}
	if cp.GetLabels()[auth.ManagedByLabel] != "multicluster-mcp-server" {
		t.Errorf("labels %v", cp.GetLabels())
	}
}

// TestManifestWorkGrantWithoutClusterPermission removes the ClusterPermission CRD from the hub: the grant
// must then travel as a ManifestWork, applied by the real work agent.
func TestManifestWorkGrantWithoutClusterPermission(t *testing.T) {
	ctx := context.Background()
	const crd = "clusterpermissions.rbac.open-cluster-management.io"
	if err := fleet.DeleteCRD(ctx, env.fleet.Hub.Dynamic, crd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := fleet.InstallCRDFile(ctx, env.fleet.Hub.Dynamic, fleet.ClusterPermissionCRD()); err != nil {
			t.Errorf("reinstalling the ClusterPermission CRD: %v", err)
		}
	})
	// Discovery must notice the CRD is gone before the provider looks.
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := env.fleet.Hub.Kube.Discovery().ServerResourcesForGroupVersion(auth.ClusterPermissionGVR.GroupVersion().String())
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatal("ClusterPermission API still served after CRD deletion")
	}
	// Without the opt-in, a hub without ClusterPermission is a clear error, and nothing is created.
	off, offReg := newProvider(t, auth.Options{MSAName: "e2e-mw-off"})
	offTarget, err := ocm.Resolve(ctx, offReg, "spoke2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := off.RESTConfig(ctx, offTarget); err == nil || !strings.Contains(err.Error(), "--manifestwork-grant") {
		t.Errorf("without --manifestwork-grant: %v; want an error naming the flag", err)
	}
	if _, err := env.fleet.HubWork.WorkV1().ManifestWorks("spoke2").Get(ctx, "e2e-mw-off", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a ManifestWork grant was created without the opt-in: %v", err)
	}
	p, reg := newProvider(t, auth.Options{MSAName: "e2e-mw", ManifestWorkGrant: true})
	kube, _ := spokeClient(t, p, reg, "spoke2")
	mw, err := env.fleet.HubWork.WorkV1().ManifestWorks("spoke2").Get(ctx, "e2e-mw", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("ManifestWork grant: %v", err)
	}
	var crb rbacv1.ClusterRoleBinding
	if len(mw.Spec.Workload.Manifests) != 3 || json.Unmarshal(mw.Spec.Workload.Manifests[0].Raw, &crb) != nil {
		t.Fatalf("unexpected manifests %s", mw.Spec.Workload.Manifests)
	}
	if crb.RoleRef.Name != "view" || len(crb.Subjects) != 1 || crb.Subjects[0].Name != "e2e-mw" || crb.Subjects[0].Namespace != fleet.AgentAddonNamespace {
		t.Errorf("binding %+v", crb)
	}
	// The server's own write rules (read-write mode) may create a ConfigMap, but the role is not cluster-admin.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "e2e-mw-probe", Namespace: "default"}}
	if _, err := kube.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Errorf("the write grant cannot create a ConfigMap: %v", err)
	}
	_ = kube.CoreV1().ConfigMaps("default").Delete(ctx, "e2e-mw-probe", metav1.DeleteOptions{})
	_, err = kube.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "e2e-escalate"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("the write grant created a ClusterRole: %v", err)
	}
}

// TestTokenRotation replaces the token behind the server's back, twice: once with the old token still
// valid (picked up when the Secret is re-read), once with the old token revoked (401, re-read, retry).
// spoke1's managed-serviceaccount agent is stopped meanwhile, or it would put its own token back.
func TestTokenRotation(t *testing.T) {
	ctx := context.Background()
	spoke := env.fleet.Spoke("spoke1")
	secrets := env.fleet.Hub.Kube.CoreV1().Secrets("spoke1")
	setToken := func(name, token string) {
		t.Helper()
		sec, err := secrets.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sec.Data["token"] = []byte(token)
		if _, err := secrets.Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	issue := func(sa string) string { return issueToken(t, sa) }
	// Provision both accounts while the agent runs: it issues their first tokens.
	eager, eagerReg := newProvider(t, auth.Options{MSAName: "e2e-rot", ReadOnly: true, TokenRecheck: time.Nanosecond})
	eagerKube, _ := spokeClient(t, eager, eagerReg, "spoke1")
	lazy, lazyReg := newProvider(t, auth.Options{MSAName: "e2e-rev", ReadOnly: true, TokenRecheck: time.Hour})
	spokeClient(t, lazy, lazyReg, "spoke1")
	spoke.MSAAgent.Stop(10 * time.Second)
	t.Cleanup(func() {
		if err := spoke.MSAAgent.Start(); err != nil {
			t.Error(err)
		}
	})

	t.Run("secret changed", func(t *testing.T) {
		if got := whoami(t, eagerKube); got != saUser("e2e-rot") {
			t.Fatalf("before rotation: %s", got)
		}
		setToken("e2e-rot", issue("e2e-rot-next"))
		if got := whoami(t, eagerKube); got != saUser("e2e-rot-next") {
			t.Errorf("after rotation the server still uses %s", got)
		}
	})
	t.Run("old token revoked", func(t *testing.T) {
		// The token in use belongs to a ServiceAccount that is then deleted: the spoke rejects it (401).
		victim := issue("e2e-rev-victim")
		setToken("e2e-rev", victim)
		lazy.Forget("spoke1")
		kube, _ := spokeClient(t, lazy, lazyReg, "spoke1")
		if got := whoami(t, kube); got != saUser("e2e-rev-victim") {
			t.Fatalf("victim token not in use: %s", got)
		}
		if err := spoke.Kube.CoreV1().ServiceAccounts(fleet.AgentAddonNamespace).Delete(ctx, "e2e-rev-victim", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitRejected(t, spoke, victim)
		setToken("e2e-rev", issue("e2e-rev-after"))
		// An hour-long recheck interval: only the 401 makes the server read the Secret again.
		if got := whoami(t, kube); got != saUser("e2e-rev-after") {
			t.Errorf("after revocation: %s", got)
		}
	})
}

// TestMissingAddonIsExplained registers a cluster on the hub without the managed-serviceaccount add-on.
func TestMissingAddonIsExplained(t *testing.T) {
	ctx := context.Background()
	mcs := env.fleet.HubCluster.ClusterV1().ManagedClusters()
	ghost := &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: "ghost"}, Spec: clusterv1.ManagedClusterSpec{HubAcceptsClient: true}}
	if _, err := mcs.Create(ctx, ghost, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteCluster(t, "ghost") })
	p, reg := newProvider(t, auth.Options{MSAName: "e2e-noaddon"})
	var target ocm.Target
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		target, err = ocm.Resolve(ctx, reg, "ghost")
		return err == nil, nil
	})
	if err != nil {
		t.Fatal("ghost never reached the registry")
	}
	_, err = p.RESTConfig(ctx, target)
	if err == nil || !strings.Contains(err.Error(), "managed-serviceaccount add-on is not enabled on cluster ghost") ||
		!strings.Contains(err.Error(), "clusteradm addon enable --names managed-serviceaccount --clusters ghost") {
		t.Fatalf("error does not explain the missing add-on: %v", err)
	}
}

// deleteCluster deletes a ManagedCluster and waits until the hub has finished with it.
func deleteCluster(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	mcs := env.fleet.HubCluster.ClusterV1().ManagedClusters()
	if err := mcs.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Error(err)
		return
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := mcs.Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Errorf("ManagedCluster %s not deleted: %v", name, err)
	}
}

// issueToken creates (if needed) a ServiceAccount in spoke1's add-on namespace and returns a token for it.
func issueToken(t *testing.T, sa string) string {
	t.Helper()
	ctx := context.Background()
	sas := env.fleet.Spoke("spoke1").Kube.CoreV1().ServiceAccounts(fleet.AgentAddonNamespace)
	if _, err := sas.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	tr, err := sas.CreateToken(ctx, sa, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env.rememberToken(tr.Status.Token)
	return tr.Status.Token
}

// waitRejected waits until the spoke answers 401 to the token: the API server caches successful token
// reviews for a few seconds after the ServiceAccount is gone.
func waitRejected(t *testing.T, spoke *fleet.Cluster, token string) {
	t.Helper()
	cfg := rest.AnonymousClientConfig(spoke.Config)
	cfg.BearerToken = token
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		return apierrors.IsUnauthorized(err), nil
	})
	if err != nil {
		t.Fatal("the revoked token is still accepted")
	}
}

// tokenClient builds a spoke client from the token the hub holds for a ManagedServiceAccount: what the
// server itself would use.
func tokenClient(t *testing.T, cluster, msa string) kubernetes.Interface {
	t.Helper()
	sec, err := env.fleet.Hub.Kube.CoreV1().Secrets(cluster).Get(context.Background(), msa, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(env.fleet.Spoke(cluster).Config)
	cfg.BearerToken = string(sec.Data["token"])
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return kube
}
