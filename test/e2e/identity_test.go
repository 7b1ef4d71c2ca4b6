package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// grantUsers gives alice read on spoke1 and bob read and change on spoke2, in the hub's RBAC.
func grantUsers(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	rbac := env.fleet.Hub.Kube.RbacV1()
	grant := func(user, cluster string, verbs ...string) {
		name := "e2e-" + user + "-" + cluster
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"cluster.open-cluster-management.io"}, Resources: []string{"managedclusters"},
			ResourceNames: []string{cluster}, Verbs: verbs,
		}}}
		if _, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
		if _, err := rbac.ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	grant("alice", "spoke1", "get")
	grant("bob", "spoke2", "get", "update")
}

func asUser(t *testing.T, srv *httpServer, token string) *client.Client {
	t.Helper()
	return srv.streamableClient(t, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
}

func TestPerUserIdentity(t *testing.T) {
	grantUsers(t)
	auditFile := filepath.Join(t.TempDir(), "audit.log")
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--audit-log", auditFile, "--msa-name", "e2e-http", "--approval", "none")
	alice, bob := asUser(t, srv, fleet.AliceToken), asUser(t, srv, fleet.BobToken)
	admin := asUser(t, srv, fleet.OperatorToken)
	masters := asUser(t, srv, fleet.AdminToken)

	names := func(c *client.Client) []string {
		text, isErr := callTool(t, c, "list_clusters", nil)
		if isErr {
			t.Fatal(text)
		}
		var out []string
		for _, r := range tableRows(t, text) {
			out = append(out, r["NAME"])
		}
		return out
	}
	if got := names(alice); strings.Join(got, ",") != "spoke1" {
		t.Errorf("alice sees %v", got)
	}
	if got := names(bob); strings.Join(got, ",") != "spoke2" {
		t.Errorf("bob sees %v", got)
	}
	if got := names(admin); len(got) != len(env.fleet.ManagedClusterNames()) {
		t.Errorf("admin sees %v", got)
	}

	text, isErr := callTool(t, alice, "cluster_status", map[string]any{"cluster": "spoke2"})
	if !isErr || !strings.Contains(text, "alice may not read cluster spoke2") {
		t.Errorf("alice on spoke2: %v %s", isErr, text)
	}
	text, isErr = callTool(t, alice, "kubectl", map[string]any{"cluster": "*", "command": "get ns kube-system"})
	if isErr || strings.Contains(text, "spoke2") || strings.Contains(text, "spoke3") || strings.Count(text, "kube-system") != 1 {
		t.Errorf("alice's fan-out must cover spoke1 only: %v\n%s", isErr, text)
	}
	text, isErr = callTool(t, alice, "kubectl_write", map[string]any{"cluster": "spoke1", "command": "label ns default e2e=alice"})
	if !isErr || !strings.Contains(text, "alice may not change cluster spoke1") {
		t.Errorf("alice writing spoke1: %v %s", isErr, text)
	}
	text, isErr = callTool(t, bob, "kubectl_write", map[string]any{"cluster": "spoke2", "command": "create configmap e2e-bob -n default --from-literal=owner=bob"})
	t.Cleanup(func() {
		_ = env.fleet.Spoke("spoke2").Kube.CoreV1().ConfigMaps("default").Delete(context.Background(), "e2e-bob", metav1.DeleteOptions{})
	})
	if isErr || !strings.Contains(text, "configmap/e2e-bob created") {
		t.Errorf("bob writing spoke2: %v %s", isErr, text)
	}
	// On the hub, commands run as the caller: alice has no rights there, the admin has.
	text, isErr = callTool(t, alice, "kubectl", map[string]any{"cluster": "hub", "command": "get ns"})
	if !isErr || !strings.Contains(text, `User "alice" cannot list resource "namespaces"`) {
		t.Errorf("alice on the hub is not impersonated: %v %s", isErr, text)
	}
	if text, isErr = callTool(t, admin, "kubectl", map[string]any{"cluster": "hub", "command": "auth whoami"}); isErr || !strings.Contains(text, "operator") {
		t.Errorf("operator whoami on the hub: %v %s", isErr, text)
	}
	// A system:masters token is never impersonated: the server's right to impersonate must not make a
	// leaked or forwarded superuser token worth more through it.
	if text, isErr = callTool(t, masters, "kubectl", map[string]any{"cluster": "hub", "command": "auth whoami"}); !isErr || !strings.Contains(text, "system:masters") {
		t.Errorf("system:masters on the hub: error=%v %s; want a refusal naming the group", isErr, text)
	}

	// The audit log: one JSON line per call, with user and decision, and no token.
	data, err := os.ReadFile(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	var denied, calls int
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("audit line is not JSON: %s", sc.Text())
		}
		calls++
		if line["user"] == "alice" && line["decision"] == "denied" {
			denied++
		}
		for _, k := range []string{"user", "tool", "decision", "outcome", "duration"} {
			if _, ok := line[k]; !ok {
				t.Errorf("audit line lacks %s: %s", k, sc.Text())
			}
		}
	}
	if calls < 9 || denied < 2 {
		t.Errorf("audit: %d calls, %d denials for alice:\n%s", calls, denied, data)
	}
	for _, tok := range []string{fleet.AliceToken, fleet.BobToken, fleet.AdminToken, fleet.ServerToken} {
		if bytes.Contains(data, []byte(tok)) || strings.Contains(srv.logs.String(), tok) {
			t.Errorf("token %q in the audit log or server logs", tok)
		}
	}
	_, _ = env.seen.Write(data)
}

