package tools

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
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

func cluster(name string, age time.Duration, accepted bool, conds map[string]metav1.ConditionStatus, labels map[string]string, version string) *clusterv1.ManagedCluster {
	mc := &clusterv1.ManagedCluster{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, CreationTimestamp: metav1.NewTime(testNow.Add(-age))},
		Spec:       clusterv1.ManagedClusterSpec{HubAcceptsClient: accepted},
	}
	for typ, st := range conds {
		mc.Status.Conditions = append(mc.Status.Conditions, metav1.Condition{Type: typ, Status: st})
	}
	mc.Status.Version.Kubernetes = version
	return mc
}

func TestClusterTableGolden(t *testing.T) {
	up := map[string]metav1.ConditionStatus{
		clusterv1.ManagedClusterConditionJoined:    metav1.ConditionTrue,
		clusterv1.ManagedClusterConditionAvailable: metav1.ConditionTrue,
	}
	lost := map[string]metav1.ConditionStatus{
		clusterv1.ManagedClusterConditionJoined:    metav1.ConditionTrue,
		clusterv1.ManagedClusterConditionAvailable: metav1.ConditionUnknown,
	}
	clusters := []*clusterv1.ManagedCluster{
		cluster("east-prod", 40*24*time.Hour, true, up, map[string]string{"cluster.open-cluster-management.io/clusterset": "prod"}, "v1.36.3"),
		cluster("new-edge", 90*time.Second, false, nil, nil, ""),
		cluster("west-stage", 5*time.Hour, true, lost, map[string]string{"cluster.open-cluster-management.io/clusterset": "stage"}, "v1.35.1"),
	}
	got := clusterTable(clusters, Deps{Now: func() time.Time { return testNow }}).String()
	golden(t, "list_clusters.txt", got)
}
