package tools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/budget"
	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

type mustGatherArgs struct {
	Clusters   string `json:"clusters,omitempty" jsonschema:"Spokes to collect besides the hub: names (comma-separated), * for every available cluster (the default), selector:<label selector> or clusterset:<name>"`
	Namespaces string `json:"namespaces,omitempty" jsonschema:"Optional comma-separated namespaces to collect in full on every cluster, besides the OCM ones"`
}

func mustGatherTool(d Deps) server.ServerTool {
	tool := mcp.NewTool("must_gather",
		mcp.WithTitleAnnotation("Collect a must-gather"),
		mcp.WithDescription("Collect a must-gather archive from the hub and the chosen spokes, in the layout `oc adm must-gather` "+
			"uses: OCM objects on the hub (clusters, clustersets, placements, add-ons, ManifestWorks, ManagedServiceAccounts, "+
			"leases), the OCM namespaces in full with pod logs, and on spokes the nodes, namespaces and agent namespaces. Secret "+
			"values are replaced by their length; ManagedServiceAccount tokens are never copied. Writes one .tar.gz on the "+
			"server's disk and returns a summary; a spoke that is down is recorded, not fatal. Serve the archive later with "+
			"--must-gather to analyse it offline. May run as a task (progress per cluster; tasks/cancel stops it and keeps no archive)."),
		mcp.WithInputSchema[mustGatherArgs](),
		mcp.WithReadOnlyHintAnnotation(false),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(false),
		mcp.WithOpenWorldHintAnnotation(false),
		mcp.WithTaskSupport(mcp.TaskSupportOptional),
	)
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, req mcp.CallToolRequest, args mustGatherArgs) (*mcp.CallToolResult, error) {
		if err := d.spend(ctx, false, budget.Spend{Budget: budget.GathersPerCaller, Who: callerName(ctx), N: 1}); err != nil {
			audit.Refused(ctx, err.Error())
			return mcp.NewToolResultError(err.Error()), nil
		}
		if d.Archives != nil {
			if err := d.Archives.Check(); err != nil {
				audit.Refused(ctx, err.Error())
				return mcp.NewToolResultError(err.Error()), nil
			}
		}
		sum, err := mustgather.CollectFleet(ctx, mustgather.FleetOptions{
			Source: d.Source, Configs: d.Clusters, Clusters: args.Clusters, Timeout: defaultCallTimeout,
			Permit: func(ctx context.Context, t ocm.Target) error {
				if _, denied := d.permitted(ctx, []ocm.Target{t}, false); len(denied) > 0 {
					return denied[0]
				}
				audit.Clusters(ctx, t.Name)
				return nil
			},
			Check: d.policyGather,
			CollectOptions: mustgather.CollectOptions{
				Namespaces: splitList(args.Namespaces), OutDir: d.MustGatherDir, Progress: progressReporter(ctx, req),
			},
		})
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		text := SummaryText(sum)
		if d.Archives != nil {
			e, err := d.Archives.Add(archiveOwner(ctx), sum.Path, sum.Bytes, text)
			if err != nil {
				audit.Refused(ctx, err.Error())
				return mcp.NewToolResultError(err.Error()), nil
			}
			text += fmt.Sprintf("Read it as the resource %s%s (yours only; kept until %s).\n", ArchiveScheme, e.ID, e.Expires.UTC().Format(time.RFC3339))
		}
		return mcp.NewToolResultText(text), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

// SummaryText renders a collection summary (the tool's answer and the CLI's output).
func SummaryText(s *mustgather.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Wrote %s (%s) in %s.\n\n", s.Path, humanBytes(s.Bytes), s.Duration.Round(time.Millisecond))
	failed := 0
	for _, c := range s.Clusters {
		if c.Error != "" {
			failed++
			fmt.Fprintf(&b, "%s: NOT collected: %s\n", c.Name, oneLine(c.Error))
			continue
		}
		fmt.Fprintf(&b, "%s: %d objects, %d log files\n", c.Name, c.Objects, c.Logs)
		for _, sk := range c.Skipped {
			fmt.Fprintf(&b, "  skipped %s\n", sk)
		}
	}
	fmt.Fprintf(&b, "\n%d of %d cluster(s) collected. Analyse it offline: multicluster-mcp-server serve --must-gather %s\n", len(s.Clusters)-failed, len(s.Clusters), s.Path)
	return b.String()
}

// progressReporter sends MCP progress notifications when the client asked for them. A call run as a task
// outlives its request: its progress goes to the session's stream, as the session is when it is sent.
func progressReporter(ctx context.Context, req mcp.CallToolRequest) func(done, total int, msg string) {
	if req.Params.Meta == nil || req.Params.Meta.ProgressToken == nil {
		return nil
	}
	token := req.Params.Meta.ProgressToken
	srv := server.ServerFromContext(ctx)
	sessionID := ""
	if s := server.ClientSessionFromContext(ctx); s != nil && req.Params.Task != nil {
		sessionID = s.SessionID()
	}
	return func(done, total int, msg string) {
		if srv == nil {
			return
		}
		params := map[string]any{"progressToken": token, "progress": done, "total": total, "message": msg}
		if sessionID != "" && srv.SendNotificationToSpecificClient(sessionID, "notifications/progress", params) == nil {
			return
		}
		_ = srv.SendNotificationToClient(ctx, "notifications/progress", params)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
