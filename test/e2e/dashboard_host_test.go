package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"k8s.io/apimachinery/pkg/util/wait"
)

// chromiumPath is the Debian package's browser.
const chromiumPath = "/usr/bin/chromium"

// appHost plays the host of an MCP App for a test: its page embeds the app's HTML in a sandboxed iframe
// and speaks the host's side of the bridge over postMessage. It answers ui/initialize, then sends the
// tool's input and its real result, and forwards the app's tools/call requests to the real server
// through /call, which calls the tool with the test's MCP client.
type appHost struct {
	srv *httptest.Server

	mu    sync.Mutex
	calls []mcp.CallToolParams // what the app asked the server for, through the host
	paths []string             // every path the browser asked the test server for
}

// hostPage is the host: the app's HTML and the tool result are JSON values in its script.
const hostPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>test host</title>
<style>body{margin:0;background:#fff} iframe{border:0;width:1240px;height:760px}</style></head>
<body><iframe id="app" sandbox="allow-scripts" title="fleet dashboard"></iframe>
<script>
"use strict";
window.bridgeLog = [];
var app = document.getElementById("app");
var toolResult = TOOL_RESULT;
function toApp(msg) { app.contentWindow.postMessage(msg, "*"); }
window.addEventListener("message", function (ev) {
  if (ev.source !== app.contentWindow) { return; }
  var m = ev.data;
  if (!m || m.jsonrpc !== "2.0" || !m.method) { return; }
  window.bridgeLog.push(m.method);
  switch (m.method) {
  case "ui/initialize":
    toApp({ jsonrpc: "2.0", id: m.id, result: { protocolVersion: m.params.protocolVersion,
      hostInfo: { name: "e2e-host", version: "1" }, hostCapabilities: { serverTools: {} },
      hostContext: { theme: "light", displayMode: "inline" } } });
    return;
  case "ui/notifications/initialized":
    toApp({ jsonrpc: "2.0", method: "ui/notifications/tool-input", params: { arguments: {} } });
    toApp({ jsonrpc: "2.0", method: "ui/notifications/tool-result", params: toolResult });
    return;
  case "tools/call":
    fetch("/call", { method: "POST", body: JSON.stringify(m.params) }).then(function (r) {
      return r.ok ? r.json() : r.text().then(function (t) { throw new Error(t); });
    }).then(function (result) {
      toApp({ jsonrpc: "2.0", id: m.id, result: result });
    }, function (err) {
      toApp({ jsonrpc: "2.0", id: m.id, error: { code: -32603, message: String(err.message || err) } });
    });
    return;
  }
});
app.srcdoc = APP_HTML;
</script></body></html>`

// newAppHost serves the host page for the app's HTML and the tool result on 127.0.0.1, forwarding
// tools/call to c.
func newAppHost(t *testing.T, c *client.Client, appHTML string, result *mcp.CallToolResult) *appHost {
	t.Helper()
	// encoding/json escapes <, > and &, so the values cannot end the host's script.
	html, err := json.Marshal(appHTML)
	if err != nil {
		t.Fatal(err)
	}
	res, err := json.Marshal(result)
	if err != nil {
		t.Fatal(err)
	}
	page := strings.NewReplacer("TOOL_RESULT", string(res), "APP_HTML", string(html)).Replace(hostPage)
	h := &appHost{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	})
	mux.HandleFunc("POST /call", func(w http.ResponseWriter, r *http.Request) {
		var p mcp.CallToolParams
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.calls = append(h.calls, p)
		h.mu.Unlock()
		ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
		defer cancel()
		req := mcp.CallToolRequest{}
		req.Params = p
		res, err := c.CallTool(ctx, req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(res)
	})
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.paths = append(h.paths, r.URL.Path)
		h.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *appHost) toolCalls() []mcp.CallToolParams {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]mcp.CallToolParams(nil), h.calls...)
}

func (h *appHost) requested() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.paths...)
}

// browser starts headless Chromium with a fresh profile; a missing Chromium fails the test. Its output and
// the page's uncaught exceptions are reported when the test fails.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("this test renders the dashboard in Chromium, and %s is missing (%v): install the Debian package with `apt-get install -y chromium` (.ci/run does)", chromiumPath, err)
	}
	out := &syncBuffer{}
	// Not t.TempDir: Chromium's helper processes may still write to the profile for a moment after the
	// browser ends, and t.TempDir fails the test when its removal races them.
	profile, err := os.MkdirTemp("", "mcmcp-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(profile), chromedp.CombinedOutput(out),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		// Without these, Chromium waits on the closed network for its own services.
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		// A sandboxed iframe stays in the page's process, so the test can query the app's DOM from the page.
		chromedp.Flag("disable-features", "IsolateSandboxedIframes"),
		chromedp.WindowSize(1280, 820),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	var mu sync.Mutex
	var exceptions []string
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			mu.Lock()
			exceptions = append(exceptions, e.ExceptionDetails.Error())
			mu.Unlock()
		}
	})
	// The first Run starts the browser; a deadline on it would bound the browser's life, so it has none.
	if err := chromedp.Run(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		removeProfile(t, profile)
		t.Fatalf("starting %s: %v\n%s", chromiumPath, err, out.String())
	}
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		removeProfile(t, profile)
		mu.Lock()
		defer mu.Unlock()
		if len(exceptions) > 0 {
			t.Errorf("the page threw: %s", strings.Join(exceptions, "; "))
		}
		if t.Failed() {
			t.Logf("chromium output:\n%s", out.String())
		}
	})
	return ctx
}

// cell is one cell of the dashboard as the page shows it.
type cell struct{ text, level string }

func (c cell) String() string { return fmt.Sprintf("%q (%s)", c.text, c.level) }

// removeProfile removes the browser's profile once its last writer is gone: the removal is tried again
// until it leaves nothing, for up to 30 s.
func removeProfile(t *testing.T, dir string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return os.RemoveAll(dir) == nil, nil
	})
	if err != nil {
		t.Errorf("the Chromium profile %s could not be removed: %v", dir, err)
	}
}
