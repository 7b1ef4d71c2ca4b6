// Package auth gives the server credentials for spokes, obtained through the hub only: a
// ManagedServiceAccount per cluster, RBAC granted on the spoke through a ClusterPermission (or a
// ManifestWork where that CRD is not installed), and tokens held in memory.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/utils/lru"
	workclient "open-cluster-management.io/api/client/work/clientset/versioned"
	msaclient "open-cluster-management.io/managed-serviceaccount/pkg/generated/clientset/versioned"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// Defaults.
const (
	DefaultMSAName        = "multicluster-mcp-server"
	DefaultCacheSize      = 5000
	DefaultTokenRecheck   = 30 * time.Second
	defaultAddonNamespace = "open-cluster-management-agent-addon"
	// MSAAddonName is the add-on that turns ManagedServiceAccounts into tokens.
	MSAAddonName = "managed-serviceaccount"
	// ManagedByLabel marks every hub object the server creates.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	managedByValue = "multicluster-mcp-server"
)

// Options configure spoke credentials.
type Options struct {
	// MSAName names the ManagedServiceAccount (and the grant objects) in every cluster namespace.
	MSAName string
	// ClusterRole is bound on the spoke instead of view and the server's own write rules. Empty means
	// view, plus in read-write mode the server's own ClusterRole with the writer rules (never edit,
	// which can mint tokens and impersonate).
	ClusterRole string
	ReadOnly    bool
	// ManifestWorkGrant lets the grant travel in a ManifestWork when the hub has no ClusterPermission
	// API. Off, such a hub is an error: creating ManifestWorks is a wide right for the server to hold.
	ManifestWorkGrant bool
	// TokenTimeout bounds the wait for the token Secret and for the RBAC grant on first use.
	TokenTimeout time.Duration
	// ClusterTimeout bounds each request to a spoke.
	ClusterTimeout time.Duration
	// HubTimeout bounds each request to the hub.
	HubTimeout time.Duration
	// ProxyURL, when set, reaches spokes through the cluster-proxy user server at <ProxyURL>/<cluster>.
	ProxyURL string
	// ProxyCA is the PEM bundle that verifies the cluster-proxy user server (empty: system roots).
	ProxyCA []byte
	// CacheSize bounds the per-cluster client cache.
	CacheSize int
	// TokenRecheck is how old an in-memory token may get before the Secret is read again.
	TokenRecheck time.Duration
	// MetricsProxyName is the cluster Prometheus service as the API server's service proxy names it
	// ("scheme:name:port"): the server's ClusterRole on spokes may get services/proxy of that name and
	// no other. Empty: no such rule.
	MetricsProxyName string
	// WrapTransport, when set, wraps every spoke client's transport (the server's request tracing).
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// OnProvision, when set, is told how each provisioning of a cluster's credentials went.
	OnProvision func(took time.Duration, err error)
	// Scope, when set, refuses the clusters the server may not reach (those its add-on Placements do not
	// select) before any credential is made for them.
	Scope func(cluster string) error
}

// Role is the ClusterRole the options bind on spokes.
func (o Options) Role() string {
	if o.ClusterRole != "" {
		return o.ClusterRole
	}
	return "view"
}

// Mode names the grant a server makes, as recorded on its ManagedServiceAccount: two servers that
// share a ManagedServiceAccount share its spoke identity, so they must grant the same.
func (o Options) Mode() string {
	mode := "read-write"
	if o.ReadOnly {
		mode = "read-only"
	}
	return mode + "/" + o.Role()
}

// Provider hands out REST configs for the hub and for spokes.
type Provider struct {
	hub  *ocm.Hub
	reg  *ocm.Registry
	opts Options

	msa  msaclient.Interface
	work workclient.Interface
	dyn  dynamic.Interface

	flight singleflight.Group
	mu     sync.Mutex
	cache  *lru.Cache // cluster name -> *spoke
}

// spoke is a provisioned cluster: its token source and the config template built on it.
type spoke struct {
	host string
	ca   []byte
	src  *tokenSource
}

