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
	State      string `json:"state,omitempty" jsonschema:"Optional: attention (clusters not accepted, not joined, not available, with a stale lease, taints or unhealthy add-ons), healthy, or unknown (no OCM state in the archive)"`
	NamePrefix string `json:"name_prefix,omitempty" jsonschema:"Optional: only clusters whose name starts with this"`
	Cursor     string `json:"cursor,omitempty" jsonschema:"Optional: the cursor a previous answer gave, to list the next page"`
}

func listClusters(d Deps) server.ServerTool {
	tool := mcp.NewTool("list_clusters",
		mcp.WithTitleAnnotation("List managed clusters"),
		mcp.WithDescription("List the fleet: every ManagedCluster registered on the OCM hub, one line each: whether the hub "+
			"accepted it, whether its agent joined, whether it is available, its Kubernetes version, its ManagedClusterSet, "+
			"its lease (time since the last renewal / lease duration), its taints, its add-ons (healthy/total) and its age. "+
			"The answer starts with counts over the whole selection (by state and by clusterset), then lists the clusters that "+
			"need attention first; a long fleet is paged (pass the cursor it gives). "+
			"Call this first to learn the cluster names other tools take. Filter with selector, clusterset, state and name_prefix."),
		mcp.WithInputSchema[listClustersArgs](),
		mcp.WithOutputSchema[FleetData](),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, _ mcp.CallToolRequest, args listClustersArgs) (*mcp.CallToolResult, error) {
		text, data, err := listClustersAnswer(ctx, d, args)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		return mcp.NewToolResultStructured(data, output.Truncate(text, d.MaxOutputBytes, "pass state=attention, a selector, a clusterset or a name_prefix")), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

func listClustersText(ctx context.Context, d Deps, args listClustersArgs) (string, error) {
	text, _, err := listClustersAnswer(ctx, d, args)
	return text, err
}

// listClustersAnswer is list_clusters' answer as text and as data.
func listClustersAnswer(ctx context.Context, d Deps, args listClustersArgs) (string, FleetData, error) {
	none := FleetData{Clusters: []ClusterItem{}}
	clusters, empty, err := selectClusters(ctx, d, args)
	if err != nil || len(clusters) == 0 {
		return empty, none, err
	}
	return fleetPage(ctx, d, clusters, args)
}

// selectClusters is the selection of args (selector, clusterset, name_prefix) that the caller may read;
// when it is empty, the text says why.
func selectClusters(ctx context.Context, d Deps, args listClustersArgs) ([]*clusterv1.ManagedCluster, string, error) {
	sel, err := ocm.ParseSelector(args.Selector)
	if err != nil {
		return nil, "", err
	}
	if args.ClusterSet != "" {
		setSel, err := ocm.ClusterSetSelectorByName(ctx, d.Source, args.ClusterSet)
		if err != nil {
			return nil, "", err
		}
		reqs, _ := setSel.Requirements()
		sel = sel.Add(reqs...)
	}
	all, err := d.Source.ManagedClusters(ctx, sel)
	if err != nil {
		return nil, "", err
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
	var names []string
	for _, mc := range all {
		if strings.HasPrefix(mc.Name, args.NamePrefix) {
			names = append(names, mc.Name)
		}
	}
	visible := ocm.VisibleMany(ctx, names) // one question for the whole list
	clusters := all[:0:0]
	for _, mc := range all {
		if strings.HasPrefix(mc.Name, args.NamePrefix) {
			if visible[0] {
				clusters = append(clusters, mc)
			}
			visible = visible[1:]
		}
	}
	if len(clusters) == 0 {
		if ocm.Restricted(ctx) {
			// Whether other clusters exist is not the caller's to learn.
			filter := ""
			if args.Selector != "" || args.ClusterSet != "" {
				filter = " that matches" + describeFilter(args)
			}
			return nil, fmt.Sprintf("No ManagedCluster on %s that you may read%s. Reading a cluster needs a permission on it in the hub's RBAC: ask the fleet's administrators.", d.Source.Where(), filter), nil
		}
		return nil, fmt.Sprintf("No ManagedCluster on %s matches%s.", d.Source.Where(), describeFilter(args)), nil
	}
	return clusters, "", nil
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
