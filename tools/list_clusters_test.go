package tools

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	addonv1alpha1 "open-cluster-management.io/api/addon/v1alpha1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
	clusterv1beta2 "open-cluster-management.io/api/cluster/v1beta2"
	workv1 "open-cluster-management.io/api/work/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(testNow.Add(-d)) }

func cond(typ string, st metav1.ConditionStatus, reason string, age time.Duration) metav1.Condition {
	return metav1.Condition{Type: typ, Status: st, Reason: reason, Message: reason + " message", LastTransitionTime: ago(age)}
}

func lease(cluster string, renewed time.Duration) *coordinationv1.Lease {
	t := metav1.NewMicroTime(testNow.Add(-renewed))
	return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: ocm.ClusterLeaseName, Namespace: cluster}, Spec: coordinationv1.LeaseSpec{RenewTime: &t}}
}

func addon(cluster, name string, available metav1.ConditionStatus) *addonv1alpha1.ManagedClusterAddOn {
	return &addonv1alpha1.ManagedClusterAddOn{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: cluster},
		Status: addonv1alpha1.ManagedClusterAddOnStatus{Namespace: "open-cluster-management-agent-addon",
			Conditions: []metav1.Condition{cond("Available", available, "ManagedClusterAddOnLeaseUpdated", time.Hour)}},
	}
}

// fixtureFleet is three clusters in different states, for formatting tests.
func fixtureFleet() *ocm.StaticSource {
	up := []metav1.Condition{
		cond(clusterv1.ManagedClusterConditionHubAccepted, metav1.ConditionTrue, "HubClusterAdminAccepted", 40*24*time.Hour),
		cond(clusterv1.ManagedClusterConditionJoined, metav1.ConditionTrue, "ManagedClusterJoined", 40*24*time.Hour),
		cond(clusterv1.ManagedClusterConditionAvailable, metav1.ConditionTrue, "ManagedClusterAvailable", 3*time.Hour),
	}
	lost := []metav1.Condition{
		cond(clusterv1.ManagedClusterConditionJoined, metav1.ConditionTrue, "ManagedClusterJoined", 5*time.Hour),
		cond(clusterv1.ManagedClusterConditionAvailable, metav1.ConditionUnknown, "ManagedClusterLeaseUpdateStopped", 10*time.Minute),
	}
	east := &clusterv1.ManagedCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "east-prod", CreationTimestamp: ago(40 * 24 * time.Hour),
			Labels: map[string]string{ocm.ClusterSetLabel: "prod", "env": "prod"}},
		Spec: clusterv1.ManagedClusterSpec{HubAcceptsClient: true, LeaseDurationSeconds: 60,
			ManagedClusterClientConfigs: []clusterv1.ClientConfig{{URL: "https://east.example:6443"}}},
		Status: clusterv1.ManagedClusterStatus{Conditions: up, Version: clusterv1.ManagedClusterVersion{Kubernetes: "v1.36.3"},
			ClusterClaims: []clusterv1.ManagedClusterClaim{{Name: "platform.open-cluster-management.io", Value: "AWS"}}},
	}
	edge := &clusterv1.ManagedCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "new-edge", CreationTimestamp: ago(90 * time.Second)},
	}
	west := &clusterv1.ManagedCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "west-stage", CreationTimestamp: ago(5 * time.Hour),
			Labels: map[string]string{ocm.ClusterSetLabel: "stage"}},
		Spec: clusterv1.ManagedClusterSpec{HubAcceptsClient: true, LeaseDurationSeconds: 60,
			Taints: []clusterv1.Taint{{Key: "cluster.open-cluster-management.io/unreachable", Effect: clusterv1.TaintEffectNoSelect}}},
		Status: clusterv1.ManagedClusterStatus{Conditions: lost, Version: clusterv1.ManagedClusterVersion{Kubernetes: "v1.35.1"}},
	}
	failed := &workv1.ManifestWork{ObjectMeta: metav1.ObjectMeta{Name: "app-config", Namespace: "east-prod"},
		Status: workv1.ManifestWorkStatus{Conditions: []metav1.Condition{cond(workv1.WorkApplied, metav1.ConditionFalse, "AppliedManifestWorkFailed", time.Minute)}}}
	return &ocm.StaticSource{
		Name:     "fixture hub",
		Clusters: []*clusterv1.ManagedCluster{west, east, edge},
		Sets: []*clusterv1beta2.ManagedClusterSet{
			{ObjectMeta: metav1.ObjectMeta{Name: "prod"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "global"}, Spec: clusterv1beta2.ManagedClusterSetSpec{ClusterSelector: clusterv1beta2.ManagedClusterSelector{SelectorType: clusterv1beta2.LabelSelector, LabelSelector: &metav1.LabelSelector{}}}},
		},
		AddOnsByCluster: map[string][]*addonv1alpha1.ManagedClusterAddOn{
			"east-prod":  {addon("east-prod", "managed-serviceaccount", metav1.ConditionTrue), addon("east-prod", "cluster-proxy", metav1.ConditionFalse)},
			"west-stage": {addon("west-stage", "managed-serviceaccount", metav1.ConditionUnknown)},
		},
		LeaseByCluster: map[string]*coordinationv1.Lease{"east-prod": lease("east-prod", 20*time.Second), "west-stage": lease("west-stage", 12*time.Minute)},
		WorksByCluster: map[string][]*workv1.ManifestWork{"east-prod": {failed}},
	}
}

func fixtureDeps() Deps {
	return Deps{Source: fixtureFleet(), Now: func() time.Time { return testNow }, MaxOutputBytes: 32 << 10}
}

func TestListClustersGolden(t *testing.T) {
	tests := []struct {
		name string
		args listClustersArgs
		file string
	}{
		{"all", listClustersArgs{}, "list_clusters.txt"},
		{"clusterset", listClustersArgs{ClusterSet: "prod"}, "list_clusters_prod.txt"},
		{"selector and global set", listClustersArgs{ClusterSet: "global", Selector: "env=prod"}, "list_clusters_prod.txt"},
		{"no match", listClustersArgs{Selector: "env=none"}, "list_clusters_none.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := listClustersText(context.Background(), fixtureDeps(), tc.args)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, got)
		})
	}
}

func TestListClustersUnknownSet(t *testing.T) {
	_, err := listClustersText(context.Background(), fixtureDeps(), listClustersArgs{ClusterSet: "prdo"})
	if err == nil || err.Error() != `unknown ManagedClusterSet "prdo" on fixture hub; did you mean prod? Known sets: global, prod` {
		t.Fatalf("err = %v", err)
	}
}
