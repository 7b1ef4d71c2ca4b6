package mcpserver

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestBearerToken(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"authorization", map[string]string{"Authorization": "Bearer abc"}, "abc"},
		{"scheme in any case", map[string]string{"Authorization": "bearer abc"}, "abc"},
		{"not bearer", map[string]string{"Authorization": "Basic abc"}, ""},
		{"empty bearer", map[string]string{"Authorization": "Bearer  "}, ""},
		{"kubernetes-authorization", map[string]string{"kubernetes-authorization": "Bearer k8s"}, "k8s"},
		{"kubernetes-authorization without a scheme", map[string]string{"kubernetes-authorization": "k8s"}, "k8s"},
		{"kubernetes-authorization wins", map[string]string{"Authorization": "Bearer oauth", "kubernetes-authorization": "Bearer k8s"}, "k8s"},
		{"none", nil, ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
		for k, v := range c.headers {
			r.Header.Set(k, v)
		}
		if got := bearerToken(r); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestMetadataURL(t *testing.T) {
	plain := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/mcp", nil)
	secure := httptest.NewRequest(http.MethodPost, "https://mcp.example.com/mcp", nil)
	secure.TLS = &tls.ConnectionState{}
	cases := []struct {
		p    ProtectedResource
		r    *http.Request
		want string
	}{
		{ProtectedResource{}, plain, "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"},
		{ProtectedResource{}, secure, "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"},
		{ProtectedResource{Resource: "https://fleet.example.com/tools/mcp/"}, plain, "https://fleet.example.com/.well-known/oauth-protected-resource/tools/mcp"},
		{ProtectedResource{Resource: "https://fleet.example.com"}, plain, "https://fleet.example.com/.well-known/oauth-protected-resource"},
	}
	for _, c := range cases {
		if got := c.p.metadataURL(c.r); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}
