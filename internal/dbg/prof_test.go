package dbg

import (
	"context"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"go.uber.org/zap"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/mcpserver"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
	"github.com/ocm-fleet/multicluster-mcp-server/tools"
)

func TestProf(t *testing.T) {
	hub, _ := ocm.ConnectHub(ocm.HubOptions{Kubeconfig: "/tmp/fl1/hub.kubeconfig", Timeout: 15 * time.Second})
	reg, _ := ocm.NewRegistry(hub)
	ctx := context.Background()
	reg.Start(ctx)
	provider, _ := auth.NewProvider(hub, reg, auth.Options{ReadOnly: true})
	engine, _ := kubectl.NewEngine(kubectl.Options{WorkDir: t.TempDir()})
	s := mcpserver.New(zap.NewNop(), tools.Deps{Source: reg, Clusters: provider, Kubectl: engine, ReadOnly: true, FanOutConcurrency: 16})
	c, _ := client.NewInProcessClient(s)
	c.Start(ctx)
	c.Initialize(ctx, mcp.InitializeRequest{})
	req := mcp.CallToolRequest{}
	req.Params.Name = "kubectl"
	req.Params.Arguments = map[string]any{"cluster": "spoke1", "command": "get namespaces"}
	c.CallTool(ctx, req)
	began := time.Now()
	for i := 0; i < 200; i++ {
		c.CallTool(ctx, req)
	}
	t.Logf("per call %s", time.Since(began)/200)
}
