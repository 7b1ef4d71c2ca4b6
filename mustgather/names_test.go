package mustgather

import (
	"strings"
	"testing"
)

func TestNameRules(t *testing.T) {
	tests := []struct {
		name  string
		check func(string) error
		value string
		want  string // "" when the value is accepted, else part of the reason
	}{
		{"object: subdomain", checkObjectName, "cluster-manager.v1", ""},
		{"object: RBAC name with colons", checkObjectName, "system:controller:bootstrap-signer", ""},
		{"object: RBAC name with capitals", checkObjectName, "system:openshift:scc:Restricted", ""},
		{"object: three dots", checkObjectName, "...", ""},
		{"object: empty", checkObjectName, "", "the name is empty"},
		{"object: dot", checkObjectName, ".", "may not be '.'"},
		{"object: dot-dot", checkObjectName, "..", "may not be '..'"},
		{"object: climbs", checkObjectName, "../../x", "may not contain '/'"},
		{"object: absolute", checkObjectName, "/etc/x", "may not contain '/'"},
		{"object: backslash", checkObjectName, `..\x`, "backslash"},
		{"object: NUL byte", checkObjectName, "a\x00b", "control characters"},
		{"object: newline", checkObjectName, "a\nb", "control characters"},
		{"object: percent", checkObjectName, "a%2fb", "may not contain '%'"},
		{"object: too long", checkObjectName, strings.Repeat("a", maxNameBytes+1), "longer than a file name"},
		{"object: longest", checkObjectName, strings.Repeat("a", 250), ""},
		{"namespace: label", checkNamespace, "open-cluster-management-agent", ""},
		{"namespace: dots", checkNamespace, "a.b", "RFC 1123 label"},
		{"namespace: colon", checkNamespace, "system:x", "RFC 1123 label"},
		{"namespace: dot-dot", checkNamespace, "..", "the namespace may not be '..'"},
		{"cluster: subdomain", checkClusterName, "prod-east-1.example", ""},
		{"cluster: climbs", checkClusterName, "../hub", "the cluster name may not contain '/'"},
		{"cluster: capitals", checkClusterName, "Prod", "RFC 1123 subdomain"},
		{"group and resource: core", func(s string) error { return checkGroupResource("", s) }, "pods", ""},
		{"group and resource: OCM", func(s string) error { return checkGroupResource("work.open-cluster-management.io", s) }, "manifestworks", ""},
		{"group and resource: resource with dots", func(s string) error { return checkGroupResource("", s) }, "a.b", "the resource name"},
		{"group and resource: group climbs", func(s string) error { return checkGroupResource(s, "widgets") }, "../x", "the group name"},
		{"group and resource: group with underscore", func(s string) error { return checkGroupResource(s, "widgets") }, "evil_group.io", "the group name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check(tc.value)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%q refused: %v", tc.value, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("%q: err = %v, want a refusal saying %q", tc.value, err, tc.want)
			}
		})
	}
}

func TestLocalPath(t *testing.T) {
	tests := []struct {
		parts []string
		ok    bool
	}{
		{[]string{"namespaces", "ns", "core", "pods", "p.yaml"}, true},
		{[]string{"namespaces", "..", "..", "x.yaml"}, false},
		{[]string{"/etc", "x"}, false},
		{[]string{""}, false},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.parts, "|"), func(t *testing.T) {
			if _, err := localPath(tc.parts...); (err == nil) != tc.ok {
				t.Errorf("localPath(%q): err = %v, want ok = %v", tc.parts, err, tc.ok)
			}
		})
	}
}
