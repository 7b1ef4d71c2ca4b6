package kubectl

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// fakeAPI is a minimal API server: legacy discovery of core/v1 with the resources it is given, and a
// one-row table for a list of any of them. It records every request it is sent, by path.
type fakeAPI struct {
	mu        sync.Mutex
	resources []string // plural names in core/v1, cluster-scoped
	reqs      []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.reqs = append(f.reqs, r.URL.Path)
	resources := f.resources
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/api":
		fmt.Fprint(w, `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"`+r.Host+`"}]}`)
		return
	case "/apis":
		fmt.Fprint(w, `{"kind":"APIGroupList","apiVersion":"v1","groups":[]}`)
		return
	case "/api/v1":
		var rs []string
		for _, res := range resources {
			kind := strings.ToUpper(res[:1]) + strings.TrimSuffix(res[1:], "s")
			rs = append(rs, fmt.Sprintf(`{"name":%q,"singularName":%q,"namespaced":false,"kind":%q,"verbs":["get","list"]}`, res, strings.TrimSuffix(res, "s"), kind))
		}
		fmt.Fprint(w, `{"kind":"APIResourceList","groupVersion":"v1","resources":[`+strings.Join(rs, ",")+`]}`)
		return
	}
	for _, res := range resources {
		if r.URL.Path == "/api/v1/"+res {
			fmt.Fprint(w, `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"1"},"columnDefinitions":[{"name":"Name","type":"string","format":"name"}],"rows":[{"cells":["one"],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"one"}}}]}`)
			return
		}
	}
	http.NotFound(w, r)
}

func (f *fakeAPI) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.reqs
	f.reqs = nil
	return out
}

func (f *fakeAPI) serve(t testing.TB, resources ...string) string {
	f.resources = resources
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

func run(t testing.TB, e *Engine, key, host, command string) Result {
	t.Helper()
	return e.Run(context.Background(), Request{Key: key, Config: &rest.Config{Host: host}, Plan: planFor(t, ReadTool, command), Timeout: 10 * time.Second})
}

// TestDiscoveryIsReadOncePerClusterAndShared: a cluster's discovery is read on its first call only; a
// warm call is one request. Clusters that serve the same APIs share one copy of discovery, a cluster
// with other APIs has its own, and a type a cluster gains is found once its discovery is read again
// (api-resources reads it again, as kubectl's does).
func TestDiscoveryIsReadOncePerClusterAndShared(t *testing.T) {
	e, err := NewEngine(Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := &fakeAPI{}, &fakeAPI{}, &fakeAPI{}
	hostA, hostB, hostC := a.serve(t, "namespaces"), b.serve(t, "namespaces"), c.serve(t, "namespaces", "widgets")
	discoveryReqs := []string{"/api", "/apis", "/api/v1"}
	steps := []struct {
		name, cluster, command string
		api                    *fakeAPI
		want                   []string // requests the cluster is sent
		wantErr                string
		snapshots              int
	}{
		{"first call reads discovery", "a", "get namespaces", a, append(discoveryReqs, "/api/v1/namespaces"), "", 1},
		{"warm call is one request", "a", "get namespaces", a, []string{"/api/v1/namespaces"}, "", 1},
		{"short name from shared discovery", "a", "get namespace", a, []string{"/api/v1/namespaces"}, "", 1},
		{"same APIs share discovery", "b", "get namespaces", b, append(discoveryReqs, "/api/v1/namespaces"), "", 1},
		{"other APIs have their own", "c", "get widgets", c, append(discoveryReqs, "/api/v1/widgets"), "", 2},
		{"unknown type", "a", "get widgets", a, nil, "doesn't have a resource type", 2},
	}
	hosts := map[string]string{"a": hostA, "b": hostB, "c": hostC}
	for _, s := range steps {
		res := run(t, e, s.cluster, hosts[s.cluster], s.command)
		got := s.api.take()
		if s.wantErr != "" {
			if res.Err == nil || !strings.Contains(res.Err.Error(), s.wantErr) {
				t.Errorf("%s: error %v; want %q", s.name, res.Err, s.wantErr)
			}
		} else if res.Err != nil || !strings.Contains(res.Stdout, "one") {
			t.Errorf("%s: %v\n%s", s.name, res.Err, res.Stdout)
		}
		if s.want != nil && strings.Join(got, " ") != strings.Join(s.want, " ") {
			t.Errorf("%s: requests %q; want %q", s.name, got, s.want)
		}
		if n := e.snapshots.size(); n != s.snapshots {
			t.Errorf("%s: %d distinct discovery snapshots held; want %d", s.name, n, s.snapshots)
		}
	}
	// Cluster a gains widgets: api-resources reads discovery again, and the type is found.
	a.mu.Lock()
	a.resources = []string{"namespaces", "widgets"}
	a.mu.Unlock()
	if res := run(t, e, "a", hostA, "api-resources"); res.Err != nil || !strings.Contains(res.Stdout, "widgets") {
		t.Fatalf("api-resources after a new type: %v\n%s", res.Err, res.Stdout)
	}
	if res := run(t, e, "a", hostA, "get widgets"); res.Err != nil {
		t.Fatalf("get widgets after api-resources: %v", res.Err)
	}
}

// BenchmarkWarmGet: the CPU one warm `get` costs the server on one cluster (against a local fake API
// server with one object, so almost all of it is kubectl's and the engine's own work).
func BenchmarkWarmGet(b *testing.B) {
	e, err := NewEngine(Options{WorkDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	api := &fakeAPI{}
	host := api.serve(b, "namespaces")
	for b.Loop() {
		if res := run(b, e, "a", host, "get namespaces"); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}
