package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"k8s.io/apimachinery/pkg/labels"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

type listClustersArgs struct {
	Selector   string `json:"selector,omitempty" jsonschema:"Optional label selector on ManagedCluster labels, e.g. env=prod or 'region in (eu,us)'"`
	ClusterSet string `json:"clusterset,omitempty" jsonschema:"Optional ManagedClusterSet name: only its member clusters"`
}

func listClusters(d Deps) server.ServerTool {
	tool := mcp.NewTool("list_clusters",
		mcp.WithTitleAnnotation("List managed clusters"),
		mcp.WithDescription("List the fleet: every ManagedCluster registered on the OCM hub, one line each: whether the hub "+
			"accepted it, whether its agent joined, whether it is available, its Kubernetes version, its ManagedClusterSet, "+
			"its lease (time since the last renewal / lease duration), its taints, its add-ons (healthy/total) and its age. "+
			"Call this first to learn the cluster names other tools take. Filter with selector and clusterset."),
		mcp.WithInputSchema[listClustersArgs](),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, _ mcp.CallToolRequest, args listClustersArgs) (*mcp.CallToolResult, error) {
		text, err := listClustersText(ctx, d, args)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		return mcp.NewToolResultText(output.Truncate(text, d.MaxOutputBytes, "pass a selector or a clusterset")), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

func listClustersText(ctx context.Context, d Deps, args listClustersArgs) (string, error) {
	sel, err := ocm.ParseSelector(args.Selector)
	if err != nil {
		return "", err
	}
	if args.ClusterSet != "" {
		setSel, err := ocm.ClusterSetSelectorByName(ctx, d.Source, args.ClusterSet)
		if err != nil {
			return "", err
		}
		reqs, _ := setSel.Requirements()
		sel = sel.Add(reqs...)
	}
	all, err := d.Source.ManagedClusters(ctx, sel)
	if err != nil {
		return "", err
	}
	if args.ClusterSet == "" {
		// Clusters the archive holds without hub data about them (a plain cluster must-gather).
		for _, mc := range ocm.UnregisteredClusters(d.Source) {
			if sel.Matches(labels.Set(mc.Labels)) {
				all = append(all, mc)
			}
		}
	}
	// A caller sees only the clusters they may read.
	clusters := all[:0:0]
	for _, mc := range all {
		if ocm.Visible(ctx, mc.Name) {
			clusters = append(clusters, mc)
		}
	}
	if len(clusters) == 0 {
		if ocm.Restricted(ctx) {
			// Whether other clusters exist is not the caller's to learn.
			filter := ""
			if args.Selector != "" || args.ClusterSet != "" {
				filter = " that matches" + describeFilter(args)
			}
			return fmt.Sprintf("No ManagedCluster on %s that you may read%s. Reading a cluster needs a permission on it in the hub's RBAC: ask the fleet's administrators.", d.Source.Where(), filter), nil
		}
		return fmt.Sprintf("No ManagedCluster on %s matches%s.", d.Source.Where(), describeFilter(args)), nil
	}
	t, err := clusterTable(ctx, d, clusters)
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

func describeFilter(args listClustersArgs) string {
	var parts []string
	if args.Selector != "" {
		parts = append(parts, fmt.Sprintf(" selector %q", args.Selector))
	}
	if args.ClusterSet != "" {
		parts = append(parts, fmt.Sprintf(" clusterset %q", args.ClusterSet))
	}
	if len(parts) == 0 {
		return " (none is registered)"
	}
	return strings.Join(parts, " and")
}

func clusterTable(ctx context.Context, d Deps, clusters []*clusterv1.ManagedCluster) (*output.Table, error) {
	now := d.Now()
	t := &output.Table{Header: []string{"NAME", "ACCEPTED", "JOINED", "AVAILABLE", "KUBERNETES VERSION", "CLUSTERSET", "LEASE", "TAINTS", "ADDONS", "AGE"}}
	for _, mc := range clusters {
		if ocm.StateUnknown(mc) {
			const u = "unknown"
			t.Append(mc.Name, u, u, u, u, "", u, "", u, u)
			continue
		}
		lease, err := d.Source.Lease(ctx, mc.Name)
		if err != nil {
			return nil, err
		}
		addons, err := d.Source.AddOns(ctx, mc.Name)
		if err != nil {
			return nil, err
		}
		healthy := 0
		for _, a := range addons {
			if ocm.AddOnHealthy(a) {
				healthy++
			}
		}
		t.Append(mc.Name,
			fmt.Sprint(mc.Spec.HubAcceptsClient),
			ocm.ConditionStatus(mc.Status.Conditions, clusterv1.ManagedClusterConditionJoined),
			ocm.ConditionStatus(mc.Status.Conditions, clusterv1.ManagedClusterConditionAvailable),
			mc.Status.Version.Kubernetes,
			mc.Labels[ocm.ClusterSetLabel],
			ocm.LeaseOf(mc, lease, now).Short(),
			taintsShort(mc.Spec.Taints),
			fmt.Sprintf("%d/%d", healthy, len(addons)),
			output.Age(mc.CreationTimestamp.Time, now),
		)
	}
	return t, nil
}

// taintsShort renders taints as key:effect, dropping OCM's own key prefix.
func taintsShort(taints []clusterv1.Taint) string {
	parts := make([]string, 0, len(taints))
	for _, tn := range taints {
		key := strings.TrimPrefix(tn.Key, "cluster.open-cluster-management.io/")
		if tn.Value != "" {
			key += "=" + tn.Value
		}
		parts = append(parts, key+":"+string(tn.Effect))
	}
	return strings.Join(parts, ",")
}
