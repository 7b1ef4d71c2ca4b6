package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
)

// Authenticator checks a bearer token (auth.Authenticator).
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*auth.Caller, error)
}

// GuardOptions harden the HTTP endpoints.
type GuardOptions struct {
	// Authenticator checks bearer tokens; nil with InsecureNoAuth serves anyone (local development only).
	Authenticator  Authenticator
	InsecureNoAuth bool
	// AllowedOrigins are the browser origins accepted besides the server's own; empty accepts requests
	// without an Origin header and same-host origins only.
	AllowedOrigins []string
	// MaxRequestBytes caps a request body.
	MaxRequestBytes int64
	// RatePerSecond and RateBurst bound each caller's requests.
	RatePerSecond float64
	RateBurst     int
}

// guard wraps an MCP endpoint: Origin check, body limit, authentication, per-caller rate limit. The
// authenticated caller rides in the request context to the tools.
type guard struct {
	opts GuardOptions
	log  *zap.Logger

	mu       sync.Mutex
	limiters map[string]*limiterEntry
}

type limiterEntry struct {
	l    *rate.Limiter
	seen time.Time
}

func newGuard(o GuardOptions, log *zap.Logger) *guard {
	return &guard{opts: o, log: log, limiters: map[string]*limiterEntry{}}
}

func (g *guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.originAllowed(r) {
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
		if !g.allow(key) {
			w.Header().Set("Retry-After", "1")
			httpError(w, http.StatusTooManyRequests, "rate_limited", "too many requests from "+key+": slow down")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (g *guard) authenticate(w http.ResponseWriter, r *http.Request) (*auth.Caller, bool) {
	if g.opts.InsecureNoAuth {
		return nil, true
	}
	token, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !found || strings.TrimSpace(token) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="multicluster-mcp-server"`)
		httpError(w, http.StatusUnauthorized, "unauthenticated", "a bearer token is required: send Authorization: Bearer <a token the hub accepts>")
		return nil, false
	}
	caller, err := g.opts.Authenticator.Authenticate(r.Context(), strings.TrimSpace(token))
	if err != nil {
		if errors.Is(err, auth.ErrUnauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="multicluster-mcp-server", error="invalid_token"`)
			httpError(w, http.StatusUnauthorized, "unauthenticated", "the bearer token was rejected by the hub (invalid or expired)")
			return nil, false
		}
		g.log.Warn("token review failed", zap.Error(err))
		httpError(w, http.StatusServiceUnavailable, "unavailable", "the hub could not check the token; retry later")
		return nil, false
	}
	return caller, true
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

func (g *guard) allow(key string) bool {
	if g.opts.RatePerSecond <= 0 {
		return true
	}
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.limiters[key]
	if !ok {
		e = &limiterEntry{l: rate.NewLimiter(rate.Limit(g.opts.RatePerSecond), max(g.opts.RateBurst, 1))}
		g.limiters[key] = e
		if len(g.limiters) > 10000 {
			for k, v := range g.limiters {
				if now.Sub(v.seen) > 10*time.Minute {
					delete(g.limiters, k)
				}
			}
		}
	}
	e.seen = now
	return e.l.Allow()
}

func httpError(w http.ResponseWriter, code int, kind, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": kind, "message": msg})
}
