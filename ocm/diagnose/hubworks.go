package diagnose

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	once      sync.Once
	byNS      map[string][]*workv1.ManifestWork
	err       error
	forbidden bool
}

// list returns a cluster namespace's ManifestWorks, names and conditions only; ok is false when the
// hub refused the hub-wide list (the caller then reads the namespace itself).
func (h *hubWorks) list(ctx context.Context, c dynamic.Interface, ns string) ([]*workv1.ManifestWork, bool, error) {
	h.once.Do(func() {
		h.byNS = map[string][]*workv1.ManifestWork{}
		opts := metav1.ListOptions{Limit: hubPageSize}
		for {
			page, err := c.Resource(gvrWorks).List(ctx, opts)
			switch {
			case apierrors.IsNotFound(err):
				return
			case apierrors.IsForbidden(err):
				h.forbidden = true
				return
			case err != nil:
				h.err = err
				return
			}
			for _, item := range page.Items {
				w := &workv1.ManifestWork{ObjectMeta: metav1.ObjectMeta{Name: item.GetName(), Namespace: item.GetNamespace()}}
				if raw, ok := item.Object["status"].(map[string]any); ok {
					var st workv1.ManifestWorkStatus
					if err := runtime.DefaultUnstructuredConverter.FromUnstructured(map[string]any{"conditions": raw["conditions"]}, &st); err == nil {
						w.Status.Conditions = st.Conditions
					}
				}
				h.byNS[w.Namespace] = append(h.byNS[w.Namespace], w)
			}
			if opts.Continue = page.GetContinue(); opts.Continue == "" {
				return
			}
		}
	})
	if h.forbidden {
		return nil, false, nil
	}
	return h.byNS[ns], true, h.err
}

// manifestWorks are a cluster's ManifestWorks: from the fleet run's hub-wide list, else from the hub.
func (r *Runner) manifestWorks(ctx context.Context, cluster string) ([]*workv1.ManifestWork, error) {
	if r.hubCache != nil {
		if works, held, err := r.hubCache.works.list(ctx, r.hub, cluster); held {
			return works, err
		}
	}
	return r.Source.ManifestWorks(ctx, cluster)
}
