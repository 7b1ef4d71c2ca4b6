package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// syncBuffer collects a process's output; it is safe for a writer goroutine and a reading test, and
// tells waiters when a given text has appeared.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	waiters map[string]chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	for text, ch := range s.waiters {
		if bytes.Contains(s.b.Bytes(), []byte(text)) {
			close(ch)
			delete(s.waiters, text)
		}
	}
	return n, err
}

// WaitFor returns a channel that is closed once the output contains text.
func (s *syncBuffer) WaitFor(text string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	if bytes.Contains(s.b.Bytes(), []byte(text)) {
		close(ch)
		return ch
	}
	if s.waiters == nil {
		s.waiters = map[string]chan struct{}{}
	}
	if old, ok := s.waiters[text]; ok {
		return old
	}
	s.waiters[text] = ch
	return ch
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// session is an initialized client with the server's logs (stderr) and its initialize answer.
type session struct {
	*client.Client
	Logs *syncBuffer
	Init *mcp.InitializeResult
}

// stdioClient starts the server binary over stdio and returns an initialized client.
func stdioClient(t *testing.T, args ...string) *session {
	t.Helper()
	return stdioClientEnv(t, nil, args...)
}

// stdioClientEnv is stdioClient with more environment variables ("NAME=value") for the server.
func stdioClientEnv(t *testing.T, environ []string, args ...string) *session {
	t.Helper()
	logs := &syncBuffer{}
	tr := transport.NewStdioWithOptions(env.serverBin, environ, args, transport.WithCommandStderrWriter(logs))
	c := client.NewClient(tr)
	// The transport ties the child process (and an SSE stream) to Start's context: it must outlive this call.
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("starting the stdio server: %v\n%s", err, logs.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t.Cleanup(func() {
		_ = c.Close()
		_, _ = env.seen.Write([]byte(logs.String()))
	})
	return &session{Client: c, Logs: logs, Init: initialize(t, ctx, c, logs)}
}

func initialize(t *testing.T, ctx context.Context, c *client.Client, logs *syncBuffer) *mcp.InitializeResult {
	t.Helper()
	req := mcp.InitializeRequest{}
	req.Params.ClientInfo = mcp.Implementation{Name: "e2e", Version: "1"}
	res, err := c.Initialize(ctx, req)
	if err != nil {
		t.Fatalf("initialize: %v\n%s", err, logs.String())
	}
	return res
}

// httpServer is the server binary running the HTTP transport.
type httpServer struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	logs *syncBuffer
	done chan error

	stopped bool
	exitErr error
}

// startHTTPServer runs the binary with --transport http on a free loopback port and waits until it
// logs the address it bound.
func startHTTPServer(t *testing.T, args ...string) *httpServer {
	t.Helper()
	args = append([]string{"--transport", "http", "--listen", "127.0.0.1:0"}, args...)
	return runHTTPServer(t, exec.Command(env.serverBin, args...))
}

// runHTTPServer starts cmd, a command that ends up running the server's HTTP transport (the binary, or
// a wrapper that execs it), and waits until it logs the address it bound.
func runHTTPServer(t *testing.T, cmd *exec.Cmd) *httpServer {
	t.Helper()
	s := &httpServer{cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	listening := s.logs.WaitFor("serving MCP over HTTP")
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.stop()
		_, _ = env.seen.Write([]byte(s.logs.String()))
	})
	select {
	case <-listening:
		s.base = "http://" + listenAddress(s.logs.String())
	case err := <-s.done:
		t.Fatalf("http server exited before listening: %v\n%s", err, s.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("http server did not report its address\n%s", s.logs.String())
	}
	return s
}

// listenAddress finds the address in the JSON log line announcing the HTTP listener.
func listenAddress(logs string) string { return loggedAddress(logs, "serving MCP over HTTP") }

// loggedAddress finds the address field of the first JSON log line with the message msg.
func loggedAddress(logs, msg string) string {
	for _, raw := range strings.Split(logs, "\n") {
		var line struct {
			Msg     string `json:"msg"`
			Address string `json:"address"`
		}
		if json.Unmarshal([]byte(raw), &line) == nil && line.Msg == msg {
			return line.Address
		}
	}
	return ""
}

// stop sends SIGTERM and waits for a clean exit.
func (s *httpServer) stop() error {
	if s.stopped {
		return s.exitErr
	}
	s.stopped = true
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case s.exitErr = <-s.done:
		return s.exitErr
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		return fmt.Errorf("server did not stop within 30s after SIGTERM")
	}
}

