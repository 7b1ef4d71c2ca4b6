package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm/diagnose"
	"github.com/ocm-fleet/multicluster-mcp-server/tools/ui"
)

// Extensions are the protocol extensions the server declares in its capabilities: MCP Apps, for the
// fleet dashboard.
func Extensions() map[string]any {
	return map[string]any{ui.Extension: map[string]any{"mimeTypes": []string{ui.MIMEType}}}
}

type dashboardArgs struct {
	Selector      string `json:"selector,omitempty" jsonschema:"Optional label selector on ManagedCluster labels, e.g. env=prod"`
	ClusterSet    string `json:"clusterset,omitempty" jsonschema:"Optional ManagedClusterSet name: only its member clusters"`
	NamePrefix    string `json:"name_prefix,omitempty" jsonschema:"Optional: only clusters whose name starts with this"`
	SkipDiagnosis bool   `json:"skip_diagnosis,omitempty" jsonschema:"Optional: true leaves the findings out (no fleet diagnosis; quicker on a large fleet)"`
}

var dashboardHeader = []string{"NAME", "HEALTH", "AVAILABLE", "JOINED", "LEASE", "ADDONS", "FINDINGS"}

func dashboardTool(d Deps) server.ServerTool {
	tool := mcp.NewTool("fleet_dashboard",
		mcp.WithTitleAnnotation("Fleet dashboard"),
		mcp.WithDescription("A health matrix of the fleet: each cluster against availability, join, lease (fresh, late, stale, "+
			"unknown), add-ons (healthy and degraded) and the findings of a fleet diagnosis (how many, the worst), critical "+
			"clusters first. Hosts that render MCP Apps show it as an interactive, colour-coded dashboard whose rows open "+
			"cluster_status; others get a compact table. Filter with selector, clusterset and name_prefix; skip_diagnosis "+
			"leaves the findings out."),
		mcp.WithInputSchema[dashboardArgs](),
		mcp.WithOutputSchema[DashboardData](),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	// The host renders the result with the dashboard ("ui/resourceUri" is the key of earlier hosts).
	tool.Meta = mcp.NewMetaFromMap(map[string]any{"ui": map[string]any{"resourceUri": ui.DashboardURI}, "ui/resourceUri": ui.DashboardURI})
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, _ mcp.CallToolRequest, args dashboardArgs) (*mcp.CallToolResult, error) {
		text, data, err := dashboardAnswer(ctx, d, args)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		return mcp.NewToolResultStructured(data, output.Truncate(text, d.MaxOutputBytes, "pass a selector, a clusterset or a name_prefix")), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

// registerDashboard adds the dashboard's ui:// resource.
func registerDashboard(s *server.MCPServer) {
	res := mcp.NewResource(ui.DashboardURI, "fleet-dashboard", mcp.WithResourceTitle("Fleet dashboard"),
		mcp.WithResourceDescription("The MCP App that renders fleet_dashboard's matrix (HTML, no external resources)"),
		mcp.WithMIMEType(ui.MIMEType))
	s.AddResource(res, func(context.Context, mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		return []mcp.ResourceContents{mcp.TextResourceContents{URI: ui.DashboardURI, MIMEType: ui.MIMEType, Text: ui.Dashboard,
			Meta: map[string]any{"ui": map[string]any{"prefersBorder": true}}}}, nil
	})
}

// dashboardAnswer is the matrix as text and as data: list_clusters' rows, and the findings of a fleet
// diagnosis of the same clusters.
func dashboardAnswer(ctx context.Context, d Deps, args dashboardArgs) (string, DashboardData, error) {
	clusters, empty, err := selectClusters(ctx, d, listClustersArgs{Selector: args.Selector, ClusterSet: args.ClusterSet, NamePrefix: args.NamePrefix})
	if err != nil || len(clusters) == 0 {
		return empty, DashboardData{Clusters: []DashboardRow{}, DiagnosisNote: "no cluster"}, err
	}
	rows, err := clusterRows(ctx, d, clusters)
	if err != nil {
		return "", DashboardData{}, err
	}
	rep, note := d.diagnoseClusters(ctx, clusters, args.SkipDiagnosis)
	data := dashboardData(rows, rep, note)
	return dashboardText(data), data, nil
}

// diagnoseClusters runs the fleet diagnosis over the clusters, or says why it did not.
func (d Deps) diagnoseClusters(ctx context.Context, clusters []*clusterv1.ManagedCluster, skip bool) (*diagnose.Report, string) {
	switch {
	case skip:
		return nil, "skipped (skip_diagnosis)"
	case d.Clusters == nil:
		return nil, "the server has no connection to the clusters"
	}
	selected := make(map[string]bool, len(clusters))
	for _, mc := range clusters {
		selected[mc.Name] = true
	}
	r := &diagnose.Runner{Source: d.Source, Configs: d.Clusters, Now: d.Now(), Offline: d.Offline, Concurrency: d.FanOutConcurrency,
		Permit: func(ctx context.Context, cluster string) bool {
			if !selected[cluster] {
				return false
			}
			ok, _ := d.permitted(ctx, []ocm.Target{{Name: cluster}}, false)
			return len(ok) == 1
		}}
	rep, err := r.Run(ctx, diagnose.Target{})
	if err != nil {
		return nil, "the fleet diagnosis failed: " + err.Error()
	}
	return rep, ""
}

// dashboardText is the matrix for clients that do not render apps: the counts, then one line a cluster.
func dashboardText(data DashboardData) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Fleet dashboard: %d cluster(s): %d critical, %d warning, %d healthy", data.Total, data.Critical, data.Warning, data.Healthy)
	if data.Unknown > 0 {
		fmt.Fprintf(&b, ", %d with OCM state unknown", data.Unknown)
	}
	b.WriteString(".\n")
	switch {
	case !data.Diagnosed:
		fmt.Fprintf(&b, "Findings not checked: %s.\n", data.DiagnosisNote)
	case data.FleetFindings > 0:
		fmt.Fprintf(&b, "Findings from the fleet diagnosis; %d more are not tied to one cluster (diagnose shows them).\n", data.FleetFindings)
	}
	b.WriteString("\n")
	t := &output.Table{Header: dashboardHeader}
	for _, r := range data.Clusters {
		name := r.Name
		if r.Hub {
			name += " (hub)"
		}
		lease := r.Lease
		if r.LeaseAge != "" {
			lease += " " + strings.Fields(r.LeaseAge)[0]
		}
		addons := "-"
		if r.AddOnsHealthy+r.AddOnsDegraded > 0 {
			addons = fmt.Sprintf("%d/%d", r.AddOnsHealthy, r.AddOnsHealthy+r.AddOnsDegraded)
		}
		findings := "-"
		switch {
		case !data.Diagnosed:
		case r.Findings == 0:
			findings = "0"
		default:
			findings = fmt.Sprintf("%d %s %s", r.Findings, r.Worst, r.Top)
		}
		t.Append(name, r.Health, r.Available, r.Joined, lease, addons, findings)
	}
	b.WriteString(t.String())
	if data.Omitted > 0 {
		fmt.Fprintf(&b, "\n%d more cluster(s), the healthiest, are left out: narrow with a selector, a clusterset or a name_prefix.\n", data.Omitted)
	}
	return b.String()
}
