package diagnose

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	workv1 "open-cluster-management.io/api/work/v1"
)

// ManifestWorks are read for every cluster of a fleet diagnosis; one list per cluster namespace was
// one hub request per cluster, which the hub client's rate limit spreads over tens of seconds at 2,000
// clusters. A fleet run lists them hub-wide once, a page at a time, and keeps of each only what the
// check judges (its name and conditions): ManifestWorks carry whole manifests and can be large.

var gvrWorks = schema.GroupVersionResource{Group: "work.open-cluster-management.io", Version: "v1", Resource: "manifestworks"}

type hubWorks struct {
	byNS map[string][]*workv1.ManifestWork
	err  error
}

// listWorks lists the hub's ManifestWorks, keeping names and conditions only; nil when the hub refused
// the hub-wide list (each cluster's namespace is then read by itself).
func listWorks(ctx context.Context, c dynamic.Interface) *hubWorks {
	h := &hubWorks{byNS: map[string][]*workv1.ManifestWork{}}
	forbidden, err := listPaged(ctx, c, gvrWorks, func(item unstructured.Unstructured) {
		w := &workv1.ManifestWork{ObjectMeta: metav1.ObjectMeta{Name: item.GetName(), Namespace: item.GetNamespace()}}
		if raw, ok := item.Object["status"].(map[string]any); ok {
			var st workv1.ManifestWorkStatus
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(map[string]any{"conditions": raw["conditions"]}, &st); err == nil {
				w.Status.Conditions = st.Conditions
			}
		}
		h.byNS[w.Namespace] = append(h.byNS[w.Namespace], w)
	})
	if forbidden {
		return nil
	}
	h.err = err
	return h
}

// manifestWorks are a cluster's ManifestWorks: from the fleet run's hub-wide list, else from the hub.
func (r *Runner) manifestWorks(ctx context.Context, cluster string) ([]*workv1.ManifestWork, error) {
	if r.hubCache != nil && r.hubCache.works != nil {
		return r.hubCache.works.byNS[cluster], r.hubCache.works.err
	}
	return r.Source.ManifestWorks(ctx, cluster)
}
