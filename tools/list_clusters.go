package tools

import (
	"context"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

type listClustersArgs struct {
	Selector string `json:"selector,omitempty" jsonschema:"Optional label selector on ManagedCluster labels, e.g. env=prod or 'region in (eu,us)'"`
}

func listClusters(d Deps) server.ServerTool {
	tool := mcp.NewTool("list_clusters",
		mcp.WithTitleAnnotation("List managed clusters"),
		mcp.WithDescription("List the fleet: every ManagedCluster registered on the OCM hub, one line each, with "+
			"whether the hub accepted it, whether its agent joined, whether it is available, its Kubernetes version, "+
			"its ManagedClusterSet and its age. Call this first to learn the cluster names other tools take."),
		mcp.WithInputSchema[listClustersArgs](),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, _ mcp.CallToolRequest, args listClustersArgs) (*mcp.CallToolResult, error) {
		sel, err := ocm.ParseSelector(args.Selector)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		clusters, err := d.Source.ManagedClusters(ctx, sel)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		if len(clusters) == 0 {
			if args.Selector != "" {
				return mcp.NewToolResultText(fmt.Sprintf("No ManagedCluster on %s matches selector %q.", d.Source.Where(), args.Selector)), nil
			}
			return mcp.NewToolResultText(fmt.Sprintf("No ManagedCluster is registered on %s.", d.Source.Where())), nil
		}
		return mcp.NewToolResultText(clusterTable(clusters, d).String()), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

func clusterTable(clusters []*clusterv1.ManagedCluster, d Deps) *output.Table {
	now := d.Now()
	t := &output.Table{Header: []string{"NAME", "ACCEPTED", "JOINED", "AVAILABLE", "KUBERNETES VERSION", "CLUSTERSET", "AGE"}}
	for _, mc := range clusters {
		t.Append(mc.Name,
			fmt.Sprint(mc.Spec.HubAcceptsClient),
			ocm.ConditionStatus(mc.Status.Conditions, clusterv1.ManagedClusterConditionJoined),
			ocm.ConditionStatus(mc.Status.Conditions, clusterv1.ManagedClusterConditionAvailable),
			mc.Status.Version.Kubernetes,
			mc.Labels[ocm.ClusterSetLabel],
			output.Age(mc.CreationTimestamp.Time, now),
		)
	}
	return t
}
