package mcpserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"go.uber.org/zap"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
)

// tokens is an Authenticator over a fixed set of identities.
type tokens map[string]*auth.Caller

func (m tokens) Authenticate(_ context.Context, token string) (*auth.Caller, error) {
	if c, ok := m[token]; ok {
		return c, nil
	}
	return nil, auth.ErrUnauthenticated
}

// Three identities: alice, alice's name with another UID (a recreated account), and bob.
var identities = tokens{
	"alice":       {User: "alice", UID: "uid-1"},
	"alice-again": {User: "alice", UID: "uid-2"},
	"bob":         {User: "bob", UID: "uid-3"},
}

// serveForTest runs the HTTP transport on a loopback port until the test ends and returns its base URL.
func serveForTest(t *testing.T, o ServeOptions) string {
	t.Helper()
	s := server.NewMCPServer("test", "0", server.WithToolCapabilities(false), server.WithLogging())
	s.AddTool(mcp.NewTool("whoami"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText(ownerOf(ctx).user), nil
	})
	return serveServerForTest(t, s, o)
}

// serveServerForTest serves s like serveForTest.
func serveServerForTest(t *testing.T, s *server.MCPServer, o ServeOptions) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	o.Transport, o.ShutdownTimeout = "http", 5*time.Second
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	o.OnListen = func(a net.Addr) { addr <- a }
	go func() { done <- Serve(ctx, s, zap.NewNop(), o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve ended before listening: %v", err)
	}
	return ""
}

