package tools

import (
	"context"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// readers is an Authorizer: the caller may read the listed clusters, and the hub when hub is set.
type readers struct {
	read map[string]bool
	hub  bool
}

func (r readers) Allowed(ctx context.Context, cluster string, write bool) error {
	c := auth.CallerFrom(ctx)
	if c == nil || (r.read[cluster] && !write) {
		return nil
	}
	return &auth.DeniedError{Caller: c.User, Cluster: cluster, Name: cluster, What: "read", Needs: auth.Permission{Verb: "get", Resource: "managedclusters"}}
}

func (r readers) AllowedHub(ctx context.Context) error {
	c := auth.CallerFrom(ctx)
	if c == nil || r.hub {
		return nil
	}
	return &auth.DeniedError{Caller: c.User, Cluster: "the hub", What: "read", Needs: auth.Permission{Verb: "list", Resource: "managedclusters"}}
}

func reads(names ...string) readers {
	r := readers{read: map[string]bool{}}
	for _, n := range names {
		r.read[n] = true
	}
	return r
}

// callAs calls a tool the way the server does: through the handler Register installed, as caller (nil:
// stdio).
func callAs(t *testing.T, d Deps, caller *auth.Caller, tool string, args map[string]any) (string, bool) {
	t.Helper()
	s := server.NewMCPServer("test", "0")
	Register(s, d)
	st, ok := s.ListTools()[tool]
	if !ok {
		t.Fatalf("no tool %s", tool)
	}
	ctx := context.Background()
	if caller != nil {
		ctx = auth.WithCaller(ctx, caller)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = tool, args
	res, err := st.Handler(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

var alice = &auth.Caller{User: "alice", UID: "alice-uid"}

// withLocalCluster is the fixture fleet with the hub registered as a cluster of itself.
func withLocalCluster() Deps {
	d := fixtureDeps()
	src := fixtureFleet()
	src.Clusters = append(src.Clusters, &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: "local-cluster", CreationTimestamp: ago(0),
		Labels: map[string]string{ocm.LocalClusterLabel: "true"}}})
	d.Source = src
	return d
}

// TestCallersSeeOnlyClustersTheyMayRead: no name or state of a cluster the caller may not read reaches it,
// through any tool: not in list_clusters, not in "did you mean", not in clusterset errors, not in fan-out
// results or the clusters they left out, not in a fleet diagnosis. The hub's own status needs a permission
// too. Without a caller (stdio) everything is visible.
func TestCallersSeeOnlyClustersTheyMayRead(t *testing.T) {
	archive := sampleArchiveDeps(t) // hub, spoke1, spoke2 collected; spoke3 known to the hub only
	tests := []struct {
		name   string
		deps   Deps
		authz  readers
		caller *auth.Caller
		tool   string
		args   map[string]any
		isErr  bool
		want   []string
		hidden []string // must not appear
	}{
		{"list_clusters", fixtureDeps(), reads("east-prod"), alice, "list_clusters", nil, false,
			[]string{"east-prod"}, []string{"west-stage", "new-edge"}},
		{"list_clusters with nothing readable", fixtureDeps(), reads(), alice, "list_clusters", nil, false,
			[]string{"that you may read"}, []string{"west-stage", "none is registered"}},
		{"list_clusters over stdio", fixtureDeps(), reads(), nil, "list_clusters", nil, false,
			[]string{"east-prod", "west-stage", "new-edge"}, nil},
		{"did you mean: an unreadable neighbour", fixtureDeps(), reads("west-stage"), alice, "cluster_status", map[string]any{"cluster": "east-prd"}, true,
			[]string{`unknown cluster "east-prd"`}, []string{"east-prod"}},
		{"did you mean: a readable neighbour", fixtureDeps(), reads("west-stage"), alice, "cluster_status", map[string]any{"cluster": "west-stag"}, true,
			[]string{`did you mean "west-stage"`}, nil},
		{"a name too long to be one", fixtureDeps(), reads("west-stage"), alice, "cluster_status", map[string]any{"cluster": strings.Repeat("west-stage", 1000)}, true,
			[]string{"at most 63"}, nil},
		{"unknown clusterset", fixtureDeps(), reads("east-prod"), alice, "list_clusters", map[string]any{"clusterset": "prdo"}, true,
			[]string{"no cluster you may read"}, []string{"prod?", "global"}},
		{"a clusterset of unreadable clusters", fixtureDeps(), reads("west-stage"), alice, "list_clusters", map[string]any{"clusterset": "prod"}, false,
			[]string{"that you may read"}, []string{"east-prod"}},
		{"fan-out and what it left out", archive, reads("spoke1"), alice, "kubectl", map[string]any{"cluster": "*", "command": "get ns open-cluster-management-agent"}, false,
			[]string{"spoke1"}, []string{"spoke2", "spoke3"}},
		{"fan-out by list", archive, reads("spoke1"), alice, "kubectl", map[string]any{"cluster": "spoke1,spoke3", "command": "get ns open-cluster-management-agent"}, false,
			[]string{"spoke1"}, []string{"spoke2", "spoke3"}},
		{"fleet diagnosis", archive, reads("spoke1"), alice, "diagnose", nil, false,
			nil, []string{"spoke2", "spoke3"}},
		{"hub status without the hub permission", fixtureDeps(), reads("east-prod"), alice, "cluster_status", map[string]any{"cluster": "hub"}, true,
			[]string{"alice may not read the hub"}, nil},
		{"hub status with the hub permission", fixtureDeps(), readers{hub: true}, alice, "cluster_status", map[string]any{"cluster": "hub"}, false,
			[]string{"The hub is not registered"}, nil},
		{"registered hub without read on its ManagedCluster", withLocalCluster(), readers{hub: true}, alice, "cluster_status", map[string]any{"cluster": "hub"}, true,
			[]string{"alice may not read cluster local-cluster"}, nil},
		{"registered hub with read on its ManagedCluster", withLocalCluster(), reads("local-cluster"), alice, "cluster_status", map[string]any{"cluster": "hub"}, false,
			[]string{"Cluster local-cluster:"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.deps
			d.Authz = tc.authz
			text, isErr := callAs(t, d, tc.caller, tc.tool, tc.args)
			if isErr != tc.isErr {
				t.Errorf("isError=%v, want %v", isErr, tc.isErr)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing %q", w)
				}
			}
			for _, h := range tc.hidden {
				if strings.Contains(text, h) {
					t.Errorf("shows %q, which the caller may not see", h)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", text)
			}
		})
	}
}
