package kubectl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"sigs.k8s.io/yaml"
)

// The request layer is the second wall behind the command policy: whatever command builds a request,
// these never leave the server. A new kubectl command, flag or bug cannot reach them.

// refusedSubresources may not be reached with any method: they run processes, open tunnels or reach
// through the API server to kubelets and services.
var refusedSubresources = map[string]string{
	"exec": "it runs processes in containers", "attach": "it attaches to containers", "portforward": "it opens tunnels",
	"proxy": "it reaches through the API server to nodes, pods and services", "ephemeralcontainers": "it starts containers that run commands",
}

// requestGuard refuses, before they are sent, requests that would mint or approve credentials, widen
// RBAC to administrative roles or privileged subjects, impersonate anyone but the configured identity,
// or reach exec, attach, port-forward and proxy endpoints.
type requestGuard struct {
	next http.RoundTripper
	// impersonating is the identity the call's config impersonates (empty: none); any other
	// impersonation header is refused.
	impersonating string
}

// RefusedError is a request the guard stopped.
type RefusedError struct{ Method, Path, Why string }

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the server refused to send %s %s: %s", e.Method, e.Path, e.Why)
}

func (g *requestGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if why := g.check(req); why != "" {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &RefusedError{Method: req.Method, Path: req.URL.Path, Why: why}
	}
	return g.next.RoundTrip(req)
}

// maxGuardBody bounds the request bodies the guard reads to inspect RBAC and Secret writes.
const maxGuardBody = 8 << 20

func (g *requestGuard) check(req *http.Request) string {
	if strings.EqualFold(req.Header.Get("Connection"), "upgrade") || req.Header.Get("Upgrade") != "" {
		return "connection upgrades (exec, attach, port-forward, watch over websockets) are not available"
	}
	for key := range req.Header {
		if strings.HasPrefix(strings.ToLower(key), "impersonate-") {
			if !strings.EqualFold(key, "Impersonate-User") && !strings.EqualFold(key, "Impersonate-Group") &&
				!strings.EqualFold(key, "Impersonate-Uid") && !strings.HasPrefix(strings.ToLower(key), "impersonate-extra-") {
				return "unknown impersonation header " + key
			}
			if g.impersonating == "" || req.Header.Get("Impersonate-User") != g.impersonating {
				return "impersonation is not available"
			}
		}
	}
	ri := parseAPIPath(req.URL.Path)
	if !ri.api {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			return "only reads are sent outside the resource API"
		}
		return ""
	}
	if why, refused := refusedSubresources[ri.subresource]; refused {
		return why
	}
	read := req.Method == http.MethodGet || req.Method == http.MethodHead
	switch {
	case ri.resource == "serviceaccounts" && ri.subresource == "token":
		return "it mints a ServiceAccount token; no tool issues credentials"
	case ri.group == "certificates.k8s.io" && ri.resource == "certificatesigningrequests" && ri.subresource == "approval" && !read:
		return "approving or denying certificate signing requests issues credentials; no tool does"
	case read || req.Method == http.MethodDelete:
		return ""
	}
	switch {
	case ri.group == "rbac.authorization.k8s.io" && (ri.resource == "rolebindings" || ri.resource == "clusterrolebindings"):
		return inspectBody(req, bindingProblem)
	case ri.group == "" && ri.resource == "secrets":
		return inspectBody(req, secretProblem)
	}
	return ""
}

// inspectBody reads a request body (restoring it for the transport) and applies a check to its decoded
// form. A body that cannot be read is refused: unread is never sent.
func inspectBody(req *http.Request, check func(any) string) string {
	if req.Body == nil {
		return ""
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, maxGuardBody+1))
	req.Body.Close()
	if err != nil || len(data) > maxGuardBody {
		return "the request body could not be inspected"
	}
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		js, yerr := yaml.YAMLToJSON(data)
		if yerr != nil || json.Unmarshal(js, &doc) != nil {
			return "the request body could not be inspected"
		}
	}
	return check(doc)
}

// bindingProblem finds, anywhere in a binding or a patch of one, a reference to a privileged role or a
// privileged subject. JSON patches name the field in their path, so values are checked by the path too.
func bindingProblem(doc any) string {
	var why string
	var walk func(v any, key string)
	walk = func(v any, key string) {
		if why != "" {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["roleRef"].(map[string]any); ok {
				if name, _ := ref["name"].(string); PrivilegedRole(name) {
					why = fmt.Sprintf("binding role %q is not available: no tool grants administrative or control-plane roles", name)
					return
				}
			}
			kind, _ := x["kind"].(string)
			name, _ := x["name"].(string)
			switch {
			case kind == "Group" && PrivilegedGroup(name):
				why = fmt.Sprintf("binding group %q is not available", name)
				return
			case kind == "User" && PrivilegedUser(name):
				why = fmt.Sprintf("binding user %q is not available", name)
				return
			}
			if path, _ := x["path"].(string); path != "" {
				if val, ok := x["value"].(string); ok && (strings.HasSuffix(path, "/roleRef/name") && PrivilegedRole(val) ||
					strings.HasSuffix(path, "/name") && strings.Contains(path, "subjects") && (PrivilegedGroup(val) || PrivilegedUser(val))) {
					why = fmt.Sprintf("the patch sets %s to %q, which is not available", path, val)
					return
				}
			}
			for k, child := range x {
				walk(child, k)
			}
		case []any:
			for _, child := range x {
				walk(child, key)
			}
		}
	}
	walk(doc, "")
	return why
}

// secretProblem refuses Secrets the token controller would fill with a ServiceAccount token, wherever
// the decoded body names that type (an object, a patch, YAML). It searches the body re-encoded, so that
// escapes such as \/ in the request cannot hide the name.
func secretProblem(doc any) string {
	raw, _ := json.Marshal(doc)
	if bytes.Contains(raw, []byte("kubernetes.io/service-account-token")) {
		return "a Secret of type kubernetes.io/service-account-token makes the cluster mint a token; no tool issues credentials"
	}
	return ""
}

// apiPath is what the guard needs of a Kubernetes API path.
type apiPath struct {
	api                              bool
	group, namespace, resource, name string
	subresource                      string
}

// APIPath is what a request path of the API names: for /api/v1/... and /apis/<group>/<version>/...,
// API is true and the other fields are set as far as the path goes.
type APIPath struct {
	API                                           bool
	Group, Namespace, Resource, Name, Subresource string
}

// ParseAPIPath reads a request path of the API, as the request guard does.
func ParseAPIPath(p string) APIPath {
	r := parseAPIPath(p)
	return APIPath{API: r.api, Group: r.group, Namespace: r.namespace, Resource: r.resource, Name: r.name, Subresource: r.subresource}
}

// parseAPIPath reads /api/v1/... and /apis/<group>/<version>/... paths.
func parseAPIPath(p string) apiPath {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	var r apiPath
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		r.api, parts = true, parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		r.api, r.group, parts = true, parts[1], parts[3:]
	default:
		return r
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		r.namespace, parts = parts[1], parts[2:]
	}
	if len(parts) > 0 {
		r.resource = parts[0]
	}
	if len(parts) > 1 {
		r.name = parts[1]
	}
	if len(parts) > 2 {
		r.subresource = parts[2] // pods/x/proxy/<anything>: the subresource is proxy
	}
	return r
}
