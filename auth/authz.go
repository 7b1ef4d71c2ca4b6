package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/lru"
)

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

// Defaults of the ClusterAuthorizer: how long an answer is reused, how many answers are kept (about 200
// bytes each: 16384 of them hold about 3 MB), and how many reviews one question about many clusters
// runs at once.
const (
	DefaultAuthzCacheTTL     = 10 * time.Second
	DefaultAuthzCacheSize    = 16384
	DefaultAuthzConcurrency  = 16
	maxAuthzConcurrencyLimit = 256
)

// AuthorizerOptions configure a ClusterAuthorizer.
type AuthorizerOptions struct {
	// Read and Write are what reading and changing a cluster need, asked on the cluster's name.
	Read, Write Permission
	// Hub is what reading the hub itself needs when the hub is not registered as a ManagedCluster of
	// itself; it is asked without a resource name. (When it is registered, Read on that ManagedCluster's
	// name applies, as for any cluster.)
	Hub Permission
	// TTL bounds how long an answer is reused (default 10s); Timeout bounds each review.
	TTL, Timeout time.Duration
	// CacheSize bounds the cache of answers (least recently used first out); default 16384.
	CacheSize int
	// Concurrency bounds how many reviews one AllowedMany runs at once; default 16.
	Concurrency int
	// Now is the cache's clock (tests pin it); default time.Now.
	Now func() time.Time
}

// ClusterAuthorizer decides, per caller and cluster, with SubjectAccessReviews on the hub. Its answers are
// cached per whole identity (user, UID, groups and extra) and question, so two callers that differ in any
// of them never share an answer.
//
// A question about a cluster is first asked about every cluster: the permission without a resource name.
// In the hub's RBAC that is allowed only by a rule that names no resources, which then allows every name,
// so one review (cached) answers for the whole fleet. Only when it is denied is the cluster's own name
// asked about. A denial is never taken for an allow: a denied question about every cluster only sends the
// question on to the cluster's name. Concurrent identical questions share one review.
type ClusterAuthorizer struct {
	hub    kubernetes.Interface
	opts   AuthorizerOptions
	cache  *lru.Cache // identity+question hash -> sarEntry
	flight singleflight.Group
}

type sarEntry struct {
	allowed bool
	expires time.Time
}

// NewClusterAuthorizer builds an authorizer.
func NewClusterAuthorizer(hub kubernetes.Interface, o AuthorizerOptions) *ClusterAuthorizer {
	if o.TTL <= 0 {
		o.TTL = DefaultAuthzCacheTTL
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultAuthzCacheSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultAuthzConcurrency
	}
	o.Concurrency = min(o.Concurrency, maxAuthzConcurrencyLimit)
	if o.Now == nil {
		o.Now = time.Now
	}
	return &ClusterAuthorizer{hub: hub, opts: o, cache: lru.New(o.CacheSize)}
}

// Allowed reports whether the request's caller may read (or change) the cluster. Without a caller
// (stdio) everything the hub identity allows is allowed. The error explains a denial.
func (z *ClusterAuthorizer) Allowed(ctx context.Context, cluster string, write bool) error {
	return z.AllowedMany(ctx, []string{cluster}, write)[0]
}

