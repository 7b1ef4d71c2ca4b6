package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	addonv1alpha1 "open-cluster-management.io/api/addon/v1alpha1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
	msav1beta1 "open-cluster-management.io/managed-serviceaccount/apis/authentication/v1beta1"
	msaclient "open-cluster-management.io/managed-serviceaccount/pkg/generated/clientset/versioned"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// kubectlBinary builds the stock kubectl from this module.
func kubectlBinary(b *testing.B) string {
	b.Helper()
	out := filepath.Join(shared.tmp, "kubectl")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	cmd := exec.Command("go", "build", "-o", out, "./test/bench/cmd/kubectl")
	cmd.Dir = fleet.ModuleRoot()
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building kubectl: %v\n%s", err, msg)
	}
	return out
}

// podsOnHub gives the hub 60 pods (a Deployment; with no kubelet they stay Pending).
func podsOnHub(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	kube := shared.hub.Hub.Kube
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "bench-web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](60),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "bench-web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "bench-web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.invalid/web:1"}}},
			},
		},
	}
	if _, err := kube.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := kube.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=bench-web"})
		return err == nil && len(pods.Items) == 60, nil
	})
	if err != nil {
		b.Fatal("the hub did not create 60 pods")
	}
}

// BenchmarkGetPodsInProcess: `get pods -A` (60 pods) through the MCP server's kubectl tool.
func BenchmarkGetPodsInProcess(b *testing.B) {
	setup(b)
	podsOnHub(b)
	kubeconfig, err := shared.hub.ServerKubeconfig()
	if err != nil {
		b.Fatal(err)
	}
	c, _ := stdioServer(b, "--kubeconfig", kubeconfig, "--read-only")
	args := map[string]any{"cluster": "hub", "command": "get pods -A"}
	if out := call(b, c, "kubectl", args); strings.Count(out, "bench-web-") != 60 {
		b.Fatalf("unexpected output:\n%s", out)
	}
	timeCalls(b, func() { call(b, c, "kubectl", args) })
}

// BenchmarkGetPodsKubectlBinary: the same query by spawning the kubectl binary (warm disk cache).
func BenchmarkGetPodsKubectlBinary(b *testing.B) {
	setup(b)
	podsOnHub(b)
	bin := kubectlBinary(b)
	kubeconfig, err := shared.hub.ServerKubeconfig()
	if err != nil {
		b.Fatal(err)
	}
	cacheDir := filepath.Join(shared.tmp, "kubectl-cache")
	run := func() string {
		out, err := exec.Command(bin, "--kubeconfig", kubeconfig, "--cache-dir", cacheDir, "get", "pods", "-A").Output()
		if err != nil {
			b.Fatal(err)
		}
		return string(out)
	}
	if out := run(); strings.Count(out, "bench-web-") != 60 {
		b.Fatalf("unexpected output:\n%s", out)
	}
	timeCalls(b, func() { run() })
}

// simulateClusters registers n ManagedClusters (sim-000 ...) that all point at spoke1's API server, with
// the objects the managed-serviceaccount add-on and the work agent would have produced: the add-on, the
// ManagedServiceAccount with a real token (of a view-bound ServiceAccount on spoke1) and an applied
// grant. Many clusters on one API server: fan-out at scale without scale's memory.
func simulateClusters(b *testing.B, n int) {
	b.Helper()
	target := shared.hub.Spoke("spoke1")
	list := make([]string, n)
	for i := range list {
		list[i] = fmt.Sprintf("sim-%03d", i)
	}
	simulate(b, list, func(int) string { return target.URL }, nil, map[string]string{"bench": "fanout"})
}

