package mcpserver

import (
	"context"
	"errors"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// mcp-go runs a task under the context of the request that started it, and ends that context when the
// request is answered, at once. A task must outlive its request: its work runs under a context of its
// own, which keeps the request's values (caller, session) and ends when the task is cancelled
// (tasks/cancel), runs out of time, or the server stops.
//
// The task hooks see the request that starts a task and the task's id; the tool middleware sees the
// request only. mcp-go gives every request its own protocol record (server.RequestProtocolInfoFromContext),
// which both see: tasks keys the id by it. The transports put the server's own context into every
// request's (withServerContext), so that stopping the server ends every task.

var (
	errServerStopping = errors.New("the server is stopping")
	errTaskFinished   = errors.New("the task finished")
	errTaskCancelled  = errors.New("the task was cancelled (tasks/cancel)")
)

type serverContextKey struct{}

// withServerContext puts the server's own context into a request's.
func withServerContext(ctx, srv context.Context) context.Context {
	return context.WithValue(ctx, serverContextKey{}, srv)
}

// middleware runs a tool call made as a task under the task's own context, with a deadline of its own
// since no request bounds it. Other calls pass through.
func (t *tasks) middleware(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if req.Params.Task == nil {
			return next(ctx, req)
		}
		srv, _ := ctx.Value(serverContextKey{}).(context.Context)
		if info := server.RequestProtocolInfoFromContext(ctx); info != nil && srv != nil {
			own, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
			defer cancel(errTaskFinished)
			stop := context.AfterFunc(srv, func() { cancel(errServerStopping) })
			defer stop()
			if t.attach(info, cancel) {
				ctx = own
			}
		}
		ctx, cancel := context.WithTimeout(ctx, maxTaskDuration)
		defer cancel()
		return next(ctx, req)
	}
}
