// Package tools is the MCP surface of the server: each tool's name, description, input schema,
// annotations and handler live together in one file. Register decides which tools exist.
package tools

import (
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// Deps is what tools need from the rest of the server.
type Deps struct {
	Source   ocm.Source
	ReadOnly bool
	// Now is the clock used for ages; tests pin it.
	Now func() time.Time
}

// Register adds every tool that the configuration allows.
func Register(s *server.MCPServer, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	s.AddTools(listClusters(d))
}
