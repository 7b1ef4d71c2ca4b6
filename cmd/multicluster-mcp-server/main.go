// Command multicluster-mcp-server is an MCP server that operates an Open Cluster Management fleet from
// its hub.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes the CLI and maps errors to exit codes: 2 for a bad setting or usage, 1 for a failure.
func run(ctx context.Context, args []string) int {
	root := newRootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	var cfgErr *config.Error
	var usageErr *usageError
	if errors.As(err, &cfgErr) || errors.As(err, &usageErr) {
		return 2
	}
	return 1
}
