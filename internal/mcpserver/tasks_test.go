package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
)

// taskServer is an MCP server with the task guard and one tool, "wait", that runs until its context ends
// or release is closed, and then reports why its context ended (nil: it was released).
type taskServer struct {
	*server.MCPServer
	release chan struct{}
	ended   chan error
	// srv is the server's own context, as the transports give it.
	srv context.Context
}

func newTaskServer() *taskServer {
	ts := &taskServer{release: make(chan struct{}), ended: make(chan error, 16), srv: context.Background()}
	hooks := &server.Hooks{}
	opts := append(newTasks(nil).options(hooks), server.WithHooks(hooks), server.WithToolCapabilities(false))
	ts.MCPServer = server.NewMCPServer("test", "0", opts...)
	ts.AddTool(mcp.NewTool("wait", mcp.WithTaskSupport(mcp.TaskSupportOptional)), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		select {
		case <-ctx.Done():
			ts.ended <- context.Cause(ctx)
			return nil, ctx.Err()
		case <-ts.release:
			ts.ended <- nil
			return mcp.NewToolResultText("released"), nil
		}
	})
	return ts
}

// call sends one JSON-RPC request as the caller and returns the response.
func (ts *taskServer) call(t *testing.T, caller *auth.Caller, method string, params any) (json.RawMessage, *mcp.JSONRPCErrorDetails) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	ctx := withServerContext(context.Background(), ts.srv)
	if caller != nil {
		ctx = auth.WithCaller(ctx, caller)
	}
	out, err := json.Marshal(ts.HandleMessage(ctx, body))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Result json.RawMessage          `json:"result"`
		Error  *mcp.JSONRPCErrorDetails `json:"error"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return resp.Result, resp.Error
}

func (ts *taskServer) start(t *testing.T, caller *auth.Caller) string {
	t.Helper()
	res, rpcErr := ts.call(t, caller, "tools/call", map[string]any{"name": "wait", "task": map[string]any{}})
	if rpcErr != nil {
		t.Fatalf("starting a task: %s", rpcErr.Message)
	}
	var created struct {
		Task mcp.Task `json:"task"`
	}
	if err := json.Unmarshal(res, &created); err != nil || created.Task.TaskId == "" {
		t.Fatalf("no task in %s (%v)", res, err)
	}
	return created.Task.TaskId
}

// TestTasksBelongToTheirCaller: without sessions (mcp-go's only isolation), a task is listed, read,
// waited for and cancelled by the caller who started it only; anyone else, the same name with another
// UID included, gets the answer for a task that does not exist.
func TestTasksBelongToTheirCaller(t *testing.T) {
	alice, aliceAgain, bob := identities["alice"], identities["alice-again"], identities["bob"]
	ts := newTaskServer()
	id := ts.start(t, alice)
	_, unknown := ts.call(t, bob, "tasks/get", map[string]any{"taskId": "no-such-task"})
	if unknown == nil || !strings.Contains(unknown.Message, "unknown task") {
		t.Fatalf("a task that does not exist: %+v", unknown)
	}
	others := []struct {
		name   string
		caller *auth.Caller
	}{{"another user", bob}, {"the same name with another UID", aliceAgain}, {"no caller", nil}}
	for _, o := range others {
		for _, method := range []string{"tasks/get", "tasks/result", "tasks/cancel"} {
			t.Run(o.name+" "+method, func(t *testing.T) {
				_, rpcErr := ts.call(t, o.caller, method, map[string]any{"taskId": id})
				want := strings.ReplaceAll(unknown.Message, "no-such-task", id)
				if rpcErr == nil || rpcErr.Message != want {
					t.Errorf("%+v; want the answer for a task that does not exist", rpcErr)
				}
			})
		}
		t.Run(o.name+" tasks/list", func(t *testing.T) {
			res, rpcErr := ts.call(t, o.caller, "tasks/list", map[string]any{})
			if rpcErr != nil || strings.Contains(string(res), id) {
				t.Errorf("%s %+v; want a list without alice's task", res, rpcErr)
			}
		})
	}
	res, rpcErr := ts.call(t, alice, "tasks/list", map[string]any{})
	if rpcErr != nil || !strings.Contains(string(res), id) {
		t.Fatalf("alice's own list: %s %+v", res, rpcErr)
	}
	// The attempts did not touch it: alice's task still runs, and she alone ends it.
	if res, rpcErr := ts.call(t, alice, "tasks/get", map[string]any{"taskId": id}); rpcErr != nil || !strings.Contains(string(res), `"status":"working"`) {
		t.Fatalf("alice's task after the attempts: %s %+v", res, rpcErr)
	}
	if res, rpcErr := ts.call(t, alice, "tasks/cancel", map[string]any{"taskId": id}); rpcErr != nil || !strings.Contains(string(res), `"status":"cancelled"`) {
		t.Fatalf("alice cancels: %s %+v", res, rpcErr)
	}
	if err := <-ts.ended; err != errTaskCancelled {
		t.Errorf("the tool's context ended with %v; want %v", err, errTaskCancelled)
	}
}

// TestTasksPerCallerAreBounded: a caller with maxTasksPerOwner tasks running starts no other, and others
// still may.
func TestTasksPerCallerAreBounded(t *testing.T) {
	ts := newTaskServer()
	defer close(ts.release)
	for range maxTasksPerOwner {
		ts.start(t, identities["alice"])
	}
	_, rpcErr := ts.call(t, identities["alice"], "tools/call", map[string]any{"name": "wait", "task": map[string]any{}})
	if rpcErr == nil || !strings.Contains(rpcErr.Message, fmt.Sprintf("you have %d tasks running", maxTasksPerOwner)) {
		t.Errorf("alice's task beyond the bound: %+v", rpcErr)
	}
	ts.start(t, identities["bob"])
}

// TestTaskOutlivesItsRequest: over Streamable HTTP, a task keeps running after the HTTP request that
// started it has been answered, and tasks/cancel, in another request, ends its context.
func TestTaskOutlivesItsRequest(t *testing.T) {
	ts := newTaskServer()
	base := serveServerForTest(t, ts.MCPServer, ServeOptions{Guard: GuardOptions{Authenticator: identities}})
	resp, body := request(t, http.MethodPost, base+PathMCP, "alice", nil, initialize)
	sid := resp.Header.Get(server.HeaderKeySessionID)
	if resp.StatusCode != http.StatusOK || sid == "" {
		t.Fatalf("initialize: %d %s", resp.StatusCode, body)
	}
	session := map[string]string{server.HeaderKeySessionID: sid, "MCP-Protocol-Version": legacyVersion}
	rpc := func(method, params string) string {
		t.Helper()
		resp, body := request(t, http.MethodPost, base+PathMCP, "alice", session, `{"jsonrpc":"2.0","id":7,"method":"`+method+`","params":`+params+`}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", method, resp.StatusCode, body)
		}
		return body
	}
	created := rpc("tools/call", `{"name":"wait","task":{}}`)
	i := strings.Index(created, `"taskId":"`)
	if i < 0 {
		t.Fatalf("no task: %s", created)
	}
	id, _, _ := strings.Cut(created[i+len(`"taskId":"`):], `"`)
	// The request that started the task has been answered; the task is still at work.
	select {
	case err := <-ts.ended:
		t.Fatalf("the task ended with its request: %v", err)
	default:
	}
	if got := rpc("tasks/get", `{"taskId":"`+id+`"}`); !strings.Contains(got, `"status":"working"`) {
		t.Fatalf("tasks/get after the request: %s", got)
	}
	if got := rpc("tasks/cancel", `{"taskId":"`+id+`"}`); !strings.Contains(got, `"status":"cancelled"`) {
		t.Fatalf("tasks/cancel: %s", got)
	}
	select {
	case err := <-ts.ended:
		if err != errTaskCancelled {
			t.Errorf("the task's context ended with %v; want %v", err, errTaskCancelled)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tasks/cancel did not end the task's context")
	}
}

