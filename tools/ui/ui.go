// Package ui holds the MCP Apps (the io.modelcontextprotocol/ui extension) the server ships: plain HTML,
// CSS and JavaScript embedded in the binary, which a host renders in a sandboxed iframe and feeds with
// tool results over postMessage. The pages fetch nothing: every figure comes from the tool result.
package ui

import _ "embed"

// Extension is the MCP Apps extension's identifier in capabilities.extensions.
const Extension = "io.modelcontextprotocol/ui"

// MIMEType marks a resource as an MCP App.
const MIMEType = "text/html;profile=mcp-app"

// DashboardURI is the fleet dashboard's resource.
const DashboardURI = "ui://multicluster-mcp-server/fleet-dashboard"

// Dashboard is the fleet dashboard: a health matrix of the clusters of a fleet_dashboard result, whose
// rows ask cluster_status through the host when clicked.
//
//go:embed dashboard.html
var Dashboard string
