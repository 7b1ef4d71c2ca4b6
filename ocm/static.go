package ocm

import (
	"context"

	coordinationv1 "k8s.io/api/coordination/v1"
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
