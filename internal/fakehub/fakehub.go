// Package fakehub is a stand-in for the hub's API server in tests: a real HTTP server that answers
// TokenReviews and SubjectAccessReviews the way kube-apiserver does, and counts them.
package fakehub

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// APIAudience is the audience the fake API server accepts tokens for when a review names none.
const APIAudience = "https://kubernetes.default.svc"

// Token is an identity the hub knows.
type Token struct {
	User authenticationv1.UserInfo
	// Audiences the token is for; empty means the API server's own (a static or legacy token).
	Audiences []string
}

// Hub answers reviews. Set Tokens and Allow before use; read the counters with TokenReviews and
// AccessReviews.
type Hub struct {
	// Tokens are the tokens the hub accepts.
	Tokens map[string]Token
	// Allow decides a SubjectAccessReview; nil denies everything.
	Allow func(authorizationv1.SubjectAccessReviewSpec) bool
	// IgnoreAudiences answers like an authenticator that is not audience-aware: it authenticates the token
	// whatever audiences the review asks for, and names none in its answer.
	IgnoreAudiences bool

	mu       sync.Mutex
	reviews  []authenticationv1.TokenReviewSpec
	accesses []authorizationv1.SubjectAccessReviewSpec
}

// Start serves the hub until the test ends and returns a client for it.
func (h *Hub) Start(t testing.TB) kubernetes.Interface {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json", AcceptContentTypes: "application/json"}, QPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TokenReviews is how many TokenReviews the hub answered.
func (h *Hub) TokenReviews() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.reviews)
}

// AccessReviews returns the SubjectAccessReviews the hub answered, in order.
func (h *Hub) AccessReviews() []authorizationv1.SubjectAccessReviewSpec {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.accesses)
}

func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	switch r.URL.Path {
	case "/apis/authentication.k8s.io/v1/tokenreviews":
		var tr authenticationv1.TokenReview
		if err := json.NewDecoder(r.Body).Decode(&tr); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.reviews = append(h.reviews, tr.Spec)
		h.mu.Unlock()
		tr.Status = h.authenticate(tr.Spec)
		tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenReview"
		writeJSON(w, &tr)
	case "/apis/authorization.k8s.io/v1/subjectaccessreviews":
		var sar authorizationv1.SubjectAccessReview
		if err := json.NewDecoder(r.Body).Decode(&sar); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.accesses = append(h.accesses, sar.Spec)
		h.mu.Unlock()
		sar.Status.Allowed = h.Allow != nil && h.Allow(sar.Spec)
		sar.APIVersion, sar.Kind = "authorization.k8s.io/v1", "SubjectAccessReview"
		writeJSON(w, &sar)
	default:
		http.NotFound(w, r)
	}
}

// authenticate follows kube-apiserver: the audiences a review asks for must meet the token's, and the
// answer names those they share.
func (h *Hub) authenticate(spec authenticationv1.TokenReviewSpec) authenticationv1.TokenReviewStatus {
	tok, ok := h.Tokens[spec.Token]
	if !ok {
		return authenticationv1.TokenReviewStatus{Error: "invalid bearer token"}
	}
	if h.IgnoreAudiences {
		return authenticationv1.TokenReviewStatus{Authenticated: true, User: tok.User}
	}
	has := tok.Audiences
	if len(has) == 0 {
		has = []string{APIAudience}
	}
	want := spec.Audiences
	if len(want) == 0 {
		want = []string{APIAudience}
	}
	var shared []string
	for _, a := range want {
		if slices.Contains(has, a) {
			shared = append(shared, a)
		}
	}
	if len(shared) == 0 {
		return authenticationv1.TokenReviewStatus{Error: "token audiences do not match"}
	}
	return authenticationv1.TokenReviewStatus{Authenticated: true, User: tok.User, Audiences: shared}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(v)
}
