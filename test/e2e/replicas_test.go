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
// session whose requests alternate between them: initialize on one, tool calls on both. Without the
// key, the second replica does not know the session. Another caller cannot use the session on either.
func TestTwoReplicasServeOneSession(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "session.key")
	if err := os.WriteFile(keyFile, []byte(rand.Text()+rand.Text()), 0o600); err != nil {
		t.Fatal(err)
	}
	withKey := []string{"--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA, "--session-key-file", keyFile}
	a, b := startHTTPServer(t, withKey...), startHTTPServer(t, withKey...)
	plain := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA)
	hostOf := func(base string) string { u, _ := url.Parse(base); return u.Host }

	connect := func(t *testing.T, token string, servers ...*httpServer) (*client.Client, *alternating, error) {
		t.Helper()
		alt := &alternating{counted: map[string]int{}}
		for _, s := range servers {
			alt.hosts = append(alt.hosts, hostOf(s.base))
		}
		tr, err := transport.NewStreamableHTTP(servers[0].base+"/mcp",
			transport.WithHTTPBasicClient(&http.Client{Transport: alt}),
			transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
		if err != nil {
			t.Fatal(err)
		}
		c := client.NewClient(tr)
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

	c, alt, err := connect(t, fleet.OperatorToken, a, b)
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
	for _, s := range []*httpServer{a, b} {
		resp, _ := rawPost(t, s.base+"/mcp", map[string]string{"Authorization": "Bearer " + fleet.AliceToken, "Mcp-Session-Id": sessionID}, pingBody)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: another caller's request in the session answered %d, want 404", s.base, resp.StatusCode)
		}
	}
	// Without a shared key the second replica does not know the session.
	c2, _, err := connect(t, fleet.OperatorToken, a, plain)
	if err == nil {
		_, err = call(c2)
	}
	if err == nil {
		t.Error("a replica without the session key served a session another replica opened")
	}
}
