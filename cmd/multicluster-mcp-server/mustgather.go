package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/config"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/logging"
	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
	"github.com/ocm-fleet/multicluster-mcp-server/tools"
)

func newMustGatherCommand() *cobra.Command {
	var clusters, namespaces string
	cmd := &cobra.Command{
		Use:   "must-gather",
		Short: "Collect a must-gather archive from the hub and its spokes",
		Long: "Collects the hub's OCM objects and namespaces and, through the server's ManagedServiceAccount credentials,\n" +
			"the chosen spokes, into one .tar.gz in the layout of `oc adm must-gather`. Serve it with --must-gather.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags())
			if err != nil {
				return err
			}
			log, err := logging.New(logging.Options{Level: cfg.LogLevel, Format: cfg.LogFormat})
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			_, registry, provider, _, err := connectFleet(cmd.Context(), cfg, nil, log)
			if err != nil {
				return err
			}
			sum, err := mustgather.CollectFleet(cmd.Context(), mustgather.FleetOptions{
				Source: registry, Configs: provider, Clusters: clusters, Timeout: cfg.TokenTimeout,
				CollectOptions: mustgather.CollectOptions{
					Namespaces: splitComma(namespaces), OutDir: mustGatherDir(cfg, "."),
					Progress: func(done, total int, msg string) {
						log.Info("collected", zap.Int("done", done), zap.Int("total", total), zap.String("cluster", msg))
					},
				},
			})
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), tools.SummaryText(sum))
			return err
		},
	}
	config.AddFlags(cmd.Flags(), "must-gather")
	cmd.Flags().StringVar(&clusters, "clusters", "*", "spokes to collect besides the hub: names (comma-separated), *, selector:<labels> or clusterset:<name>")
	cmd.Flags().StringVar(&namespaces, "namespaces", "", "more namespaces to collect in full on every cluster (comma-separated)")
	return cmd
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
