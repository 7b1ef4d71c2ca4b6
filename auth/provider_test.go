package auth

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

func TestRole(t *testing.T) {
	tests := []struct {
		o    Options
		want string
	}{
		{Options{ReadOnly: true}, "view"},
		{Options{}, "view"},
		{Options{ReadOnly: true, ClusterRole: "fleet-reader"}, "fleet-reader"},
	}
	for _, tc := range tests {
		if got := tc.o.Role(); got != tc.want {
			t.Errorf("%+v: role %q, want %q", tc.o, got, tc.want)
		}
	}
}

func TestSpokeEndpoint(t *testing.T) {
	mc := &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: "east"}, Spec: clusterv1.ManagedClusterSpec{
		ManagedClusterClientConfigs: []clusterv1.ClientConfig{{URL: ""}, {URL: "https://east:6443", CABundle: []byte("cluster-ca")}},
	}}
	bare := &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: "bare"}, Spec: clusterv1.ManagedClusterSpec{
		ManagedClusterClientConfigs: []clusterv1.ClientConfig{{URL: "https://bare:6443"}},
	}}
	tests := []struct {
		name     string
		proxy    string
		target   ocm.Target
		wantHost string
		wantCA   string
		wantErr  bool
	}{
		{"published URL and CA", "", ocm.Target{Name: "east", Cluster: mc}, "https://east:6443", "cluster-ca", false},
		{"CA from the token Secret", "", ocm.Target{Name: "bare", Cluster: bare}, "https://bare:6443", "secret-ca", false},
		{"cluster-proxy", "https://proxy.example/", ocm.Target{Name: "east", Cluster: mc}, "https://proxy.example/east", "proxy-ca", false},
		{"nothing published", "", ocm.Target{Name: "dark", Cluster: &clusterv1.ManagedCluster{}}, "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &Provider{opts: Options{ProxyURL: tc.proxy, ProxyCA: []byte("proxy-ca")}}
			host, ca, err := p.spokeEndpoint(tc.target, []byte("secret-ca"))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if host != tc.wantHost || (!tc.wantErr && string(ca) != tc.wantCA) {
				t.Errorf("host %q ca %q", host, ca)
			}
		})
	}
}

func TestImpersonable(t *testing.T) {
	tests := []struct {
		c  Caller
		ok bool
	}{
		{Caller{User: "alice", Groups: []string{"dev", "system:authenticated"}}, true},
		{Caller{User: "system:serviceaccount:ci:bot", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"}}, true},
		{Caller{User: "root", Groups: []string{"system:masters"}}, false},
		{Caller{User: "n", Groups: []string{"system:nodes"}}, false},
		{Caller{User: "b", Groups: []string{"system:bootstrappers:kubeadm:default-node-token"}}, false},
		{Caller{User: "o", Groups: []string{"system:cluster-admins"}}, false},
		{Caller{User: "system:admin"}, false},
		{Caller{User: "system:kube-controller-manager"}, false},
		{Caller{User: "system:node:worker-1"}, false},
	}
	for _, tc := range tests {
		err := impersonable(&tc.c)
		if (err == nil) != tc.ok {
			t.Errorf("%+v: %v; want allowed=%v", tc.c, err, tc.ok)
		}
	}
}
