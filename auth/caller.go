package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Caller is who is calling the server over HTTP, as the hub's TokenReview says.
type Caller struct {
	User   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

type callerKey struct{}

// WithCaller puts the caller into a request context.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller of the request, or nil over stdio (the local user, with the hub
// kubeconfig's identity).
func CallerFrom(ctx context.Context) *Caller {
	c, _ := ctx.Value(callerKey{}).(*Caller)
	return c
}

// ErrUnauthenticated means the bearer token is missing, invalid or expired.
var ErrUnauthenticated = errors.New("unauthenticated")

// Authenticator checks bearer tokens with TokenReviews on the hub and caches the answers briefly, keyed
// by a hash of the token (the token itself is never kept as a key, logged or returned).
type Authenticator struct {
	hub      kubernetes.Interface
	ttl      time.Duration
	timeout  time.Duration
	audience []string

	mu    sync.Mutex
	cache map[string]authEntry
}

type authEntry struct {
	caller  *Caller
	expires time.Time
}

// NewAuthenticator builds an authenticator; ttl bounds how long an answer is reused.
func NewAuthenticator(hub kubernetes.Interface, ttl, timeout time.Duration) *Authenticator {
	return &Authenticator{hub: hub, ttl: ttl, timeout: timeout, cache: map[string]authEntry{}}
}

// Authenticate returns the caller a token belongs to.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*Caller, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: no bearer token", ErrUnauthenticated)
	}
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	now := time.Now()
	a.mu.Lock()
	if e, ok := a.cache[key]; ok && now.Before(e.expires) {
		a.mu.Unlock()
		if e.caller == nil {
			return nil, fmt.Errorf("%w: the token was rejected by the hub", ErrUnauthenticated)
		}
		return e.caller, nil
	}
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	tr, err := a.hub.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: a.audience},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("checking the token with the hub: %w", err)
	}
	var caller *Caller
	if tr.Status.Authenticated {
		u := tr.Status.User
		caller = &Caller{User: u.Username, UID: u.UID, Groups: u.Groups, Extra: map[string][]string{}}
		for k, v := range u.Extra {
			caller.Extra[k] = v
		}
	}
	a.mu.Lock()
	a.cache[key] = authEntry{caller: caller, expires: now.Add(a.ttl)}
	if len(a.cache) > 10000 { // bounded: drop expired answers
		for k, e := range a.cache {
			if now.After(e.expires) {
				delete(a.cache, k)
			}
		}
	}
	a.mu.Unlock()
	if caller == nil {
		return nil, fmt.Errorf("%w: the token was rejected by the hub", ErrUnauthenticated)
	}
	return caller, nil
}

// Permission is what a SubjectAccessReview asks, for one cluster (its name becomes the resource name).
type Permission struct {
	Verb, Group, Resource, Subresource string
}

func (p Permission) String() string {
	r := p.Resource
	if p.Subresource != "" {
		r += "/" + p.Subresource
	}
	if p.Group != "" {
		r += "." + p.Group
	}
	return p.Verb + " " + r
}

// ClusterAuthorizer decides, per caller and cluster, with SubjectAccessReviews on the hub.
type ClusterAuthorizer struct {
	hub         kubernetes.Interface
	read, write Permission
	ttl         time.Duration
	timeout     time.Duration

	mu    sync.Mutex
	cache map[string]sarEntry
}

type sarEntry struct {
	allowed bool
	expires time.Time
}

// NewClusterAuthorizer builds an authorizer with the permissions that reading and changing a cluster need.
func NewClusterAuthorizer(hub kubernetes.Interface, read, write Permission, ttl, timeout time.Duration) *ClusterAuthorizer {
	return &ClusterAuthorizer{hub: hub, read: read, write: write, ttl: ttl, timeout: timeout, cache: map[string]sarEntry{}}
}

// Allowed reports whether the request's caller may read (or change) the cluster. Without a caller
// (stdio) everything the hub identity allows is allowed. The error explains a denial.
func (z *ClusterAuthorizer) Allowed(ctx context.Context, cluster string, write bool) error {
	c := CallerFrom(ctx)
	if c == nil {
		return nil
	}
	perm := z.read
	if write {
		perm = z.write
	}
	key := fmt.Sprintf("%s|%v|%s|%s", c.User, c.Groups, perm, cluster)
	now := time.Now()
	z.mu.Lock()
	e, ok := z.cache[key]
	z.mu.Unlock()
	if !ok || now.After(e.expires) {
		allowed, err := z.review(ctx, c, perm, cluster)
		if err != nil {
			return err
		}
		e = sarEntry{allowed: allowed, expires: now.Add(z.ttl)}
		z.mu.Lock()
		z.cache[key] = e
		z.mu.Unlock()
	}
	if !e.allowed {
		what := "read"
		if write {
			what = "change"
		}
		return &DeniedError{Caller: c.User, Cluster: cluster, What: what, Needs: perm}
	}
	return nil
}

func (z *ClusterAuthorizer) review(ctx context.Context, c *Caller, p Permission, cluster string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, z.timeout)
	defer cancel()
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range c.Extra {
		extra[k] = v
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: c.User, UID: c.UID, Groups: c.Groups, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: p.Verb, Group: p.Group, Resource: p.Resource, Subresource: p.Subresource, Name: cluster,
		},
	}}
	res, err := z.hub.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("checking %s's access to cluster %s with the hub: %w", c.User, cluster, err)
	}
	return res.Status.Allowed, nil
}

// DeniedError is a per-cluster authorization refusal.
type DeniedError struct {
	Caller, Cluster, What string
	Needs                 Permission
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("%s may not %s cluster %s: that needs %q on %s in the hub's RBAC", e.Caller, e.What, e.Cluster, e.Needs.String(), e.Cluster)
}
