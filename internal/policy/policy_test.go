package policy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeDir writes a policy folder of name -> source.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const teamPolicy = `package mcmcp

import data.mcmcp.team

deny contains msg if {
	input.tool == "kubectl_write"
	some obj in input.objects
	team.forbidden_namespace(obj.namespace)
	msg := sprintf("namespace %s belongs to the payments team", [obj.namespace])
}

deny contains {"rule": "no-friday-scale", "msg": concat(" ", ["no scaling on cluster", input.cluster.name])} if {
	input.verb == "scale"
	input.cluster.clusterset == "frozen-set"
}
`

const teamLib = `package mcmcp.team

forbidden_namespace(ns) if startswith(ns, "payments")
`

func TestFolderPolicies(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"team.rego": teamPolicy, "lib.rego": teamLib,
		"team_test.rego": "package mcmcp_test\n\ntest_x if true\n", // OPA unit tests are skipped
		"README.md":      "not a policy",
	})
	e, err := New(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(e.Files()); got != 2 {
		t.Errorf("files loaded: %v", e.Files())
	}
	in := scaleInput(nil)
	in.Objects[0].Namespace = "payments"
	in.Cluster.Clusterset = "frozen-set"
	got, err := e.Evaluate(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want := []Deny{{Rule: "no-friday-scale", Msg: "no scaling on cluster spoke1"}, {Rule: UnnamedRule, Msg: "namespace payments belongs to the payments team"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("denials %q, want %q", got, want)
	}
	// The built-in policies still apply next to the folder's.
	in.Cluster.Labels = map[string]string{"multicluster-mcp-server.io/change-freeze": "true"}
	got, _ = e.Evaluate(context.Background(), in)
	if len(got) != 3 || got[0].Rule != "change-freeze" {
		t.Errorf("with a freeze: %q", got)
	}
}

func TestFolderRefusals(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{name: "bad Rego", files: map[string]string{"broken.rego": "package mcmcp\n\ndeny contains msg if {\n\tmsg := \n}\n"},
			want: []string{"broken.rego is not valid Rego", "broken.rego:5:"}},
		{name: "unknown package", files: map[string]string{"gatekeeper.rego": "package kubernetes.admission\n\ndeny contains \"x\" if true\n"},
			want: []string{"gatekeeper.rego:1: package kubernetes.admission is not evaluated", "package mcmcp"}},
		{name: "reserved package", files: map[string]string{"sneaky.rego": "package mcmcp.builtin.change_freeze\n\ndeny := set()\n"},
			want: []string{"sneaky.rego:1: package mcmcp.builtin.change_freeze is reserved"}},
		{name: "settings are reserved", files: map[string]string{"s.rego": "package mcmcp.settings\n\nproduction_groups := [\"everyone\"]\n"},
			want: []string{"s.rego:1: package mcmcp.settings is reserved"}},
		{name: "undefined reference", files: map[string]string{"typo.rego": "package mcmcp\n\ndeny contains msg if {\n\tmsg := undefined_helper(input.tool)\n}\n"},
			want: []string{"the policies do not compile", "typo.rego:4:", "undefined function undefined_helper"}},
		{name: "the network is out of reach", files: map[string]string{"net.rego": "package mcmcp\n\ndeny contains msg if {\n\tr := http.send({\"method\": \"GET\", \"url\": \"http://example.com\"})\n\tmsg := r.body\n}\n"},
			want: []string{"net.rego:4:", "http.send"}},
		{name: "the environment is out of reach", files: map[string]string{"env.rego": "package mcmcp\n\ndeny contains msg if {\n\tmsg := opa.runtime().env.HOME\n}\n"},
			want: []string{"env.rego:4:", "opa.runtime"}},
		{name: "decision redefined", files: map[string]string{"flat.rego": "package mcmcp\n\ndeny := {\"x\"}\n"},
			want: []string{"the policies do not compile", "flat.rego:3:"}},
		{name: "empty file", files: map[string]string{"empty.rego": "# nothing\n"},
			want: []string{"empty.rego"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(context.Background(), Options{Dir: writeDir(t, tc.files)})
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error lacks %q:\n%v", w, err)
				}
			}
		})
	}
	if _, err := New(context.Background(), Options{Dir: filepath.Join(t.TempDir(), "absent")}); err == nil || !strings.Contains(err.Error(), "policy folder cannot be read") {
		t.Errorf("a missing folder: %v", err)
	}
	if _, err := New(context.Background(), Options{Disable: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "change-freeze") {
		t.Errorf("an unknown disabled name: %v", err)
	}
}

