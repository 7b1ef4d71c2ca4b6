package tools

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/rest"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/fakehub"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// unreachable is a Connector whose spokes all fail at once: fan-out runs, without a network.
type unreachable struct{}

func (unreachable) RESTConfig(_ context.Context, t ocm.Target) (*rest.Config, error) {
	return nil, errors.New("cluster " + t.Name + " is unreachable")
}
func (unreachable) Provisioned(string) bool                          { return false }
func (unreachable) CredentialState(context.Context, string) []string { return nil }

// TestFleetAuthorizationRoundTrips: over HTTP, list_clusters and a fan-out over 2,000 clusters cost the
// hub one SubjectAccessReview when the caller may read every cluster, and one per cluster only when the
// caller may read some by name; a second call within the answers' lifetime costs none.
func TestFleetAuthorizationRoundTrips(t *testing.T) {
	const n = 2000
	engine, _ := engineAndRunbooks(t)
	tests := []struct {
		name  string
		allow func(name string) bool // "" is the question about every cluster
		tool  string
		args  map[string]any
		// reviews is what the first call costs; want is in its answer.
		reviews int
		want    string
	}{
		{"list_clusters, may read all", func(string) bool { return true }, "list_clusters", nil, 1, "2000 cluster"},
		{"list_clusters, may read ten", func(s string) bool { return s != "" && s < "cluster-0010" }, "list_clusters", nil, 1 + n, "10 cluster"},
		{"fan-out *, may read all", func(string) bool { return true }, "kubectl", map[string]any{"cluster": "*", "command": "get ns"}, 1, "Fan-out over 2000 cluster(s)"},
		{"fan-out *, may read ten", func(s string) bool { return s != "" && s < "cluster-0010" }, "kubectl", map[string]any{"cluster": "*", "command": "get ns"}, 1 + n, "Fan-out over 10 cluster(s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, _ := bigFleet(n)
			hub := &fakehub.Hub{Allow: func(s authorizationv1.SubjectAccessReviewSpec) bool { return tc.allow(s.ResourceAttributes.Name) }}
			d := Deps{Source: src, Now: func() time.Time { return testNow }, MaxOutputBytes: 32 << 10,
				Kubectl: engine, Clusters: unreachable{}, FanOutConcurrency: 16,
				Authz: auth.NewClusterAuthorizer(hub.Start(t), auth.AuthorizerOptions{
					Read: auth.Permission{Verb: "get", Group: "cluster.open-cluster-management.io", Resource: "managedclusters"},
					// The answers' lifetime is measured on a pinned clock: a slow machine must not expire them.
					Now: func() time.Time { return testNow }})}
			text, _ := callAs(t, d, alice, tc.tool, tc.args)
			if !strings.Contains(text, tc.want) {
				t.Errorf("answer lacks %q:\n%.600s", tc.want, text)
			}
			if got := len(hub.AccessReviews()); got != tc.reviews {
				t.Errorf("the call cost %d SubjectAccessReviews, want %d", got, tc.reviews)
			}
			before := len(hub.AccessReviews())
			callAs(t, d, alice, tc.tool, tc.args)
			if got := len(hub.AccessReviews()) - before; got != 0 {
				t.Errorf("a second call cost %d SubjectAccessReviews, want 0 (cached)", got)
			}
		})
	}
}
