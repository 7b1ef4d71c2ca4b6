package e2e

import (
	"context"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	addonv1alpha1 "open-cluster-management.io/api/addon/v1alpha1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
)

var topFinding = regexp.MustCompile(`(?m)^\[(critical|warning|info)\] ([a-z0-9-]+) \(([^)]*)\): (.*)$`)

// diagnoseBoth asks a live server and, on a must-gather collected now, an offline one; it returns the
// top finding's id of each and the live text.
func diagnoseBoth(t *testing.T, live *session, args map[string]any) (liveID, offlineID, text string) {
	t.Helper()
	began := time.Now()
	text, isErr := callTool(t, live.Client, "diagnose", args)
	took := time.Since(began)
	if isErr {
		t.Fatalf("diagnose %v: %s", args, text)
	}
	m := topFinding.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("diagnose %v found nothing:\n%s", args, text)
	}
	t.Logf("diagnose %v took %s; top finding: [%s] %s: %s", args, took.Round(time.Millisecond), m[1], m[2], m[4])
	_, path, _ := collect(t, live, map[string]any{"clusters": "*"})
	offline := stdioClient(t, "--must-gather", path)
	otext, isErr := callTool(t, offline.Client, "diagnose", args)
	if isErr {
		t.Fatalf("offline diagnose %v: %s", args, otext)
	}
	om := topFinding.FindStringSubmatch(otext)
	if om == nil {
		t.Fatalf("offline diagnose %v found nothing:\n%s", args, otext)
	}
	if om[2] != m[2] {
		t.Logf("offline diagnosis:\n%s", otext)
	}
	checkVerifyCommands(t, text)
	checkVerifyCommands(t, otext)
	return m[2], om[2], text
}

var verifyCall = regexp.MustCompile(`(?m)^\s+verify: (kubectl|kubectl_write) cluster=[^:]+: (.*)$`)

// checkVerifyCommands runs every kubectl command a finding offers as verification through the
// interpreter's parser and policy: the model must be able to make the call as written.
func checkVerifyCommands(t *testing.T, text string) {
	t.Helper()
	for _, m := range verifyCall.FindAllStringSubmatch(text, -1) {
		tool := kubectl.ReadTool
		if m[1] == "kubectl_write" {
			tool = kubectl.WriteTool
		}
		words, err := kubectl.Split(m[2])
		if err == nil {
			_, err = kubectl.Check(words, tool, false)
		}
		if err != nil {
			t.Errorf("a finding offers %q, which the %s tool refuses: %v", m[0], m[1], err)
		}
	}
}

