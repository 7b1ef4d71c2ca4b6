package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"
	"k8s.io/utils/lru"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
)

// Authenticator checks a bearer token (auth.Authenticator). It honours auth.WithReviewGate: before it
// asks the hub about a token it does not know, it asks the gate.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*auth.Caller, error)
}

// GuardOptions harden the HTTP endpoints.
type GuardOptions struct {
	// Authenticator checks bearer tokens; nil with InsecureNoAuth serves anyone (local development only).
	Authenticator  Authenticator
	InsecureNoAuth bool
	// Audiences are the token audiences the Authenticator requires, for messages.
	Audiences []string
	// AllowUnauthenticatedNonLoopback lets InsecureNoAuth serve on an address other than loopback.
	AllowUnauthenticatedNonLoopback bool
	// AllowedOrigins are the browser origins accepted besides the server's own; empty accepts requests
	// without an Origin header and same-host origins only.
	AllowedOrigins []string
	// MaxRequestBytes caps a request body.
	MaxRequestBytes int64
	// RatePerSecond and RateBurst bound each caller's requests.
	RatePerSecond float64
	RateBurst     int
	// AuthRatePerSecond and AuthBurst bound, per client address, what costs before anyone is known: each
	// token the hub must review (one not in the Authenticator's cache) and each failed authentication. A
	// client over the bound gets 429 and its token is not sent to the hub. Zero means no bound.
	AuthRatePerSecond float64
	AuthBurst         int
	// TrustedProxies are the peers whose X-Forwarded-For is believed; from any other peer the client
	// address is the connection's own.
	TrustedProxies []netip.Prefix
	// Now is the rate limits' clock (tests pin it); nil means time.Now.
	Now func() time.Time
	// Resource is what a 401's challenge points clients to (the protected resource metadata).
	Resource ProtectedResource
	// OnRefuse, when set, is told the kind of every request the guard refuses (the server's metrics).
	OnRefuse func(kind string)
}

// limiterCacheSize bounds how many callers' and client addresses' rate limiters are kept; the least
// recently seen go first (and start afresh if they come back).
const limiterCacheSize = 10000

// guard wraps an MCP endpoint: Origin check, body limit, per-address throttle of authentication,
// authentication, per-caller rate limit. The authenticated caller rides in the request context to the
// tools.
type guard struct {
	opts GuardOptions
	log  *zap.Logger

	mu      sync.Mutex // makes get-or-create of a limiter atomic
	callers *lru.Cache // caller key -> *rate.Limiter
	clients *lru.Cache // client address -> *rate.Limiter
}

func newGuard(o GuardOptions, log *zap.Logger) *guard {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &guard{opts: o, log: log, callers: lru.New(limiterCacheSize), clients: lru.New(limiterCacheSize)}
}

