// Package selfaddon makes the server an OCM add-on of its own: it registers a ClusterManagementAddOn
// named after itself whose install strategy is Placements, so the Placements an administrator names
// decide which clusters the server may reach; OCM's add-on manager then creates a ManagedClusterAddOn in
// every selected cluster's namespace, and the server reports on it, as conditions, whether it is ready
// there (credentials issued, grant applied, API reachable). Clusters outside the Placements are refused
// with a message that names them.
package selfaddon

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	addonv1alpha1 "open-cluster-management.io/api/addon/v1alpha1"
	addonclient "open-cluster-management.io/api/client/addon/clientset/versioned"
	addoninformers "open-cluster-management.io/api/client/addon/informers/externalversions"
	clusterclient "open-cluster-management.io/api/client/cluster/clientset/versioned"
	clusterinformers "open-cluster-management.io/api/client/cluster/informers/externalversions"
	clusterv1beta1 "open-cluster-management.io/api/cluster/v1beta1"
)

// Placement names a Placement on the hub.
type Placement struct{ Namespace, Name string }

func (p Placement) String() string { return p.Namespace + "/" + p.Name }

// ParsePlacements reads "namespace/name" values.
func ParsePlacements(values []string) ([]Placement, error) {
	var out []Placement
	for _, v := range values {
		ns, name, ok := strings.Cut(strings.TrimSpace(v), "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return nil, fmt.Errorf("%q: want namespace/name of a Placement", v)
		}
		out = append(out, Placement{Namespace: ns, Name: name})
	}
	return out, nil
}

// Options configure the add-on.
type Options struct {
	// Name is the ClusterManagementAddOn's name, and its ManagedClusterAddOns'.
	Name       string
	Placements []Placement
	// Interval is how often the readiness of every selected cluster is checked again (besides when the
	// decisions change).
	Interval time.Duration
	// Concurrency bounds the clusters checked at once.
	Concurrency int
	// Timeout bounds each request to the hub.
	Timeout time.Duration
}

// Addon is the server's add-on registration and its view of the Placements' decisions.
type Addon struct {
	opts    Options
	addons  addonclient.Interface
	cluster clusterclient.Interface
	factory clusterinformers.SharedInformerFactory
	mcas    addoninformers.SharedInformerFactory
	synced  []cache.InformerSynced
	changed chan struct{} // a decision changed: check again

	mu       sync.RWMutex
	selected map[string][]Placement // cluster -> the Placements that select it
}

// New prepares the add-on; Start registers it and starts watching the decisions.
func New(addons addonclient.Interface, cluster clusterclient.Interface, o Options) (*Addon, error) {
	if o.Name == "" || len(o.Placements) == 0 {
		return nil, errors.New("the add-on needs a name and at least one Placement")
	}
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	a := &Addon{opts: o, addons: addons, cluster: cluster, changed: make(chan struct{}, 1), selected: map[string][]Placement{}}
	a.factory = clusterinformers.NewSharedInformerFactoryWithOptions(cluster, 0,
		clusterinformers.WithTweakListOptions(func(lo *metav1.ListOptions) { lo.LabelSelector = clusterv1beta1.PlacementLabel }))
	inf := a.factory.Cluster().V1beta1().PlacementDecisions().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { a.refresh() },
		UpdateFunc: func(any, any) { a.refresh() },
		DeleteFunc: func(any) { a.refresh() },
	}); err != nil {
		return nil, err
	}
	// A ManagedClusterAddOn the add-on manager creates for a new decision is reported at once.
	a.mcas = addoninformers.NewSharedInformerFactoryWithOptions(addons, 0,
		addoninformers.WithTweakListOptions(func(lo *metav1.ListOptions) { lo.FieldSelector = "metadata.name=" + o.Name }))
	mcaInf := a.mcas.Addon().V1alpha1().ManagedClusterAddOns().Informer()
	if _, err := mcaInf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(any) { a.signal() }}); err != nil {
		return nil, err
	}
	a.synced = []cache.InformerSynced{inf.HasSynced, mcaInf.HasSynced}
	return a, nil
}

// Start registers the ClusterManagementAddOn (created, or brought back to the install strategy the
// server is started with), starts watching the PlacementDecisions and waits until they are read.
func (a *Addon) Start(ctx context.Context) error {
	if err := a.register(ctx); err != nil {
		return err
	}
	a.factory.Start(ctx.Done())
	a.mcas.Start(ctx.Done())
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if !cache.WaitForCacheSync(wait.Done(), a.synced...) {
		return fmt.Errorf("reading the PlacementDecisions of %s on the hub did not finish within a minute", a.placementList())
	}
	a.refresh()
	return nil
}