func TestDiagnose(t *testing.T) {
	ctx := context.Background()
	live := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-diag", "--must-gather-dir", t.TempDir())

	t.Run("fleet: each injected workload fault with its cause first, no false alarm", func(t *testing.T) {
		text, isErr := callTool(t, live.Client, "diagnose", nil)
		if isErr || !strings.HasPrefix(text, "Diagnosis of the fleet: ") || !strings.Contains(text, "Checked: ") {
			t.Fatalf("fleet diagnosis: %v\n%s", isErr, text)
		}
		t.Logf("faults: %s", faultsSummary())
		checkFleetDiagnosis(t, "live", text, nil)
		checkVerifyCommands(t, text)
	})

	t.Run("a: registration agent stopped", func(t *testing.T) {
		// Credentials while the cluster is up: diagnose reads the spoke through them.
		if text, isErr := callTool(t, live.Client, "cluster_status", map[string]any{"cluster": "spoke3"}); isErr {
			t.Fatal(text)
		}
		spoke3 := env.fleet.Spoke("spoke3")
		stopUntilCleanup(t, spoke3.RegistrationAgent, "spoke3")
		if err := env.fleet.WaitClusterCondition(ctx, "spoke3", clusterv1.ManagedClusterConditionAvailable, metav1.ConditionUnknown, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		id, offline, text := diagnoseBoth(t, live, map[string]any{"cluster": "spoke3"})
		if id != "agent-down" || offline != id {
			t.Errorf("top finding live %s offline %s, want agent-down:\n%s", id, offline, text)
		}
		// The whole fleet, no cluster named: the OCM fault on spoke3 and every workload fault, live and
		// from a must-gather, each with its cause first.
		fleetText, isErr := callTool(t, live.Client, "diagnose", nil)
		if isErr {
			t.Fatal(fleetText)
		}
		ocmFault := map[string][]string{"spoke3": {"agent-down", "lease-stale", "cluster-unknown", "addon-unavailable"}}
		checkFleetDiagnosis(t, "live", fleetText, ocmFault)
		if fs := parseFindings(fleetText); len(fs) == 0 || fs[0].id != "agent-down" || fs[0].subject != "cluster spoke3" {
			t.Errorf("the fleet diagnosis does not lead with agent-down on spoke3:\n%s", fleetText)
		}
		_, path, _ := collect(t, live, map[string]any{"clusters": "*"})
		offlineText, isErr := callTool(t, stdioClient(t, "--must-gather", path).Client, "diagnose", nil)
		if isErr {
			t.Fatal(offlineText)
		}
		checkFleetDiagnosis(t, "offline", offlineText, ocmFault)
		for _, want := range []string{"lease spoke3/managed-cluster-lease renewed at", "runbook://ocm/cluster-unknown", "no pod runs in open-cluster-management-agent"} {
			if !strings.Contains(text, want) {
				t.Errorf("evidence lacks %q:\n%s", want, text)
			}
		}
	})

	t.Run("b: agent hub credentials invalid", func(t *testing.T) {
		// Run as the hub Deployment runs: the server reaches the hub at its in-cluster Service address
		// (here localhost, named by KUBERNETES_SERVICE_HOST), which agents never use; the agents' URL must
		// be compared with the URL the hub publishes, not with the server's own.
		inCluster := stdioClientEnv(t, []string{"KUBERNETES_SERVICE_HOST=localhost"},
			"--kubeconfig", kubeconfigAt(t, env.hubKubeconfig, "localhost"), "--msa-name", "e2e-diag", "--must-gather-dir", t.TempDir())
		for _, s := range []*session{live, inCluster} {
			if text, isErr := callTool(t, s.Client, "cluster_status", map[string]any{"cluster": "spoke2"}); isErr {
				t.Fatal(text)
			}
		}
		if err := env.fleet.BreakAgentCredentials(ctx, "spoke2"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := env.fleet.RepairAgentCredentials(ctx, "spoke2"); err != nil {
				t.Fatal(err)
			}
		})
		if err := env.fleet.WaitClusterCondition(ctx, "spoke2", clusterv1.ManagedClusterConditionAvailable, metav1.ConditionUnknown, 3*time.Minute); err != nil {
			t.Fatal(err)
		}
		id, offline, text := diagnoseBoth(t, live, map[string]any{"cluster": "spoke2"})
		if id != "agent-hub-credentials-invalid" || offline != id {
			t.Errorf("top finding live %s offline %s, want agent-hub-credentials-invalid:\n%s", id, offline, text)
		}
		for _, want := range []string{"client certificate (CN=system:open-cluster-management:spoke2:agent) expired at", "points at https://127.0.0.1:1, but the hub is"} {
			if !strings.Contains(text, want) {
				t.Errorf("evidence lacks %q:\n%s", want, text)
			}
		}
		text, isErr := callTool(t, inCluster.Client, "diagnose", map[string]any{"cluster": "spoke2"})
		published := regexp.MustCompile(`points at https://127\.0\.0\.1:1, but the hub is published as https://127\.0\.0\.1:\d+\b`)
		if isErr || !published.MatchString(text) || strings.Contains(text, "localhost") {
			t.Errorf("in-cluster diagnosis compares the agent's URL with the wrong hub URL:\n%s", text)
		}
	})

	t.Run("c: add-on placed without a ManagedClusterSetBinding", func(t *testing.T) {
		ns := "e2e-addon-placement"
		kube := env.fleet.Hub.Kube
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		placement := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "cluster.open-cluster-management.io/v1beta1", "kind": "Placement",
			"metadata": map[string]any{"name": "e2e-everywhere", "namespace": ns}, "spec": map[string]any{},
		}}
		placements := env.fleet.Hub.Dynamic.Resource(schema.GroupVersionResource{Group: "cluster.open-cluster-management.io", Version: "v1beta1", Resource: "placements"}).Namespace(ns)
		if _, err := placements.Create(ctx, placement, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		cma := &addonv1alpha1.ClusterManagementAddOn{ObjectMeta: metav1.ObjectMeta{Name: "e2e-placed-addon"},
			Spec: addonv1alpha1.ClusterManagementAddOnSpec{InstallStrategy: addonv1alpha1.InstallStrategy{
				Type:       addonv1alpha1.AddonInstallStrategyPlacements,
				Placements: []addonv1alpha1.PlacementStrategy{{PlacementRef: addonv1alpha1.PlacementRef{Name: "e2e-everywhere", Namespace: ns}}},
			}}}
		cmas := env.fleet.HubAddon.AddonV1alpha1().ClusterManagementAddOns()
		if _, err := cmas.Create(ctx, cma, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmas.Delete(ctx, "e2e-placed-addon", metav1.DeleteOptions{})
			_ = kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
		})
		// The real placement controller must have judged the Placement.
		err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			p, err := placements.Get(ctx, "e2e-everywhere", metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			conds, _, _ := unstructured.NestedSlice(p.Object, "status", "conditions")
			for _, c := range conds {
				if m, _ := c.(map[string]any); m["type"] == "PlacementSatisfied" && m["status"] == "False" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatal("the placement controller never set PlacementSatisfied=False")
		}
		id, offline, text := diagnoseBoth(t, live, map[string]any{"addon": "e2e-placed-addon"})
		if id != "addon-placement-no-bindings" || offline != id {
			t.Errorf("top finding live %s offline %s, want addon-placement-no-bindings:\n%s", id, offline, text)
		}
		for _, want := range []string{"NoManagedClusterSetBindings", "ManagedClusterSetBindings in namespace " + ns + ": none"} {
			if !strings.Contains(text, want) {
				t.Errorf("evidence lacks %q:\n%s", want, text)
			}
		}
	})

	t.Run("d: ManagedServiceAccount where the add-on is not enabled", func(t *testing.T) {
		ghost := registerGhost(t, "ghost-msa")
		msa := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "authentication.open-cluster-management.io/v1beta1", "kind": "ManagedServiceAccount",
			"metadata": map[string]any{"name": "app-reader", "namespace": ghost}, "spec": map[string]any{"rotation": map[string]any{}},
		}}
		msas := env.fleet.Hub.Dynamic.Resource(schema.GroupVersionResource{Group: "authentication.open-cluster-management.io", Version: "v1beta1", Resource: "managedserviceaccounts"}).Namespace(ghost)
		if _, err := msas.Create(ctx, msa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		id, offline, text := diagnoseBoth(t, live, map[string]any{"cluster": ghost})
		if id != "msa-addon-not-enabled" || offline != id {
			t.Errorf("top finding live %s offline %s, want msa-addon-not-enabled:\n%s", id, offline, text)
		}
		if !strings.Contains(text, "ManagedServiceAccount "+ghost+"/app-reader") {
			t.Errorf("evidence does not name the ManagedServiceAccount:\n%s", text)
		}
	})
}