// TestFailClosed: a policy that errors, returns what is no denial, or runs past the timeout gives an
// error, which refuses the change.
func TestFailClosed(t *testing.T) {
	policy := func(src string) map[string]string { return map[string]string{"p.rego": src} }
	cases := []struct {
		name    string
		files   map[string]string
		timeout time.Duration
		want    string
	}{
		{name: "builtin error", files: policy("package mcmcp\n\ndeny contains msg if {\n\tn := to_number(input.cluster.name)\n\tmsg := sprintf(\"%d\", [n])\n}\n"),
			want: "the policy evaluation failed"},
		{name: "conflicting values", want: "the policy evaluation failed", files: map[string]string{
			"p.rego":   "package mcmcp\n\nimport data.mcmcp.lib\n\ndeny contains lib.owner if true\n",
			"lib.rego": "package mcmcp.lib\n\nowner := \"a\" if input.tool\n\nowner := \"b\" if input.tool\n",
		}},
		{name: "not a message", files: policy("package mcmcp\n\ndeny contains 42 if true\n"), want: "neither a message nor {msg, rule}"},
		{name: "object without msg", files: policy("package mcmcp\n\ndeny contains {\"rule\": \"x\"} if true\n"), want: "has no msg string"},
		{name: "timeout", timeout: 50 * time.Millisecond,
			files: policy("package mcmcp\n\ndeny contains \"slow\" if {\n\tsome a in numbers.range(1, 20000)\n\tsome b in numbers.range(1, 20000)\n\ta * b == -1\n}\n"),
			want:  "did not finish within 50ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(context.Background(), Options{Dir: writeDir(t, tc.files), Timeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			began := time.Now()
			denies, err := e.Evaluate(context.Background(), scaleInput(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %q, %v; want an error with %q", denies, err, tc.want)
			}
			if tc.timeout > 0 && time.Since(began) > 10*tc.timeout+time.Second {
				t.Errorf("the timeout was not kept: %s", time.Since(began))
			}
		})
	}
}

// TestInputShape: the input as a policy reads it, with Secret values elided and a subresource's
// labels and annotations read on its parent.
func TestInputShape(t *testing.T) {
	dir := writeDir(t, map[string]string{"echo.rego": "package mcmcp\n\ndeny contains json.marshal(input) if true\n"})
	e, err := New(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	secret := base64.StdEncoding.EncodeToString([]byte("hunter2-password"))
	in := Input{
		Tool: ToolKubectlWrite, Caller: Caller{User: "alice", UID: "u-1", Groups: []string{"dev"}},
		Cluster: Cluster{Name: "spoke1", Labels: map[string]string{"cluster.open-cluster-management.io/clusterset": "east"}, Clusterset: "east",
			Claims: map[string]string{"platform.open-cluster-management.io": "AWS"}},
		Verb: "apply", Command: []string{"apply", "-f", "-"}, Namespace: "shop",
		Objects: []Object{
			{Resource: "secrets", Namespace: "shop", Name: "db",
				Before: map[string]any{"kind": "Secret", "data": map[string]any{"password": secret}},
				After: map[string]any{"kind": "Secret", "data": map[string]any{"password": secret}, "metadata": map[string]any{
					"annotations": map[string]any{"kubectl.kubernetes.io/last-applied-configuration": `{"kind":"Secret","data":{"password":"` + secret + `"}}`}}}},
			{Group: "apps", Resource: "deployments", Subresource: "scale", Namespace: "shop", Name: "web",
				Before: map[string]any{"kind": "Scale", "spec": map[string]any{"replicas": 2}},
				After:  map[string]any{"kind": "Scale", "spec": map[string]any{"replicas": 3}},
				Parent: map[string]any{"kind": "Deployment", "metadata": map[string]any{"labels": map[string]any{"app": "web"}, "annotations": map[string]any{"owner": "shop"}}}},
		},
	}
	denies, err := e.Evaluate(context.Background(), in)
	if err != nil || len(denies) != 1 {
		t.Fatalf("%q %v", denies, err)
	}
	if strings.Contains(denies[0].Msg, secret) || strings.Contains(denies[0].Msg, "hunter2") {
		t.Fatalf("a Secret value reached the policy: %s", denies[0].Msg)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(denies[0].Msg), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"tool": "kubectl_write", "verb": "apply", "subcommand": "", "command": []any{"apply", "-f", "-"}, "destructive": false,
		"namespace": "shop", "read_only": false,
		"caller": map[string]any{"user": "alice", "uid": "u-1", "groups": []any{"dev"}, "local": false},
		"cluster": map[string]any{"name": "spoke1", "hub": false, "clusterset": "east",
			"labels": map[string]any{"cluster.open-cluster-management.io/clusterset": "east"},
			"claims": map[string]any{"platform.open-cluster-management.io": "AWS"}},
		"objects": []any{
			map[string]any{"kind": "Secret", "group": "", "resource": "secrets", "subresource": "", "namespace": "shop", "name": "db",
				"ref": "secrets shop/db", "labels": map[string]any{}, "annotations": map[string]any{},
				"before": map[string]any{"kind": "Secret", "data": map[string]any{"password": "<elided: 16 bytes>"}},
				"after": map[string]any{"kind": "Secret", "data": map[string]any{"password": "<elided: 16 bytes>"}, "metadata": map[string]any{
					"annotations": map[string]any{"kubectl.kubernetes.io/last-applied-configuration": got["objects"].([]any)[0].(map[string]any)["after"].(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any)["kubectl.kubernetes.io/last-applied-configuration"]}}}},
			map[string]any{"kind": "Scale", "group": "apps", "resource": "deployments", "subresource": "scale", "namespace": "shop", "name": "web",
				"ref": "deployments.apps shop/web (scale)", "labels": map[string]any{"app": "web"}, "annotations": map[string]any{"owner": "shop"},
				"before": map[string]any{"kind": "Scale", "spec": map[string]any{"replicas": float64(2)}},
				"after":  map[string]any{"kind": "Scale", "spec": map[string]any{"replicas": float64(3)}}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		a, _ := json.MarshalIndent(got, "", " ")
		b, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("input:\n%s\nwant:\n%s", a, b)
	}
	if in.Objects[0].Before["data"].(map[string]any)["password"] != secret {
		t.Error("the caller's objects were changed")
	}
}