func rawPost(t *testing.T, url string, headers map[string]string, body []byte) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp, b.String()
}

var pingBody = []byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)

func TestHTTPHardening(t *testing.T) {
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--rate-limit", "2", "--max-request-bytes", "4096")
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		body    []byte
		code    int
		want    string
	}{
		{"no token", "/mcp", nil, pingBody, http.StatusUnauthorized, "bearer token is required"},
		{"bad token", "/mcp", map[string]string{"Authorization": "Bearer not-a-token"}, pingBody, http.StatusUnauthorized, "rejected by the hub"},
		{"no token on SSE messages", "/message?sessionId=x", nil, pingBody, http.StatusUnauthorized, "bearer token"},
		{"foreign origin", "/mcp", map[string]string{"Authorization": "Bearer " + fleet.OperatorToken, "Origin": "https://evil.example"}, pingBody, http.StatusForbidden, "Origin"},
		{"body too large", "/mcp", map[string]string{"Authorization": "Bearer " + fleet.NobodyToken}, bytes.Repeat([]byte(" "), 8192), http.StatusBadRequest, "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rawPost(t, srv.base+tc.path, tc.headers, tc.body)
			if resp.StatusCode != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("status %d body %q; want %d and %q", resp.StatusCode, body, tc.code, tc.want)
			}
			if tc.code == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate header")
			}
		})
	}
	t.Run("rate limit per caller", func(t *testing.T) {
		limited := 0
		for i := 0; i < 12; i++ {
			resp, _ := rawPost(t, srv.base+"/mcp", map[string]string{"Authorization": "Bearer " + fleet.OperatorToken}, pingBody)
			if resp.StatusCode == http.StatusTooManyRequests {
				limited++
			}
		}
		if limited == 0 {
			t.Error("12 requests at once from one caller with --rate-limit 2: none was limited")
		}
		// Another caller is not affected.
		if resp, _ := rawPost(t, srv.base+"/mcp", map[string]string{"Authorization": "Bearer " + fleet.BobToken}, pingBody); resp.StatusCode == http.StatusTooManyRequests {
			t.Error("bob was limited for admin's requests")
		}
	})
}

func TestHTTPS(t *testing.T) {
	cert, key, ca := env.fleet.ServingCert()
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--tls-cert", cert, "--tls-key", key)
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	httpClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
	base := strings.Replace(srv.base, "http://", "https://", 1)
	tr, err := transport.NewStreamableHTTP(base+"/mcp", transport.WithHTTPBasicClient(httpClient),
		transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + fleet.OperatorToken}))
	if err != nil {
		t.Fatal(err)
	}
	c := srv.connect(t, tr)
	assertFleetTable(t, c)
	// Plain HTTP to the TLS port is refused.
	if resp, err := http.Post(srv.base+"/mcp", "application/json", bytes.NewReader(pingBody)); err == nil && resp.StatusCode < 400 {
		t.Errorf("plain HTTP answered %d", resp.StatusCode)
	}
}
