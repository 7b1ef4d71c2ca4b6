package metrics

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/utils/lru"
)

// Source names where an answer comes from.
const (
	SourceAuto    = "auto"
	SourceHub     = "hub"
	SourceCluster = "cluster"
	SourceURL     = "url"
)

// Sources are the configured places metrics come from.
type Sources struct {
	// HubService is the fleet store on the hub (ACM observability's Thanos querier), reached through the
	// hub API server's service proxy with the server's own hub identity; zero: none.
	HubService ServiceRef
	// ClusterService is each cluster's own Prometheus, reached through that cluster's API server.
	ClusterService ServiceRef
	// ClusterLabel is the label that names the cluster in a fleet store's series.
	ClusterLabel string
	// URL is a Prometheus or Thanos HTTP API used as a fleet store; Token and CA go with it.
	URL      string
	URLToken string
	URLCA    []byte
	// Hub is the server's own hub identity (no impersonation); nil offline.
	Hub *rest.Config
}

// Set is the Sources made usable: clients, and what is known of the hub store.
type Set struct {
	cfg Sources
	hub *Client // nil: no hub store configured
	url *Client // nil: no URL configured

	mu        sync.Mutex
	checked   time.Time
	hubErr    error // why the hub store is not usable, as of checked
	baseMu    sync.Mutex
	base      *lru.Cache // cluster key -> baseTransport
	probeTTL  time.Duration
	missedTTL time.Duration
}

// Probe cadence of the hub store: a store that answered is trusted for hubFoundTTL, one that did not is
// asked again after hubMissedTTL.
const (
	hubFoundTTL  = 5 * time.Minute
	hubMissedTTL = 30 * time.Second
	probeTimeout = 5 * time.Second
)

