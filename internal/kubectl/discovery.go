package kubectl

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"weak"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// A fleet's clusters mostly serve the same APIs (the same Kubernetes version, the same add-ons), and the
// discovery of one cluster and the REST mapper built on it take most of a megabyte. Each cluster reads its
// own discovery once (on first use, and again after it is invalidated), and then holds a snapshot shared
// with every cluster whose discovery has the same content: memory grows with the number of distinct API
// sets, not with the fleet. A warm call costs no discovery request.

// apiSnapshot is one immutable discovery result: groups, the resources of each group version, and the
// group versions that could not be read. It is shared by every cluster whose discovery had this content.
type apiSnapshot struct {
	groups    *metav1.APIGroupList
	lists     []*metav1.APIResourceList // in the order of groups
	resources map[string]*metav1.APIResourceList
	failed    map[schema.GroupVersion]error

	mapperOnce sync.Once
	mapper     meta.RESTMapper
}

func newSnapshot(groups []*metav1.APIGroup, lists []*metav1.APIResourceList, failed map[schema.GroupVersion]error) *apiSnapshot {
	s := &apiSnapshot{groups: &metav1.APIGroupList{}, resources: map[string]*metav1.APIResourceList{}, failed: failed}
	for _, g := range groups {
		g := *g
		// Where each server says it can be reached differs per cluster and is not used by kubectl.
		g.ServerAddressByClientCIDRs = nil
		s.groups.Groups = append(s.groups.Groups, g)
	}
	for _, l := range lists {
		if l != nil {
			s.lists = append(s.lists, l)
			s.resources[l.GroupVersion] = l
		}
	}
	return s
}

// key identifies the snapshot's content.
func (s *apiSnapshot) key() ([32]byte, error) {
	failed := make([]string, 0, len(s.failed))
	for gv, err := range s.failed {
		failed = append(failed, gv.String()+": "+err.Error())
	}
	slices.Sort(failed)
	lists := slices.Clone(s.lists)
	slices.SortFunc(lists, func(a, b *metav1.APIResourceList) int { return strings.Compare(a.GroupVersion, b.GroupVersion) })
	data, err := json.Marshal([]any{s.groups, lists, failed})
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(data), nil
}

// err is what reading every group's resources returned: the group versions that failed, if any.
func (s *apiSnapshot) err() error {
	if len(s.failed) == 0 {
		return nil
	}
	return &discovery.ErrGroupDiscoveryFailed{Groups: s.failed}
}

// restMapper is the snapshot's REST mapper (with kubectl's short names), built once.
func (s *apiSnapshot) restMapper() meta.RESTMapper {
	s.mapperOnce.Do(func() {
		view := snapshotView{s}
		gr, _ := restmapper.GetAPIGroupResources(view) // partial failures leave their groups out
		s.mapper = restmapper.NewShortcutExpander(restmapper.NewDiscoveryRESTMapper(gr), view, nil)
	})
	return s.mapper
}

// snapshots interns snapshots by content. It holds them weakly: a snapshot no cluster uses any more is
// collected, and its entry goes with it.
type snapshots struct {
	mu sync.Mutex
	m  map[[32]byte]weak.Pointer[apiSnapshot]
}

func newSnapshots() *snapshots { return &snapshots{m: map[[32]byte]weak.Pointer[apiSnapshot]{}} }

// intern returns the snapshot already held with s's content, or s, now held.
func (st *snapshots) intern(s *apiSnapshot) *apiSnapshot {
	key, err := s.key()
	if err != nil {
		return s
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if held := st.m[key].Value(); held != nil {
		return held
	}
	wp := weak.Make(s)
	st.m[key] = wp
	runtime.AddCleanup(s, func(key [32]byte) {
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.m[key] == wp {
			delete(st.m, key)
		}
	}, key)
	return s
}

// size is how many distinct snapshots are held.
func (st *snapshots) size() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.m)
}

// clusterDiscovery is one cluster's cached discovery: it reads the cluster once, then answers from the
// shared snapshot until invalidated. Version and OpenAPI questions go to the cluster each time.
type clusterDiscovery struct {
	live  *discovery.DiscoveryClient
	store *snapshots
	calls *activeCalls // a read of discovery (and its retries) ends when the calls waiting for it have

	mu   sync.Mutex // held while loading: concurrent first calls read the cluster once
	snap *apiSnapshot
}

var _ discovery.CachedDiscoveryInterface = (*clusterDiscovery)(nil)

func newClusterDiscovery(cfg *rest.Config, store *snapshots, calls *activeCalls) (*clusterDiscovery, error) {
	live, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &clusterDiscovery{live: live, store: store, calls: calls}, nil
}

