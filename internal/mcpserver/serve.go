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
	"go.uber.org/zap"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/logging"
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
	streamable := server.NewStreamableHTTPServer(s, server.WithEndpointPath(PathMCP))
	sse := server.NewSSEServer(s,
		server.WithSSEEndpoint(PathSSE),
		server.WithMessageEndpoint(PathMessage),
		server.WithKeepAlive(true),
	)
	mux := http.NewServeMux()
	mux.Handle(PathMCP, streamable)
	mux.Handle(PathSSE, sse.SSEHandler())
	mux.Handle(PathMessage, sse.MessageHandler())
	mux.HandleFunc(PathHealth, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc(PathReady, readyHandler(o.Ready))

	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("http transport: listening on %s: %w", o.Listen, err)
	}
	if o.OnListen != nil {
		o.OnListen(ln.Addr())
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: it would cut long-lived SSE streams.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    logging.StdLog(log.Named("http"), "http server"),
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	log.Info("serving MCP over HTTP", zap.String("address", ln.Addr().String()),
		zap.String("streamable", PathMCP), zap.String("sse", PathSSE))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
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
