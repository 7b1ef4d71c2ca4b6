package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Tasks (task-augmented tools/call, then tasks/get, tasks/result, tasks/cancel, tasks/list) run in
// mcp-go's task store, which knows sessions but not callers: over HTTP without sessions, or with stateless
// ones, every caller would see every task. tasks records who started each task and answers any other
// caller as if the task did not exist.

// Bounds of tasks.
const (
	// maxTasks bounds the tasks running at once on one server; maxTasksPerOwner what one caller runs.
	maxTasks         = 64
	maxTasksPerOwner = 8
	// taskKeep is how long a finished task's result stays reachable.
	taskKeep = time.Hour
	// maxTaskDuration bounds a task's work, whatever the tool's own timeouts.
	maxTaskDuration = 30 * time.Minute
)

// unknownTask is the one answer for a task that is not the caller's, whatever the reason.
func unknownTask(id string) error {
	return fmt.Errorf("unknown task %q: it is not one you started, it finished more than %s ago, the server restarted, or another replica runs it "+
		"(a task lives in the replica that started it: send its tasks/get, tasks/result and tasks/cancel to that replica, "+
		"e.g. through session affinity on the load balancer)", id, taskKeep)
}

type ownedTask struct {
	owner    owner
	finished time.Time // zero while it runs
	request  *server.RequestProtocolInfo
	// cancel ends the task's own context (detach.go); cancelled says tasks/cancel came.
	cancel    context.CancelCauseFunc
	cancelled bool
}

// tasks is the owner guard of the task methods.
type tasks struct {
	now func() time.Time

	mu   sync.Mutex
	byID map[string]*ownedTask
	// starting are the tasks whose work has not begun, by the request that started them.
	starting map[*server.RequestProtocolInfo]string
}

func newTasks(now func() time.Time) *tasks {
	if now == nil {
		now = time.Now
	}
	return &tasks{now: now, byID: map[string]*ownedTask{}, starting: map[*server.RequestProtocolInfo]string{}}
}

// options are the server options that turn tasks on under the guard.
func (t *tasks) options(hooks *server.Hooks) []server.ServerOption {
	hooks.AddOnRequestInitialization(t.guardRequest)
	hooks.AddAfterListTasks(func(ctx context.Context, _ any, _ *mcp.ListTasksRequest, res *mcp.ListTasksResult) {
		res.Tasks = t.filter(ctx, res.Tasks)
	})
	th := &server.TaskHooks{}
	th.AddOnTaskCreated(func(ctx context.Context, m server.TaskMetrics) { t.created(ctx, m.TaskID) })
	finished := func(_ context.Context, m server.TaskMetrics) { t.finished(m.TaskID, false) }
	th.AddOnTaskCompleted(finished)
	th.AddOnTaskFailed(finished)
	th.AddOnTaskCancelled(func(_ context.Context, m server.TaskMetrics) { t.finished(m.TaskID, true) })
	return []server.ServerOption{
		server.WithTaskCapabilities(true, true, true),
		server.WithMaxConcurrentTasks(maxTasks),
		server.WithTaskHooks(th),
		server.WithToolHandlerMiddleware(t.middleware),
	}
}

// created records the caller as the task's owner. It runs before the client learns the task's id.
func (t *tasks) created(ctx context.Context, id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked()
	e := &ownedTask{owner: ownerOf(ctx), request: server.RequestProtocolInfoFromContext(ctx)}
	t.byID[id] = e
	if e.request != nil {
		t.starting[e.request] = id
	}
}

// attach gives the task the request started the cancel of its own context, and says whether there is
// such a task; a task cancelled before its work began is cancelled at once.
func (t *tasks) attach(request *server.RequestProtocolInfo, cancel context.CancelCauseFunc) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	id, ok := t.starting[request]
	if !ok {
		return false
	}
	delete(t.starting, request)
	e := t.byID[id]
	if e == nil {
		return false
	}
	e.cancel = cancel
	if e.cancelled {
		cancel(errTaskCancelled)
	}
	return true
}

// finished marks a task done; a cancelled one has its work stopped.
func (t *tasks) finished(id string, cancelled bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.byID[id]
	if e == nil || !e.finished.IsZero() {
		return
	}
	e.finished = t.now()
	// A task cancelled before its work began stays starting: its work still begins, under the task's
	// own context (detach.go), and attach ends it at once.
	if !cancelled {
		delete(t.starting, e.request)
	}
	if cancelled {
		e.cancelled = true
		if e.cancel != nil {
			e.cancel(errTaskCancelled)
		}
	}
}

// pruneLocked forgets tasks finished longer than taskKeep ago: they are unknown to everyone.
func (t *tasks) pruneLocked() {
	cut := t.now().Add(-taskKeep)
	for id, e := range t.byID {
		if !e.finished.IsZero() && e.finished.Before(cut) {
			delete(t.byID, id)
			if e.request != nil && t.starting[e.request] == id {
				delete(t.starting, e.request)
			}
		}
	}
}

// owns says whether the task is o's and still known.
func (t *tasks) owns(id string, o owner) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked()
	e := t.byID[id]
	return e != nil && e.owner == o
}

// running counts o's tasks that have not finished.
func (t *tasks) running(o owner) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, e := range t.byID {
		if e.owner == o && e.finished.IsZero() {
			n++
		}
	}
	return n
}

func (t *tasks) filter(ctx context.Context, list []mcp.Task) []mcp.Task {
	o := ownerOf(ctx)
	out := make([]mcp.Task, 0, len(list))
	for _, task := range list {
		if t.owns(task.TaskId, o) {
			out = append(out, task)
		}
	}
	return out
}

// guardRequest runs before mcp-go handles a request: a task method on a task that is not the caller's
// is answered as unknown, and a caller with too many tasks running may start no other.
func (t *tasks) guardRequest(ctx context.Context, _ any, message any) error {
	raw, ok := message.(json.RawMessage)
	if !ok {
		return nil
	}
	var m struct {
		Method string `json:"method"`
		Params struct {
			TaskID string          `json:"taskId"`
			Task   json.RawMessage `json:"task"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return nil // mcp-go answers what does not parse
	}
	o := ownerOf(ctx)
	switch mcp.MCPMethod(m.Method) {
	case mcp.MethodTasksGet, mcp.MethodTasksResult, mcp.MethodTasksCancel:
		if !t.owns(m.Params.TaskID, o) {
			return unknownTask(m.Params.TaskID)
		}
	case mcp.MethodToolsCall:
		if len(m.Params.Task) > 0 && string(m.Params.Task) != "null" && t.running(o) >= maxTasksPerOwner {
			return fmt.Errorf("you have %d tasks running, the most one caller may: wait for one to finish (tasks/get, tasks/result) or cancel one (tasks/cancel)", maxTasksPerOwner)
		}
	}
	return nil
}
