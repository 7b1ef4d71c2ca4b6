package main

import (
	"context"
	"os"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"go.uber.org/zap"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/config"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/telemetry"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/version"
)

// startTelemetry builds the server's own metrics and traces and serves the metrics listener until ctx
// ends or stop is called. The returned stop flushes the spans not yet exported.
func startTelemetry(ctx context.Context, cfg *config.Config, log *zap.Logger) (*telemetry.Telemetry, func(), error) {
	var ca []byte
	if cfg.OTLPCAFile != "" {
		var err error
		if ca, err = os.ReadFile(cfg.OTLPCAFile); err != nil {
			return nil, nil, &config.Error{Setting: "otlp-ca-file", Err: err}
		}
	}
	tel, err := telemetry.New(telemetry.Options{Listen: cfg.TelemetryListen, OTLPEndpoint: cfg.OTLPEndpoint, OTLPCA: ca,
		ServiceVersion: version.Version()}, log.Named("telemetry"))
	if err != nil {
		return nil, nil, &config.Error{Setting: "otlp-endpoint", Err: err}
	}
	serveCtx, cancelServe := context.WithCancel(ctx)
	wait, err := tel.Start(serveCtx)
	if err != nil {
		cancelServe()
		return nil, nil, &config.Error{Setting: "telemetry-listen", Err: err}
	}
	log.Info("telemetry", zap.String("metrics", cfg.TelemetryListen), zap.Bool("traces", tel.Tracing()))
	stop := func() {
		flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := tel.Shutdown(flush); err != nil {
			log.Warn("traces not flushed", zap.Error(err))
		}
		cancelServe()
		wait()
	}
	return tel, stop, nil
}

// toolMiddlewares are the tool middlewares that run inside the audit's.
func toolMiddlewares(tel *telemetry.Telemetry) []server.ToolHandlerMiddleware {
	return []server.ToolHandlerMiddleware{tel.Middleware()}
}
