package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/lru"
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

// ErrWrongAudience means the hub accepts the token, but not for this server's audience.
var ErrWrongAudience = fmt.Errorf("%w: the token is not meant for this server", ErrUnauthenticated)

// ErrThrottled means the token was not checked: the request's gate (see WithReviewGate) refused to spend a
// TokenReview on it.
var ErrThrottled = errors.New("too many token checks")

type gateKey struct{}

// WithReviewGate makes Authenticate ask allow before it spends a TokenReview on the hub (a token that is
// not in its cache). When allow says no, Authenticate returns ErrThrottled without contacting the hub. The
// HTTP guard throttles each client address with it, so a flood of made-up tokens costs the hub a bounded
// number of reviews.
func WithReviewGate(ctx context.Context, allow func() bool) context.Context {
	return context.WithValue(ctx, gateKey{}, allow)
}

// Default sizes and lifetimes of the Authenticator's caches.
const (
	DefaultAuthCacheTTL  = 30 * time.Second
	DefaultAuthCacheSize = 4096
)

// AuthenticatorOptions configure an Authenticator.
type AuthenticatorOptions struct {
	// TTL bounds how long an answer (accepted or rejected) is reused; default 30s.
	TTL time.Duration
	// Timeout bounds each TokenReview.
	Timeout time.Duration
	// Audiences, when set, are sent in each TokenReview; a token the hub does not accept for one of them is
	// rejected.
	Audiences []string
	// CacheSize bounds each cache (accepted tokens, rejected tokens); the least recently used answer goes
	// first. Default 4096.
	CacheSize int
	// Now is the clock of the caches (tests pin it); default time.Now.
	Now func() time.Time
}

// Authenticator checks bearer tokens with TokenReviews on the hub and caches the answers briefly, keyed
// by a hash of the token (the token itself is never kept as a key, logged or returned). Both caches are
// bounded LRUs, so made-up tokens cannot grow memory, and rejected tokens cannot push out accepted ones.
type Authenticator struct {
	hub  kubernetes.Interface
	opts AuthenticatorOptions

	accepted *lru.Cache // token hash -> authEntry with a caller
	rejected *lru.Cache // token hash -> authEntry with the reason
	flight   singleflight.Group
}

type authEntry struct {
	caller  *Caller
	reason  error
	expires time.Time
}

// NewAuthenticator builds an authenticator.
func NewAuthenticator(hub kubernetes.Interface, o AuthenticatorOptions) *Authenticator {
	if o.TTL <= 0 {
		o.TTL = DefaultAuthCacheTTL
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultAuthCacheSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Authenticator{hub: hub, opts: o, accepted: lru.New(o.CacheSize), rejected: lru.New(o.CacheSize)}
}

// Authenticate returns the caller a token belongs to.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*Caller, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: no bearer token", ErrUnauthenticated)
	}
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	now := a.opts.Now()
	if e, ok := a.cached(a.accepted, key, now); ok {
		return e.caller, nil
	}
	if e, ok := a.cached(a.rejected, key, now); ok {
		return nil, e.reason
	}
	// Concurrent requests with one new token share one review, and only the request that makes it asks
	// the gate. The review is not cut short when that request gives up, and it has a time limit of its own.
	v, err, _ := a.flight.Do(key, func() (any, error) {
		// A review that ended since this request looked at the cache has answered already.
		if e, ok := a.cached(a.accepted, key, now); ok {
			return e.caller, nil
		}
		if e, ok := a.cached(a.rejected, key, now); ok {
			return nil, e.reason
		}
		if allow, ok := ctx.Value(gateKey{}).(func() bool); ok && !allow() {
			return nil, ErrThrottled
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.Timeout)
		defer cancel()
		return a.review(ctx, key, token, now)
	})
	if err != nil {
		return nil, err
	}
	return v.(*Caller), nil
}

func (a *Authenticator) review(ctx context.Context, key, token string, now time.Time) (*Caller, error) {
	tr, err := a.hub.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: a.opts.Audiences},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("checking the token with the hub: %w", err)
	}
	if reason := a.judge(tr.Status); reason != nil {
		a.rejected.Add(key, authEntry{reason: reason, expires: now.Add(a.opts.TTL)})
		return nil, reason
	}
	u := tr.Status.User
	caller := &Caller{User: u.Username, UID: u.UID, Groups: slices.Clone(u.Groups), Extra: map[string][]string{}}
	for k, v := range u.Extra {
		caller.Extra[k] = slices.Clone(v)
	}
	a.accepted.Add(key, authEntry{caller: caller, expires: now.Add(a.opts.TTL)})
	return caller, nil
}

func (a *Authenticator) cached(c *lru.Cache, key string, now time.Time) (authEntry, bool) {
	v, ok := c.Get(key)
	if !ok {
		return authEntry{}, false
	}
	e := v.(authEntry)
	if !now.Before(e.expires) {
		c.Remove(key)
		return authEntry{}, false
	}
	return e, true
}

// judge returns why the review's answer rejects the token, or nil. When audiences were asked for, the hub
// must name one of them in status.audiences: an answer without them comes from an authenticator that
// ignored the audience, and proves nothing about it.
func (a *Authenticator) judge(st authenticationv1.TokenReviewStatus) error {
	if !st.Authenticated {
		return fmt.Errorf("%w: the token was rejected by the hub", ErrUnauthenticated)
	}
	if len(a.opts.Audiences) == 0 {
		return nil
	}
	for _, got := range st.Audiences {
		if slices.Contains(a.opts.Audiences, got) {
			return nil
		}
	}
	return fmt.Errorf("%w: its audiences %v do not include %s", ErrWrongAudience, st.Audiences, strings.Join(a.opts.Audiences, ", "))
}
