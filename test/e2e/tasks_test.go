package e2e

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// mcp-go's client has the task methods but no task-augmented tools/call: these tests send JSON-RPC
// requests through its Streamable HTTP transport, in the session it opened.

// taskClient is a caller's Streamable HTTP session, on the protocol revision that has tasks/list and
// tasks/result, with a stream open for the server's notifications.
type taskClient struct {
	*client.Client
	t    *testing.T
	next atomic.Int64

	mu       sync.Mutex
	progress map[string][]string // progress messages by token
	heard    chan struct{}       // a progress notification arrived
	statuses atomic.Int32        // notifications/tasks/status received
}

func newTaskClient(t *testing.T, srv *httpServer, token string) *taskClient {
	t.Helper()
	// The legacy stream on purpose: tasks/list and tasks/result exist on the legacy revisions only.
	//lint:ignore SA1019 the GET stream of the 2025-11-25 revision is what these tests use
	tr, err := transport.NewStreamableHTTP(srv.base+"/mcp", transport.WithContinuousListening(),
		transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	if err != nil {
		t.Fatal(err)
	}
	tc := &taskClient{Client: client.NewClient(tr), t: t, progress: map[string][]string{}, heard: make(chan struct{}, 64)}
	tc.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == mcp.MethodNotificationTasksStatus {
			tc.statuses.Add(1)
		}
		if n.Method != "notifications/progress" {
			return
		}
		f := n.Params.AdditionalFields
		tok, _ := f["progressToken"].(string)
		msg, _ := f["message"].(string)
		tc.mu.Lock()
		tc.progress[tok] = append(tc.progress[tok], msg)
		tc.mu.Unlock()
		tc.heard <- struct{}{}
	})
	if err := tc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	req.Params.ClientInfo = mcp.Implementation{Name: "e2e-tasks", Version: "1"}
	if _, err := tc.Initialize(ctx, req); err != nil {
		t.Fatalf("initialize: %v\n%s", err, srv.logs.String())
	}
	return tc
}

// rpc sends one request and returns its result, or its error's message.
func (tc *taskClient) rpc(method string, params map[string]any) (json.RawMessage, string) {
	tc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := tc.GetTransport().SendRequest(ctx, transport.JSONRPCRequest{JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(tc.next.Add(1)), Method: method, Params: params})
	if err != nil {
		tc.t.Fatalf("%s: %v", method, err)
	}
	if resp.Error != nil {
		return nil, resp.Error.Message
	}
	return resp.Result, ""
}

// startTask calls a tool as a task, with a progress token, and returns the task's id.
func (tc *taskClient) startTask(tool string, args map[string]any, progressToken string) string {
	tc.t.Helper()
	res, rpcErr := tc.rpc("tools/call", map[string]any{"name": tool, "arguments": args, "task": map[string]any{"ttl": 600000},
		"_meta": map[string]any{"progressToken": progressToken}})
	var created struct {
		Task mcp.Task `json:"task"`
	}
	if rpcErr != "" || json.Unmarshal(res, &created) != nil || created.Task.TaskId == "" {
		tc.t.Fatalf("%s as a task: %s %s", tool, res, rpcErr)
	}
	return created.Task.TaskId
}

func (tc *taskClient) status(id string) (mcp.TaskStatus, string) {
	tc.t.Helper()
	res, rpcErr := tc.rpc("tasks/get", map[string]any{"taskId": id})
	var task mcp.Task
	if rpcErr != "" || json.Unmarshal(res, &task) != nil {
		tc.t.Fatalf("tasks/get %s: %s %s", id, res, rpcErr)
	}
	return task.Status, task.StatusMessage
}

// waitProgress waits until n progress notifications carried token.
func (tc *taskClient) waitProgress(token string, n int, within time.Duration) []string {
	tc.t.Helper()
	deadline := time.After(within)
	for {
		tc.mu.Lock()
		got := append([]string(nil), tc.progress[token]...)
		tc.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-tc.heard:
		case <-deadline:
			tc.t.Fatalf("%d progress notification(s) for %s within %s; want %d: %q", len(got), token, within, n, got)
		}
	}
}

// refusedToOthers checks that another caller can neither list, read, wait for nor cancel the task.
func refusedToOthers(t *testing.T, other *taskClient, id string) {
	t.Helper()
	if res, rpcErr := other.rpc("tasks/list", map[string]any{}); rpcErr != "" || strings.Contains(string(res), id) {
		t.Errorf("another caller's tasks/list: %s %s", res, rpcErr)
	}
	for _, method := range []string{"tasks/get", "tasks/result", "tasks/cancel"} {
		if res, rpcErr := other.rpc(method, map[string]any{"taskId": id}); !strings.Contains(rpcErr, `unknown task "`+id+`"`) {
			t.Errorf("another caller's %s: %s %q; want the answer for an unknown task", method, res, rpcErr)
		}
	}
}