// simulate registers the named clusters as simulateClusters does, cluster i at url(i), with ca as its
// CA bundle (nil: the fleet's CA). Clusters already registered are left as they are.
func simulate(b *testing.B, list []string, url func(i int) string, ca []byte, labels map[string]string) {
	b.Helper()
	ctx := context.Background()
	hub := shared.hub
	kube := hub.Spoke("spoke1").Kube
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bench-viewer", Namespace: "default"}}
	if _, err := kube.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bench-viewer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "default", Name: "bench-viewer"}}}
	if _, err := kube.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
	tr, err := kube.CoreV1().ServiceAccounts("default").CreateToken(ctx, "bench-viewer",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](7200)}}, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	fleetCA, err := os.ReadFile(filepath.Join(hub.Dir, "pki", "ca.crt"))
	if err != nil {
		b.Fatal(err)
	}
	if ca == nil {
		ca = fleetCA
	}
	msa, err := msaclient.NewForConfig(hub.Hub.Config)
	if err != nil {
		b.Fatal(err)
	}
	followGrants(b, list)
	now := metav1.Now()
	one := func(i int) error {
		name := list[i]
		if _, err := hub.HubCluster.ClusterV1().ManagedClusters().Get(ctx, name, metav1.GetOptions{}); err == nil {
			return nil
		}
		if err := ignoreExists(hub.Hub.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})); err != nil {
			return err
		}
		// Nothing renews a simulated cluster's lease: a lease duration of an hour keeps the hub from
		// marking it unavailable five durations after it was registered, during the benchmarks.
		mc := &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Spec: clusterv1.ManagedClusterSpec{LeaseDurationSeconds: 3600,
				ManagedClusterClientConfigs: []clusterv1.ClientConfig{{URL: url(i), CABundle: ca}}}}
		if err := ignoreExists(hub.HubCluster.ClusterV1().ManagedClusters().Create(ctx, mc, metav1.CreateOptions{})); err != nil {
			return err
		}
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := hub.HubCluster.ClusterV1().ManagedClusters().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			cur.Status.Conditions = append(cur.Status.Conditions, metav1.Condition{Type: clusterv1.ManagedClusterConditionAvailable, Status: metav1.ConditionTrue, Reason: "Simulated", LastTransitionTime: now})
			_, err = hub.HubCluster.ClusterV1().ManagedClusters().UpdateStatus(ctx, cur, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			return err
		}
		addon := &addonv1alpha1.ManagedClusterAddOn{ObjectMeta: metav1.ObjectMeta{Name: auth.MSAAddonName, Namespace: name}}
		if err := ignoreExists(hub.HubAddon.AddonV1alpha1().ManagedClusterAddOns(name).Create(ctx, addon, metav1.CreateOptions{})); err != nil {
			return err
		}
		m := &msav1beta1.ManagedServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: auth.DefaultMSAName, Namespace: name}}
		if err := ignoreExists(msa.AuthenticationV1beta1().ManagedServiceAccounts(name).Create(ctx, m, metav1.CreateOptions{})); err != nil {
			return err
		}
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: auth.DefaultMSAName, Namespace: name},
			Data: map[string][]byte{"token": []byte(tr.Status.Token), "ca.crt": fleetCA}}
		if err := ignoreExists(hub.Hub.Kube.CoreV1().Secrets(name).Create(ctx, sec, metav1.CreateOptions{})); err != nil {
			return err
		}
		return nil
	}
	// A few clusters at a time: registering thousands one by one takes minutes.
	errs := make(chan error, len(list))
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := one(i); err != nil {
					errs <- fmt.Errorf("cluster %s: %w", list[i], err)
				}
			}
		}()
	}
	for i := range list {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

func ignoreExists[T runtime.Object](_ T, err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// BenchmarkFanOutGetNamespaces: `get namespaces` over 1, 10 and 100 ManagedClusters.
func BenchmarkFanOutGetNamespaces(b *testing.B) {
	setup(b)
	simulateClusters(b, 100)
	kubeconfig, err := shared.hub.ServerKubeconfig()
	if err != nil {
		b.Fatal(err)
	}
	c, cmd := stdioServer(b, "--kubeconfig", kubeconfig, "--read-only", "--manifestwork-grant", "--max-output-bytes", "4194304")
	for _, n := range []int{1, 10, 100} {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("sim-%03d", i)
		}
		args := map[string]any{"cluster": strings.Join(names, ","), "command": "get namespaces", "timeout": "2m"}
		if n == 1 {
			args["cluster"] = names[0]
		}
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) {
			out := call(b, c, "kubectl", args) // provisions credentials and discovery: not timed
			if n > 1 && strings.Count(out, "\nsim-") < n {
				b.Fatalf("missing clusters in:\n%.2000s", out)
			}
			serverMark, fleetMark := cpuTime(cmd.Process.Pid), fleetCPUTime()
			timeCalls(b, func() { call(b, c, "kubectl", args) })
			reportCPU(b, cmd.Process.Pid, serverMark, fleetMark)
		})
	}
}
