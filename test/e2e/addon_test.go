package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	addonv1alpha1 "open-cluster-management.io/api/addon/v1alpha1"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

const (
	addonName      = "multicluster-mcp-server"
	addonPlacement = "multicluster-mcp-server/multicluster-mcp-server"
	addonLabel     = "multicluster-mcp-server"
)

// TestServerAsAnAddon: the read-write-addon overlay applied to the hub, the server run with exactly its
// ServiceAccount's role. It registers its ClusterManagementAddOn (install strategy Placements, lifecycle
// handed to OCM's add-on manager); the real placement controller decides from the overlay's Placement
// (clusters labelled multicluster-mcp-server=enabled: spoke1 and spoke2) and the real add-on manager
// creates their ManagedClusterAddOns, on which the server reports CredentialsIssued, GrantApplied,
// APIReachable and Available. A cluster outside the Placement (spoke3) is refused with a message naming
// it, while the hub (local-cluster) is not a spoke and stays reachable; a cluster whose label is removed
// leaves the Placement and is refused from then on.
func TestServerAsAnAddon(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	objs := kustomize(t, "read-write-addon")
	if len(pick(objs, "Placement", "ManagedClusterSetBinding")) != 2 || len(pick(objs, "ClusterRole")) != 2 {
		t.Fatalf("the add-on overlay holds %d objects; want the base's plus a Placement, its binding, a ClusterRole and its binding", len(objs))
	}
	apply(t, pick(objs, "Namespace"), false)
	apply(t, pick(objs, "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Placement", "ManagedClusterSetBinding"), false)
	label(t, ctx, "spoke1", "enabled")
	label(t, ctx, "spoke2", "enabled")
	cmas := env.fleet.HubAddon.AddonV1alpha1().ClusterManagementAddOns()
	t.Cleanup(func() {
		label(t, context.Background(), "spoke1", "")
		label(t, context.Background(), "spoke2", "")
		_ = cmas.Delete(context.Background(), addonName, metav1.DeleteOptions{})
	})

	srv := startHTTPServer(t, "--kubeconfig", manifestsKubeconfig(t), "--must-gather-dir", t.TempDir(), "--addon-placements", addonPlacement)
	c := srv.streamableClient(t, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + fleet.OperatorToken}))

	cma, err := cmas.Get(ctx, addonName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cma.Spec.InstallStrategy.Type != addonv1alpha1.AddonInstallStrategyPlacements || len(cma.Spec.InstallStrategy.Placements) != 1 ||
		cma.Spec.InstallStrategy.Placements[0].PlacementRef.Name != addonName ||
		cma.Annotations[addonv1alpha1.AddonLifecycleAnnotationKey] != addonv1alpha1.AddonLifecycleAddonManagerAnnotationValue {
		t.Fatalf("the ClusterManagementAddOn: %+v %v", cma.Spec.InstallStrategy, cma.Annotations)
	}

	t.Run("each selected cluster's ManagedClusterAddOn shows the server's readiness", func(t *testing.T) {
		for _, cluster := range []string{"spoke1", "spoke2"} {
			var last string
			err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
				mca, err := env.fleet.HubAddon.AddonV1alpha1().ManagedClusterAddOns(cluster).Get(ctx, addonName, metav1.GetOptions{})
				if err != nil {
					last = err.Error()
					return false, nil
				}
				raw, _ := json.Marshal(mca.Status.Conditions)
				last = string(raw)
				for _, cond := range []string{"CredentialsIssued", "GrantApplied", "APIReachable", "Available"} {
					if !meta.IsStatusConditionTrue(mca.Status.Conditions, cond) {
						return false, nil
					}
				}
				return mca.Status.HealthCheck.Mode == addonv1alpha1.HealthCheckModeCustomized, nil
			})
			if err != nil {
				t.Errorf("%s: the add-on never became Available: %v; last: %s", cluster, err, last)
			}
		}
		if _, err := env.fleet.HubAddon.AddonV1alpha1().ManagedClusterAddOns("spoke3").Get(ctx, addonName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("spoke3, outside the Placement, has the add-on: %v", err)
		}
	})

	t.Run("clusters outside the Placement are refused, naming it", func(t *testing.T) {
		if text, isErr := callTool(t, c, "kubectl", map[string]any{"cluster": "spoke1", "command": "get namespaces"}); isErr || !strings.Contains(text, "default") {
			t.Errorf("spoke1, in the Placement: %v\n%s", isErr, text)
		}
		text, isErr := callTool(t, c, "kubectl", map[string]any{"cluster": "spoke3", "command": "get namespaces"})
		if !isErr || !strings.Contains(text, "not selected by the Placement "+addonPlacement) {
			t.Errorf("spoke3, outside the Placement: %v\n%s", isErr, text)
		}
		// The hub is no spoke: local-cluster is the hub itself, where commands run as the caller.
		if text, isErr := callTool(t, c, "kubectl", map[string]any{"cluster": fleet.LocalClusterName, "command": "get namespaces"}); isErr {
			t.Errorf("local-cluster, the hub: %s", text)
		}
		// A fan-out reaches the selected clusters and says why the others were not.
		text, _ = callTool(t, c, "kubectl", map[string]any{"cluster": "spoke1,spoke3", "command": "get namespaces"})
		if !strings.Contains(text, "1 ok") || !strings.Contains(text, "spoke3") || !strings.Contains(text, addonPlacement) {
			t.Errorf("fan-out over spoke1 and spoke3:\n%s", text)
		}
	})

	t.Run("a cluster that leaves the Placement is refused from then on", func(t *testing.T) {
		label(t, ctx, "spoke2", "")
		var text string
		err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
			var isErr bool
			text, isErr = callTool(t, c, "kubectl", map[string]any{"cluster": "spoke2", "command": "get namespaces"})
			return isErr && strings.Contains(text, "not selected by the Placement"), nil
		})
		if err != nil {
			t.Errorf("spoke2 still reached after leaving the Placement: %v\n%s", err, text)
		}
		err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			_, err := env.fleet.HubAddon.AddonV1alpha1().ManagedClusterAddOns("spoke2").Get(ctx, addonName, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
		if err != nil {
			t.Errorf("the add-on manager kept spoke2's ManagedClusterAddOn: %v", err)
		}
	})
}

// label sets (or, with an empty value, removes) the add-on's label on a ManagedCluster.
func label(t *testing.T, ctx context.Context, cluster, value string) {
	t.Helper()
	v := "null"
	if value != "" {
		v = fmt.Sprintf("%q", value)
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%s}}}`, addonLabel, v)
	if _, err := env.fleet.HubCluster.ClusterV1().ManagedClusters().Patch(ctx, cluster, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Errorf("labelling %s: %v", cluster, err)
	}
}
