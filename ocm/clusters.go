package ocm

import (
	"context"
	"fmt"
	"sort"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	addonv1alpha1 "open-cluster-management.io/api/addon/v1alpha1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
	clusterv1beta2 "open-cluster-management.io/api/cluster/v1beta2"
	workv1 "open-cluster-management.io/api/work/v1"
)

// Labels and names OCM gives meaning to.
const (
	ClusterSetLabel   = "cluster.open-cluster-management.io/clusterset"
	LocalClusterLabel = "local-cluster"
	HubName           = "hub"
)

// Source reads the hub's OCM objects. The live implementation reads the hub; the offline one reads a
// must-gather archive, so tools answer the same questions in the same shapes either way.
type Source interface {
	// Where names the hub or archive in messages.
	Where() string
	ManagedClusters(ctx context.Context, selector labels.Selector) ([]*clusterv1.ManagedCluster, error)
	// AddOns lists the ManagedClusterAddOns in a cluster's namespace.
	AddOns(ctx context.Context, cluster string) ([]*addonv1alpha1.ManagedClusterAddOn, error)
	ClusterSets(ctx context.Context) ([]*clusterv1beta2.ManagedClusterSet, error)
	// Lease is the cluster's registration lease on the hub, nil when absent.
	Lease(ctx context.Context, cluster string) (*coordinationv1.Lease, error)
	// ManifestWorks lists the ManifestWorks in a cluster's namespace.
	ManifestWorks(ctx context.Context, cluster string) ([]*workv1.ManifestWork, error)
}

// IsAvailable says whether the hub sees the cluster available.
func IsAvailable(mc *clusterv1.ManagedCluster) bool {
	return mc != nil && meta.IsStatusConditionTrue(mc.Status.Conditions, clusterv1.ManagedClusterConditionAvailable)
}

// NoCredentialsYet says why a spoke is not read when WouldWaitForToken holds.
const NoCredentialsYet = "the cluster is not available and the server holds no credentials for it yet"

// WouldWaitForToken says that reading a spoke now would provision credentials that cannot come: the
// cluster is not available, so its agents cannot deliver a token, and the server holds none yet.
func WouldWaitForToken(t Target, provisioned func(cluster string) bool) bool {
	return !t.Hub && !IsAvailable(t.Cluster) && !provisioned(t.Name)
}

// ParseSelector parses a label selector argument, with an error a model can act on.
func ParseSelector(s string) (labels.Selector, error) {
	if s == "" {
		return labels.Everything(), nil
	}
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid label selector %q: %v (examples: env=prod, 'region in (eu,us)', '!local-cluster')", s, err)
	}
	return sel, nil
}

// ConditionStatus returns a condition's status ("True", "False", "Unknown"), or "" when it is absent.
func ConditionStatus(conds []metav1.Condition, condType string) string {
	for _, c := range conds {
		if c.Type == condType {
			return string(c.Status)
		}
	}
	return ""
}

// SortClusters orders clusters by name, in place.
func SortClusters(list []*clusterv1.ManagedCluster) {
	sortByName(list, func(mc *clusterv1.ManagedCluster) string { return mc.Name })
}

func sortByName[T any](list []T, name func(T) string) {
	sort.Slice(list, func(i, j int) bool { return name(list[i]) < name(list[j]) })
}

// ClusterSetSelector returns the label selector that picks a ManagedClusterSet's members.
func ClusterSetSelector(set *clusterv1beta2.ManagedClusterSet) (labels.Selector, error) {
	cs := set.Spec.ClusterSelector
	if cs.SelectorType == clusterv1beta2.LabelSelector {
		if cs.LabelSelector == nil {
			return labels.Everything(), nil
		}
		return metav1.LabelSelectorAsSelector(cs.LabelSelector)
	}
	return labels.SelectorFromSet(labels.Set{ClusterSetLabel: set.Name}), nil
}