func (s *httpServer) streamableClient(t *testing.T, opts ...transport.StreamableHTTPCOption) *client.Client {
	t.Helper()
	tr, err := transport.NewStreamableHTTP(s.base+"/mcp", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s.connect(t, tr)
}

func (s *httpServer) sseClient(t *testing.T, opts ...transport.ClientOption) *client.Client {
	t.Helper()
	tr, err := transport.NewSSE(s.base+"/sse", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s.connect(t, tr)
}

func (s *httpServer) connect(t *testing.T, tr transport.Interface) *client.Client {
	t.Helper()
	c := client.NewClient(tr)
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("connecting: %v\n%s", err, s.logs.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t.Cleanup(func() { _ = c.Close() })
	initialize(t, ctx, c, s.logs)
	return c
}

// callTool calls a tool and returns its text and whether it is an error result.
func callTool(t *testing.T, c *client.Client, name string, args map[string]any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("tools/call %s: %v", name, err)
	}
	var b strings.Builder
	for _, content := range res.Content {
		if tc, ok := content.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	_, _ = env.seen.Write([]byte(b.String() + "\n"))
	return b.String(), res.IsError
}

// tableRows parses a kubectl-style table into maps from header to cell; blank lines and notes in
// brackets are not rows.
func tableRows(t *testing.T, text string) []map[string]string {
	t.Helper()
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		// A fan-out answer starts with how every cluster fared ("Fan-out over N cluster(s): ...", "Not ok: ..."),
		// list_clusters with counts over the fleet ("Fleet: ...") and may end with its cursor ("Showing ...").
		if strings.HasPrefix(line, "Fan-out over ") || strings.HasPrefix(line, "Not ok: ") ||
			strings.HasPrefix(line, "Fleet: ") || strings.HasPrefix(line, "Fleet by clusterset: ") || strings.HasPrefix(line, "Showing clusters ") {
			continue
		}
		if strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "[") {
			lines = append(lines, line)
		}
	}
	names, cells, ok := output.ParseTable(strings.Join(lines, "\n"))
	if !ok {
		t.Fatalf("not a table:\n%s", text)
	}
	rows := make([]map[string]string, 0, len(cells))
	for _, c := range cells {
		row := map[string]string{}
		for k, name := range names {
			row[name] = c[k]
		}
		rows = append(rows, row)
	}
	return rows
}

// pauseUntilCleanup freezes a process (SIGSTOP: it holds its connections and answers nothing, as a hung
// API server does) until the test ends.
func pauseUntilCleanup(t *testing.T, p *fleet.Process) {
	t.Helper()
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Resume(); err != nil {
			t.Fatal(err)
		}
	})
}

// stopUntilCleanup stops a fleet process for the rest of the test; the cleanup starts it again and waits
// until the hub sees the cluster available and every add-on that was available before available again,
// so that later tests find the fleet whole (an add-on's status lags its cluster's by up to a minute).
func stopUntilCleanup(t *testing.T, p *fleet.Process, cluster string) {
	t.Helper()
	addons := availableAddOns(t, cluster)
	p.Stop(10 * time.Second)
	t.Cleanup(func() {
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := env.fleet.WaitClusterCondition(ctx, cluster, "ManagedClusterConditionAvailable", "True", 3*time.Minute); err != nil {
			t.Fatal(err)
		}
		err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			now := availableAddOns(t, cluster)
			for name := range addons {
				if !now[name] {
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil {
			t.Fatalf("the add-ons of %s available before the stop (%v) are not all available again: %v", cluster, addons, err)
		}
	})
}

// availableAddOns are the cluster's ManagedClusterAddOns whose Available condition is True.
func availableAddOns(t *testing.T, cluster string) map[string]bool {
	t.Helper()
	list, err := env.fleet.HubAddon.AddonV1alpha1().ManagedClusterAddOns(cluster).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, a := range list.Items {
		if meta.IsStatusConditionTrue(a.Status.Conditions, "Available") {
			out[a.Name] = true
		}
	}
	return out
}
