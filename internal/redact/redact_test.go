package redact

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// lengths is the Values of the tests: each value becomes "<N bytes>".
type lengths struct{}

func (lengths) Data(_, b64 string) string     { return fmt.Sprintf("<%d bytes>", DecodedLen(b64)) }
func (lengths) StringData(_, s string) string { return fmt.Sprintf("<%d bytes>", len(s)) }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func secret(name string, data, stringData map[string]any) map[string]any {
	s := map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{"name": name, "namespace": "app"}}
	if data != nil {
		s["data"] = data
	}
	if stringData != nil {
		s["stringData"] = stringData
	}
	return s
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// shapes are the places a credential hides in real objects; each puts v there.
var shapes = []struct {
	name string
	make func(v string) map[string]any
}{
	{"Secret data", func(v string) map[string]any {
		return secret("db", map[string]any{"password": b64(v)}, nil)
	}},
	{"Secret stringData", func(v string) map[string]any {
		return secret("db", nil, map[string]any{"password": v})
	}},
	{"ManifestWork workload", func(v string) map[string]any {
		return map[string]any{"apiVersion": "work.open-cluster-management.io/v1", "kind": "ManifestWork",
			"metadata": map[string]any{"name": "db", "namespace": "spoke1"},
			"spec": map[string]any{"workload": map[string]any{"manifests": []any{
				map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "app"}},
				secret("db", map[string]any{"password": b64(v)}, map[string]any{"token": v}),
			}}}}
	}},
	{"ManifestWorkReplicaSet template", func(v string) map[string]any {
		return map[string]any{"apiVersion": "work.open-cluster-management.io/v1alpha1", "kind": "ManifestWorkReplicaSet",
			"metadata": map[string]any{"name": "db", "namespace": "policies"},
			"spec": map[string]any{
				"placementRefs":        []any{map[string]any{"name": "all"}},
				"manifestWorkTemplate": map[string]any{"workload": map[string]any{"manifests": []any{secret("db", map[string]any{"password": b64(v)}, nil)}}},
			}}
	}},
	{"Policy object-templates", func(v string) map[string]any {
		return map[string]any{"apiVersion": "policy.open-cluster-management.io/v1", "kind": "Policy",
			"metadata": map[string]any{"name": "db", "namespace": "policies"},
			"spec": map[string]any{"remediationAction": "enforce", "policy-templates": []any{map[string]any{
				"objectDefinition": map[string]any{"apiVersion": "policy.open-cluster-management.io/v1", "kind": "ConfigurationPolicy",
					"metadata": map[string]any{"name": "db"},
					"spec": map[string]any{"object-templates": []any{map[string]any{
						"complianceType":   "musthave",
						"objectDefinition": secret("db", map[string]any{"password": b64(v)}, nil),
					}}}},
			}}}}
	}},
	{"Policy object-templates-raw", func(v string) map[string]any {
		raw := "- complianceType: musthave\n  objectDefinition:\n    apiVersion: v1\n    kind: Secret\n    metadata:\n      name: db\n    stringData:\n      password: " + v + "\n"
		return map[string]any{"apiVersion": "policy.open-cluster-management.io/v1", "kind": "ConfigurationPolicy",
			"metadata": map[string]any{"name": "db", "namespace": "spoke1"},
			"spec":     map[string]any{"object-templates-raw": raw}}
	}},
	{"dockercfg Secret token annotation", func(v string) map[string]any {
		s := secret("builder-dockercfg-x7k2p", map[string]any{".dockercfg": b64(`{"registry":{"auth":"` + v + `"}}`)}, nil)
		s["type"] = "kubernetes.io/dockercfg"
		s["metadata"].(map[string]any)["annotations"] = map[string]any{
			"kubernetes.io/service-account.name": "builder",
			"openshift.io/token-secret.name":     "builder-token-abcde",
			"openshift.io/token-secret.value":    v,
		}
		return s
	}},
	{"token annotation on another kind", func(v string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "x", "annotations": map[string]any{"openshift.io/token-secret.value": v}}}
	}},
	{"Secret last-applied", func(v string) map[string]any {
		s := secret("db", map[string]any{"password": b64(v)}, nil)
		s["metadata"].(map[string]any)["annotations"] = map[string]any{LastApplied: mustJSON(secret("db", nil, map[string]any{"password": v}))}
		return s
	}},
	{"ManifestWork last-applied", func(v string) map[string]any {
		w := map[string]any{"apiVersion": "work.open-cluster-management.io/v1", "kind": "ManifestWork",
			"metadata": map[string]any{"name": "db", "namespace": "spoke1"},
			"spec":     map[string]any{"workload": map[string]any{"manifests": []any{secret("db", nil, map[string]any{"password": "x"})}}}}
		applied := mustJSON(map[string]any{"apiVersion": "work.open-cluster-management.io/v1", "kind": "ManifestWork",
			"metadata": map[string]any{"name": "db", "namespace": "spoke1"},
			"spec":     map[string]any{"workload": map[string]any{"manifests": []any{secret("db", nil, map[string]any{"password": v})}}}})
		w["metadata"].(map[string]any)["annotations"] = map[string]any{LastApplied: applied}
		return w
	}},
	{"last-applied that does not parse", func(v string) map[string]any {
		return map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "web", "annotations": map[string]any{LastApplied: `{"kind":"Secret","data":{"password":"` + b64(v)}}}
	}},
	{"last-applied that does not parse, with a token annotation", func(v string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "ServiceAccount",
			"metadata": map[string]any{"name": "builder", "annotations": map[string]any{LastApplied: `{"metadata":{"annotations":{"openshift.io/token-secret.value":"` + v}}}
	}},
	{"List of Secrets", func(v string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "List", "items": []any{secret("db", map[string]any{"password": b64(v)}, nil)}}
	}},
	{"SecretList items without a kind", func(v string) map[string]any {
		item := secret("db", map[string]any{"password": b64(v)}, nil)
		delete(item, "kind")
		delete(item, "apiVersion")
		return map[string]any{"apiVersion": "v1", "kind": "SecretList", "items": []any{item}}
	}},
	{"Secret data that is not a map", func(v string) map[string]any {
		s := secret("db", nil, nil)
		s["data"] = b64(v)
		return s
	}},
}

