package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// Connector gives the collectors a REST config per cluster and says which clusters the server already
// holds credentials for (auth.Provider). The collectors never provision credentials: they index a
// spoke only once Provisioned says so.
type Connector interface {
	RESTConfig(ctx context.Context, t ocm.Target) (*rest.Config, error)
	Provisioned(cluster string) bool
}

// CollectorOptions configure the live collectors.
type CollectorOptions struct {
	Kinds, HubKinds []schema.GroupResource
	// Concurrency bounds the lists running at once over the whole fleet (default 16).
	Concurrency int
	// ClusterTimeout bounds each list page and discovery request (default 30s).
	ClusterTimeout time.Duration
	// Reconcile is how often the fleet's clusters are compared with those collected (default 20s);
	// Heartbeat how often each cluster's freshness is written (default 15s).
	Reconcile, Heartbeat time.Duration
	Log                  *zap.Logger
}

// Collector keeps the store in step with the fleet: one goroutine per cluster, one list and watch per
// kind, writes batched through one writer.
type Collector struct {
	store *Store
	src   ocm.Source
	conn  Connector
	opts  CollectorOptions
	log   *zap.Logger
	lists chan struct{} // semaphore of concurrent lists
	ops   chan []Op

	mu   sync.Mutex
	runs map[string]*clusterRun
	idle map[string]string // clusters not collected: state written last
}

// clusterRun is one cluster's collection.
type clusterRun struct {
	target ocm.Target
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	kinds   int       // kinds collected (0 until discovery)
	watched int       // kinds whose list is complete and whose watch is up
	errMsg  string    // the latest error, until a kind recovers
	synced  time.Time // last moment every kind was complete
	started bool      // discovery done
}

// NewCollector makes the collectors; Run runs them.
func NewCollector(store *Store, src ocm.Source, conn Connector, o CollectorOptions) *Collector {
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.ClusterTimeout <= 0 {
		o.ClusterTimeout = 30 * time.Second
	}
	if o.Reconcile <= 0 {
		o.Reconcile = 20 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	return &Collector{store: store, src: src, conn: conn, opts: o, log: o.Log,
		lists: make(chan struct{}, o.Concurrency), ops: make(chan []Op, 64),
		runs: map[string]*clusterRun{}, idle: map[string]string{}}
}

// Run collects until ctx ends.
func (c *Collector) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.writer(ctx) }()
	reconcile := time.NewTicker(c.opts.Reconcile)
	heartbeat := time.NewTicker(c.opts.Heartbeat)
	prune := time.NewTicker(time.Minute)
	defer reconcile.Stop()
	defer heartbeat.Stop()
	defer prune.Stop()
	c.reconcile(ctx)
	for {
		select {
		case <-ctx.Done():
			c.mu.Lock()
			runs := make([]*clusterRun, 0, len(c.runs))
			for _, r := range c.runs {
				r.cancel()
				runs = append(runs, r)
			}
			c.mu.Unlock()
			for _, r := range runs {
				<-r.done
			}
			wg.Wait()
			return
		case <-reconcile.C:
			c.reconcile(ctx)
		case <-heartbeat.C:
			c.beat(ctx)
		case <-prune.C:
			if n, err := c.store.Prune(ctx); err != nil {
				c.log.Warn("pruning the index history", zap.Error(err))
			} else if n > 0 {
				c.log.Debug("index history pruned", zap.Int64("rows", n))
			}
		}
	}
}