// NewProvider builds a provider; nothing is provisioned until a cluster is used (or Prepare is called).
func NewProvider(hub *ocm.Hub, reg *ocm.Registry, o Options) (*Provider, error) {
	if o.MSAName == "" {
		o.MSAName = DefaultMSAName
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.TokenRecheck <= 0 {
		o.TokenRecheck = DefaultTokenRecheck
	}
	if o.TokenTimeout <= 0 {
		o.TokenTimeout = time.Minute
	}
	if o.ClusterTimeout <= 0 {
		o.ClusterTimeout = 30 * time.Second
	}
	if o.HubTimeout <= 0 {
		o.HubTimeout = 15 * time.Second
	}
	p := &Provider{hub: hub, reg: reg, opts: o, cache: lru.New(o.CacheSize)}
	var err error
	if p.msa, err = msaclient.NewForConfig(hub.Config); err != nil {
		return nil, err
	}
	if p.work, err = workclient.NewForConfig(hub.Config); err != nil {
		return nil, err
	}
	if p.dyn, err = dynamic.NewForConfig(hub.Config); err != nil {
		return nil, err
	}
	return p, nil
}

// Options returns the provider's effective options.
func (p *Provider) Options() Options { return p.opts }

// RESTConfig returns a config for the target. For the hub it is the server's own hub identity. For a
// spoke it carries the cluster's ManagedServiceAccount token, provisioning it on first use.
func (p *Provider) RESTConfig(ctx context.Context, t ocm.Target) (*rest.Config, error) {
	if t.Hub {
		cfg := rest.CopyConfig(p.hub.Config)
		// An HTTP caller works on the hub as themselves: the hub's own RBAC applies.
		if c := CallerFrom(ctx); c != nil {
			if err := impersonable(c); err != nil {
				return nil, err
			}
			cfg.Impersonate = rest.ImpersonationConfig{UserName: c.User, UID: c.UID, Groups: c.Groups, Extra: c.Extra}
		}
		return cfg, nil
	}
	s, err := p.spoke(ctx, t)
	if err != nil {
		return nil, err
	}
	return p.configFor(t.Name, s), nil
}

// superGroups are groups the server never impersonates: their members bypass RBAC or act as the control
// plane, and the server's right to impersonate must not become theirs through a stolen or forwarded
// token. Such callers use their own kubeconfig, not the server.
func superGroup(g string) bool {
	switch g {
	case "system:masters", "system:nodes", "system:cluster-admins", "system:bootstrappers":
		return true
	}
	return strings.HasPrefix(g, "system:bootstrappers:")
}

// impersonable refuses callers the server will not act as on the hub.
func impersonable(c *Caller) error {
	for _, g := range c.Groups {
		if superGroup(g) {
			return fmt.Errorf("the server does not act on the hub as a member of %s (%s): that group bypasses RBAC or is the control plane's. "+
				"Call the server with a token of an identity without it", g, c.User)
		}
	}
	if c.User == "system:admin" || strings.HasPrefix(c.User, "system:node:") || strings.HasPrefix(c.User, "system:kube-") {
		return fmt.Errorf("the server does not act on the hub as %s, a control-plane identity: call it with a token of an ordinary user", c.User)
	}
	return nil
}

// Forget drops a cluster from the cache, so the next use provisions and reads everything again.
func (p *Provider) Forget(cluster string) {
	p.mu.Lock()
	p.cache.Remove(cluster)
	p.mu.Unlock()
}

// CachedClusters is how many clusters' credentials and clients are held in memory.
func (p *Provider) CachedClusters() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cache.Len()
}

func (p *Provider) spoke(ctx context.Context, t ocm.Target) (*spoke, error) {
	if p.opts.Scope != nil {
		if err := p.opts.Scope(t.Name); err != nil {
			return nil, err
		}
	}
	p.mu.Lock()
	v, ok := p.cache.Get(t.Name)
	p.mu.Unlock()
	if ok {
		return v.(*spoke), nil
	}
	// Concurrent first calls to one cluster provision it once.
	res, err, _ := p.flight.Do(t.Name, func() (any, error) {
		began := time.Now()
		s, err := p.provision(ctx, t)
		if p.opts.OnProvision != nil {
			p.opts.OnProvision(time.Since(began), err)
		}
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		p.cache.Add(t.Name, s)
		p.mu.Unlock()
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	return res.(*spoke), nil
}

func (p *Provider) configFor(cluster string, s *spoke) *rest.Config {
	dialer := &net.Dialer{Timeout: min(p.opts.ClusterTimeout, 10*time.Second), KeepAlive: 30 * time.Second}
	cfg := &rest.Config{
		Host:            s.host,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.ca},
		Timeout:         p.opts.ClusterTimeout,
		Dial:            dialer.DialContext,
		QPS:             50,
		Burst:           100,
		UserAgent:       p.hub.Config.UserAgent,
	}
	src := s.src
	wrap := p.opts.WrapTransport
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		var out http.RoundTripper = &tokenTransport{src: src, next: rt}
		if wrap != nil {
			out = wrap(out)
		}
		return out
	}
	return cfg
}

// spokeEndpoint picks the URL and CA the server uses to reach a spoke.
func (p *Provider) spokeEndpoint(t ocm.Target, secretCA []byte) (string, []byte, error) {
	if p.opts.ProxyURL != "" {
		return strings.TrimSuffix(p.opts.ProxyURL, "/") + "/" + t.Name, p.opts.ProxyCA, nil
	}
	if t.Cluster != nil {
		for _, cc := range t.Cluster.Spec.ManagedClusterClientConfigs {
			if cc.URL == "" {
				continue
			}
			ca := cc.CABundle
			if len(ca) == 0 {
				ca = secretCA
			}
			return cc.URL, ca, nil
		}
	}
	return "", nil, fmt.Errorf("cluster %s publishes no API server URL (ManagedCluster spec.managedClusterClientConfigs is empty) "+
		"and no --cluster-proxy-url is set: set the klusterlet's external server URLs, or reach spokes through cluster-proxy", t.Name)
}

// ExplainSpokeError turns an error from a call to a spoke into a sentence with the cluster, its URL and
// what to do.
func ExplainSpokeError(cluster string, cfg *rest.Config, err error) error {
	if err == nil {
		return nil
	}
	host := ""
	if cfg != nil {
		host = cfg.Host
	}
	var urlErr *url.Error
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return fmt.Errorf("cluster %s did not answer in time at %s: %v. Its API server may be down or unreachable from the hub; check its status with cluster_status", cluster, host, rootCause(err))
	case errors.As(err, &urlErr) || errors.As(err, &netErr):
		return fmt.Errorf("cluster %s is unreachable at %s: %v. Check its status with cluster_status", cluster, host, rootCause(err))
	default:
		return err
	}
}

func rootCause(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) && urlErr.Err != nil {
		return urlErr.Err
	}
	return err
}