// TestTaskEndsWithTheServer: a task outlives its request, not the server.
func TestTaskEndsWithTheServer(t *testing.T) {
	ts := newTaskServer()
	srv, stop := context.WithCancel(context.Background())
	defer stop()
	ts.srv = srv
	id := ts.start(t, identities["alice"])
	if res, rpcErr := ts.call(t, identities["alice"], "tasks/get", map[string]any{"taskId": id}); rpcErr != nil || !strings.Contains(string(res), `"status":"working"`) {
		t.Fatalf("the task after its request: %s %+v", res, rpcErr)
	}
	stop()
	select {
	case err := <-ts.ended:
		if err != errServerStopping {
			t.Errorf("the task's context ended with %v; want %v", err, errServerStopping)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stopping the server did not end the task")
	}
}

// TestTaskCancelledBeforeItsWorkBegins: tasks/cancel may come before mcp-go's goroutine reaches the
// middleware (a loaded machine schedules it late). The work must still start under the task's own
// context, and end at once with the cancellation, not under the request's.
func TestTaskCancelledBeforeItsWorkBegins(t *testing.T) {
	tk := newTasks(nil)
	info := &server.RequestProtocolInfo{}
	ctx := server.WithRequestProtocolInfo(auth.WithCaller(context.Background(), identities["alice"]), info)
	tk.created(ctx, "t1")
	tk.finished("t1", true) // tasks/cancel, answered before the work began
	var cause error
	attached := tk.attach(info, func(err error) { cause = err })
	if !attached || cause != errTaskCancelled {
		t.Errorf("attach after the cancel: attached %v, cancelled with %v; want the task's own context, cancelled", attached, cause)
	}
	if len(tk.starting) != 0 {
		t.Errorf("%d tasks still starting", len(tk.starting))
	}
}
