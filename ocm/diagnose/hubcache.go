package diagnose

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// A fleet diagnosis reads, for each cluster, hub objects kept per cluster: its CSRs (by label), the
// ManagedServiceAccounts and ManagedClusterAddOns in its namespace, its ManifestWorks. At 2,000 clusters
// that was several thousand hub requests per call. hubCache lists each of those resources once, before
// any cluster is checked (so the diagnosis judges the hub's evidence as it was when it began), a page at
// a time, and answers the per-cluster reads from memory; any other read goes to the hub as before.

// fleetListed are the hub resources a fleet diagnosis lists once (ManifestWorks too: hubworks.go).
func fleetListed() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{gvrCSR, gvrMSA, gvrMCA}
}

// hubPageSize is how many objects one page of a hub-wide list holds.
const hubPageSize = 500

type hubCache struct {
	// lists holds the listed resources; one the hub refused to list hub-wide is absent, and read per
	// cluster as before.
	lists map[schema.GroupVersionResource]*hubList
	// works are the hub's ManifestWorks, kept small (hubworks.go); nil when the hub refused the list.
	works *hubWorks
}

type hubList struct {
	items []unstructured.Unstructured
	// byNS indexes items by namespace ("" holds every item of a cluster-scoped resource).
	byNS map[string][]int
	err  error
}

// newHubCache lists every resource the cache holds; an error is kept for the reads that need the list.
func newHubCache(ctx context.Context, c dynamic.Interface) *hubCache {
	h := &hubCache{lists: map[schema.GroupVersionResource]*hubList{}}
	for _, gvr := range fleetListed() {
		l := &hubList{byNS: map[string][]int{}}
		forbidden, err := listPaged(ctx, c, gvr, func(o unstructured.Unstructured) {
			l.byNS[o.GetNamespace()] = append(l.byNS[o.GetNamespace()], len(l.items))
			l.items = append(l.items, o)
		})
		if !forbidden {
			l.err = err
			h.lists[gvr] = l
		}
	}
	h.works = listWorks(ctx, c)
	return h
}

// listPaged lists every object of a resource on the hub, a page at a time, handing each to each. A
// resource the hub does not serve (or an archive without it) has no object; forbidden says the hub
// refused the hub-wide list (the reads per cluster may still be allowed).
func listPaged(ctx context.Context, c dynamic.Interface, gvr schema.GroupVersionResource, each func(unstructured.Unstructured)) (forbidden bool, err error) {
	opts := metav1.ListOptions{Limit: hubPageSize}
	for {
		page, err := c.Resource(gvr).List(ctx, opts)
		switch {
		case apierrors.IsNotFound(err):
			return false, nil
		case apierrors.IsForbidden(err):
			return true, nil
		case err != nil:
			return false, err
		}
		for _, o := range page.Items {
			each(o)
		}
		if opts.Continue = page.GetContinue(); opts.Continue == "" {
			return false, nil
		}
	}
}

// all is the run's list of a resource; ok is false for a resource the cache does not hold.
func (h *hubCache) all(gvr schema.GroupVersionResource) (*hubList, bool) {
	if h == nil {
		return nil, false
	}
	l, ok := h.lists[gvr]
	return l, ok
}

// in is the listed objects of a namespace, or all of them for "".
func (l *hubList) in(ns string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	if ns == "" {
		for i := range l.items {
			out = append(out, &l.items[i])
		}
		return out
	}
	for _, i := range l.byNS[ns] {
		out = append(out, &l.items[i])
	}
	return out
}

// filter picks the listed objects of a namespace ("" any) that a label selector matches, as copies.
func (l *hubList) filter(ns string, sel labels.Selector) []unstructured.Unstructured {
	var out []unstructured.Unstructured
	for _, o := range l.in(ns) {
		if sel.Matches(labels.Set(o.GetLabels())) {
			out = append(out, *o.DeepCopy())
		}
	}
	return out
}

// find is the listed object of a namespace and name, as a copy; nil when there is none.
func (l *hubList) find(ns, name string) *unstructured.Unstructured {
	for _, o := range l.in(ns) {
		if o.GetNamespace() == ns && o.GetName() == name {
			return o.DeepCopy()
		}
	}
	return nil
}
