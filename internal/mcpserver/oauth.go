package mcpserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// OAuth 2.0 Protected Resource Metadata (RFC 9728), as the MCP authorization spec asks of a server: a
// client that gets 401 follows the challenge's resource_metadata to learn which authorization servers
// issue tokens the server accepts. The server checks tokens with the hub (TokenReview), so those are
// the hub's: on OpenShift its OAuth server; elsewhere the issuer of the hub's ServiceAccount or OIDC
// tokens, or none that a client can use by itself (it then brings a token it already has).

// PathProtectedResource is the metadata's well-known path; the MCP endpoint's own copy is below it
// (PathProtectedResource + PathMCP), which clients ask first.
const PathProtectedResource = "/.well-known/oauth-protected-resource"

// ProtectedResource describes the server to OAuth clients.
type ProtectedResource struct {
	// Resource is the server's resource identifier, its MCP URL (e.g. https://mcp.example.com/mcp);
	// empty: the URL each request reached.
	Resource string
	// AuthorizationServers are the issuers of tokens the hub accepts; may be empty.
	AuthorizationServers []string
	// Scopes the authorization servers know for this resource; may be empty.
	Scopes []string
}

// protectedResourceDoc is the metadata document.
type protectedResourceDoc struct {
	Resource             string   `json:"resource"`
	AuthorizationServers []string `json:"authorization_servers,omitempty"`
	ScopesSupported      []string `json:"scopes_supported,omitempty"`
	BearerMethods        []string `json:"bearer_methods_supported"`
	ResourceName         string   `json:"resource_name"`
}

// resourceFor is the resource identifier a request is answered for.
func (p ProtectedResource) resourceFor(r *http.Request) string {
	if p.Resource != "" {
		return p.Resource
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: PathMCP}).String()
}

// metadataURL is where a request's client finds the metadata of the resource it asked for.
func (p ProtectedResource) metadataURL(r *http.Request) string {
	u, err := url.Parse(p.resourceFor(r))
	if err != nil || u.Host == "" {
		return ""
	}
	path := strings.TrimSuffix(u.Path, "/")
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: PathProtectedResource + path}).String()
}

// handler serves the metadata (GET and HEAD; CORS-readable, as browser-based clients fetch it).
func (p ProtectedResource) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			httpError(w, http.StatusMethodNotAllowed, "method_not_allowed", "the protected resource metadata is read with GET")
			return
		}
		doc := protectedResourceDoc{
			Resource:             p.resourceFor(r),
			AuthorizationServers: p.AuthorizationServers,
			ScopesSupported:      p.Scopes,
			BearerMethods:        []string{"header"},
			ResourceName:         "multicluster-mcp-server",
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cache-Control", "max-age=3600")
		_ = json.NewEncoder(w).Encode(doc)
	})
}

// KubernetesAuthorizationHeader carries the caller's Kubernetes token where Authorization is taken by
// something else (OpenShift Lightspeed and ACM's MCP servers send it): "Bearer <token>" or the token.
const KubernetesAuthorizationHeader = "Kubernetes-Authorization"

// bearerToken is the request's token: kubernetes-authorization first, then Authorization's bearer.
func bearerToken(r *http.Request) string {
	if v := strings.TrimSpace(r.Header.Get(KubernetesAuthorizationHeader)); v != "" {
		if scheme, token, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return v
	}
	v := strings.TrimSpace(r.Header.Get("Authorization"))
	if scheme, token, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	return ""
}
