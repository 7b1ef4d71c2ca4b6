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

// This file sorts after the other benchmark files but scale_bench_test.go on purpose: `go test` runs
// benchmarks file by file, and the 2,000 ManagedClusters registered here keep the hub's controllers busy
// for minutes afterwards, which would slow every benchmark that ran later on the same fleet.

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

// BenchmarkListClusters measures list_clusters over HTTP with per-call authorization (as the fleet
// operator, whose RBAC allows every ManagedCluster: one SubjectAccessReview answers for all of them, cached
// 10 s) and the default answer cap, first with 100 synthetic ManagedClusters on a real hub, then with
// 2,000 (besides the fleet's own and those earlier benchmarks simulated: the answer's first line counts
// them all). Target: 2,000 within 2x of 100.
func BenchmarkListClusters(b *testing.B) {
	setup(b)
	kubeconfig, err := shared.hub.ServerKubeconfig()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{100, 2000} {
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) {
			registerClusters(b, n)
			c, cmd := httpServer(b, "--kubeconfig", kubeconfig, "--read-only")
			// The informers have every cluster before anything is timed.
			if out := call(b, c, "list_clusters", map[string]any{"clusterset": "set-3", "name_prefix": "bench-"}); !strings.HasPrefix(out, fmt.Sprintf("Fleet: %d cluster(s)", n/10)) {
				b.Fatalf("clusterset set-3 should hold %d clusters:\n%.500s", n/10, out)
			}
			serverMark, fleetMark := cpuTime(cmd.Process.Pid), fleetCPUTime()
			timeCalls(b, func() { call(b, c, "list_clusters", nil) })
			reportCPU(b, cmd.Process.Pid, serverMark, fleetMark)
			b.ReportMetric(float64(rssBytes(cmd.Process.Pid))/(1<<20), "server-RSS-MB")
		})
	}
}