// writer applies the collectors' ops in batches: up to 2,000 ops or 200 ms.
func (c *Collector) writer(ctx context.Context) {
	var batch []Op
	flush := func() {
		if len(batch) == 0 {
			return
		}
		// The write outlives ctx by a moment so that what was read is not lost at shutdown.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		if err := c.store.Apply(wctx, batch); err != nil {
			c.log.Warn("writing to the index", zap.Error(err), zap.Int("ops", len(batch)))
		}
		cancel()
		batch = batch[:0]
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case ops := <-c.ops:
					batch = append(batch, ops...)
				default:
					flush()
					return
				}
			}
		case ops := <-c.ops:
			batch = append(batch, ops...)
			if len(batch) >= 2000 {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// send queues ops for the writer, waiting when it is behind (so memory stays bounded).
func (c *Collector) send(ctx context.Context, ops []Op) bool {
	if len(ops) == 0 {
		return true
	}
	select {
	case c.ops <- ops:
		return true
	case <-ctx.Done():
		return false
	}
}

// reconcile starts a collection for every cluster to index and stops those of clusters gone.
func (c *Collector) reconcile(ctx context.Context) {
	mcs, err := c.src.ManagedClusters(ctx, labels.Everything())
	if err != nil {
		c.log.Warn("the index cannot list the fleet", zap.Error(err))
		return
	}
	want := map[string]ocm.Target{ocm.HubName: {Name: ocm.HubName, Hub: true}}
	var idle []ClusterState
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, mc := range mcs {
		if ocm.IsLocalCluster(mc) {
			want[ocm.HubName] = ocm.Target{Name: ocm.HubName, Hub: true, Cluster: mc}
			continue
		}
		t := ocm.Target{Name: mc.Name, Cluster: mc}
		if _, running := c.runs[mc.Name]; !running && !c.conn.Provisioned(mc.Name) {
			const why = "the server holds no credentials for it yet: use the cluster once (any tool), or start the server with --prepare-credentials"
			if c.idle[mc.Name] != why {
				c.idle[mc.Name] = why
				idle = append(idle, ClusterState{Cluster: mc.Name, State: StateNoCredentials, Error: why})
			}
			continue
		}
		want[mc.Name] = t
	}
	for name, r := range c.runs {
		if _, ok := want[name]; !ok {
			r.cancel()
			delete(c.runs, name)
			go func() {
				<-r.done
				if err := c.store.DropCluster(context.WithoutCancel(ctx), name); err != nil {
					c.log.Warn("dropping a cluster from the index", zap.String("cluster", name), zap.Error(err))
				}
			}()
		}
	}
	for name, t := range want {
		if r, ok := c.runs[name]; ok {
			r.target = t
			continue
		}
		delete(c.idle, name)
		idle = append(idle, ClusterState{Cluster: name, State: StateSyncing})
		rctx, cancel := context.WithCancel(ctx)
		r := &clusterRun{target: t, cancel: cancel, done: make(chan struct{})}
		c.runs[name] = r
		go func() {
			defer close(r.done)
			c.collect(rctx, r)
		}()
	}
	present := map[string]bool{ocm.HubName: true}
	for _, mc := range mcs {
		present[mc.Name] = true
	}
	for name := range c.idle {
		if !present[name] {
			delete(c.idle, name)
			go func() { _ = c.store.DropCluster(context.WithoutCancel(ctx), name) }()
		}
	}
	if len(idle) > 0 {
		go func() {
			if err := c.store.SetClusters(ctx, idle); err != nil {
				c.log.Warn("recording clusters not indexed", zap.Error(err))
			}
		}()
	}
}

// beat writes every collected cluster's state: live with the time when all its kinds are watched,
// else syncing or retrying with the error.
func (c *Collector) beat(ctx context.Context) {
	now := c.store.opts.Now()
	c.mu.Lock()
	states := make([]ClusterState, 0, len(c.runs))
	for name, r := range c.runs {
		r.mu.Lock()
		st := ClusterState{Cluster: name}
		switch {
		case r.started && r.watched == r.kinds:
			r.synced = now
			st.State, st.Synced = StateLive, now
		case r.errMsg != "":
			st.State, st.Error, st.Synced = StateRetrying, r.errMsg, r.synced
		default:
			st.State, st.Synced = StateSyncing, r.synced
		}
		r.mu.Unlock()
		states = append(states, st)
	}
	c.mu.Unlock()
	sort.Slice(states, func(i, j int) bool { return states[i].Cluster < states[j].Cluster })
	if err := c.store.SetClusters(ctx, states); err != nil && ctx.Err() == nil {
		c.log.Warn("recording the index's freshness", zap.Error(err))
	}
}

// kindInfo is a resource a cluster serves, as discovery says.
type kindInfo struct {
	gvr  schema.GroupVersionResource
	kind string
}

// backoff waits before the next try: 1s doubling to 2 minutes, with jitter.
type backoff struct{ n int }

func (b *backoff) wait(ctx context.Context) bool {
	d := time.Second << min(b.n, 7)
	d = min(d, 2*time.Minute)
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	b.n++
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (b *backoff) reset() { b.n = 0 }

func (r *clusterRun) fail(err error) {
	r.mu.Lock()
	r.errMsg = err.Error()
	r.mu.Unlock()
}

// collect connects to one cluster, finds the kinds it serves, and lists and watches each.
func (c *Collector) collect(ctx context.Context, r *clusterRun) {
	var bo backoff
	var dyn dynamic.Interface
	var kinds []kindInfo
	for {
		var err error
		dyn, kinds, err = c.connect(ctx, r.target)
		if err == nil {
			break
		}
		r.fail(err)
		c.log.Debug("index: cannot connect", zap.String("cluster", r.target.Name), zap.Error(err))
		if !bo.wait(ctx) {
			return
		}
	}
	r.mu.Lock()
	r.kinds, r.started, r.errMsg = len(kinds), true, ""
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, k := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.collectKind(ctx, r, dyn.Resource(k.gvr), k)
		}()
	}
	wg.Wait()
}