// TestMustGatherAsTask runs must_gather as a task: progress arrives per cluster, tasks/get reports it
// working then completed, tasks/result gives the archive's summary, and alice can do nothing with it.
func TestMustGatherAsTask(t *testing.T) {
	out := t.TempDir()
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-tasks", "--must-gather-dir", out)
	op, alice := newTaskClient(t, srv, fleet.OperatorToken), newTaskClient(t, srv, fleet.AliceToken)
	began := time.Now()
	id := op.startTask("must_gather", map[string]any{"clusters": "spoke1,spoke2"}, "mg-task")
	refusedToOthers(t, alice, id)
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	deadline := time.After(5 * time.Minute)
	for done := false; !done; {
		switch st, msg := op.status(id); st {
		case mcp.TaskStatusCompleted:
			done = true
		case mcp.TaskStatusWorking:
			select {
			case <-poll.C:
			case <-deadline:
				t.Fatal("the must_gather task did not complete within 5m")
			}
		default:
			t.Fatalf("the must_gather task is %s: %s\n%s", st, msg, srv.logs.String())
		}
	}
	res, rpcErr := op.rpc("tasks/result", map[string]any{"taskId": id})
	var result mcp.CallToolResult
	if rpcErr != "" || json.Unmarshal(res, &result) != nil || len(result.Content) == 0 {
		t.Fatalf("tasks/result: %s %s", res, rpcErr)
	}
	text := result.Content[0].(mcp.TextContent).Text
	t.Logf("must_gather as a task in %s:\n%s", time.Since(began).Round(time.Millisecond), text)
	m := archivePath.FindStringSubmatch(text)
	if result.IsError || m == nil || !strings.Contains(text, "3 of 3 cluster(s) collected") {
		t.Fatalf("the task's result:\n%s", text)
	}
	if _, err := os.Stat(m[1]); err != nil {
		t.Errorf("the archive: %v", err)
	}
	// hub, spoke1 and spoke2, each as it finished.
	got := op.waitProgress("mg-task", 3, 30*time.Second)
	t.Logf("progress: %q", got)
	refusedToOthers(t, alice, id)
}

// TestFanOutTaskCancelled runs a kubectl fan-out as a task, one cluster at a time, over spoke1, a spoke2
// whose API server hangs, and spoke3. spoke1's answer arrives as progress; alice cannot cancel the task;
// the operator's tasks/cancel ends it at once: the call on spoke2 is aborted (the audit line says
// cancelled, long before the call's 5m timeout) and spoke3 is never started.
func TestFanOutTaskCancelled(t *testing.T) {
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-tasks", "--fanout-concurrency", "1")
	op, alice := newTaskClient(t, srv, fleet.OperatorToken), newTaskClient(t, srv, fleet.AliceToken)
	// Credentials and discovery first, so that the hang hits the command itself.
	if text, isErr := callTool(t, op.Client, "kubectl", map[string]any{"cluster": "spoke1,spoke2,spoke3", "command": "get ns default"}); isErr {
		t.Fatal(text)
	}
	pauseUntilCleanup(t, env.fleet.Spoke("spoke2").APIServer)
	id := op.startTask("kubectl", map[string]any{"cluster": "spoke1,spoke2,spoke3", "command": "get ns kube-system", "timeout": "5m"}, "fan")
	if got := op.waitProgress("fan", 1, time.Minute); !strings.HasPrefix(got[0], "spoke1: ok") {
		t.Fatalf("first progress: %q", got)
	}
	if st, msg := op.status(id); st != mcp.TaskStatusWorking {
		t.Fatalf("with spoke2 hung the task is %s (%s); want working", st, msg)
	}
	refusedToOthers(t, alice, id)
	if st, _ := op.status(id); st != mcp.TaskStatusWorking {
		t.Fatalf("after alice's attempts the task is %s; want working", st)
	}
	stopped := srv.logs.WaitFor(`"outcome":"cancelled"`)
	cancelled := time.Now()
	res, rpcErr := op.rpc("tasks/cancel", map[string]any{"taskId": id})
	if rpcErr != "" || !strings.Contains(string(res), `"status":"cancelled"`) {
		t.Fatalf("tasks/cancel: %s %s", res, rpcErr)
	}
	select {
	case <-stopped:
		t.Logf("the fan-out stopped %s after tasks/cancel", time.Since(cancelled).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatalf("no audit line with outcome cancelled within 30s of tasks/cancel:\n%s", srv.logs.String())
	}
	logs := srv.logs.String()
	if !strings.Contains(logs, `"notStarted":["spoke3"]`) {
		t.Errorf("the server log does not say spoke3 was never started:\n%s", logs)
	}
	if st, _ := op.status(id); st != mcp.TaskStatusCancelled {
		t.Errorf("the task is %s after tasks/cancel; want cancelled", st)
	}
	// mcp-go would tell every open session of the task's status; the server tells no one.
	if n, m := alice.statuses.Load(), op.statuses.Load(); n+m != 0 {
		t.Errorf("task status notifications reached alice (%d) and the operator (%d)", n, m)
	}
}

// TestDiagnoseAsTask runs a fleet-wide diagnose as a task and reads its report with tasks/result, which
// waits for it.
func TestDiagnoseAsTask(t *testing.T) {
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-tasks")
	op := newTaskClient(t, srv, fleet.OperatorToken)
	id := op.startTask("diagnose", map[string]any{}, "diag")
	res, rpcErr := op.rpc("tasks/result", map[string]any{"taskId": id})
	var result mcp.CallToolResult
	if rpcErr != "" || json.Unmarshal(res, &result) != nil || len(result.Content) == 0 || result.IsError {
		t.Fatalf("tasks/result: %s %s", res, rpcErr)
	}
	text := result.Content[0].(mcp.TextContent).Text
	for _, c := range []string{"spoke1", "spoke2", "spoke3"} {
		if !strings.Contains(text, c) {
			t.Errorf("the fleet-wide report does not name %s:\n%s", c, text)
		}
	}
	if st, _ := op.status(id); st != mcp.TaskStatusCompleted {
		t.Errorf("after its result the task is %s; want completed", st)
	}
}
