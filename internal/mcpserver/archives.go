package mcpserver

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/archives"
	"github.com/ocm-fleet/multicluster-mcp-server/tools"
)

// listArchives adds the caller's collected archives to resources/list: each caller lists only their own.
func listArchives(hooks *server.Hooks, store *archives.Store) {
	hooks.AddAfterListResources(func(ctx context.Context, _ any, req *mcp.ListResourcesRequest, res *mcp.ListResourcesResult) {
		if req.Params.Cursor == "" {
			res.Resources = append(res.Resources, tools.ArchiveResources(ctx, store)...)
		}
	})
}
