package bench

import (
	"context"
	"sync"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	workinformers "open-cluster-management.io/api/client/work/informers/externalversions"
	workv1 "open-cluster-management.io/api/work/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
)

// simulatedGrants stands in for the work agent of the simulated clusters, which have none: every
// grant ManifestWork the server under test creates or changes in a simulated cluster's namespace is
// reported Applied at its current generation, as a work agent reports it once it has applied the
// manifests. The simulated clusters' real permissions come from the bench-viewer ServiceAccount on
// spoke1 (see simulate), so what the grant says is not applied anywhere: this shows the server's
// provisioning path with whatever grant its flags make, not that the grant works.
type simulatedGrants struct {
	mu       sync.Mutex
	clusters map[string]bool
	cancel   context.CancelFunc
}

// followGrants starts the stand-in once per process and adds the clusters to the namespaces it serves.
func followGrants(b *testing.B, names []string) {
	b.Helper()
	if shared.grants == nil {
		ctx, cancel := context.WithCancel(context.Background())
		g := &simulatedGrants{clusters: map[string]bool{}, cancel: cancel}
		f := workinformers.NewSharedInformerFactoryWithOptions(shared.hub.HubWork, 0,
			workinformers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = auth.ManagedByLabel }))
		inf := f.Work().V1().ManifestWorks().Informer()
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { g.apply(ctx, obj) },
			UpdateFunc: func(_, obj any) { g.apply(ctx, obj) },
		}); err != nil {
			cancel()
			b.Fatal(err)
		}
		f.Start(ctx.Done())
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			cancel()
			b.Fatal("the ManifestWork informer of the simulated clusters did not sync")
		}
		shared.grants = g
	}
	shared.grants.mu.Lock()
	for _, n := range names {
		shared.grants.clusters[n] = true
	}
	shared.grants.mu.Unlock()
}

// apply reports one ManifestWork Applied at its generation, when it is a simulated cluster's and not
// yet reported so.
func (g *simulatedGrants) apply(ctx context.Context, obj any) {
	mw, ok := obj.(*workv1.ManifestWork)
	if !ok {
		return
	}
	g.mu.Lock()
	ours := g.clusters[mw.Namespace]
	g.mu.Unlock()
	if !ours {
		return
	}
	if c := apimeta.FindStatusCondition(mw.Status.Conditions, workv1.WorkApplied); c != nil &&
		c.Status == metav1.ConditionTrue && c.ObservedGeneration == mw.Generation {
		return
	}
	cur := mw.DeepCopy()
	apimeta.SetStatusCondition(&cur.Status.Conditions, metav1.Condition{Type: workv1.WorkApplied,
		Status: metav1.ConditionTrue, Reason: "Simulated", ObservedGeneration: cur.Generation})
	// A conflict means a newer version is on its way to this handler: it is reported then.
	_, _ = shared.hub.HubWork.WorkV1().ManifestWorks(cur.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
}

func (g *simulatedGrants) stop() { g.cancel() }