// AllowedMany is Allowed for many clusters at once, in their order: one review when the caller may use
// every cluster, else one per cluster not in the cache, at most Concurrency at a time.
func (z *ClusterAuthorizer) AllowedMany(ctx context.Context, clusters []string, write bool) []error {
	errs := make([]error, len(clusters))
	c := CallerFrom(ctx)
	if c == nil || len(clusters) == 0 {
		return errs
	}
	perm, what := z.opts.Read, "read"
	if write {
		perm, what = z.opts.Write, "change"
	}
	all, err := z.answer(ctx, c, perm, "", "every cluster")
	if err != nil || all {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	one := func(i int) {
		if err := ctx.Err(); err != nil {
			errs[i] = fmt.Errorf("checking %s's access to cluster %s: %w", c.User, clusters[i], err)
			return
		}
		errs[i] = z.decide(ctx, c, perm, clusters[i], what, clusters[i])
	}
	if len(clusters) == 1 {
		one(0)
		return errs
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(z.opts.Concurrency, len(clusters)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				one(i)
			}
		}()
	}
	for i := range clusters {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}

// AllowedHub reports whether the request's caller may read the hub itself when the hub is not registered
// as a ManagedCluster of itself (Hub permission, asked without a resource name).
func (z *ClusterAuthorizer) AllowedHub(ctx context.Context) error {
	c := CallerFrom(ctx)
	if c == nil {
		return nil
	}
	return z.decide(ctx, c, z.opts.Hub, "", "read", "the hub")
}

func (z *ClusterAuthorizer) decide(ctx context.Context, c *Caller, perm Permission, name, what, subject string) error {
	about := "cluster " + name
	if name == "" {
		about = subject
	}
	allowed, err := z.answer(ctx, c, perm, name, about)
	if err != nil {
		return err
	}
	if !allowed {
		return &DeniedError{Caller: c.User, Cluster: subject, What: what, Needs: perm, Name: name}
	}
	return nil
}

// answer is the hub's answer to one question, from the cache while it is fresh. Concurrent callers with
// the same question share one review; it is not cut short when the caller that started it gives up, and
// has a time limit of its own. Failed reviews are not cached.
func (z *ClusterAuthorizer) answer(ctx context.Context, c *Caller, perm Permission, name, about string) (bool, error) {
	key := reviewKey(c, perm, name)
	if e, ok := z.cached(key); ok {
		return e.allowed, nil
	}
	v, err, _ := z.flight.Do(key, func() (any, error) {
		if e, ok := z.cached(key); ok {
			return e.allowed, nil
		}
		now := z.opts.Now()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), z.opts.Timeout)
		defer cancel()
		allowed, err := z.review(rctx, c, perm, name, about)
		if err != nil {
			return false, err
		}
		z.cache.Add(key, sarEntry{allowed: allowed, expires: now.Add(z.opts.TTL)})
		return allowed, nil
	})
	if err != nil {
		return false, err
	}
	return v.(bool), nil
}

func (z *ClusterAuthorizer) cached(key string) (sarEntry, bool) {
	v, ok := z.cache.Get(key)
	if !ok {
		return sarEntry{}, false
	}
	e := v.(sarEntry)
	if !z.opts.Now().Before(e.expires) {
		return sarEntry{}, false
	}
	return e, true
}

// reviewKey identifies a question and the whole identity asking it: user, UID, groups (sorted) and extra
// (sorted keys, each with its values sorted). It is a hash of an unambiguous encoding, so no value can
// pose as a separator.
func reviewKey(c *Caller, p Permission, name string) string {
	groups := slices.Clone(c.Groups)
	sort.Strings(groups)
	keys := make([]string, 0, len(c.Extra))
	for k := range c.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	extra := make([][]string, 0, len(keys))
	for _, k := range keys {
		vals := slices.Clone(c.Extra[k])
		sort.Strings(vals)
		extra = append(extra, append([]string{k}, vals...))
	}
	data, _ := json.Marshal([]any{c.User, c.UID, groups, extra, p.Verb, p.Group, p.Resource, p.Subresource, name})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// review asks the hub; about names what is asked about, for the error.
func (z *ClusterAuthorizer) review(ctx context.Context, c *Caller, p Permission, name, about string) (bool, error) {
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range c.Extra {
		extra[k] = v
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: c.User, UID: c.UID, Groups: c.Groups, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: p.Verb, Group: p.Group, Resource: p.Resource, Subresource: p.Subresource, Name: name,
		},
	}}
	res, err := z.hub.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("checking %s's access to %s with the hub: %w", c.User, about, err)
	}
	return res.Status.Allowed, nil
}

// DeniedError is a per-cluster authorization refusal.
type DeniedError struct {
	// Cluster is the cluster's name, or "the hub".
	Caller, Cluster, What string
	Needs                 Permission
	// Name is the resource name the permission was asked on ("" for any).
	Name string
}

func (e *DeniedError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("%s may not %s %s: that needs %q in the hub's RBAC", e.Caller, e.What, e.Cluster, e.Needs.String())
	}
	return fmt.Sprintf("%s may not %s cluster %s: that needs %q on %s in the hub's RBAC", e.Caller, e.What, e.Cluster, e.Needs.String(), e.Name)
}
