package mustgather

import (
	"context"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

func openFixture(t *testing.T, name string) *Archive {
	t.Helper()
	a, err := Open(filepath.Join("testdata", name), OpenOptions{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func clientFor(t *testing.T, a *Archive, cluster string) kubernetes.Interface {
	t.Helper()
	kube, err := kubernetes.NewForConfig(&rest.Config{Host: Host(cluster), Transport: a.RoundTripper()})
	if err != nil {
		t.Fatal(err)
	}
	return kube
}

// TestACMBundle reads a hand-made multi-cluster bundle: an ACM hub must-gather and a spoke must-gather,
// each a must-gather.local.* with an image folder, list files and per-object files, logs with the
// container name twice.
func TestACMBundle(t *testing.T) {
	a := openFixture(t, "acm-bundle")
	if got := a.Names(); !reflect.DeepEqual(got, []string{"hub", "prod-east-1"}) {
		t.Fatalf("clusters %v", got)
	}
	hub := a.Clusters["hub"]
	if n := len(hub.Resources[schema.GroupResource{Group: "cluster.open-cluster-management.io", Resource: "managedclusters"}].Objects); n != 2 {
		t.Errorf("hub managedclusters: %d", n)
	}
	if n := len(hub.Resources[schema.GroupResource{Resource: "pods"}].Objects); n != 2 {
		t.Errorf("pods from the list file: %d", n)
	}
	logs, ok := hub.Log("multicluster-engine", "cluster-manager-7d9f8-abcde", "registration-operator")
	if !ok || logs.Current == "" || logs.Previous == "" {
		t.Errorf("logs %+v", logs)
	}
	if a.CollectedAt.IsZero() {
		t.Error("the timestamp file was not read")
	}
	src, err := a.Source()
	if err != nil {
		t.Fatal(err)
	}
	mcs, _ := src.ManagedClusters(context.Background(), labels.Everything())
	if len(mcs) != 2 || mcs[1].Name != "prod-east-1" || len(mcs[1].Spec.Taints) != 1 {
		t.Errorf("ManagedClusters %+v", mcs)
	}
	if lease, _ := src.Lease(context.Background(), "prod-east-1"); lease == nil || lease.Spec.RenewTime == nil {
		t.Error("lease of prod-east-1 missing")
	}
	if works, _ := src.ManifestWorks(context.Background(), "prod-east-1"); len(works) != 1 {
		t.Errorf("manifestworks %d", len(works))
	}
	spoke := a.Clusters["prod-east-1"]
	if spoke == nil || len(spoke.Resources[schema.GroupResource{Resource: "nodes"}].Objects) != 1 {
		t.Fatalf("spoke: %+v", spoke)
	}
}

func TestAPIOverArchive(t *testing.T) {
	a := openFixture(t, "acm-bundle")
	kube := clientFor(t, a, "hub")
	ctx := context.Background()
	pods, err := kube.CoreV1().Pods("multicluster-engine").List(ctx, metav1.ListOptions{LabelSelector: "app=cluster-manager"})
	if err != nil || len(pods.Items) != 1 || pods.Items[0].Status.ContainerStatuses[0].RestartCount != 42 {
		t.Fatalf("label selector: %v %+v", err, pods)
	}
	pods, err = kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=ocm-webhook-5c6d7-fghij"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("field selector: %v", err)
	}
	pods, err = kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=master-0,metadata.namespace!=default"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("field selector on spec: %v %d", err, len(pods.Items))
	}
	if _, err := kube.CoreV1().Pods("multicluster-engine").Get(ctx, "nope", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("missing pod: %v", err)
	}
	read := func(opts *corev1.PodLogOptions) string {
		t.Helper()
		rc, err := kube.CoreV1().Pods("multicluster-engine").GetLogs("cluster-manager-7d9f8-abcde", opts).Stream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return string(b)
	}
	if got := read(&corev1.PodLogOptions{TailLines: ptr.To[int64](1)}); !strings.Contains(got, "connection refused") || strings.Contains(got, "starting") {
		t.Errorf("tail 1: %q", got)
	}
	if got := read(&corev1.PodLogOptions{Previous: true}); !strings.Contains(got, "leader election lost") {
		t.Errorf("previous: %q", got)
	}
	_, err = kube.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("create on an archive: %v", err)
	}
	// A built-in kind the archive lacks lists empty, like a live cluster.
	cms, err := kube.CoreV1().ConfigMaps("multicluster-engine").List(ctx, metav1.ListOptions{})
	if err != nil || len(cms.Items) != 0 {
		t.Errorf("configmaps: %v", err)
	}
	groups, err := kube.Discovery().ServerGroups()
	if err != nil || !strings.Contains(groupNames(groups), "cluster.open-cluster-management.io") {
		t.Errorf("discovery: %v %s", err, groupNames(groups))
	}
}

func groupNames(l *metav1.APIGroupList) string {
	if l == nil {
		return ""
	}
	var n []string
	for _, g := range l.Groups {
		n = append(n, g.Name)
	}
	return strings.Join(n, ",")
}

// TestSampleArchive opens the archive the collector wrote from the test fleet (checked in; regenerate it
// with UPDATE_SAMPLE=1 on the end-to-end test TestOfflineAnswersMatchLive). The README's offline quick
// start serves it.
func TestSampleArchive(t *testing.T) {
	a := openFixture(t, "sample-fleet.tar.gz")
	if got := a.Names(); !reflect.DeepEqual(got, []string{"hub", "spoke1", "spoke2", "spoke3"}) {
		t.Fatalf("clusters %v", got)
	}
	src, err := a.Source()
	if err != nil {
		t.Fatal(err)
	}
	mcs, _ := src.ManagedClusters(context.Background(), labels.Everything())
	if len(mcs) != 4 { // local-cluster and three spokes
		t.Errorf("ManagedClusters: %d", len(mcs))
	}
	if a.CollectedAt.IsZero() {
		t.Error("no collection time")
	}
	ctx := context.Background()
	nodes, err := clientFor(t, a, "spoke1").CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) != 2 {
		t.Errorf("spoke1 nodes: %d %v", len(nodes.Items), err)
	}
	// Running pods with logs, and the injected faults, for a first look to find something.
	pods, err := clientFor(t, a, "spoke1").CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	running, crashing := 0, ""
	for _, p := range pods.Items {
		if p.Status.Phase == "Running" {
			running++
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" {
				crashing = p.Name
			}
		}
	}
	if running < 5 || crashing == "" {
		t.Fatalf("spoke1: %d running pods, crash-looping %q", running, crashing)
	}
	logs, err := clientFor(t, a, "spoke1").CoreV1().Pods("payments").GetLogs(crashing, &corev1.PodLogOptions{Previous: true}).DoRaw(ctx)
	if err != nil || !strings.Contains(string(logs), "panic: database unavailable") {
		t.Errorf("previous logs of %s: %v %q", crashing, err, logs)
	}
}
