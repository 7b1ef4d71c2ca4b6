package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"go.opentelemetry.io/otel/propagation"
	"go.uber.org/zap"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/logging"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/telemetry"
)

// HTTP paths served on one listener.
const (
	PathMCP     = "/mcp"
	PathSSE     = "/sse"
	PathMessage = "/message"
	PathHealth  = "/healthz"
	PathReady   = "/readyz"
)

// ServeOptions configure a transport.
type ServeOptions struct {
	Transport       string // stdio or http
	Listen          string
	ShutdownTimeout time.Duration
	// Ready, when set, answers /readyz; nil means always ready.
	Ready func(context.Context) error
	// OnListen is told the bound address (tests listen on port 0).
	OnListen func(net.Addr)
	// Guard hardens the HTTP endpoints (authentication, Origin, body limit, rate limit).
	Guard GuardOptions
	// UnauthenticatedReason names why Guard.InsecureNoAuth is set, for messages (default: --insecure-no-auth).
	UnauthenticatedReason string
	// TLSCert and TLSKey, when set, serve HTTPS.
	TLSCert, TLSKey string
	// SessionKey, when set, makes Streamable HTTP sessions stateless: replicas that share it serve any
	// request of any session, each checking that the session is the caller's.
	SessionKey []byte
}

// Serve runs the chosen transport until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, s *server.MCPServer, log *zap.Logger, o ServeOptions) error {
	switch o.Transport {
	case "stdio":
		return serveStdio(ctx, s, log)
	case "http":
		return serveHTTP(ctx, s, log, o)
	default:
		return fmt.Errorf("unknown transport %q", o.Transport)
	}
}

func serveStdio(ctx context.Context, s *server.MCPServer, log *zap.Logger) error {
	stdio := server.NewStdioServer(s)
	stdio.SetContextFunc(func(rctx context.Context) context.Context { return withServerContext(rctx, ctx) })
	stdio.SetErrorLogger(logging.StdLog(log.Named("stdio"), "stdio transport"))
	log.Info("serving MCP over stdio")
	err := stdio.Listen(ctx, os.Stdin, os.Stdout)
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("stdio transport: %w", err)
	}
	log.Info("stdio transport stopped")
	return nil
}

func serveHTTP(ctx context.Context, s *server.MCPServer, log *zap.Logger, o ServeOptions) error {
	// The caller the guard authenticated travels from the HTTP request into the tool handlers.
	// Each request may start a task that outlives it (detach.go).
	serveCtx := ctx
	withCaller := func(ctx context.Context, r *http.Request) context.Context {
		ctx = withServerContext(ctx, serveCtx)
		// A traceparent header makes the request's tool spans children of the client's.
		ctx = telemetry.FromHTTPHeaders(ctx, propagation.HeaderCarrier(r.Header))
		if c := auth.CallerFrom(r.Context()); c != nil {
			return auth.WithCaller(ctx, c)
		}
		return ctx
	}
	// Sessions belong to the identity that opened them (see sessions.go).
	owned := newStreamableSessions(maxStreamableSessions, maxSessionsPerOwner)
	owned.key = o.SessionKey
	streamable := server.NewStreamableHTTPServer(s, server.WithEndpointPath(PathMCP), server.WithHTTPContextFunc(withCaller),
		server.WithSessionIdManagerResolver(owned))
	sseOwned := newSSESessions()
	sse := server.NewSSEServer(s,
		server.WithSSEEndpoint(PathSSE),
		server.WithMessageEndpoint(PathMessage),
		server.WithKeepAlive(true),
		server.WithSSEContextFunc(withCaller),
		server.WithSessionIDGenerator(sseOwned.generate),
	)
	g := newGuard(o.Guard, log)
	mux := http.NewServeMux()
	mux.Handle(PathMCP, g.wrap(owned.guard(dropTaskStatus(streamable))))
	mux.Handle(PathSSE, g.wrap(sseOwned.stream(dropTaskStatus(sse.SSEHandler()))))
	mux.Handle(PathMessage, g.wrap(sseOwned.messages(sse.MessageHandler())))
	mux.Handle(PathProtectedResource, o.Guard.Resource.handler())
	mux.Handle(PathProtectedResource+"/", o.Guard.Resource.handler()) // the MCP endpoint's copy, and a prefixed one behind a proxy
	mux.HandleFunc(PathHealth, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc(PathReady, readyHandler(o.Ready))

	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("http transport: listening on %s: %w", o.Listen, err)
	}
	if o.Guard.InsecureNoAuth {
		if err := checkUnauthenticatedListener(ln.Addr(), o); err != nil {
			_ = ln.Close()
			return err
		}
		log.Warn("HTTP AUTHENTICATION IS OFF (" + unauthenticatedWhy(o) + "): anyone who reaches " + ln.Addr().String() + " acts with the server's identity. For local development only.")
	}
	if o.OnListen != nil {
		o.OnListen(ln.Addr())
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// Reading a request is bounded; writing is not, since SSE streams live as long as the client.
		ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    logging.StdLog(log.Named("http"), "http server"),
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	log.Info("serving MCP over HTTP", zap.String("address", ln.Addr().String()),
		zap.String("streamable", PathMCP), zap.String("sse", PathSSE))

	errc := make(chan error, 1)
	go func() {
		if o.TLSCert != "" {
			errc <- srv.ServeTLS(ln, o.TLSCert, o.TLSKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("http transport: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down the HTTP transport", zap.Duration("timeout", o.ShutdownTimeout))
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.ShutdownTimeout)
	defer cancel()
	// SSE streams never end by themselves: close them first so Shutdown can drain the rest.
	sse.CloseSessions()
	streamable.CloseSessions(shutdownCtx)
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("http transport shutdown: %w", err)
	}
	log.Info("http transport stopped")
	return nil
}

// AllowUnauthenticatedFlag lets a server without authentication listen beyond loopback.
const AllowUnauthenticatedFlag = "--allow-unauthenticated-non-loopback"

func unauthenticatedWhy(o ServeOptions) string {
	if o.UnauthenticatedReason != "" {
		return o.UnauthenticatedReason
	}
	return "--insecure-no-auth"
}

// checkUnauthenticatedListener refuses to serve without authentication on an address other hosts can
// reach, unless that was asked for explicitly. It looks at the address actually bound, so a host name that
// resolves beyond loopback is caught too.
func checkUnauthenticatedListener(addr net.Addr, o ServeOptions) error {
	if o.Guard.AllowUnauthenticatedNonLoopback {
		return nil
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		return nil
	}
	return fmt.Errorf("http transport: refusing to serve without authentication (%s) on %s, which is not a loopback address: "+
		"anyone who can reach it would act with the server's identity. Listen on 127.0.0.1 (--listen 127.0.0.1:8080), "+
		"or pass %s if every host that can reach the address may do so", unauthenticatedWhy(o), addr, AllowUnauthenticatedFlag)
}

func readyHandler(ready func(context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			if err := ready(r.Context()); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	}
}
