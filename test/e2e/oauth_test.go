package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// TestOAuthDiscoveryAndKubernetesAuthorization: the protected resource metadata is served at both
// well-known paths without a token, names the resource and the configured issuer; a request without a
// token gets 401 whose challenge points at the metadata; a client that sends its hub token in
// kubernetes-authorization (and an OAuth token of another system in Authorization) is the hub's caller.
func TestOAuthDiscoveryAndKubernetesAuthorization(t *testing.T) {
	const issuer = "https://oauth-openshift.apps.example.com"
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--oauth-authorization-servers", issuer)
	for _, path := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
		resp, err := http.Get(srv.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var doc struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
			BearerMethods        []string `json:"bearer_methods_supported"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &doc) != nil {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if doc.Resource != srv.base+"/mcp" || len(doc.AuthorizationServers) != 1 || doc.AuthorizationServers[0] != issuer || len(doc.BearerMethods) != 1 {
			t.Errorf("%s: %+v", path, doc)
		}
	}
	resp, body := rawPost(t, srv.base+"/mcp", nil, pingBody)
	challenge := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(challenge, `resource_metadata="`+srv.base+`/.well-known/oauth-protected-resource/mcp"`) ||
		!strings.Contains(body, "kubernetes-authorization") {
		t.Errorf("no token: %d %q %s", resp.StatusCode, challenge, body)
	}
	resp, _ = rawPost(t, srv.base+"/mcp", map[string]string{"Authorization": "Bearer made-up"}, pingBody)
	if challenge := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(challenge, `error="invalid_token"`) ||
		!strings.Contains(challenge, "resource_metadata=") {
		t.Errorf("rejected token: %d %q", resp.StatusCode, challenge)
	}
	c := srv.streamableClient(t, transport.WithHTTPHeaders(map[string]string{
		"kubernetes-authorization": "Bearer " + fleet.OperatorToken,
		"Authorization":            "Bearer an-oauth-token-of-another-system",
	}))
	text, isErr := callTool(t, c, "kubectl", map[string]any{"cluster": "hub", "command": "auth whoami"})
	if isErr || !strings.Contains(text, "fleet:operators") {
		t.Errorf("whoami through kubernetes-authorization: %v\n%s", isErr, text)
	}
}
