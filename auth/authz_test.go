package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/fakehub"
)

var readClusters = Permission{Verb: "get", Group: "cluster.open-cluster-management.io", Resource: "managedclusters"}

// inFlight serves a fake hub and records the most reviews it was answering at once.
type inFlight struct {
	hub      *fakehub.Hub
	mu       sync.Mutex
	now, max int
}

func (f *inFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.now++
	f.max = max(f.max, f.now)
	f.mu.Unlock()
	f.hub.ServeHTTP(w, r)
	f.mu.Lock()
	f.now--
	f.mu.Unlock()
}

func (f *inFlight) start(t *testing.T) kubernetes.Interface {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json"}, QPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fleetNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("c%04d", i)
	}
	return names
}

// TestAuthorizerFleetRoundTrips: a question about 2,000 clusters costs one review when the caller may read
// every cluster, one per cluster (run concurrently, within the bound) when they may read only some, and
// nothing while the answers are fresh. Denials stay denials.
func TestAuthorizerFleetRoundTrips(t *testing.T) {
	const n = 2000
	names := fleetNames(n)
	tests := []struct {
		name string
		// allow decides a review: the resource name asked about ("" for every cluster).
		allow func(name string) bool
		// first and again are the reviews the first and a second call cost; allowed is how many clusters
		// the caller may read.
		first, again, allowed int
	}{
		{"may read every cluster", func(string) bool { return true }, 1, 0, n},
		{"may read some clusters by name", func(name string) bool { return name != "" && name < "c0100" }, 1 + n, 0, 100},
		{"may read no cluster", func(string) bool { return false }, 1 + n, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hub := &fakehub.Hub{Allow: func(s authorizationv1.SubjectAccessReviewSpec) bool { return tc.allow(s.ResourceAttributes.Name) }}
			srv := &inFlight{hub: hub}
			clk := &clock{t: time.Unix(1e9, 0)}
			z := NewClusterAuthorizer(srv.start(t), AuthorizerOptions{Read: readClusters, Concurrency: 8, Now: clk.now})
			ctx := WithCaller(context.Background(), &Caller{User: "alice", UID: "u1", Groups: []string{"g"}})
			count := func(errs []error) int {
				ok := 0
				for i, err := range errs {
					var denied *DeniedError
					switch {
					case err == nil:
						ok++
					case !errors.As(err, &denied) || denied.Name != names[i]:
						t.Fatalf("cluster %s: %v", names[i], err)
					}
				}
				return ok
			}
			if got := count(z.AllowedMany(ctx, names, false)); got != tc.allowed {
				t.Errorf("first call: %d clusters allowed, want %d", got, tc.allowed)
			}
			if got := len(hub.AccessReviews()); got != tc.first {
				t.Errorf("first call cost %d reviews, want %d", got, tc.first)
			}
			if got := count(z.AllowedMany(ctx, names, false)); got != tc.allowed {
				t.Errorf("second call: %d clusters allowed, want %d", got, tc.allowed)
			}
			if got := len(hub.AccessReviews()) - tc.first; got != tc.again {
				t.Errorf("second call cost %d reviews, want %d (cached)", got, tc.again)
			}
			if srv.max > 8 {
				t.Errorf("%d reviews at once; the bound is 8", srv.max)
			}
			clk.t = clk.t.Add(DefaultAuthzCacheTTL)
			before := len(hub.AccessReviews())
			_ = z.Allowed(ctx, names[0], false)
			if len(hub.AccessReviews()) == before {
				t.Error("an answer was reused after its lifetime")
			}
		})
	}
}

// TestAuthorizerSharesConcurrentQuestions: many clusters of one fan-out asking at once cost one review
// of the question about every cluster, not one each.
func TestAuthorizerSharesConcurrentQuestions(t *testing.T) {
	hub := &fakehub.Hub{Allow: func(authorizationv1.SubjectAccessReviewSpec) bool { return true }}
	z := NewClusterAuthorizer(hub.Start(t), AuthorizerOptions{Read: readClusters})
	ctx := WithCaller(context.Background(), &Caller{User: "alice"})
	var wg sync.WaitGroup
	for _, name := range fleetNames(200) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := z.Allowed(ctx, name, false); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := len(hub.AccessReviews()); got != 1 {
		t.Errorf("%d reviews for 200 concurrent questions, want 1", got)
	}
}

// TestAuthorizerWriteAsksItsOwnQuestion: an allowed read of every cluster says nothing about changing
// them, and the question about every cluster names no resource.
func TestAuthorizerWriteAsksItsOwnQuestion(t *testing.T) {
	hub := &fakehub.Hub{Allow: func(s authorizationv1.SubjectAccessReviewSpec) bool { return s.ResourceAttributes.Verb == "get" }}
	update := Permission{Verb: "update", Group: readClusters.Group, Resource: readClusters.Resource}
	z := NewClusterAuthorizer(hub.Start(t), AuthorizerOptions{Read: readClusters, Write: update})
	ctx := WithCaller(context.Background(), &Caller{User: "alice"})
	if err := z.Allowed(ctx, "spoke1", false); err != nil {
		t.Fatal(err)
	}
	err := z.Allowed(ctx, "spoke1", true)
	if err == nil || !strings.Contains(err.Error(), "alice may not change cluster spoke1") {
		t.Fatalf("write: %v", err)
	}
	r := hub.AccessReviews()
	if len(r) != 3 || r[0].ResourceAttributes.Name != "" || r[1].ResourceAttributes.Name != "" || r[2].ResourceAttributes.Name != "spoke1" {
		t.Fatalf("reviews %+v", r)
	}
}

// TestAuthorizerHubFailureIsNotCached: a review that fails is an error, not a denial or an allow, and the
// next question asks again.
func TestAuthorizerHubFailureIsNotCached(t *testing.T) {
	var mu sync.Mutex
	down := true
	hub := &fakehub.Hub{Allow: func(authorizationv1.SubjectAccessReviewSpec) bool { return true }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		d := down
		mu.Unlock()
		if d {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		hub.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json"}, QPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	z := NewClusterAuthorizer(c, AuthorizerOptions{Read: readClusters, Timeout: 5 * time.Second})
	ctx := WithCaller(context.Background(), &Caller{User: "alice"})
	for _, err := range z.AllowedMany(ctx, fleetNames(3), false) {
		var denied *DeniedError
		if err == nil || errors.As(err, &denied) || !strings.Contains(err.Error(), "checking alice's access to every cluster") {
			t.Fatalf("hub down: %v", err)
		}
	}
	mu.Lock()
	down = false
	mu.Unlock()
	if err := z.Allowed(ctx, "c0000", false); err != nil {
		t.Fatalf("hub back: %v", err)
	}
}