// NewSet builds the clients of the fleet stores.
func NewSet(s Sources) (*Set, error) {
	if s.ClusterLabel == "" {
		s.ClusterLabel = "cluster"
	}
	set := &Set{cfg: s, base: lru.New(1000), probeTTL: hubFoundTTL, missedTTL: hubMissedTTL}
	if !s.HubService.IsZero() && s.Hub != nil {
		hub := rest.CopyConfig(s.Hub)
		hub.Impersonate = rest.ImpersonationConfig{}
		rt, err := rest.TransportFor(hub)
		if err != nil {
			return nil, fmt.Errorf("the hub store's transport: %w", err)
		}
		if set.hub, err = NewClient(s.HubService.ProxyURL(hub.Host), rt); err != nil {
			return nil, err
		}
	}
	if s.URL != "" {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if len(s.URLCA) > 0 {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(s.URLCA) {
				return nil, fmt.Errorf("the metrics URL's CA file holds no PEM certificate")
			}
			tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		var rt http.RoundTripper = tr
		if s.URLToken != "" {
			rt = bearer{token: s.URLToken, next: tr}
		}
		var err error
		if set.url, err = NewClient(s.URL, rt); err != nil {
			return nil, fmt.Errorf("--metrics-url: %w", err)
		}
	}
	return set, nil
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// Config returns the sources' settings.
func (s *Set) Config() Sources { return s.cfg }

// ClusterLabel is the label naming the cluster in fleet stores.
func (s *Set) ClusterLabel() string { return s.cfg.ClusterLabel }

// HubDescription and URLDescription name the fleet stores in answers.
func (s *Set) HubDescription() string {
	return "hub store (service " + s.cfg.HubService.Namespace + "/" + s.cfg.HubService.Name + ":" + s.cfg.HubService.Port + " on the hub)"
}

// URLDescription names the configured URL store.
func (s *Set) URLDescription() string { return "metrics URL " + s.cfg.URL }

// ClusterDescription names a cluster's own Prometheus.
func (s *Set) ClusterDescription() string {
	return "each cluster's own Prometheus (service " + s.cfg.ClusterService.Namespace + "/" + s.cfg.ClusterService.Name + ":" + s.cfg.ClusterService.Port + ")"
}

// HasCluster says a cluster's own Prometheus is configured.
func (s *Set) HasCluster() bool { return !s.cfg.ClusterService.IsZero() }

// URLStore is the configured URL's client, nil when none is.
func (s *Set) URLStore() *Client { return s.url }

// HubStore is the hub store's client when it is configured and answers; else nil and why not. The
// answer of the probe (one instant query of vector(1)) is kept for a while.
func (s *Set) HubStore(ctx context.Context) (*Client, error) {
	if s.hub == nil {
		return nil, fmt.Errorf("no hub store is configured (--metrics-hub-service is empty, or the server has no hub)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ttl := s.probeTTL
	if s.hubErr != nil {
		ttl = s.missedTTL
	}
	if s.checked.IsZero() || time.Since(s.checked) > ttl {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		_, err := s.hub.Query(pctx, "vector(1)", time.Now(), 0)
		cancel()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("the hub store was not checked before the call's deadline")
		}
		s.checked, s.hubErr = time.Now(), nil
		if err != nil {
			s.hubErr = fmt.Errorf("the hub store %s does not answer: %s", s.cfg.HubService, ExplainProxyError(err, s.cfg.HubService, "the hub"))
		}
	}
	if s.hubErr != nil {
		return nil, s.hubErr
	}
	return s.hub, nil
}

// ClusterClient is the client of a cluster's own Prometheus through the cluster's API server, with the
// credentials of cfg (the cluster's ManagedServiceAccount, or the caller on the hub). The TLS transport
// is kept per cluster, so calls reuse its connections; the credentials are applied per call.
func (s *Set) ClusterClient(key string, cfg *rest.Config) (*Client, error) {
	if s.cfg.ClusterService.IsZero() {
		return nil, fmt.Errorf("no cluster Prometheus is configured (--metrics-cluster-service is empty)")
	}
	rt, err := s.baseTransport(key, cfg)
	if err != nil {
		return nil, err
	}
	wrapped, err := rest.HTTPWrappersForConfig(cfg, rt)
	if err != nil {
		return nil, err
	}
	return NewClient(s.cfg.ClusterService.ProxyURL(cfg.Host), wrapped)
}

// baseTransport is the TLS transport to the cluster's API server, without credentials: kept per
// cluster and CA. A config with its own transport keeps it; one with a client certificate (part of
// the TLS transport) gets a transport of its own.
func (s *Set) baseTransport(key string, cfg *rest.Config) (http.RoundTripper, error) {
	if cfg.Transport != nil {
		return cfg.Transport, nil
	}
	tlsOnly := &rest.Config{Host: cfg.Host, TLSClientConfig: cfg.TLSClientConfig, Dial: cfg.Dial, Proxy: cfg.Proxy}
	if len(cfg.CertData) > 0 || cfg.CertFile != "" {
		return rest.TransportFor(tlsOnly)
	}
	s.baseMu.Lock()
	defer s.baseMu.Unlock()
	if v, ok := s.base.Get(key); ok && bytes.Equal(v.(baseTransport).ca, cfg.CAData) {
		return v.(baseTransport).rt, nil
	}
	rt, err := rest.TransportFor(tlsOnly)
	if err != nil {
		return nil, err
	}
	s.base.Add(key, baseTransport{ca: cfg.CAData, rt: rt})
	return rt, nil
}

type baseTransport struct {
	ca []byte
	rt http.RoundTripper
}

// ExplainProxyError says what a failed call through an API server's service proxy means and what to do.
func ExplainProxyError(err error, svc ServiceRef, where string) string {
	msg := oneLine(err.Error())
	switch {
	case IsForbidden(err):
		return msg + fmt.Sprintf(". Either the API server of %s refused get on services/proxy %q in namespace %s, or the service itself refused the request: "+
			"an OpenShift API server drops the Authorization header before proxying, so kube-rbac-proxy in front of prometheus-k8s:9091 answers 401/403; "+
			"point --metrics-cluster-service at a plain http port (e.g. http:openshift-monitoring/prometheus-k8s:9090) or at a service without it", where, svc.ProxyName(), svc.Namespace)
	case IsNotServed(err):
		return msg + fmt.Sprintf(". The service %s/%s:%s is missing on %s, has no ready endpoints, or does not serve the Prometheus API", svc.Namespace, svc.Name, svc.Port, where)
	}
	return msg
}
