package ocm

import (
	"context"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	addonv1alpha1 "open-cluster-management.io/api/addon/v1alpha1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
	clusterv1beta2 "open-cluster-management.io/api/cluster/v1beta2"
	workv1 "open-cluster-management.io/api/work/v1"
)

// StaticSource is a Source over objects held in memory: a must-gather archive once read, or a test's
// fixtures. It is read-only after construction.
type StaticSource struct {
	Name     string // for messages, e.g. "must-gather archive /path"
	Clusters []*clusterv1.ManagedCluster
	Sets     []*clusterv1beta2.ManagedClusterSet
	// Per cluster namespace.
	AddOnsByCluster map[string][]*addonv1alpha1.ManagedClusterAddOn
	LeaseByCluster  map[string]*coordinationv1.Lease
	WorksByCluster  map[string][]*workv1.ManifestWork
	// Unregistered are clusters a must-gather holds data for that the hub data does not list (a spoke's
	// own archive, or an archive with no hub folder): they resolve as cluster names all the same.
	Unregistered []string
}

var _ Source = (*StaticSource)(nil)

// UnknownStateAnnotation marks the placeholder ManagedCluster of a cluster a must-gather holds data for
// but no hub data about: its OCM state (accepted, joined, available, lease) is not known, which is no
// evidence of a fault.
const UnknownStateAnnotation = "multicluster-mcp-server.io/ocm-state"

// StateUnknown reports whether a ManagedCluster is such a placeholder.
func StateUnknown(mc *clusterv1.ManagedCluster) bool {
	return mc != nil && mc.Annotations[UnknownStateAnnotation] == "unknown"
}

// unregisteredCluster is the placeholder of a cluster the hub data does not list.
func unregisteredCluster(name string) *clusterv1.ManagedCluster {
	return &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{UnknownStateAnnotation: "unknown"}}}
}

// UnregisteredClusters returns the placeholders of the clusters a static source holds data for that
// its hub data does not list (none for a live hub).
func UnregisteredClusters(src Source) []*clusterv1.ManagedCluster {
	s, ok := src.(*StaticSource)
	if !ok {
		return nil
	}
	out := make([]*clusterv1.ManagedCluster, 0, len(s.Unregistered))
	for _, n := range s.Unregistered {
		out = append(out, unregisteredCluster(n))
	}
	return out
}

func (s *StaticSource) Where() string { return s.Name }

func (s *StaticSource) ManagedClusters(_ context.Context, selector labels.Selector) ([]*clusterv1.ManagedCluster, error) {
	var out []*clusterv1.ManagedCluster
	for _, mc := range s.Clusters {
		if selector.Matches(labels.Set(mc.Labels)) {
			out = append(out, mc)
		}
	}
	SortClusters(out)
	return out, nil
}

func (s *StaticSource) AddOns(_ context.Context, cluster string) ([]*addonv1alpha1.ManagedClusterAddOn, error) {
	out := append([]*addonv1alpha1.ManagedClusterAddOn(nil), s.AddOnsByCluster[cluster]...)
	sortByName(out, func(a *addonv1alpha1.ManagedClusterAddOn) string { return a.Name })
	return out, nil
}

func (s *StaticSource) ClusterSets(context.Context) ([]*clusterv1beta2.ManagedClusterSet, error) {
	out := append([]*clusterv1beta2.ManagedClusterSet(nil), s.Sets...)
	sortByName(out, func(c *clusterv1beta2.ManagedClusterSet) string { return c.Name })
	return out, nil
}

func (s *StaticSource) Lease(_ context.Context, cluster string) (*coordinationv1.Lease, error) {
	return s.LeaseByCluster[cluster], nil
}

func (s *StaticSource) ManifestWorks(_ context.Context, cluster string) ([]*workv1.ManifestWork, error) {
	out := append([]*workv1.ManifestWork(nil), s.WorksByCluster[cluster]...)
	sortByName(out, func(w *workv1.ManifestWork) string { return w.Name })
	return out, nil
}
