package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// hubTokenReviews counts the TokenReviews the server's hub identity created since offset in the hub's
// audit log.
func hubTokenReviews(t *testing.T, offset int64) int {
	t.Helper()
	n := 0
	for _, e := range auditSince(t, env.fleet.Hub.AuditLog, offset) {
		if e.User.Username == fleet.ServerUser && e.Verb == "create" && strings.HasPrefix(e.RequestURI, "/apis/authentication.k8s.io/v1/tokenreviews") {
			n++
		}
	}
	return n
}

// TestUnauthenticatedFloodIsThrottled floods the server with made-up tokens from one address and counts,
// in the hub's audit log, the TokenReviews the flood cost: at most the burst plus the rate over the time
// the flood took, however many requests came; the rest met 429 with Retry-After before any review. A
// caller with a known token is not held up.
func TestUnauthenticatedFloodIsThrottled(t *testing.T) {
	const rate, n = 1, 300 // --auth-rate-limit 1: 1 review a second, burst 2
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--auth-rate-limit", fmt.Sprint(rate))
	operator := map[string]string{"Authorization": "Bearer " + fleet.OperatorToken}
	if resp, _ := rawPost(t, srv.base+"/mcp", operator, pingBody); resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusTooManyRequests {
		t.Fatalf("the operator before the flood: %d", resp.StatusCode)
	}
	mark := fileSize(t, env.fleet.Hub.AuditLog)
	began := time.Now()
	var mu sync.Mutex
	codes := map[int]int{}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				resp, _ := rawPost(t, srv.base+"/mcp", map[string]string{"Authorization": fmt.Sprintf("Bearer made-up-%d", i)}, pingBody)
				if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	took := time.Since(began)
	reviews := hubTokenReviews(t, mark)
	// A token bucket allows at most burst + rate x elapsed; one more for the edges of the window.
	bound := 2*rate + int(math.Ceil(took.Seconds()*rate)) + 1
	t.Logf("%d made-up tokens in %s: %d TokenReviews on the hub (bound %d), answers %v", n, took.Round(time.Millisecond), reviews, bound, codes)
	if reviews > bound || codes[http.StatusUnauthorized] > bound {
		t.Errorf("the flood cost %d TokenReviews (%d answers 401); at most %d", reviews, codes[http.StatusUnauthorized], bound)
	}
	if codes[http.StatusTooManyRequests] < n-bound {
		t.Errorf("only %d of %d answers were 429", codes[http.StatusTooManyRequests], n)
	}
	// The operator's token is known: the flood from the same address does not hold it up.
	if resp, _ := rawPost(t, srv.base+"/mcp", operator, pingBody); resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusTooManyRequests {
		t.Errorf("the operator after the flood: %d", resp.StatusCode)
	}
}

