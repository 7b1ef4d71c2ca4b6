package e2e

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// alternating sends each request to the next of several servers in turn, as a Service without sticky
// sessions spreads them over replicas.
type alternating struct {
	mu      sync.Mutex
	hosts   []string
	next    int
	counted map[string]int
}

func (a *alternating) RoundTrip(req *http.Request) (*http.Response, error) {
	a.mu.Lock()
	host := a.hosts[a.next%len(a.hosts)]
	a.next++
	a.counted[host]++
	a.mu.Unlock()
	r := req.Clone(req.Context())
	r.URL.Host, r.Host = host, host
	return http.DefaultTransport.RoundTrip(r)
}

// TestTwoReplicasServeOneSession: two server processes sharing a session key serve one Streamable HTTP
// session of the initialize handshake whose requests alternate between them: initialize on one, tool
// calls on both. A replica without the key does not know the session, and another caller cannot use it
// on any. A client of the sessionless 2026-07-28 protocol is served by any replica.
func TestTwoReplicasServeOneSession(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "session.key")
	if err := os.WriteFile(keyFile, []byte(rand.Text()+rand.Text()), 0o600); err != nil {
		t.Fatal(err)
	}
	withKey := []string{"--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA, "--session-key-file", keyFile}
	a, b := startHTTPServer(t, withKey...), startHTTPServer(t, withKey...)
	plain := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA)
	hostOf := func(base string) string { u, _ := url.Parse(base); return u.Host }

	connect := func(t *testing.T, version string, servers ...*httpServer) (*client.Client, *alternating, error) {
		t.Helper()
		alt := &alternating{counted: map[string]int{}}
		for _, s := range servers {
			alt.hosts = append(alt.hosts, hostOf(s.base))
		}
		tr, err := transport.NewStreamableHTTP(servers[0].base+"/mcp",
			transport.WithHTTPBasicClient(&http.Client{Transport: alt}),
			transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + fleet.OperatorToken}))
		if err != nil {
			t.Fatal(err)
		}
		c := client.NewClient(tr, client.WithProtocolVersion(version))
		if err := c.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req := mcp.InitializeRequest{}
		req.Params.ClientInfo = mcp.Implementation{Name: "e2e-replicas", Version: "1"}
		_, err = c.Initialize(ctx, req)
		return c, alt, err
	}
	call := func(c *client.Client) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = "list_clusters", map[string]any{}
		res, err := c.CallTool(ctx, req)
		if err != nil {
			return "", err
		}
		if len(res.Content) == 0 {
			return "", nil
		}
		tc, _ := mcp.AsTextContent(res.Content[0])
		return tc.Text, nil
	}

	// A client of the initialize handshake keeps a session: its requests alternate between the replicas
	// that share the key.
	c, alt, err := connect(t, mcp.ProtocolVersion20251125, a, b)
	if err != nil {
		t.Fatalf("initialize over two replicas: %v", err)
	}
	for i := 0; i < 4; i++ {
		text, err := call(c)
		if err != nil || !strings.HasPrefix(text, "Fleet: 4 cluster(s)") {
			t.Fatalf("call %d over two replicas: %v\n%.300s", i, err, text)
		}
	}
	if alt.counted[hostOf(a.base)] < 2 || alt.counted[hostOf(b.base)] < 2 {
		t.Errorf("requests per replica: %v", alt.counted)
	}
	// The same session, with another caller's token: unknown on both replicas.
	sessionID := c.GetSessionId()
	if !strings.HasPrefix(sessionID, "mcp-session-") {
		t.Fatalf("the handshake gave no session: %q", sessionID)
	}
	for _, s := range []*httpServer{a, b} {
		resp, _ := rawPost(t, s.base+"/mcp", map[string]string{"Authorization": "Bearer " + fleet.AliceToken, "Mcp-Session-Id": sessionID, "Mcp-Protocol-Version": "2025-11-25"}, pingBody)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: another caller's request in the session answered %d, want 404", s.base, resp.StatusCode)
		}
	}
	// The session on each replica, with its owner's token: known wherever the key is, unknown on a replica
	// without it.
	operator := map[string]string{"Authorization": "Bearer " + fleet.OperatorToken, "Mcp-Session-Id": sessionID, "Mcp-Protocol-Version": "2025-11-25"}
	for _, s := range []struct {
		srv  *httpServer
		want int
	}{{a, http.StatusOK}, {b, http.StatusOK}, {plain, http.StatusNotFound}} {
		if resp, body := rawPost(t, s.srv.base+"/mcp", operator, pingBody); resp.StatusCode != s.want {
			t.Errorf("%s: the owner's ping in the session answered %d, want %d: %s", s.srv.base, resp.StatusCode, s.want, body)
		}
	}
	// A client of the 2026-07-28 protocol has no session at all: any replica serves it, key or none.
	modern, alt3, err := connect(t, mcp.ProtocolVersion20260728, a, plain)
	for i := 0; i < 2 && err == nil; i++ {
		var text string
		if text, err = call(modern); err == nil && !strings.HasPrefix(text, "Fleet: 4 cluster(s)") {
			t.Errorf("modern call %d: %.200s", i, text)
		}
	}
	if err != nil || modern.GetSessionId() != "" || alt3.counted[hostOf(plain.base)] == 0 {
		t.Errorf("a sessionless client over a replica with and one without the key: %v, session %q, requests %v", err, modern.GetSessionId(), alt3.counted)
	}
}
