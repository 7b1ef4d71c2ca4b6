package diagnose

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// A fleet diagnosis reads, for each cluster, hub objects kept per cluster: its CSRs (by label), the
// ManagedServiceAccounts and ManagedClusterAddOns in its namespace. At 2,000 clusters that was several
// thousand hub requests per call. hubCache lists each of those resources once for the whole run, a page
// at a time, and answers the per-cluster reads from memory; any other read goes to the hub as before.

// fleetListed are the hub resources a fleet diagnosis lists once.
func fleetListed() map[schema.GroupVersionResource]bool {
	return map[schema.GroupVersionResource]bool{gvrCSR: true, gvrMSA: true, gvrMCA: true}
}

// hubPageSize is how many objects one page of a hub-wide list holds.
const hubPageSize = 500

type hubCache struct {
	// works are the hub's ManifestWorks, kept small (hubworks.go).
	works  hubWorks
	listed map[schema.GroupVersionResource]bool
	mu     sync.Mutex
	lists  map[schema.GroupVersionResource]*hubList
}

type hubList struct {
	once  sync.Once
	items []unstructured.Unstructured
	// byNS indexes items by namespace ("" holds every item of a cluster-scoped resource).
	byNS map[string][]int
	err  error
	// forbidden is set when the hub refused the hub-wide list: reads then go per cluster, as before.
	forbidden bool
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

func newHubCache() *hubCache {
	return &hubCache{listed: fleetListed(), lists: map[schema.GroupVersionResource]*hubList{}}
}

// all lists every object of a resource on the hub, once per run; ok is false for a resource the cache
// does not hold.
func (h *hubCache) all(ctx context.Context, c dynamic.Interface, gvr schema.GroupVersionResource) (*hubList, bool, error) {
	if h == nil || !h.listed[gvr] {
		return nil, false, nil
	}
	h.mu.Lock()
	l, ok := h.lists[gvr]
	if !ok {
		l = &hubList{}
		h.lists[gvr] = l
	}
	h.mu.Unlock()
	l.once.Do(func() {
		opts := metav1.ListOptions{Limit: hubPageSize}
		for {
			page, err := c.Resource(gvr).List(ctx, opts)
			switch {
			case apierrors.IsNotFound(err): // no such API (or an archive without it): nothing to find
				l.items = nil
			case apierrors.IsForbidden(err): // the reads per cluster may still be allowed
				l.forbidden = true
				return
			case err != nil:
				l.err = err
				return
			}
			if page == nil {
				break
			}
			l.items = append(l.items, page.Items...)
			if opts.Continue = page.GetContinue(); opts.Continue == "" {
				break
			}
		}
		l.byNS = map[string][]int{}
		for i := range l.items {
			ns := l.items[i].GetNamespace()
			l.byNS[ns] = append(l.byNS[ns], i)
		}
	})
	if l.forbidden {
		return nil, false, nil
	}
	return l, true, l.err
}

// prefetch lists every resource the cache holds; an error is kept for the reads that need the list.
func (h *hubCache) prefetch(ctx context.Context, c dynamic.Interface) {
	for gvr := range h.listed {
		_, _, _ = h.all(ctx, c, gvr)
	}
	_, _, _ = h.works.list(ctx, c, "")
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