func request(t *testing.T, method, url, token string, headers map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	// A stream someone else may listen on would never end: the time limit only keeps such a failure from
	// hanging the test.
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const (
	legacyVersion = "2025-06-18"
	initialize    = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + legacyVersion + `","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`
	whoami        = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami"}}`
	setLevel      = `{"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{"level":"debug"}}`
)

// TestStreamableSessionsBelongToTheirOpener: a Streamable HTTP session id (Mcp-Session-Id) works only for
// the identity that initialized it. Anyone else, including the same user name with another UID, gets the
// same 404 as for a session that does not exist, whatever the method, and cannot end it.
func TestStreamableSessionsBelongToTheirOpener(t *testing.T) {
	base := serveForTest(t, ServeOptions{Guard: GuardOptions{Authenticator: identities}})
	resp, body := request(t, http.MethodPost, base+PathMCP, "alice", nil, initialize)
	id := resp.Header.Get(server.HeaderKeySessionID)
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("initialize: %d %s (session %q)", resp.StatusCode, body, id)
	}
	session := func(id string) map[string]string {
		return map[string]string{server.HeaderKeySessionID: id, "MCP-Protocol-Version": legacyVersion}
	}
	_, unknown := request(t, http.MethodPost, base+PathMCP, "bob", session("mcp-session-does-not-exist"), whoami)
	tests := []struct {
		name, method, token, body string
	}{
		{"another user calls a tool", http.MethodPost, "bob", whoami},
		{"another user sets the session's log level", http.MethodPost, "bob", setLevel},
		{"the same name with another UID", http.MethodPost, "alice-again", whoami},
		{"another user listens on the session's stream", http.MethodGet, "bob", ""},
		{"another user ends the session", http.MethodDelete, "bob", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := request(t, tc.method, base+PathMCP, tc.token, session(id), tc.body)
			if resp.StatusCode != http.StatusNotFound || body != unknown {
				t.Errorf("%d %q; want 404 and the answer for a session that does not exist (%q)", resp.StatusCode, body, unknown)
			}
		})
	}
	// The owner's session survived all that.
	resp, body = request(t, http.MethodPost, base+PathMCP, "alice", session(id), whoami)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"text":"alice"`) {
		t.Fatalf("alice after the attempts: %d %s", resp.StatusCode, body)
	}
	if resp, _ := request(t, http.MethodDelete, base+PathMCP, "alice", session(id), ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("alice ends her session: %d", resp.StatusCode)
	}
	if resp, _ := request(t, http.MethodPost, base+PathMCP, "alice", session(id), whoami); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an ended session still answers: %d", resp.StatusCode)
	}
}

// openSSE opens an SSE stream as token and returns the message endpoint it announces; the stream stays
// open until the test ends.
func openSSE(t *testing.T, base, token string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+PathSSE, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", PathSSE, resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if ep, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			return strings.TrimSpace(ep)
		}
	}
	t.Fatalf("no endpoint event: %v", sc.Err())
	return ""
}

// TestSSESessionsBelongToTheirOpener: a POST to the message endpoint of someone else's SSE stream is
// refused like one to a stream that does not exist; the opener's own POSTs are accepted.
func TestSSESessionsBelongToTheirOpener(t *testing.T) {
	base := serveForTest(t, ServeOptions{Guard: GuardOptions{Authenticator: identities}})
	endpoint := openSSE(t, base, "alice")
	if !strings.Contains(endpoint, "sessionId=") {
		t.Fatalf("endpoint %q", endpoint)
	}
	if !strings.HasPrefix(endpoint, "http") {
		endpoint = base + endpoint
	}
	_, unknown := request(t, http.MethodPost, base+PathMessage+"?sessionId=does-not-exist", "bob", nil, initialize)
	for _, token := range []string{"bob", "alice-again"} {
		resp, body := request(t, http.MethodPost, endpoint, token, nil, initialize)
		if resp.StatusCode != http.StatusNotFound || body != unknown {
			t.Errorf("%s posts to alice's stream: %d %q; want 404 %q", token, resp.StatusCode, body, unknown)
		}
	}
	if resp, body := request(t, http.MethodPost, endpoint, "alice", nil, initialize); resp.StatusCode != http.StatusAccepted {
		t.Errorf("alice posts to her own stream: %d %s", resp.StatusCode, body)
	}
}

// TestSSESessionEndsWithItsStream: once the stream is closed, its session id is unknown, even to its
// opener.
func TestSSESessionEndsWithItsStream(t *testing.T) {
	s := newSSESessions()
	r, _ := http.NewRequest(http.MethodGet, PathSSE, nil)
	r = r.WithContext(auth.WithCaller(r.Context(), identities["alice"]))
	var id string
	h := s.stream(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { id, _ = s.generate(r.Context(), r) }))
	h.ServeHTTP(nil, r)
	if id == "" || len(s.owners) != 0 {
		t.Fatalf("session %q, %d bindings left after the stream ended", id, len(s.owners))
	}
}

// TestStreamableSessionTableIsBounded: one identity cannot push everyone else's sessions out, and the
// table never grows past its bound.
func TestStreamableSessionTableIsBounded(t *testing.T) {
	s := newStreamableSessions(50, 10)
	alice, bob := owner{user: "alice"}, owner{user: "bob"}
	mine := s.open(alice)
	var bobs []string
	for i := 0; i < 1000; i++ {
		bobs = append(bobs, s.open(bob))
	}
	if !s.owned(mine, alice) {
		t.Error("bob's flood of sessions pushed alice's out")
	}
	if len(s.byID) > 50 || s.count[bob] != 10 {
		t.Errorf("%d sessions, %d of bob's", len(s.byID), s.count[bob])
	}
	if !s.owned(bobs[len(bobs)-1], bob) || s.owned(bobs[0], bob) {
		t.Error("bob's newest session should stay and his oldest go")
	}
	for i := 0; i < 100; i++ {
		s.open(owner{user: fmt.Sprint("user-", i)})
	}
	if len(s.byID) > 50 {
		t.Errorf("%d sessions; the bound is 50", len(s.byID))
	}
}

// TestUnauthenticatedServingStaysOnLoopback: without authentication the server refuses an address other
// hosts can reach, saying why and which flag allows it.
func TestUnauthenticatedServingStaysOnLoopback(t *testing.T) {
	tests := []struct {
		name    string
		o       ServeOptions
		wantErr []string
	}{
		{"insecure-no-auth on every interface", ServeOptions{Listen: "0.0.0.0:0", Guard: GuardOptions{InsecureNoAuth: true}},
			[]string{"refusing to serve without authentication (--insecure-no-auth)", "not a loopback address", AllowUnauthenticatedFlag}},
		{"a must-gather on every interface", ServeOptions{Listen: "0.0.0.0:0", UnauthenticatedReason: "serving a must-gather", Guard: GuardOptions{InsecureNoAuth: true}},
			[]string{"(serving a must-gather)", AllowUnauthenticatedFlag}},
		{"allowed explicitly", ServeOptions{Listen: "0.0.0.0:0", Guard: GuardOptions{InsecureNoAuth: true, AllowUnauthenticatedNonLoopback: true}}, nil},
		{"loopback", ServeOptions{Listen: "127.0.0.1:0", Guard: GuardOptions{InsecureNoAuth: true}}, nil},
		{"authenticated on every interface", ServeOptions{Listen: "0.0.0.0:0", Guard: GuardOptions{Authenticator: identities}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantErr == nil {
				serveForTest(t, tc.o)
				return
			}
			tc.o.Transport = "http"
			err := Serve(context.Background(), server.NewMCPServer("test", "0"), zap.NewNop(), tc.o)
			if err == nil {
				t.Fatal("served")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// Stateless sessions: a session opened on one replica is its owner's on every replica with the same key,
// nobody else's, and no replica with another key knows it.
func TestStatelessSessionsAcrossReplicas(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	a, b := newStreamableSessions(50, 10), newStreamableSessions(50, 10)
	a.key, b.key = key, append([]byte(nil), key...)
	other := newStreamableSessions(50, 10)
	other.key = []byte("another key, another fleet of replicas")
	alice, bob := owner{user: "alice", uid: "1"}, owner{user: "bob", uid: "2"}
	id := a.open(alice)
	if !strings.HasPrefix(id, sessionPrefix) || !b.owned(id, alice) || !a.owned(id, alice) {
		t.Fatalf("%s is not alice's on both replicas", id)
	}
	if b.owned(id, bob) || b.owned(id, owner{user: "alice", uid: "2"}) || other.owned(id, alice) {
		t.Error("a stateless session is owned by someone else, or under another key")
	}
	for _, forged := range []string{id + "x", strings.Replace(id, ".", "x.", 1), sessionPrefix + "nonce.", "", id[:len(id)-2]} {
		if b.owned(forged, alice) {
			t.Errorf("forged id %q accepted", forged)
		}
	}
	b.close(id, alice)
	if !a.owned(id, alice) || a.lru.Len() != 0 {
		t.Error("a stateless session keeps state")
	}
}
