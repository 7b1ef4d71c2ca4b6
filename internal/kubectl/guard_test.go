package kubectl

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

type recordingTransport struct{ sent int }

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.sent++
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}}, nil
}

func TestRequestGuard(t *testing.T) {
	tests := []struct {
		name, method, path, body, why string
		header                        map[string]string
		impersonating                 string
	}{
		{"token request", "POST", "/api/v1/namespaces/default/serviceaccounts/default/token", `{}`, "mints", nil, ""},
		{"CSR approval", "PUT", "/apis/certificates.k8s.io/v1/certificatesigningrequests/csr-1/approval", `{}`, "credentials", nil, ""},
		{"exec", "POST", "/api/v1/namespaces/x/pods/p/exec", ``, "processes", nil, ""},
		{"exec read", "GET", "/api/v1/namespaces/x/pods/p/exec", ``, "processes", nil, ""},
		{"attach", "POST", "/api/v1/namespaces/x/pods/p/attach", ``, "attaches", nil, ""},
		{"port-forward", "POST", "/api/v1/namespaces/x/pods/p/portforward", ``, "tunnels", nil, ""},
		{"node proxy", "GET", "/api/v1/nodes/n1/proxy/configz", ``, "reaches through", nil, ""},
		{"service proxy", "GET", "/api/v1/namespaces/x/services/s:80/proxy/", ``, "reaches through", nil, ""},
		{"ephemeral container", "PATCH", "/api/v1/namespaces/x/pods/p/ephemeralcontainers", `{}`, "containers", nil, ""},
		{"upgrade", "GET", "/api/v1/namespaces/x/pods", ``, "upgrades", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}, ""},
		{"impersonation not configured", "GET", "/api/v1/pods", ``, "impersonation", map[string]string{"Impersonate-User": "system:admin"}, ""},
		{"impersonation of someone else", "GET", "/api/v1/pods", ``, "impersonation", map[string]string{"Impersonate-User": "system:admin"}, "alice"},
		{"binding cluster-admin", "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
			`{"kind":"ClusterRoleBinding","roleRef":{"kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"User","name":"me"}]}`, "cluster-admin", nil, ""},
		{"binding system:masters", "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/x/rolebindings",
			`{"roleRef":{"kind":"Role","name":"r"},"subjects":[{"kind":"Group","name":"system:masters"}]}`, "system:masters", nil, ""},
		{"patch to cluster-admin (JSON patch)", "PATCH", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/b",
			`[{"op":"replace","path":"/roleRef/name","value":"cluster-admin"}]`, "cluster-admin", nil, ""},
		{"patch adding everyone (JSON patch)", "PATCH", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/b",
			`[{"op":"add","path":"/subjects/0/name","value":"system:authenticated"}]`, "system:authenticated", nil, ""},
		{"server-side apply in YAML", "PATCH", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/b",
			"roleRef:\n  name: cluster-admin\n", "cluster-admin", nil, ""},
		{"unreadable binding body", "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "{{{", "could not be inspected", nil, ""},
		{"token Secret", "POST", "/api/v1/namespaces/x/secrets",
			`{"kind":"Secret","type":"kubernetes.io/service-account-token","metadata":{"annotations":{"kubernetes.io/service-account.name":"default"}}}`, "mint", nil, ""},
		{"write outside the API", "POST", "/logs/x", ``, "only reads", nil, ""},
		// Allowed.
		{"read pods", "GET", "/api/v1/namespaces/x/pods", ``, "", nil, ""},
		{"eviction", "POST", "/api/v1/namespaces/x/pods/p/eviction", `{}`, "", nil, ""},
		{"binding view", "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/x/rolebindings",
			`{"roleRef":{"kind":"ClusterRole","name":"view"},"subjects":[{"kind":"User","name":"alice"}]}`, "", nil, ""},
		{"opaque Secret", "POST", "/api/v1/namespaces/x/secrets", `{"kind":"Secret","type":"Opaque","data":{"a":"Yg=="}}`, "", nil, ""},
		{"configured impersonation", "GET", "/api/v1/pods", ``, "", map[string]string{"Impersonate-User": "alice", "Impersonate-Group": "dev"}, "alice"},
		{"version", "GET", "/version", ``, "", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := &recordingTransport{}
			g := &requestGuard{next: next, impersonating: tc.impersonating}
			req, err := http.NewRequest(tc.method, "https://spoke.invalid"+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			_, err = g.RoundTrip(req)
			if tc.why == "" {
				if err != nil || next.sent != 1 {
					t.Fatalf("refused an allowed request: %v (sent %d)", err, next.sent)
				}
				if tc.body != "" {
					got, _ := io.ReadAll(req.Body)
					if string(got) != tc.body {
						t.Errorf("the body sent is %q; want it unchanged", got)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("got %v; want a refusal mentioning %q", err, tc.why)
			}
			if next.sent != 0 {
				t.Errorf("a refused request was sent")
			}
		})
	}
}