// register creates or updates the ClusterManagementAddOn. Its lifecycle annotation hands the
// ManagedClusterAddOns (created for the Placements' decisions, deleted when a cluster leaves them) to
// OCM's add-on manager.
func (a *Addon) register(ctx context.Context) error {
	want := addonv1alpha1.ClusterManagementAddOnSpec{
		AddOnMeta: addonv1alpha1.AddOnMeta{DisplayName: "Multicluster MCP server",
			Description: "The MCP server that lets AI assistants operate this fleet; the Placements decide which clusters it may reach."},
		InstallStrategy: addonv1alpha1.InstallStrategy{Type: addonv1alpha1.AddonInstallStrategyPlacements},
	}
	for _, p := range a.opts.Placements {
		want.InstallStrategy.Placements = append(want.InstallStrategy.Placements,
			addonv1alpha1.PlacementStrategy{PlacementRef: addonv1alpha1.PlacementRef{Namespace: p.Namespace, Name: p.Name}})
	}
	cmas := a.addons.AddonV1alpha1().ClusterManagementAddOns()
	ctx, cancel := context.WithTimeout(ctx, a.opts.Timeout)
	defer cancel()
	cur, err := cmas.Get(ctx, a.opts.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		cma := &addonv1alpha1.ClusterManagementAddOn{ObjectMeta: metav1.ObjectMeta{Name: a.opts.Name,
			Annotations: map[string]string{addonv1alpha1.AddonLifecycleAnnotationKey: addonv1alpha1.AddonLifecycleAddonManagerAnnotationValue}}, Spec: want}
		if _, err := cmas.Create(ctx, cma, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("registering the ClusterManagementAddOn %s on the hub: %w", a.opts.Name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the ClusterManagementAddOn %s on the hub: %w", a.opts.Name, err)
	}
	if cur.Annotations == nil {
		cur.Annotations = map[string]string{}
	}
	cur.Annotations[addonv1alpha1.AddonLifecycleAnnotationKey] = addonv1alpha1.AddonLifecycleAddonManagerAnnotationValue
	cur.Spec.AddOnMeta, cur.Spec.InstallStrategy = want.AddOnMeta, want.InstallStrategy
	if _, err := cmas.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating the ClusterManagementAddOn %s on the hub: %w", a.opts.Name, err)
	}
	return nil
}

// refresh rebuilds the selected clusters from the decisions the informer holds.
func (a *Addon) refresh() {
	lister := a.factory.Cluster().V1beta1().PlacementDecisions().Lister()
	selected := map[string][]Placement{}
	for _, p := range a.opts.Placements {
		sel := labels.SelectorFromSet(labels.Set{clusterv1beta1.PlacementLabel: p.Name})
		decisions, err := lister.PlacementDecisions(p.Namespace).List(sel)
		if err != nil {
			continue
		}
		for _, d := range decisions {
			for _, c := range d.Status.Decisions {
				selected[c.ClusterName] = append(selected[c.ClusterName], p)
			}
		}
	}
	a.mu.Lock()
	a.selected = selected
	a.mu.Unlock()
	a.signal()
}

// signal asks the reporter for a round (one pending request is enough).
func (a *Addon) signal() {
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// Selected returns the clusters the Placements select, sorted.
func (a *Addon) Selected() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.selected))
	for c := range a.selected {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// NotPlacedError refuses a cluster the Placements do not select.
type NotPlacedError struct {
	Cluster, Addon string
	Placements     []Placement
}

func (e *NotPlacedError) Error() string {
	return fmt.Sprintf("cluster %s is not selected by the Placement %s that decides where the %s add-on (this server) may act: "+
		"ask a hub administrator to include it in that Placement (its ManagedClusterAddOn %s/%s then appears), or use a cluster it selects",
		e.Cluster, strings.Join(placementNames(e.Placements), " or "), e.Addon, e.Cluster, e.Addon)
}

// Allows returns nil when the Placements select the cluster, else a NotPlacedError.
func (a *Addon) Allows(cluster string) error {
	a.mu.RLock()
	_, ok := a.selected[cluster]
	a.mu.RUnlock()
	if ok {
		return nil
	}
	return &NotPlacedError{Cluster: cluster, Addon: a.opts.Name, Placements: a.opts.Placements}
}

func (a *Addon) placementList() string { return strings.Join(placementNames(a.opts.Placements), ", ") }

func placementNames(ps []Placement) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
