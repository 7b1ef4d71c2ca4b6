package config

import (
	"fmt"
	"time"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/index"
)

// IndexConfig are the fleet index's settings (fleet_sql, fleet_history).
type IndexConfig struct {
	Index                 bool          `mapstructure:"index"`
	IndexDSN              string        `mapstructure:"index-dsn"`
	IndexKinds            []string      `mapstructure:"index-kinds"`
	IndexHubKinds         []string      `mapstructure:"index-hub-kinds"`
	IndexHistoryRetention time.Duration `mapstructure:"index-history-retention"`
	IndexHistoryMaxRows   int           `mapstructure:"index-history-max-rows"`
	IndexConcurrency      int           `mapstructure:"index-concurrency"`
}

func indexSettings() []Setting {
	return []Setting{
		{Name: "index", Kind: KindBool, Default: false, Commands: serveOnly,
			Usage: "live mode: keep the fleet index that fleet_sql and fleet_history query, watching the indexed kinds on the hub and on every cluster the server holds credentials for (off by default: it holds watches on every cluster); always on with --must-gather, where the archive is loaded into it at start"},
		{Name: "index-dsn", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "where the fleet index is stored: empty for the embedded SQLite store (a file in a private temp folder, removed at exit), or a PostgreSQL URL (postgres://user@host:5432/db) that several replicas can share"},
		{Name: "index-kinds", Kind: KindStringList, Default: index.DefaultKinds(), Commands: serveOnly,
			Usage: "resources the fleet index holds of every cluster (plural[.group], comma-separated); a cluster that does not serve one is indexed without it"},
		{Name: "index-hub-kinds", Kind: KindStringList, Default: index.DefaultHubKinds(), Commands: serveOnly,
			Usage: "resources the fleet index holds of the hub besides --index-kinds (plural[.group], comma-separated)"},
		{Name: "index-history-retention", Kind: KindDuration, Default: index.DefaultHistoryRetention, Commands: serveOnly,
			Usage: "how long the fleet index keeps the history of changes (k8s_history)"},
		{Name: "index-history-max-rows", Kind: KindInt, Default: index.DefaultHistoryMaxRows, Commands: serveOnly,
			Usage: "most history rows the fleet index keeps; the oldest go first"},
		{Name: "index-concurrency", Kind: KindInt, Default: 16, Commands: serveOnly,
			Usage: "how many clusters the fleet index lists at once (each then keeps one watch per kind)"},
	}
}

func (c *IndexConfig) validateIndex() error {
	if _, err := index.DialectOf(c.IndexDSN); err != nil {
		return &Error{Setting: "index-dsn", Err: err}
	}
	if _, err := index.ParseKinds(c.IndexKinds); err != nil {
		return &Error{Setting: "index-kinds", Err: err}
	}
	if _, err := index.ParseKinds(c.IndexHubKinds); err != nil {
		return &Error{Setting: "index-hub-kinds", Err: err}
	}
	if c.IndexHistoryRetention < time.Minute {
		return &Error{Setting: "index-history-retention", Err: fmt.Errorf("must be at least 1m, got %s", c.IndexHistoryRetention)}
	}
	if c.IndexHistoryMaxRows < 1 {
		return &Error{Setting: "index-history-max-rows", Err: fmt.Errorf("must be at least 1")}
	}
	if c.IndexConcurrency < 1 {
		return &Error{Setting: "index-concurrency", Err: fmt.Errorf("must be at least 1, got %d", c.IndexConcurrency)}
	}
	return nil
}