// connect builds the cluster's client (no client timeout: watches last; each request has its own) and
// resolves the kinds to collect at the versions the cluster prefers.
func (c *Collector) connect(ctx context.Context, t ocm.Target) (dynamic.Interface, []kindInfo, error) {
	cfg, err := c.conn.RESTConfig(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	dcfg := rest.CopyConfig(cfg)
	dcfg.Timeout = c.opts.ClusterTimeout
	disco, err := discovery.NewDiscoveryClientForConfig(dcfg)
	if err != nil {
		return nil, nil, err
	}
	groups, lists, err := disco.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, nil, fmt.Errorf("discovery: %w", err)
	}
	preferred := map[string]string{}
	for _, g := range groups {
		preferred[g.Name] = g.PreferredVersion.Version
	}
	want := append([]schema.GroupResource{}, c.opts.Kinds...)
	if t.Hub {
		want = append(want, c.opts.HubKinds...)
	}
	var out []kindInfo
	for _, gr := range want {
		var found *kindInfo
		for _, l := range lists {
			gv, err := schema.ParseGroupVersion(l.GroupVersion)
			if err != nil || gv.Group != gr.Group {
				continue
			}
			for _, res := range l.APIResources {
				if res.Name != gr.Resource || !hasVerbs(res.Verbs, "list", "watch") {
					continue
				}
				if found == nil || gv.Version == preferred[gv.Group] {
					found = &kindInfo{gvr: gv.WithResource(gr.Resource), kind: res.Kind}
				}
			}
		}
		if found != nil {
			out = append(out, *found)
		}
	}
	wcfg := rest.CopyConfig(cfg)
	wcfg.Timeout = 0
	dyn, err := dynamic.NewForConfig(wcfg)
	if err != nil {
		return nil, nil, err
	}
	return dyn, out, nil
}

func hasVerbs(verbs metav1.Verbs, want ...string) bool {
	for _, w := range want {
		found := false
		for _, v := range verbs {
			found = found || v == w
		}
		if !found {
			return false
		}
	}
	return true
}

// epochs are the list generations of every kind; unix nanoseconds, so that a restarted server's
// lists sweep what an earlier one wrote.
var epochSeq atomic.Int64

func nextEpoch() int64 {
	for {
		now, last := time.Now().UnixNano(), epochSeq.Load()
		if now <= last {
			now = last + 1
		}
		if epochSeq.CompareAndSwap(last, now) {
			return now
		}
	}
}