// registerGhost registers a cluster with no agent behind it, accepted, joined and available as far as
// the hub can tell (status and lease written by the test), with no add-on enabled.
// kubeconfigAt writes a copy of a kubeconfig whose servers are reached by another host name.
func kubeconfigAt(t *testing.T, path, host string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		u, err := url.Parse(c.Server)
		if err != nil {
			t.Fatal(err)
		}
		u.Host = net.JoinHostPort(host, u.Port())
		c.Server = u.String()
	}
	out := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func registerGhost(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	mcs := env.fleet.HubCluster.ClusterV1().ManagedClusters()
	if _, err := mcs.Create(ctx, &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: clusterv1.ManagedClusterSpec{HubAcceptsClient: true}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteCluster(t, name) })
	// The registration controller creates the cluster namespace once the cluster is accepted.
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := env.fleet.Hub.Kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatal("no cluster namespace")
	}
	now := metav1.Now()
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		mc, err := mcs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		mc.Status.Conditions = []metav1.Condition{
			{Type: clusterv1.ManagedClusterConditionHubAccepted, Status: metav1.ConditionTrue, Reason: "HubClusterAdminAccepted", LastTransitionTime: now},
			{Type: clusterv1.ManagedClusterConditionJoined, Status: metav1.ConditionTrue, Reason: "ManagedClusterJoined", LastTransitionTime: now},
			{Type: clusterv1.ManagedClusterConditionAvailable, Status: metav1.ConditionTrue, Reason: "ManagedClusterAvailable", LastTransitionTime: now},
		}
		_, err = mcs.UpdateStatus(ctx, mc, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	renew := metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "managed-cluster-lease", Namespace: name},
		Spec: coordinationv1.LeaseSpec{RenewTime: &renew, LeaseDurationSeconds: ptr.To[int32](60)}}
	if _, err := env.fleet.Hub.Kube.CoordinationV1().Leases(name).Create(ctx, lease, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return name
}
