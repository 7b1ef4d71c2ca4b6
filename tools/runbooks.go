package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/runbooks"
)

// registerRunbooks offers every runbook as a markdown resource.
func registerRunbooks(s *server.MCPServer, set *runbooks.Set) {
	// The template lets clients complete runbook names (see Completions) and read any runbook by URI.
	s.AddResourceTemplate(mcp.NewResourceTemplate("runbook://{source}/{name}", "Runbook",
		mcp.WithTemplateDescription("A troubleshooting runbook: source ocm (built in) or team (--runbooks), and its name"),
		mcp.WithTemplateMIMEType("text/markdown")),
		func(_ context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			rb := set.Get(req.Params.URI)
			if rb == nil {
				return nil, fmt.Errorf("no runbook %s: search_runbooks finds them, and resources/list lists them", req.Params.URI)
			}
			return []mcp.ResourceContents{mcp.TextResourceContents{URI: rb.URI, MIMEType: "text/markdown", Text: rb.Content}}, nil
		})
	for _, rb := range set.Runbooks {
		res := mcp.NewResource(rb.URI, rb.Title, mcp.WithResourceDescription(rb.Description), mcp.WithMIMEType("text/markdown"))
		content := rb.Content
		uri := rb.URI
		s.AddResource(res, func(context.Context, mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			return []mcp.ResourceContents{mcp.TextResourceContents{URI: uri, MIMEType: "text/markdown", Text: content}}, nil
		})
	}
}

type searchRunbooksArgs struct {
	Query string `json:"query" jsonschema:"Words describing the symptom, e.g. 'lease stale cluster unknown' or 'x509 expired bootstrap'"`
	Limit int    `json:"limit,omitempty" jsonschema:"How many sections to return (default 5, at most 20)"`
}

func searchRunbooksTool(d Deps) server.ServerTool {
	tool := mcp.NewTool("search_runbooks",
		mcp.WithTitleAnnotation("Search the runbooks"),
		mcp.WithDescription("Keyword search over the OCM troubleshooting runbooks (built in, plus the team's own): returns the "+
			"best matching sections with their runbook URIs. Read a whole runbook as the resource at its URI."),
		mcp.WithInputSchema[searchRunbooksArgs](),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	handler := mcp.NewTypedToolHandler(func(_ context.Context, _ mcp.CallToolRequest, args searchRunbooksArgs) (*mcp.CallToolResult, error) {
		limit := args.Limit
		if limit <= 0 {
			limit = 5
		}
		hits := d.Runbooks.Search(args.Query, min(limit, 20))
		if len(hits) == 0 {
			var titles []string
			for _, rb := range d.Runbooks.Runbooks {
				titles = append(titles, rb.URI+" ("+rb.Title+")")
			}
			return mcp.NewToolResultText(fmt.Sprintf("No runbook section matches %q. The runbooks are:\n  %s\n", args.Query, strings.Join(titles, "\n  "))), nil
		}
		var b strings.Builder
		for _, h := range hits {
			fmt.Fprintf(&b, "## %s: %s (%s, score %.1f)\n%s\n", h.Section.Runbook.Title, h.Section.Heading, h.Section.Runbook.URI, h.Score, strings.TrimSpace(h.Section.Text))
		}
		return mcp.NewToolResultText(b.String()), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}