// current returns the snapshot, reading the cluster's discovery if there is none.
func (d *clusterDiscovery) current() (*apiSnapshot, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.snap != nil {
		return d.snap, nil
	}
	ctx, cancel := d.calls.bound()
	defer cancel()
	groups, lists, err := d.live.ServerGroupsAndResourcesWithContext(ctx)
	var failed map[schema.GroupVersion]error
	if err != nil {
		partial, ok := err.(*discovery.ErrGroupDiscoveryFailed)
		if !ok || groups == nil {
			return nil, err
		}
		failed = partial.Groups
	}
	d.snap = d.store.intern(newSnapshot(groups, lists, failed))
	return d.snap, nil
}

func (d *clusterDiscovery) Fresh() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.snap != nil
}

func (d *clusterDiscovery) Invalidate() {
	d.mu.Lock()
	d.snap = nil
	d.mu.Unlock()
}

func (d *clusterDiscovery) RESTClient() rest.Interface { return d.live.RESTClient() }

func (d *clusterDiscovery) ServerGroups() (*metav1.APIGroupList, error) {
	s, err := d.current()
	if err != nil {
		return nil, err
	}
	return snapshotView{s}.ServerGroups()
}

func (d *clusterDiscovery) ServerResourcesForGroupVersion(gv string) (*metav1.APIResourceList, error) {
	s, err := d.current()
	if err != nil {
		return nil, err
	}
	return snapshotView{s}.ServerResourcesForGroupVersion(gv)
}

func (d *clusterDiscovery) ServerGroupsAndResources() ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	s, err := d.current()
	if err != nil {
		return nil, nil, err
	}
	return snapshotView{s}.ServerGroupsAndResources()
}

func (d *clusterDiscovery) ServerPreferredResources() ([]*metav1.APIResourceList, error) {
	s, err := d.current()
	if err != nil {
		return nil, err
	}
	return discovery.ServerPreferredResources(snapshotView{s})
}

func (d *clusterDiscovery) ServerPreferredNamespacedResources() ([]*metav1.APIResourceList, error) {
	s, err := d.current()
	if err != nil {
		return nil, err
	}
	return discovery.ServerPreferredNamespacedResources(snapshotView{s})
}

func (d *clusterDiscovery) ServerVersion() (*version.Info, error) { return d.live.ServerVersion() }

func (d *clusterDiscovery) OpenAPISchema() (*openapi_v2.Document, error) {
	return d.live.OpenAPISchema()
}

func (d *clusterDiscovery) OpenAPIV3() openapi.Client { return d.live.OpenAPIV3() }

func (d *clusterDiscovery) WithLegacy() discovery.DiscoveryInterface { return d }

// snapshotView answers discovery questions from a snapshot alone (for the snapshot's own REST mapper,
// which every cluster sharing the snapshot uses).
type snapshotView struct{ s *apiSnapshot }

func (v snapshotView) RESTClient() rest.Interface { return nil }

func (v snapshotView) ServerGroups() (*metav1.APIGroupList, error) { return v.s.groups, nil }

func (v snapshotView) ServerResourcesForGroupVersion(gv string) (*metav1.APIResourceList, error) {
	if l, ok := v.s.resources[gv]; ok {
		return l, nil
	}
	if parsed, err := schema.ParseGroupVersion(gv); err == nil {
		if err, failed := v.s.failed[parsed]; failed {
			return nil, err
		}
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Group: "discovery", Resource: "groupversions"}, gv)
}

func (v snapshotView) ServerGroupsAndResources() ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	groups := make([]*metav1.APIGroup, len(v.s.groups.Groups))
	for i := range v.s.groups.Groups {
		groups[i] = &v.s.groups.Groups[i]
	}
	return groups, v.s.lists, v.s.err()
}

func (v snapshotView) ServerPreferredResources() ([]*metav1.APIResourceList, error) {
	return discovery.ServerPreferredResources(v)
}

func (v snapshotView) ServerPreferredNamespacedResources() ([]*metav1.APIResourceList, error) {
	return discovery.ServerPreferredNamespacedResources(v)
}

func (v snapshotView) ServerVersion() (*version.Info, error) {
	return nil, fmt.Errorf("the server version is not part of discovery's snapshot")
}

func (v snapshotView) OpenAPISchema() (*openapi_v2.Document, error) {
	return nil, fmt.Errorf("OpenAPI is not part of discovery's snapshot")
}

func (v snapshotView) OpenAPIV3() openapi.Client { return nil }

func (v snapshotView) WithLegacy() discovery.DiscoveryInterface { return v }
