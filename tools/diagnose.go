package tools

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm/diagnose"
)

type diagnoseArgs struct {
	Cluster string `json:"cluster,omitempty" jsonschema:"A ManagedCluster name to diagnose; with addon, that add-on on that cluster"`
	AddOn   string `json:"addon,omitempty" jsonschema:"An add-on (ClusterManagementAddOn) name to diagnose"`
}

func diagnoseTool(d Deps) server.ServerTool {
	tool := mcp.NewTool("diagnose",
		mcp.WithTitleAnnotation("Diagnose OCM and workload faults"),
		mcp.WithDescription("Run OCM troubleshooting checks on one cluster, one add-on (optionally on one cluster), or the whole "+
			"fleet (no argument): cluster acceptance, join and CSRs, the lease against its duration, taints, clock sync; whether "+
			"the spoke answers and, if the lease is stale, whether the agent is down or its hub credentials are invalid; add-on "+
			"install strategy, Placements, decisions, ManagedClusterSetBindings, add-on conditions and health lease; "+
			"ManagedServiceAccounts and the managed-serviceaccount add-on; failed ManifestWorks; failing OCM agent pods; and the "+
			"workloads of every cluster: crash loops (with the log lines), image pulls, OOM kills (with limits), unschedulable pods "+
			"(with the scheduler's reason), Services without endpoints, PodDisruptionBudgets that block drains, stuck rollouts, "+
			"failed Jobs, nodes not Ready or under pressure, admission webhooks that fail closed with no backend. Returns findings by severity, the most probable root cause first, "+
			"each with evidence, next step, verify commands and runbook. A single cluster's diagnosis ends with its metrics when a source "+
			"answers for it (firing alerts, API server 5xx rate, container restarts, node pressure), else says there is no source."),
		mcp.WithInputSchema[diagnoseArgs](),
		mcp.WithOutputSchema[DiagnosisData](),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
		// Fleet-wide it reads every cluster: it may run as a task, which tasks/cancel stops.
		mcp.WithTaskSupport(mcp.TaskSupportOptional),
	)
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, _ mcp.CallToolRequest, args diagnoseArgs) (*mcp.CallToolResult, error) {
		if args.Cluster != "" {
			t, err := ocm.Resolve(ctx, d.Source, args.Cluster)
			if err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			if err := d.readable(ctx, t); err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			audit.Clusters(ctx, t.Name)
		}
		r := &diagnose.Runner{Source: d.Source, Configs: d.Clusters, Now: d.Now(), Offline: d.Offline, Concurrency: d.FanOutConcurrency,
			Permit: func(ctx context.Context, cluster string) bool {
				ok, _ := d.permitted(ctx, []ocm.Target{{Name: cluster}}, false)
				return len(ok) == 1
			}}
		rep, err := r.Run(ctx, diagnose.Target{Cluster: args.Cluster, AddOn: args.AddOn})
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		text := rep.Render()
		if args.Cluster != "" && args.AddOn == "" && !d.Offline {
			if t, err := ocm.Resolve(ctx, d.Source, args.Cluster); err == nil {
				text += "\n" + d.metricsHealthText(ctx, t)
			}
		}
		return mcp.NewToolResultStructured(diagnosisData(rep, d.MaxOutputBytes), output.Truncate(text, d.MaxOutputBytes, "diagnose one cluster or one add-on")), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}
