package diagnose

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

func obj(kind, ns, name string, lbls map[string]string) *unstructured.Unstructured {
	o := &unstructured.Unstructured{}
	o.SetAPIVersion(map[string]string{"ManagedClusterAddOn": gvrMCA.GroupVersion().String(), "CertificateSigningRequest": gvrCSR.GroupVersion().String(),
		"ManifestWork": gvrWorks.GroupVersion().String()}[kind])
	o.SetKind(kind)
	o.SetNamespace(ns)
	o.SetName(name)
	o.SetLabels(lbls)
	return o
}

// The hub-wide lists answer the per-cluster reads as the hub would, with one list per resource.
func TestHubCache(t *testing.T) {
	scheme := runtime.NewScheme()
	kinds := map[schema.GroupVersionResource]string{gvrMCA: "ManagedClusterAddOnList", gvrCSR: "CertificateSigningRequestList",
		gvrMSA: "ManagedServiceAccountList", gvrWorks: "ManifestWorkList"}
	failed := obj("ManifestWork", "spoke2", "app", nil)
	failed.Object["spec"] = map[string]any{"workload": map[string]any{"manifests": []any{map[string]any{"kind": "ConfigMap"}}}}
	failed.Object["status"] = map[string]any{"conditions": []any{map[string]any{"type": "Applied", "status": "False", "reason": "AppliedManifestWorkFailed",
		"message": "denied", "lastTransitionTime": "2026-12-01T10:00:00Z"}}}
	hub := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, kinds,
		obj("ManagedClusterAddOn", "spoke1", "work-manager", nil),
		obj("ManagedClusterAddOn", "spoke1", "managed-serviceaccount", nil),
		obj("ManagedClusterAddOn", "spoke2", "work-manager", nil),
		obj("CertificateSigningRequest", "", "csr-a", map[string]string{"open-cluster-management.io/cluster-name": "spoke1"}),
		obj("CertificateSigningRequest", "", "csr-b", map[string]string{"open-cluster-management.io/cluster-name": "spoke2"}),
		failed,
	)
	r := &Runner{hub: hub, hubCache: newHubCache(context.Background(), hub)}
	ctx := context.Background()
	cases := []struct {
		gvr          schema.GroupVersionResource
		ns, selector string
		want         int
	}{
		{gvrMCA, "spoke1", "", 2},
		{gvrMCA, "spoke2", "", 1},
		{gvrMCA, "spoke3", "", 0},
		{gvrMCA, "", "", 3},
		{gvrCSR, "", "open-cluster-management.io/cluster-name=spoke2", 1},
		{gvrCSR, "", "open-cluster-management.io/cluster-name=spoke9", 0},
		{gvrMSA, "spoke1", "", 0},
	}
	for _, tc := range cases {
		got, err := r.list(ctx, hub, tc.gvr, tc.ns, tc.selector)
		if err != nil || len(got) != tc.want {
			t.Errorf("list %s in %q by %q: %d objects, %v; want %d", tc.gvr.Resource, tc.ns, tc.selector, len(got), err, tc.want)
		}
	}
	if o, err := r.get(ctx, hub, gvrMCA, "spoke2", "work-manager"); err != nil || o == nil || o.GetNamespace() != "spoke2" {
		t.Errorf("get spoke2/work-manager: %v %v", o, err)
	}
	if o, err := r.get(ctx, hub, gvrMCA, "spoke2", "managed-serviceaccount"); err != nil || o != nil {
		t.Errorf("get of an absent add-on: %v %v", o, err)
	}
	// A copy is handed out: a caller that changes it changes nothing for the next.
	got, _ := r.list(ctx, hub, gvrMCA, "spoke1", "")
	got[0].SetName("changed")
	if again, _ := r.list(ctx, hub, gvrMCA, "spoke1", ""); len(again) == 0 || again[0].GetName() == "changed" {
		t.Error("the cache handed out its own object")
	}
	// ManifestWorks: names and conditions only, for the cluster asked.
	works, err := r.manifestWorks(ctx, "spoke2")
	if err != nil || len(works) != 1 || ocm.WorkFailure(works[0]) == "" || works[0].Spec.Workload.Manifests != nil {
		t.Errorf("spoke2's works: %v %+v", err, works)
	}
	if works, err := r.manifestWorks(ctx, "spoke1"); err != nil || len(works) != 0 {
		t.Errorf("spoke1's works: %v %+v", err, works)
	}
	lists := 0
	for _, a := range hub.Actions() {
		if a.GetVerb() != "list" {
			t.Errorf("unexpected %s of %s", a.GetVerb(), a.GetResource().Resource)
		}
		lists++
	}
	if lists != 4 {
		t.Errorf("%d lists reached the hub, want one per resource (4)", lists)
	}
}