// rawRequest sends one request with a bearer token and returns the answer; a stream that never ends is cut
// by the client's time limit (only a failure of the test would open one).
func rawRequest(t *testing.T, method, url, token string, headers map[string]string, body string) (*http.Response, string) {
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
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const legacyInitialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}`

// TestSessionsBelongToTheirOpener: with real tokens checked by the hub, bob can neither post into
// alice's SSE session nor use, listen on or end her Streamable HTTP session; each attempt meets the
// answer for a session that does not exist.
func TestSessionsBelongToTheirOpener(t *testing.T) {
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig)

	// SSE: alice opens a stream; its message endpoint is hers alone.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.base+"/sse", nil)
	req.Header.Set("Authorization", "Bearer "+fleet.AliceToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("alice opens an SSE stream: %v %v", resp, err)
	}
	defer resp.Body.Close()
	endpoint := ""
	sc := bufio.NewScanner(resp.Body)
	for endpoint == "" && sc.Scan() {
		if ep, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			endpoint = ep
		}
	}
	endpoint = strings.TrimSpace(endpoint)
	if !strings.HasPrefix(endpoint, "http") {
		endpoint = srv.base + endpoint
	}
	_, unknownSSE := rawRequest(t, http.MethodPost, srv.base+"/message?sessionId=mcp-session-none", fleet.BobToken, nil, legacyInitialize)
	if r, body := rawRequest(t, http.MethodPost, endpoint, fleet.BobToken, nil, legacyInitialize); r.StatusCode != http.StatusNotFound || body != unknownSSE {
		t.Errorf("bob posts into alice's SSE session: %d %q", r.StatusCode, body)
	}
	if r, body := rawRequest(t, http.MethodPost, endpoint, fleet.AliceToken, nil, legacyInitialize); r.StatusCode != http.StatusAccepted {
		t.Errorf("alice posts into her SSE session: %d %q", r.StatusCode, body)
	}

	// Streamable HTTP: alice's session id is no use to bob.
	r, body := rawRequest(t, http.MethodPost, srv.base+"/mcp", fleet.AliceToken, nil, legacyInitialize)
	id := r.Header.Get("Mcp-Session-Id")
	if r.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("alice initializes: %d %s", r.StatusCode, body)
	}
	session := map[string]string{"Mcp-Session-Id": id, "MCP-Protocol-Version": "2025-06-18"}
	_, unknown := rawRequest(t, http.MethodPost, srv.base+"/mcp", fleet.BobToken, map[string]string{"Mcp-Session-Id": "mcp-session-none", "MCP-Protocol-Version": "2025-06-18"}, string(pingBody))
	for _, m := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
		b := ""
		if m == http.MethodPost {
			b = string(pingBody)
		}
		if r, body := rawRequest(t, m, srv.base+"/mcp", fleet.BobToken, session, b); r.StatusCode != http.StatusNotFound || body != unknown {
			t.Errorf("bob %s with alice's session: %d %q; want 404 %q", m, r.StatusCode, body, unknown)
		}
	}
	if r, body := rawRequest(t, http.MethodPost, srv.base+"/mcp", fleet.AliceToken, session, string(pingBody)); r.StatusCode != http.StatusOK {
		t.Errorf("alice's session after bob's attempts: %d %s", r.StatusCode, body)
	}
}

// TestUnauthenticatedServingStaysOnLoopback runs the binary: without authentication (--insecure-no-auth,
// or a must-gather over HTTP) it refuses an address other hosts can reach, exit code 2, naming the flag
// that allows it; with that flag it serves.
func TestUnauthenticatedServingStaysOnLoopback(t *testing.T) {
	sample := filepath.Join(fleet.ModuleRoot(), "mustgather", "testdata", "sample-fleet.tar.gz")
	for _, args := range [][]string{
		{"--transport", "http", "--insecure-no-auth", "--kubeconfig", env.hubKubeconfig, "--listen", "0.0.0.0:0"},
		{"--transport", "http", "--must-gather", sample, "--listen", "0.0.0.0:0"},
	} {
		cmd := exec.Command(env.serverBin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		exit, ok := err.(*exec.ExitError)
		if !ok || exit.ExitCode() != 2 || !strings.Contains(stderr.String(), "--allow-unauthenticated-non-loopback") || !strings.Contains(stderr.String(), "not a loopback address") {
			t.Errorf("%v: %v\n%s", args, err, stderr.String())
		}
	}
	srv := startHTTPServer(t, "--must-gather", sample, "--listen", "0.0.0.0:0", "--allow-unauthenticated-non-loopback")
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := rawPost(t, "http://127.0.0.1:"+port+"/mcp", nil, []byte(legacyInitialize)); resp.StatusCode != http.StatusOK {
		t.Errorf("allowed explicitly: %d %s", resp.StatusCode, body)
	}
}

// TestAudience: with --audience the server accepts only tokens the hub accepts for that audience: a
// service account token requested for it passes; one for the API server, and a static token, are refused
// with a message that says how to get the right one.
func TestAudience(t *testing.T) {
	const audience = "multicluster-mcp-server-e2e"
	ctx := context.Background()
	sas := env.fleet.Hub.Kube.CoreV1().ServiceAccounts("default")
	if _, err := sas.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "e2e-audience"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	token := func(audiences ...string) string {
		tr, err := sas.CreateToken(ctx, "e2e-audience", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
			Audiences: audiences, ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		env.rememberToken(tr.Status.Token)
		return tr.Status.Token
	}
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--audience", audience)
	tests := []struct {
		name  string
		token string
		code  int
	}{
		{"a token for the audience", token(audience), http.StatusOK},
		{"a token for the API server", token(), http.StatusUnauthorized},
		{"a static token", fleet.OperatorToken, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, body := rawRequest(t, http.MethodPost, srv.base+"/mcp", tc.token, nil, legacyInitialize)
			if r.StatusCode != tc.code {
				t.Errorf("%d %s; want %d", r.StatusCode, body, tc.code)
			}
			if tc.code == http.StatusUnauthorized && !strings.Contains(body, audience) {
				t.Errorf("the refusal does not name the audience: %s", body)
			}
		})
	}
}

// TestCallersSeeNoClusterTheyMayNotRead: alice may read spoke1 only. No other cluster's name reaches her
// through suggestions, clusterset errors, fan-out or a fleet diagnosis, and the hub's status needs a
// permission she lacks; the operator may read it.
func TestCallersSeeNoClusterTheyMayNotRead(t *testing.T) {
	grantUsers(t)
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-http")
	alice, operator := asUser(t, srv, fleet.AliceToken), asUser(t, srv, fleet.OperatorToken)
	tests := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"cluster_status", map[string]any{"cluster": "spoke"}, `did you mean "spoke1"`},
		// The hub is registered as local-cluster: reading its status needs read on that ManagedCluster.
		{"cluster_status", map[string]any{"cluster": "hub"}, "alice may not read cluster local-cluster"},
		{"cluster_status", map[string]any{"cluster": strings.Repeat("spoke", 10000)}, "at most 63"},
		{"list_clusters", map[string]any{"clusterset": "nope"}, "no cluster you may read"},
		{"kubectl", map[string]any{"cluster": "selector:!nothing", "command": "get ns kube-system"}, "spoke1"},
		{"diagnose", nil, ""},
	}
	for _, tc := range tests {
		text, _ := callTool(t, alice, tc.tool, tc.args)
		if !strings.Contains(text, tc.want) {
			t.Errorf("%s %v: want %q in:\n%s", tc.tool, tc.args, tc.want, text)
		}
		hidden := []string{"spoke2", "spoke3"}
		if tc.tool == "list_clusters" {
			hidden = append(hidden, "global", "default") // the sets OCM makes
		}
		for _, hidden := range hidden {
			if strings.Contains(text, hidden) {
				t.Errorf("%s %v shows alice %q:\n%s", tc.tool, tc.args, hidden, text)
			}
		}
	}
	if text, isErr := callTool(t, operator, "cluster_status", map[string]any{"cluster": "hub"}); isErr {
		t.Errorf("the operator on the hub's status: %s", text)
	}
}
