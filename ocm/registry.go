package ocm

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	addonv1alpha1 "open-cluster-management.io/api/addon/v1alpha1"
	addonclient "open-cluster-management.io/api/client/addon/clientset/versioned"
	addoninformers "open-cluster-management.io/api/client/addon/informers/externalversions"
	clusterinformers "open-cluster-management.io/api/client/cluster/informers/externalversions"
	workclient "open-cluster-management.io/api/client/work/clientset/versioned"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
	clusterv1beta2 "open-cluster-management.io/api/cluster/v1beta2"
	workv1 "open-cluster-management.io/api/work/v1"
)

// ClusterLeaseName is the lease the registration agent renews in the cluster's namespace on the hub.
const ClusterLeaseName = "managed-cluster-lease"

// Registry serves the hub's view of the fleet from informer caches: ManagedClusters, their add-ons,
// ManagedClusterSets and the cluster leases. Reads never hit the API server, so list_clusters over a
// thousand clusters costs a map walk.
type Registry struct {
	hub  *Hub
	work workclient.Interface

	clusters cache.SharedIndexInformer
	addons   cache.SharedIndexInformer
	sets     cache.SharedIndexInformer
	leases   cache.SharedIndexInformer
	byName   map[string]cache.SharedIndexInformer

	// probes list one object of each resource directly, to explain a cache that does not sync.
	probes map[string]func(context.Context) error
}

// informer names, used in messages.
const (
	infClusters = "managedclusters.cluster.open-cluster-management.io"
	infAddons   = "managedclusteraddons.addon.open-cluster-management.io"
	infSets     = "managedclustersets.cluster.open-cluster-management.io"
	infLeases   = "leases.coordination.k8s.io (" + ClusterLeaseName + ")"
)

// NewRegistry builds the informers; Start runs them.
func NewRegistry(hub *Hub) (*Registry, error) {
	addonClient, err := addonclient.NewForConfig(hub.Config)
	if err != nil {
		return nil, err
	}
	work, err := workclient.NewForConfig(hub.Config)
	if err != nil {
		return nil, err
	}
	cf := clusterinformers.NewSharedInformerFactory(hub.Cluster, 0)
	af := addoninformers.NewSharedInformerFactory(addonClient, 0)
	kf := kubeinformers.NewSharedInformerFactoryWithOptions(hub.Kube, 0,
		kubeinformers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", ClusterLeaseName).String()
		}))
	r := &Registry{
		hub:      hub,
		work:     work,
		clusters: cf.Cluster().V1().ManagedClusters().Informer(),
		sets:     cf.Cluster().V1beta2().ManagedClusterSets().Informer(),
		addons:   af.Addon().V1alpha1().ManagedClusterAddOns().Informer(),
		leases:   kf.Coordination().V1().Leases().Informer(),
	}
	r.byName = map[string]cache.SharedIndexInformer{infClusters: r.clusters, infAddons: r.addons, infSets: r.sets, infLeases: r.leases}
	one := metav1.ListOptions{Limit: 1}
	r.probes = map[string]func(context.Context) error{
		infClusters: func(ctx context.Context) error {
			_, err := hub.Cluster.ClusterV1().ManagedClusters().List(ctx, one)
			return err
		},
		infSets: func(ctx context.Context) error {
			_, err := hub.Cluster.ClusterV1beta2().ManagedClusterSets().List(ctx, one)
			return err
		},
		infAddons: func(ctx context.Context) error {
			_, err := addonClient.AddonV1alpha1().ManagedClusterAddOns("").List(ctx, one)
			return err
		},
		infLeases: func(ctx context.Context) error {
			_, err := hub.Kube.CoordinationV1().Leases("").List(ctx, one)
			return err
		},
	}
	return r, nil
}

// Start runs the informers until ctx ends. It does not wait for them to sync: reads do, bounded.
func (r *Registry) Start(ctx context.Context) {
	for _, inf := range r.byName {
		go inf.RunWithContext(ctx)
	}
}

// Hub is the hub connection the registry watches.
func (r *Registry) Hub() *Hub { return r.hub }

// Where names the hub in messages.
func (r *Registry) Where() string { return r.hub.Where() }

// Ready reports whether the ManagedCluster cache is loaded (the server's /readyz).
func (r *Registry) Ready(ctx context.Context) error { return r.WaitSynced(ctx, infClusters) }

// syncGrace is how long a read waits for the caches before it checks whether the hub answers at all.
const syncGrace = time.Second