// TestDocShapes checks each shape: the value is gone, and what stays says what was there.
func TestDocShapes(t *testing.T) {
	const clear = "s3cr3t-clear-value-0xC0FFEE"
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			doc := sh.make(clear)
			if !Doc(doc, lengths{}, Options{}) {
				t.Error("Doc reports no change")
			}
			out := mustJSON(doc)
			for _, form := range []string{clear, b64(clear)} {
				if strings.Contains(out, form) {
					t.Errorf("%q survived: %s", form, out)
				}
			}
		})
	}
}

func TestDocKeeps(t *testing.T) {
	deploy := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"app"},"spec":{"replicas":2}}`
	tests := []struct {
		name string
		doc  map[string]any
		opts Options
		// check reads the document after Doc.
		check func(t *testing.T, doc map[string]any)
	}{
		{"a Deployment's last-applied holds no credential", map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "web", "annotations": map[string]any{LastApplied: deploy}}},
			Options{}, func(t *testing.T, doc map[string]any) {
				if got := doc["metadata"].(map[string]any)["annotations"].(map[string]any)[LastApplied]; got != deploy {
					t.Errorf("last-applied changed: %v", got)
				}
			}},
		{"public certificates are kept", secret("tls", map[string]any{"tls.crt": b64("CERT"), "tls.key": b64("KEY")}, nil),
			Options{Keep: func(k string) bool { return k == "tls.crt" }}, func(t *testing.T, doc map[string]any) {
				data := doc["data"].(map[string]any)
				if data["tls.crt"] != b64("CERT") || data["tls.key"] != "<3 bytes>" {
					t.Errorf("data %v", data)
				}
			}},
		{"values become their length", secret("db", map[string]any{"password": b64("12345")}, map[string]any{"token": "abc"}),
			Options{}, func(t *testing.T, doc map[string]any) {
				if d, s := doc["data"].(map[string]any)["password"], doc["stringData"].(map[string]any)["token"]; d != "<5 bytes>" || s != "<3 bytes>" {
					t.Errorf("data %v, stringData %v", d, s)
				}
			}},
		{"a ConfigMap's data is no Secret", map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cm"}, "data": map[string]any{"k": "v"}},
			Options{}, func(t *testing.T, doc map[string]any) {
				if doc["data"].(map[string]any)["k"] != "v" {
					t.Errorf("data %v", doc["data"])
				}
			}},
		{"a kind-less list item is a Secret in a Secret context", map[string]any{"items": []any{map[string]any{"metadata": map[string]any{"name": "db"}, "data": map[string]any{"k": b64("value")}}}},
			Options{SecretContext: true}, func(t *testing.T, doc map[string]any) {
				if got := doc["items"].([]any)[0].(map[string]any)["data"].(map[string]any)["k"]; got != "<5 bytes>" {
					t.Errorf("data %v", got)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			Doc(tc.doc, lengths{}, tc.opts)
			tc.check(t, tc.doc)
		})
	}
}

// FuzzRedactEmbedded places a value chosen by the fuzzer into every shape a credential takes: after
// Doc, the document may depend on the value only through its length (so the value cannot be in it),
// and Doc may not panic. `go test -fuzz FuzzRedactEmbedded ./internal/redact` searches on.
func FuzzRedactEmbedded(f *testing.F) {
	for _, seed := range []string{"", "x", "Secret", "hunter2", "bytes", "<elided>", "\x00\xff", strings.Repeat("a", 300), `"}],"kind":"Secret`, "\n  kind: ConfigMap\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		// Documents come from JSON, whose strings are UTF-8: what decoding would make of the value.
		v = strings.ToValidUTF8(v, "\uFFFD")
		same := strings.Repeat("x", len(v))
		for _, sh := range shapes {
			got, want := sh.make(v), sh.make(same)
			Doc(got, lengths{}, Options{})
			Doc(want, lengths{}, Options{})
			if g, w := mustJSON(got), mustJSON(want); g != w {
				t.Fatalf("%s: the result depends on the value, not only on its length:\n got %s\nwant %s", sh.name, g, w)
			}
			if len(v) >= 6 && !strings.Contains(mustJSON(want), v) && strings.Contains(mustJSON(got), v) {
				t.Fatalf("%s: %q survived", sh.name, v)
			}
		}
	})
}

// FuzzRedactDoc walks arbitrary JSON documents: Doc may not panic, and no object of kind Secret may keep
// a value it did not elide.
func FuzzRedactDoc(f *testing.F) {
	for _, sh := range shapes {
		f.Add([]byte(mustJSON(sh.make("hunter2"))), false)
	}
	f.Add([]byte(`{"items":[{"metadata":{},"data":{"k":"dg=="}}]}`), true)
	f.Add([]byte(`[[[[[[[[[[{"kind":"Secret","data":{"a":1}}]]]]]]]]]]`), false)
	f.Fuzz(func(t *testing.T, raw []byte, secretContext bool) {
		var doc any
		if json.Unmarshal(raw, &doc) != nil {
			return
		}
		Doc(doc, lengths{}, Options{SecretContext: secretContext})
		checkElided(t, doc, 0)
	})
}

// checkElided fails on a kind Secret object that still holds a value Doc did not write.
func checkElided(t *testing.T, v any, depth int) {
	switch x := v.(type) {
	case map[string]any:
		if x["kind"] == "Secret" {
			for _, key := range []string{"data", "stringData"} {
				switch d := x[key].(type) {
				case nil:
				case map[string]any:
					for k, val := range d {
						if s, ok := val.(string); !ok || !strings.HasPrefix(s, "<") || !strings.HasSuffix(s, " bytes>") {
							t.Fatalf("Secret %s[%q] kept %v", key, k, val)
						}
					}
				case string:
					if d != ElidedValue {
						t.Fatalf("Secret %s kept %q", key, d)
					}
				default:
					t.Fatalf("Secret %s kept %v", key, d)
				}
			}
		}
		for _, c := range x {
			checkElided(t, c, depth+1)
		}
	case []any:
		for _, c := range x {
			checkElided(t, c, depth+1)
		}
	}
}