func (g *guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.originAllowed(r) {
			g.refused("forbidden_origin")
			httpError(w, http.StatusForbidden, "forbidden", "the request's Origin "+r.Header.Get("Origin")+" is not allowed (DNS rebinding protection); set --allowed-origins to accept it")
			return
		}
		if r.Body != nil && g.opts.MaxRequestBytes > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, g.opts.MaxRequestBytes)
		}
		caller, ok := g.authenticate(w, r)
		if !ok {
			return
		}
		key := "anonymous"
		if caller != nil {
			key = caller.User
			r = r.WithContext(auth.WithCaller(r.Context(), caller))
		}
		if lim := g.limiter(g.callers, key, g.opts.RatePerSecond, g.opts.RateBurst); lim != nil && !lim.AllowN(g.opts.Now(), 1) {
			g.refused("rate_limited")
			tooMany(w, lim, "too many requests from "+key+": slow down")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate finds the caller. Everything that costs before the caller is known (a TokenReview on the
// hub, a failed attempt) is charged to the client address; over its bound the answer is 429, and the
// token is not sent to the hub.
func (g *guard) authenticate(w http.ResponseWriter, r *http.Request) (*auth.Caller, bool) {
	if g.opts.InsecureNoAuth {
		return nil, true
	}
	client := g.clientAddress(r)
	lim := g.limiter(g.clients, client, g.opts.AuthRatePerSecond, g.opts.AuthBurst)
	charged := false
	charge := func() bool {
		charged = true
		return lim == nil || lim.AllowN(g.opts.Now(), 1)
	}
	// A failure the hub was not asked about still costs the client: over its bound it learns nothing more.
	refuse := func(code int, challenge, kind, msg string) (*auth.Caller, bool) {
		if !charged && !charge() {
			g.throttled(w, lim, client)
			return nil, false
		}
		if challenge != "" {
			if meta := g.opts.Resource.metadataURL(r); meta != "" {
				challenge += `, resource_metadata="` + meta + `"`
			}
			w.Header().Set("WWW-Authenticate", challenge)
		}
		g.refused(kind)
		httpError(w, code, kind, msg)
		return nil, false
	}
	const realm = `Bearer realm="multicluster-mcp-server"`
	token := bearerToken(r)
	if token == "" {
		return refuse(http.StatusUnauthorized, realm, "unauthenticated", "a bearer token is required: send Authorization: Bearer <a token the hub accepts> "+
			"(or kubernetes-authorization: Bearer <it>)")
	}
	ctx := auth.WithReviewGate(r.Context(), charge)
	caller, err := g.opts.Authenticator.Authenticate(ctx, token)
	switch {
	case err == nil:
		return caller, true
	case errors.Is(err, auth.ErrThrottled):
		g.throttled(w, lim, client)
		return nil, false
	case errors.Is(err, auth.ErrWrongAudience):
		return refuse(http.StatusUnauthorized, realm+`, error="invalid_token"`, "unauthenticated", "the bearer token is valid on the hub but not for this server: "+
			"request one for the server's audience "+strings.Join(g.opts.Audiences, " or ")+" (kubectl create token <service account> --audience <it>)")
	case errors.Is(err, auth.ErrUnauthenticated):
		msg := "the bearer token was rejected by the hub (invalid or expired)"
		if len(g.opts.Audiences) > 0 {
			msg = "the bearer token was rejected by the hub: invalid, expired, or not issued for this server's audience " + strings.Join(g.opts.Audiences, " or ") +
				" (kubectl create token <service account> --audience " + g.opts.Audiences[0] + ")"
		}
		return refuse(http.StatusUnauthorized, realm+`, error="invalid_token"`, "unauthenticated", msg)
	default:
		g.log.Warn("token review failed", zap.Error(err))
		return refuse(http.StatusServiceUnavailable, "", "unavailable", "the hub could not check the token; retry later")
	}
}

func (g *guard) refused(kind string) {
	if g.opts.OnRefuse != nil {
		g.opts.OnRefuse(kind)
	}
}

func (g *guard) throttled(w http.ResponseWriter, lim *rate.Limiter, client string) {
	g.log.Debug("authentication throttled", zap.String("client", client))
	g.refused("auth_rate_limited")
	tooMany(w, lim, "too many unauthenticated requests or new tokens from "+client+": wait, then retry with a valid token")
}

// tooMany answers 429 with the seconds until the limiter allows one more request.
func tooMany(w http.ResponseWriter, lim *rate.Limiter, msg string) {
	secs := 1
	if l := float64(lim.Limit()); l > 0 {
		secs = max(1, int(math.Ceil(1/l)))
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	httpError(w, http.StatusTooManyRequests, "rate_limited", msg)
}

// clientAddress is who is on the other end, for throttling: the connection's peer, or, when that peer is
// a trusted proxy, the nearest address in X-Forwarded-For that is not one (walking from the right: each
// proxy appends the peer it saw, and only the entries trusted proxies wrote can be believed). IPv6
// clients count per /64, the block one host is usually given.
func (g *guard) clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return r.RemoteAddr
	}
	peer = peer.Unmap()
	if g.trusted(peer) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, ok := parseHop(hops[i])
			if !ok {
				break // not an address a proxy writes: the client made it up
			}
			peer = hop
			if !g.trusted(hop) {
				break
			}
		}
	}
	if peer.Is6() {
		if p, err := peer.Prefix(64); err == nil {
			return p.String()
		}
	}
	return peer.String()
}

func (g *guard) trusted(a netip.Addr) bool {
	for _, p := range g.opts.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// originAllowed rejects browsers of other sites: an Origin must be the server's own host, a loopback
// host when the request came to loopback, or listed.
func (g *guard) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser
	}
	for _, o := range g.opts.AllowedOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	host, _, _ := net.SplitHostPort(r.Host)
	if host == "" {
		host = r.Host
	}
	return strings.EqualFold(u.Hostname(), host) && isLoopbackHost(host)
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// limiter returns the key's limiter, making it on first use; nil when perSecond is not positive (no
// limit).
func (g *guard) limiter(c *lru.Cache, key string, perSecond float64, burst int) *rate.Limiter {
	if perSecond <= 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if v, ok := c.Get(key); ok {
		return v.(*rate.Limiter)
	}
	l := rate.NewLimiter(rate.Limit(perSecond), max(burst, 1))
	c.Add(key, l)
	return l
}

func httpError(w http.ResponseWriter, code int, kind, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": kind, "message": msg})
}