// WaitSynced waits, up to the hub timeout, until the named caches hold a full list. When they are not
// ready within a moment it asks the hub directly, so that an unreachable hub or a missing CRD is reported
// at once, in words, instead of after the whole timeout.
func (r *Registry) WaitSynced(ctx context.Context, names ...string) error {
	infs := r.byName
	synced := true
	for _, n := range names {
		synced = synced && infs[n].HasSynced()
	}
	if synced {
		return nil
	}
	timeout := r.hub.Config.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var syncs []cache.InformerSynced
	for _, n := range names {
		syncs = append(syncs, infs[n].HasSynced)
	}
	grace, cancelGrace := context.WithTimeout(ctx, syncGrace)
	defer cancelGrace()
	if cache.WaitForCacheSync(grace.Done(), syncs...) {
		return nil
	}
	for _, n := range names {
		if infs[n].HasSynced() {
			continue
		}
		if err := r.probes[n](ctx); err != nil {
			return r.hub.Explain(err, n)
		}
	}
	if cache.WaitForCacheSync(ctx.Done(), syncs...) {
		return nil
	}
	return fmt.Errorf("%s answers, but its %v did not load within %s; retry, or raise --hub-timeout", r.Where(), names, timeout)
}

// ManagedClusters returns the clusters matching selector, sorted by name.
func (r *Registry) ManagedClusters(ctx context.Context, selector labels.Selector) ([]*clusterv1.ManagedCluster, error) {
	if err := r.WaitSynced(ctx, infClusters); err != nil {
		return nil, err
	}
	var out []*clusterv1.ManagedCluster
	for _, obj := range r.clusters.GetStore().List() {
		mc := obj.(*clusterv1.ManagedCluster)
		if selector.Matches(labels.Set(mc.Labels)) {
			out = append(out, mc)
		}
	}
	SortClusters(out)
	return out, nil
}

// ManagedCluster returns one cluster, or nil when the hub has none by that name.
func (r *Registry) ManagedCluster(ctx context.Context, name string) (*clusterv1.ManagedCluster, error) {
	if err := r.WaitSynced(ctx, infClusters); err != nil {
		return nil, err
	}
	obj, ok, _ := r.clusters.GetStore().GetByKey(name)
	if !ok {
		return nil, nil
	}
	return obj.(*clusterv1.ManagedCluster), nil
}

// AddOns returns the ManagedClusterAddOns in a cluster's namespace, sorted by name.
func (r *Registry) AddOns(ctx context.Context, cluster string) ([]*addonv1alpha1.ManagedClusterAddOn, error) {
	if err := r.WaitSynced(ctx, infAddons); err != nil {
		return nil, err
	}
	objs, err := r.addons.GetIndexer().ByIndex(cache.NamespaceIndex, cluster)
	if err != nil {
		return nil, err
	}
	out := make([]*addonv1alpha1.ManagedClusterAddOn, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*addonv1alpha1.ManagedClusterAddOn))
	}
	sortByName(out, func(a *addonv1alpha1.ManagedClusterAddOn) string { return a.Name })
	return out, nil
}

// ClusterSets returns every ManagedClusterSet, sorted by name.
func (r *Registry) ClusterSets(ctx context.Context) ([]*clusterv1beta2.ManagedClusterSet, error) {
	if err := r.WaitSynced(ctx, infSets); err != nil {
		return nil, err
	}
	var out []*clusterv1beta2.ManagedClusterSet
	for _, o := range r.sets.GetStore().List() {
		out = append(out, o.(*clusterv1beta2.ManagedClusterSet))
	}
	sortByName(out, func(s *clusterv1beta2.ManagedClusterSet) string { return s.Name })
	return out, nil
}

// Lease returns the cluster's lease on the hub, or nil when there is none.
func (r *Registry) Lease(ctx context.Context, cluster string) (*coordinationv1.Lease, error) {
	if err := r.WaitSynced(ctx, infLeases); err != nil {
		return nil, err
	}
	obj, ok, _ := r.leases.GetStore().GetByKey(cluster + "/" + ClusterLeaseName)
	if !ok {
		return nil, nil
	}
	return obj.(*coordinationv1.Lease), nil
}

// ManifestWorks lists the ManifestWorks in a cluster's namespace, straight from the hub (they can be
// large and many, so they are not cached).
func (r *Registry) ManifestWorks(ctx context.Context, cluster string) ([]*workv1.ManifestWork, error) {
	list, err := r.work.WorkV1().ManifestWorks(cluster).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, r.hub.Explain(err, "manifestworks.work.open-cluster-management.io")
	}
	out := make([]*workv1.ManifestWork, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	sortByName(out, func(w *workv1.ManifestWork) string { return w.Name })
	return out, nil
}
