package main

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/config"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/index"
	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// openIndexStore opens the fleet index's store the settings name.
func openIndexStore(ctx context.Context, cfg *config.Config, log *zap.Logger, now func() time.Time) (*index.Store, error) {
	s, err := index.Open(ctx, index.Options{
		DSN: cfg.IndexDSN, HistoryRetention: cfg.IndexHistoryRetention, HistoryMaxRows: cfg.IndexHistoryMaxRows,
		Now: now, Log: log.Named("index"),
	})
	if err != nil {
		return nil, &config.Error{Setting: "index-dsn", Err: err}
	}
	return s, nil
}

func indexKinds(cfg *config.Config) (kinds, hub []string) { return cfg.IndexKinds, cfg.IndexHubKinds }

// openIndexOffline loads a must-gather archive into a fresh index: offline the index is always on.
func openIndexOffline(ctx context.Context, cfg *config.Config, log *zap.Logger, a *mustgather.Archive) (*index.Store, error) {
	ref := a.ReferenceTime()
	s, err := openIndexStore(ctx, cfg, log, func() time.Time { return ref })
	if err != nil {
		return nil, err
	}
	k, h := indexKinds(cfg)
	kinds, _ := index.ParseKinds(k) // validated when loaded
	hub, _ := index.ParseKinds(h)
	began := time.Now()
	n, err := index.LoadArchive(ctx, s, a, kinds, hub)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("loading the must-gather into the fleet index: %w", err)
	}
	log.Info("fleet index loaded from the must-gather", zap.Int("objects", n), zap.String("store", string(s.Dialect())),
		zap.Duration("took", time.Since(began)))
	return s, nil
}

// startIndexLive opens the fleet index and starts its collectors when --index is set (nil otherwise);
// the collectors stop with ctx, and the returned function closes the store after they did.
func startIndexLive(ctx context.Context, cfg *config.Config, log *zap.Logger, src ocm.Source, conn index.Connector) (*index.Store, func(), error) {
	if !cfg.Index {
		return nil, func() {}, nil
	}
	s, err := openIndexStore(ctx, cfg, log, time.Now)
	if err != nil {
		return nil, nil, err
	}
	k, h := indexKinds(cfg)
	kinds, _ := index.ParseKinds(k) // validated when loaded
	hub, _ := index.ParseKinds(h)
	col := index.NewCollector(s, src, conn, index.CollectorOptions{
		Kinds: kinds, HubKinds: hub, Concurrency: cfg.IndexConcurrency, ClusterTimeout: cfg.ClusterTimeout, Log: log.Named("index"),
	})
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		col.Run(cctx)
	}()
	log.Info("fleet index", zap.String("store", string(s.Dialect())), zap.Strings("kinds", k), zap.Strings("hubKinds", h),
		zap.Duration("historyRetention", cfg.IndexHistoryRetention))
	return s, func() { cancel(); <-done; s.Close() }, nil
}
