package mustgather

import (
	"context"
	"fmt"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	addonv1alpha1 "open-cluster-management.io/api/addon/v1alpha1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
	clusterv1beta2 "open-cluster-management.io/api/cluster/v1beta2"
	workv1 "open-cluster-management.io/api/work/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// Group resources of the OCM objects the hub view is built from.
var (
	grManagedClusters = schema.GroupResource{Group: "cluster.open-cluster-management.io", Resource: "managedclusters"}
	grClusterSets     = schema.GroupResource{Group: "cluster.open-cluster-management.io", Resource: "managedclustersets"}
	grAddOns          = schema.GroupResource{Group: "addon.open-cluster-management.io", Resource: "managedclusteraddons"}
	grWorks           = schema.GroupResource{Group: "work.open-cluster-management.io", Resource: "manifestworks"}
	grLeases          = schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}
)

// Source builds the hub view (ManagedClusters, add-ons, clustersets, leases, ManifestWorks) from the
// archive's hub folder, for the same tools that read a live hub.
func (a *Archive) Source() (*ocm.StaticSource, error) {
	s := &ocm.StaticSource{
		Name:            "the must-gather " + a.Path,
		AddOnsByCluster: map[string][]*addonv1alpha1.ManagedClusterAddOn{},
		LeaseByCluster:  map[string]*coordinationv1.Lease{},
		WorksByCluster:  map[string][]*workv1.ManifestWork{},
	}
	hub := a.Clusters[HubName]
	if hub != nil {
		if err := convertAll(hub, grManagedClusters, func(mc *clusterv1.ManagedCluster) { s.Clusters = append(s.Clusters, mc) }); err != nil {
			return nil, err
		}
		if err := convertAll(hub, grClusterSets, func(cs *clusterv1beta2.ManagedClusterSet) { s.Sets = append(s.Sets, cs) }); err != nil {
			return nil, err
		}
		if err := convertAll(hub, grAddOns, func(ad *addonv1alpha1.ManagedClusterAddOn) {
			s.AddOnsByCluster[ad.Namespace] = append(s.AddOnsByCluster[ad.Namespace], ad)
		}); err != nil {
			return nil, err
		}
		if err := convertAll(hub, grWorks, func(w *workv1.ManifestWork) { s.WorksByCluster[w.Namespace] = append(s.WorksByCluster[w.Namespace], w) }); err != nil {
			return nil, err
		}
		if err := convertAll(hub, grLeases, func(l *coordinationv1.Lease) {
			if l.Name == ocm.ClusterLeaseName {
				s.LeaseByCluster[l.Namespace] = l
			}
		}); err != nil {
			return nil, err
		}
	}
	known := map[string]bool{}
	for _, mc := range s.Clusters {
		known[mc.Name] = true
	}
	for _, name := range a.Names() {
		if name != HubName && !known[name] {
			s.Unregistered = append(s.Unregistered, name)
		}
	}
	return s, nil
}

// convertAll decodes every object of a resource into its Go type; other versions' extra fields are
// dropped, which is what reading them as this version means.
func convertAll[T any](c *Cluster, gr schema.GroupResource, add func(*T)) error {
	objs, err := c.All(gr)
	if err != nil {
		return err
	}
	for _, o := range objs {
		t := new(T)
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, t); err != nil {
			return fmt.Errorf("reading %s %s/%s from the must-gather: %w", gr, o.GetNamespace(), o.GetName(), err)
		}
		add(t)
	}
	return nil
}

// NotCollectedError says the archive has no folder for a cluster: it was not among the collection's
// targets. Unlike a collection error recorded by the collector, it says nothing about the cluster's health.
type NotCollectedError struct {
	Cluster string
	Holds   []string
}

// NotCollected marks the error for callers that must not depend on this package.
func (e *NotCollectedError) NotCollected() bool { return true }

func (e *NotCollectedError) Error() string {
	return fmt.Sprintf("the must-gather holds no data for cluster %s (it holds: %s)", e.Cluster, strings.Join(e.Holds, ", "))
}

// Connector gives tools a REST config per cluster that reads the archive.
type Connector struct{ Archive *Archive }

// RESTConfig points a client at the archive's copy of the cluster.
func (c Connector) RESTConfig(_ context.Context, t ocm.Target) (*rest.Config, error) {
	name := t.Name
	if t.Hub {
		name = HubName
	}
	cl := c.Archive.Clusters[name]
	if cl == nil {
		return nil, &NotCollectedError{Cluster: name, Holds: c.Archive.Names()}
	}
	if len(cl.Resources) == 0 {
		return nil, fmt.Errorf("the must-gather could not collect cluster %s: %s", name, c.Archive.Errors[name])
	}
	// In memory: no client-side rate limit (QPS < 0 turns it off).
	return &rest.Config{Host: Host(name), Transport: c.Archive.RoundTripper(), QPS: -1}, nil
}

// Provisioned is always true: an archive needs no credentials.
func (Connector) Provisioned(string) bool { return true }

// CredentialState says there are none to report.
func (Connector) CredentialState(context.Context, string) []string {
	return []string{"none: answering from a must-gather archive"}
}
