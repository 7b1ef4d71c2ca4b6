package ocm

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
)

// Where names the hub in messages.
func (h *Hub) Where() string { return "hub " + h.Name }

// ManagedClusters lists the hub's ManagedClusters matching selector, sorted by name.
func (h *Hub) ManagedClusters(ctx context.Context, selector labels.Selector) ([]*clusterv1.ManagedCluster, error) {
	list, err := h.Cluster.ClusterV1().ManagedClusters().List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, h.Explain(err, managedClustersResource)
	}
	out := make([]*clusterv1.ManagedCluster, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	SortClusters(out)
	return out, nil
}
