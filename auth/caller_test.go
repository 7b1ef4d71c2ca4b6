package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/fakehub"
)

// clock is a pinned clock tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func alice() fakehub.Token {
	return fakehub.Token{User: authenticationv1.UserInfo{Username: "alice", UID: "alice-uid", Groups: []string{"fleet:users"}}}
}

// TestAuthenticatorCachesAreBounded: a flood of made-up tokens neither grows memory past the cache size
// nor pushes an accepted token out (it is not asked about again while its answer is fresh).
func TestAuthenticatorCachesAreBounded(t *testing.T) {
	hub := &fakehub.Hub{Tokens: map[string]fakehub.Token{"good": alice()}}
	clk := &clock{t: time.Unix(1e9, 0)}
	a := NewAuthenticator(hub.Start(t), AuthenticatorOptions{CacheSize: 8, TTL: time.Minute, Now: clk.now})
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, "good"); err != nil {
		t.Fatal(err)
	}
	const flood = 200
	for i := 0; i < flood; i++ {
		if _, err := a.Authenticate(ctx, fmt.Sprintf("made-up-%d", i)); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("made-up token: err = %v", err)
		}
	}
	if n := a.rejected.Len(); n > 8 {
		t.Errorf("the rejected-token cache holds %d answers; its bound is 8", n)
	}
	if c, err := a.Authenticate(ctx, "good"); err != nil || c.User != "alice" {
		t.Fatalf("good token after the flood: %v %v", c, err)
	}
	if got := hub.TokenReviews(); got != 1+flood {
		t.Errorf("%d TokenReviews; want %d: the accepted token was asked about again", got, 1+flood)
	}
	// A rejected answer is reused while fresh, and asked again once it expired.
	_, _ = a.Authenticate(ctx, "made-up-199")
	if got := hub.TokenReviews(); got != 1+flood {
		t.Errorf("a fresh rejection was not reused: %d TokenReviews", got)
	}
	clk.t = clk.t.Add(2 * time.Minute)
	_, _ = a.Authenticate(ctx, "made-up-199")
	_, _ = a.Authenticate(ctx, "good")
	if got := hub.TokenReviews(); got != 3+flood {
		t.Errorf("expired answers were reused: %d TokenReviews, want %d", got, 3+flood)
	}
	for i := 0; i < 20; i++ {
		_, _ = a.Authenticate(ctx, fmt.Sprintf("good-%d", i))
	}
	if n := a.accepted.Len(); n > 8 {
		t.Errorf("the accepted-token cache holds %d answers; its bound is 8", n)
	}
}

