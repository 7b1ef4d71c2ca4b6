package fleet

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// registerNode creates a node for kwok to play the kubelet of: annotated for the cluster's kwok
// controller, with a fixed capacity. kwok then makes it Ready, publishes its kubelet endpoint (the kwok
// server, which serves pod logs) and heartbeats it; the registration agent reports real capacity and
// allocatable on the ManagedCluster.
func registerNode(ctx context.Context, c *Cluster, name string) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("4"),
		corev1.ResourceMemory:           resource.MustParse("16Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:        name,
		Annotations: map[string]string{kwokNodeAnnotation: "fake"},
		Labels: map[string]string{
			"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
			"node-role.kubernetes.io/worker": "", "type": "kwok",
			"topology.kubernetes.io/zone": c.Name + "-zone-a",
		},
	}}
	created, err := c.Kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: registering node %s: %w", c.Name, name, err)
	}
	// The API server taints a new node not-ready; the node lifecycle controller, which would lift the
	// taint once kwok reports the node Ready, does not run in the fleet (no kubelet leases to watch).
	if len(created.Spec.Taints) > 0 {
		created.Spec.Taints = nil
		if created, err = c.Kube.CoreV1().Nodes().Update(ctx, created, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("%s: node %s taints: %w", c.Name, name, err)
		}
	}
	// kwok keeps the capacity it finds; it sets the conditions, addresses and kubelet endpoint.
	created.Status = corev1.NodeStatus{Capacity: capacity, Allocatable: capacity}
	if _, err := c.Kube.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("%s: node %s status: %w", c.Name, name, err)
	}
	return nil
}
