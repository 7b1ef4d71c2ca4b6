package diagnose

import "testing"

func TestInClusterURL(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
	tests := []struct {
		host string
		want bool
	}{
		{"https://10.96.0.1:443", true},
		{"https://kubernetes.default.svc", true},
		{"https://kubernetes.default.svc.cluster.local:443", true},
		{"https://kubernetes:443", true},
		{"https://api.hub.example.com:6443", false},
		{"https://127.0.0.1:6443", false},
		{"::not a url", false},
	}
	for _, tc := range tests {
		if got := inClusterURL(tc.host); got != tc.want {
			t.Errorf("inClusterURL(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

func TestSameURL(t *testing.T) {
	among := []string{"https://api.hub.example.com:6443", "https://API.hub.example.com:443/"}
	for _, u := range []string{"https://api.hub.example.com:6443/", "https://api.hub.example.com:443"} {
		if !sameURL(u, among) {
			t.Errorf("%s is among %v", u, among)
		}
	}
	if sameURL("https://evil.example.com:6443", among) || sameURL("https://x", nil) {
		t.Error("a URL matched what it is not")
	}
}
