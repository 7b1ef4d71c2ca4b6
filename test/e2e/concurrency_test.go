package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
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

// TestConcurrentCallsInProcess runs the server in this test process (so that `go test -race` watches the
// kubectl engine, the credential cache and the fan-out) and fires 32 calls at once.
func TestConcurrentCallsInProcess(t *testing.T) {
	hub, err := ocm.ConnectHub(ocm.HubOptions{Kubeconfig: env.hubKubeconfig, Timeout: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := ocm.NewRegistry(hub)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg.Start(ctx)
	provider, err := auth.NewProvider(hub, reg, auth.Options{MSAName: "e2e-race", ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := kubectl.NewEngine(kubectl.Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s := mcpserver.New(zap.NewNop(), tools.Deps{Source: reg, Clusters: provider, Kubectl: engine, ReadOnly: true, FanOutConcurrency: 4}, nil)
	c, err := client.NewInProcessClient(s)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
		t.Fatal(err)
	}
	calls := []struct{ cluster, command, want string }{
		{"hub", "get managedclusters", "spoke2"},
		{"spoke1", "get ns kube-system", "Active"},
		{"spoke2", "auth whoami", "e2e-race"},
		{"hub,spoke1,spoke2", "get ns default", "CLUSTER"},
		{"spoke1", "get cm -A", "kube-root-ca.crt"},
		{"spoke2", "get deploy -A -o wide", "managed-serviceaccount-addon-agent"},
		{"hub", "describe ns spoke1", "Name:"},
		{"*", "get ns kube-public", "spoke3"},
	}
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		call := calls[i%len(calls)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := mcp.CallToolRequest{}
			req.Params.Name = "kubectl"
			req.Params.Arguments = map[string]any{"cluster": call.cluster, "command": call.command}
			res, err := c.CallTool(ctx, req)
			if err != nil {
				errs <- fmt.Sprintf("%s %s: %v", call.cluster, call.command, err)
				return
			}
			text := res.Content[0].(mcp.TextContent).Text
			if res.IsError || !strings.Contains(text, call.want) {
				errs <- fmt.Sprintf("%s %s: error=%v, want %q in:\n%s", call.cluster, call.command, res.IsError, call.want, text)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