// collectKind lists a kind whole, then watches it, relisting when the watch's resourceVersion expires.
func (c *Collector) collectKind(ctx context.Context, r *clusterRun, ri dynamic.NamespaceableResourceInterface, k kindInfo) {
	var bo backoff
	name := r.target.Name
	for ctx.Err() == nil {
		epoch := nextEpoch()
		rv, err := c.list(ctx, name, ri, k, epoch)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.fail(fmt.Errorf("listing %s: %w", k.gvr.Resource, err))
			if !bo.wait(ctx) {
				return
			}
			continue
		}
		bo.reset()
		if !c.send(ctx, []Op{{Sweep: true, Cluster: name, Resource: k.gvr.Resource, Epoch: epoch}}) {
			return
		}
		up := false
		markUp := func(on bool) {
			if on == up {
				return
			}
			up = on
			r.mu.Lock()
			if on {
				r.watched++
				r.errMsg = ""
			} else {
				r.watched--
			}
			r.mu.Unlock()
		}
		markUp(true)
		for ctx.Err() == nil {
			err := c.watch(ctx, name, ri, k, &rv, epoch, func() { markUp(true); bo.reset() })
			if err == nil {
				continue // the server ended the watch on time: resume it
			}
			markUp(false)
			if isExpired(err) {
				break // relist
			}
			if ctx.Err() != nil {
				return
			}
			r.fail(fmt.Errorf("watching %s: %w", k.gvr.Resource, err))
			if !bo.wait(ctx) {
				return
			}
		}
		markUp(false)
	}
}

func isExpired(err error) bool {
	return apierrors.IsResourceExpired(err) || apierrors.IsGone(err)
}

// listPage is the page size of the collectors' lists.
const listPage = 500

// list reads a kind whole, a page at a time, each written as it comes; it returns the list's
// resourceVersion for the watch.
func (c *Collector) list(ctx context.Context, cluster string, ri dynamic.NamespaceableResourceInterface, k kindInfo, epoch int64) (string, error) {
	select {
	case c.lists <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.lists }()
	opts := metav1.ListOptions{Limit: listPage}
	for {
		pctx, cancel := context.WithTimeout(ctx, c.opts.ClusterTimeout)
		l, err := ri.List(pctx, opts)
		cancel()
		if err != nil {
			return "", err
		}
		ops := make([]Op, 0, len(l.Items))
		for i := range l.Items {
			if row := c.rowOf(cluster, k, &l.Items[i]); row != nil {
				ops = append(ops, Op{Row: row, Epoch: epoch})
			}
		}
		if !c.send(ctx, ops) {
			return "", ctx.Err()
		}
		if l.GetContinue() == "" {
			return l.GetResourceVersion(), nil
		}
		opts.Continue = l.GetContinue()
	}
}

func (c *Collector) rowOf(cluster string, k kindInfo, u *unstructured.Unstructured) *Row {
	row, err := RowOf(cluster, k.gvr.Resource, k.gvr.Group, k.gvr.Version, k.kind, u.Object)
	if err != nil {
		c.log.Debug("index: object skipped", zap.String("cluster", cluster), zap.String("resource", k.gvr.Resource), zap.Error(err))
		return nil
	}
	return row
}

// watchTimeout is how long the server keeps one watch open (with jitter); the client gives up a
// minute later.
const watchTimeout = 5 * time.Minute

// watch follows a kind from rv until the server ends the watch (nil), or an error.
func (c *Collector) watch(ctx context.Context, cluster string, ri dynamic.NamespaceableResourceInterface, k kindInfo, rv *string, epoch int64, up func()) error {
	secs := int64((watchTimeout + time.Duration(rand.Int64N(int64(time.Minute)))).Seconds())
	wctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+time.Minute)
	defer cancel()
	w, err := ri.Watch(wctx, metav1.ListOptions{ResourceVersion: *rv, AllowWatchBookmarks: true, TimeoutSeconds: &secs})
	if err != nil {
		return err
	}
	defer w.Stop()
	up()
	for {
		select {
		case <-wctx.Done():
			return wctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil
			}
			switch ev.Type {
			case watch.Error:
				return apierrors.FromObject(ev.Object)
			case watch.Bookmark:
				if u, ok := ev.Object.(*unstructured.Unstructured); ok {
					*rv = u.GetResourceVersion()
				}
			case watch.Added, watch.Modified, watch.Deleted:
				u, ok := ev.Object.(*unstructured.Unstructured)
				if !ok {
					continue
				}
				*rv = u.GetResourceVersion()
				row := c.rowOf(cluster, k, u)
				if row == nil {
					continue
				}
				op := Op{Row: row, Epoch: epoch}
				if ev.Type == watch.Deleted {
					op.Delete = true
				}
				if !c.send(ctx, []Op{op}) {
					return ctx.Err()
				}
			}
		}
	}
}
