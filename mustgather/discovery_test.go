package mustgather

import (
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// TestShortNamesAndCategories resolves names the way kubectl does (discovery, the shortcut expander,
// the category expander) over an archive that holds none of these kinds.
func TestShortNamesAndCategories(t *testing.T) {
	a := openFixture(t, "acm-bundle")
	dc, err := discovery.NewDiscoveryClientForConfig(&rest.Config{Host: Host("hub"), Transport: a.RoundTripper()})
	if err != nil {
		t.Fatal(err)
	}
	cached := memory.NewMemCacheClient(dc)
	mapper := restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(cached), cached, nil)
	tests := map[string]schema.GroupResource{
		"csr": {Group: "certificates.k8s.io", Resource: "certificatesigningrequests"},
		"crd": {Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
		"pdb": {Group: "policy", Resource: "poddisruptionbudgets"},
		"sc":  {Group: "storage.k8s.io", Resource: "storageclasses"},
		"hpa": {Group: "autoscaling", Resource: "horizontalpodautoscalers"},
		"ep":  {Resource: "endpoints"}, "ds": {Group: "apps", Resource: "daemonsets"},
		"sts": {Group: "apps", Resource: "statefulsets"}, "rs": {Group: "apps", Resource: "replicasets"},
		"cj": {Group: "batch", Resource: "cronjobs"}, "pv": {Resource: "persistentvolumes"},
		"pvc": {Resource: "persistentvolumeclaims"}, "sa": {Resource: "serviceaccounts"},
		"cm": {Resource: "configmaps"}, "ns": {Resource: "namespaces"}, "no": {Resource: "nodes"},
		"po": {Resource: "pods"}, "svc": {Resource: "services"},
		"ing":    {Group: "networking.k8s.io", Resource: "ingresses"},
		"netpol": {Group: "networking.k8s.io", Resource: "networkpolicies"},
		"quota":  {Resource: "resourcequotas"}, "limits": {Resource: "limitranges"},
		"pc": {Group: "scheduling.k8s.io", Resource: "priorityclasses"},
		"ev": {Resource: "events"}, "rc": {Resource: "replicationcontrollers"},
		"mcl": {Group: "cluster.open-cluster-management.io", Resource: "managedclusters"},
	}
	for short, want := range tests {
		t.Run(short, func(t *testing.T) {
			got, err := mapper.ResourceFor(schema.GroupVersionResource{Resource: short})
			if err != nil || got.GroupResource() != want {
				t.Errorf("%s resolves to %v (%v), want %v", short, got, err, want)
			}
		})
	}
	t.Run("all", func(t *testing.T) {
		cats := restmapper.NewDiscoveryCategoryExpander(cached)
		grs, ok := cats.Expand("all")
		var got []string
		for _, gr := range grs {
			got = append(got, gr.String())
		}
		sort.Strings(got)
		want := "cronjobs.batch daemonsets.apps deployments.apps horizontalpodautoscalers.autoscaling jobs.batch pods replicasets.apps replicationcontrollers services statefulsets.apps"
		if !ok || strings.Join(got, " ") != want {
			t.Errorf("all = %v, want %s", got, want)
		}
	})
}
