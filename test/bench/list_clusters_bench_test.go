package bench

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
	clusterv1beta2 "open-cluster-management.io/api/cluster/v1beta2"
)

// This file sorts after the other benchmark files on purpose: `go test` runs benchmarks file by file,
// and the 1000 ManagedClusters registered here keep the hub's controllers busy for minutes afterwards,
// which would slow every benchmark that ran later on the same fleet.

// registerClusters creates n synthetic ManagedClusters with a realistic status (the registration
// controller leaves clusters it has not accepted alone).
func registerClusters(b *testing.B, n int) {
	b.Helper()
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		set := &clusterv1beta2.ManagedClusterSet{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("set-%d", i)}}
		if _, err := shared.hub.HubCluster.ClusterV1beta2().ManagedClusterSets().Create(ctx, set, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			b.Fatal(err)
		}
	}
	mcs := shared.hub.HubCluster.ClusterV1().ManagedClusters()
	for i := 0; i < n; i++ {
		mc := &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{
			Name:   fmt.Sprintf("bench-%04d", i),
			Labels: map[string]string{"cluster.open-cluster-management.io/clusterset": fmt.Sprintf("set-%d", i%10), "region": []string{"eu", "us", "ap"}[i%3]},
		}}
		if _, err := mcs.Create(ctx, mc, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
			continue // the benchmark function runs more than once
		} else if err != nil {
			b.Fatal(err)
		}
		// The registration controller edits new clusters too: retry on conflict.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := mcs.Get(ctx, mc.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			now := metav1.Now()
			cur.Status.Version.Kubernetes = "v1.36.3"
			cur.Status.Conditions = append(cur.Status.Conditions,
				metav1.Condition{Type: clusterv1.ManagedClusterConditionJoined, Status: metav1.ConditionTrue, Reason: "ManagedClusterJoined", LastTransitionTime: now},
				metav1.Condition{Type: clusterv1.ManagedClusterConditionAvailable, Status: metav1.ConditionTrue, Reason: "ManagedClusterAvailable", LastTransitionTime: now})
			_, err = mcs.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListClusters1000 measures list_clusters over MCP (stdio) with 1000 synthetic ManagedClusters
// (besides the fleet's own) on a real hub. Targets: p50 under 50 ms, server RSS under 200 MB.
func BenchmarkListClusters1000(b *testing.B) {
	setup(b)
	registerClusters(b, 1000)
	c, cmd := stdioServer(b, "--kubeconfig", shared.hub.Hub.Kubeconfig, "--read-only")
	if rows := strings.Count(call(b, c, "list_clusters", map[string]any{"clusterset": "set-3"}), "\n") - 1; rows != 100 {
		b.Fatalf("clusterset set-3 lists %d clusters, want 100", rows)
	}
	timeCalls(b, func() { call(b, c, "list_clusters", nil) })
	b.ReportMetric(float64(rssBytes(cmd.Process.Pid))/(1<<20), "server-RSS-MB")
}