// TestReviewGate: a request whose gate says no costs the hub nothing; a cached token never asks the gate.
func TestReviewGate(t *testing.T) {
	hub := &fakehub.Hub{Tokens: map[string]fakehub.Token{"good": alice()}}
	a := NewAuthenticator(hub.Start(t), AuthenticatorOptions{})
	asked := 0
	deny := WithReviewGate(context.Background(), func() bool { asked++; return false })
	if _, err := a.Authenticate(deny, "made-up"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("err = %v, want ErrThrottled", err)
	}
	if hub.TokenReviews() != 0 || asked != 1 {
		t.Fatalf("%d TokenReviews, gate asked %d times", hub.TokenReviews(), asked)
	}
	if _, err := a.Authenticate(context.Background(), "good"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(deny, "good"); err != nil || asked != 1 {
		t.Fatalf("a cached token went through the gate: err %v, asked %d", err, asked)
	}
}

// TestAuthenticatorAudience: with an audience set, the review asks for it and only a token the hub accepts
// for it passes; a hub answer that names no audience proves nothing and is refused.
func TestAuthenticatorAudience(t *testing.T) {
	forUs := alice()
	forUs.Audiences = []string{"mcp"}
	tokens := map[string]fakehub.Token{"static": alice(), "for-mcp": forUs}
	tests := []struct {
		name      string
		audiences []string
		ignore    bool
		token     string
		wantErr   error
	}{
		{"no audience set: an API token passes", nil, false, "static", nil},
		{"audience set: a token for it passes", []string{"mcp"}, false, "for-mcp", nil},
		{"audience set: an API token is refused", []string{"mcp"}, false, "static", ErrUnauthenticated},
		{"one of several audiences", []string{"other", "mcp"}, false, "for-mcp", nil},
		{"audience-unaware hub", []string{"mcp"}, true, "static", ErrWrongAudience},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hub := &fakehub.Hub{Tokens: tokens, IgnoreAudiences: tc.ignore}
			a := NewAuthenticator(hub.Start(t), AuthenticatorOptions{Audiences: tc.audiences})
			c, err := a.Authenticate(context.Background(), tc.token)
			if tc.wantErr == nil && (err != nil || c.User != "alice") {
				t.Fatalf("caller %v err %v", c, err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil && c != nil {
				t.Fatalf("a refused token gave caller %v", c)
			}
		})
	}
}

// TestAuthorizerKeysTheWholeIdentity: callers that differ only in UID, groups or extra get reviews of
// their own, never another's cached answer; the same identity in another order shares one.
func TestAuthorizerKeysTheWholeIdentity(t *testing.T) {
	base := Caller{User: "alice", UID: "uid-1", Groups: []string{"a", "b"}, Extra: map[string][]string{"scopes": {"x", "y"}}}
	with := func(f func(c *Caller)) *Caller {
		c := base
		c.Groups = append([]string(nil), base.Groups...)
		c.Extra = map[string][]string{}
		for k, v := range base.Extra {
			c.Extra[k] = append([]string(nil), v...)
		}
		f(&c)
		return &c
	}
	tests := []struct {
		name  string
		other *Caller
		// reviews the hub answers in all: the first caller's question about every cluster (allowed), then
		// the other's about every cluster and about spoke1 (both denied), or nothing more when shared.
		reviews int
	}{
		{"another UID", with(func(c *Caller) { c.UID = "uid-2" }), 3},
		{"another extra value", with(func(c *Caller) { c.Extra["scopes"] = []string{"x", "z"} }), 3},
		{"another extra key", with(func(c *Caller) { c.Extra["tenant"] = []string{"t1"} }), 3},
		{"no extra", with(func(c *Caller) { c.Extra = nil }), 3},
		{"another group", with(func(c *Caller) { c.Groups = []string{"a"} }), 3},
		{"a value that looks like a separator", with(func(c *Caller) { c.User, c.UID = "alice|uid-1", "" }), 3},
		{"groups and extra values reordered", with(func(c *Caller) {
			c.Groups = []string{"b", "a"}
			c.Extra["scopes"] = []string{"y", "x"}
		}), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Only the base identity is allowed, so a shared answer would let the other caller in.
			hub := &fakehub.Hub{Allow: func(s authorizationv1.SubjectAccessReviewSpec) bool {
				return s.User == base.User && s.UID == base.UID && len(s.Extra) == 1 && strings.Join(s.Extra["scopes"], ",") == "x,y" && len(s.Groups) == 2
			}}
			z := NewClusterAuthorizer(hub.Start(t), AuthorizerOptions{Read: Permission{Verb: "get", Group: "cluster.open-cluster-management.io", Resource: "managedclusters"}})
			if err := z.Allowed(WithCaller(context.Background(), &base), "spoke1", false); err != nil {
				t.Fatal(err)
			}
			err := z.Allowed(WithCaller(context.Background(), tc.other), "spoke1", false)
			if got := len(hub.AccessReviews()); got != tc.reviews {
				t.Fatalf("%d SubjectAccessReviews, want %d", got, tc.reviews)
			}
			if tc.reviews > 1 && err == nil {
				t.Error("the other caller was allowed on the first caller's answer")
			}
			if last := hub.AccessReviews()[len(hub.AccessReviews())-1]; last.UID != tc.other.UID && tc.reviews > 1 {
				t.Errorf("the review asked about UID %q, not %q", last.UID, tc.other.UID)
			}
		})
	}
}

// TestAuthorizerHub: the hub is asked about with its own permission, without a resource name, and a denial
// says what is needed.
func TestAuthorizerHub(t *testing.T) {
	hub := &fakehub.Hub{}
	hubPerm := Permission{Verb: "list", Group: "cluster.open-cluster-management.io", Resource: "managedclusters"}
	z := NewClusterAuthorizer(hub.Start(t), AuthorizerOptions{Hub: hubPerm})
	ctx := WithCaller(context.Background(), &Caller{User: "alice", UID: "u"})
	err := z.AllowedHub(ctx)
	var denied *DeniedError
	if !errors.As(err, &denied) || !strings.Contains(err.Error(), `alice may not read the hub: that needs "list managedclusters.cluster.open-cluster-management.io"`) {
		t.Fatalf("err = %v", err)
	}
	r := hub.AccessReviews()
	if len(r) != 1 || r[0].ResourceAttributes.Name != "" || r[0].ResourceAttributes.Verb != "list" {
		t.Fatalf("reviews %+v", r)
	}
	if err := z.AllowedHub(context.Background()); err != nil {
		t.Errorf("without a caller (stdio) the hub is allowed: %v", err)
	}
}

// TestAuthorizerCacheIsBounded: answers for many clusters do not outgrow the cache.
func TestAuthorizerCacheIsBounded(t *testing.T) {
	hub := &fakehub.Hub{}
	z := NewClusterAuthorizer(hub.Start(t), AuthorizerOptions{CacheSize: 4})
	ctx := WithCaller(context.Background(), &Caller{User: "alice"})
	for i := 0; i < 20; i++ {
		_ = z.Allowed(ctx, fmt.Sprintf("c%d", i), false)
	}
	if n := z.cache.Len(); n > 4 {
		t.Errorf("the cache holds %d answers; its bound is 4", n)
	}
}
