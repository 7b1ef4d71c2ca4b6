package mcpserver

import (
	"context"
	"encoding/json"
	"testing"

	"go.uber.org/zap"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
	"github.com/ocm-fleet/multicluster-mcp-server/tools"
	"github.com/ocm-fleet/multicluster-mcp-server/tools/ui"
)

// TestCapabilitiesDeclareMCPApps: the initialize answer declares the MCP Apps extension, with the MIME
// type of the server's apps.
func TestCapabilitiesDeclareMCPApps(t *testing.T) {
	s := New(zap.NewNop(), tools.Deps{Source: &ocm.StaticSource{Name: "test hub"}}, nil)
	req, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": map[string]any{
		"protocolVersion": "2025-11-25", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "test", "version": "1"}}})
	out, err := json.Marshal(s.HandleMessage(context.Background(), req))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Result struct {
			Capabilities struct {
				Extensions map[string]struct {
					MIMETypes []string `json:"mimeTypes"`
				} `json:"extensions"`
			} `json:"capabilities"`
		} `json:"result"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	ext, ok := resp.Result.Capabilities.Extensions[ui.Extension]
	if !ok || len(ext.MIMETypes) != 1 || ext.MIMETypes[0] != ui.MIMEType {
		t.Errorf("capabilities do not declare %s with %s:\n%s", ui.Extension, ui.MIMEType, out)
	}
}
