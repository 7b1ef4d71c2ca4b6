package mustgather

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// Clear values the fixtures hide in Secrets, in the objects that embed them, and in annotations. None
// may reach an archive the collector writes, nor any answer of the offline API server.
var clearValues = []string{
	"mw-password-7f3a91",        // a Secret in a ManifestWork's workload
	"mw-token-52c0de",           // its stringData
	"mw-applied-password-11aa",  // the ManifestWork's last-applied copy of the Secret
	"mwrs-password-9b8c7d",      // a Secret in a ManifestWorkReplicaSet's template
	"policy-password-3e4f5a",    // a Secret in a ConfigurationPolicy object-template of a Policy
	"policy-raw-token-6d7e8f",   // a Secret in an object-templates-raw
	"sa-token-eyJhbGciOiJSUzI1", // the token annotation of a ServiceAccount's dockercfg Secret
	"dockercfg-auth-0a1b2c",     // the dockercfg itself
	"applied-secret-4455ff",     // a Secret applied with kubectl apply, and its last-applied copy
	"kubeconfig-token-8899aa",   // the token of a kubeconfig Secret
}

const (
	policyNS   = "app-policies"
	spokeNS    = "spoke1"
	hubServer  = "https://api.hub.example:6443"
	publicCert = "-----BEGIN CERTIFICATE-----\nPUBLIC-CERT\n-----END CERTIFICATE-----\n"
)

// dockercfgJSON is the .dockercfg of the ServiceAccount's Secret.
var dockercfgJSON = `{"image-registry.openshift-image-registry.svc:5000":{"auth":"` + clearValues[7] + `"}}`

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func toJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func embeddedSecret(name string, data, stringData map[string]any) map[string]any {
	f := map[string]any{"type": "Opaque"}
	if data != nil {
		f["data"] = data
	}
	if stringData != nil {
		f["stringData"] = stringData
	}
	return obj("v1", "Secret", "app", name, f)
}

// deploymentApplied is a Deployment's last-applied copy: it holds no credential and is kept as is.
const deploymentApplied = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"name":"web","namespace":"app-policies"},"spec":{"replicas":2}}`

var (
	gvrWorks    = schema.GroupVersionResource{Group: "work.open-cluster-management.io", Version: "v1", Resource: "manifestworks"}
	gvrWorkSets = schema.GroupVersionResource{Group: "work.open-cluster-management.io", Version: "v1alpha1", Resource: "manifestworkreplicasets"}
	gvrPolicies = schema.GroupVersionResource{Group: "policy.open-cluster-management.io", Version: "v1", Resource: "policies"}
)

// embeddedFixtures are real-shaped objects of a hub, holding credentials where they hide.
func embeddedFixtures(t testing.TB) map[schema.GroupResource][]map[string]any {
	work := func(password, token string) map[string]any {
		return obj("work.open-cluster-management.io/v1", "ManifestWork", spokeNS, "app-creds", map[string]any{
			"spec": map[string]any{"workload": map[string]any{"manifests": []any{
				obj("v1", "Namespace", "", "app", nil),
				embeddedSecret("db-creds", map[string]any{"password": b64(password), "ca.crt": b64(publicCert)}, map[string]any{"token": token}),
			}}},
		})
	}
	mw := work(clearValues[0], clearValues[1])
	mw["metadata"].(map[string]any)["annotations"] = map[string]any{LastAppliedAnnotation: toJSON(t, work(clearValues[2], clearValues[2]))}

	kubeconfig := "apiVersion: v1\nkind: Config\nclusters:\n- name: hub\n  cluster:\n    server: " + hubServer + "\ncontexts:\n- name: hub\n  context:\n    cluster: hub\n    user: agent\ncurrent-context: hub\nusers:\n- name: agent\n  user:\n    token: " + clearValues[9] + "\n"
	dockercfg := obj("v1", "Secret", policyNS, "builder-dockercfg-x7k2p", map[string]any{
		"type": "kubernetes.io/dockercfg",
		"metadata": map[string]any{"annotations": map[string]any{
			"kubernetes.io/service-account.name": "builder",
			"openshift.io/token-secret.name":     "builder-token-abcde",
			"openshift.io/token-secret.value":    clearValues[6],
		}},
		"data": map[string]any{".dockercfg": b64(dockercfgJSON)},
	})
	appliedSecret := obj("v1", "Secret", policyNS, "applied-creds", map[string]any{
		"type": "Opaque",
		"data": map[string]any{"password": b64(clearValues[8])},
	})
	appliedSecret["metadata"].(map[string]any)["annotations"] = map[string]any{LastAppliedAnnotation: toJSON(t, obj("v1", "Secret", policyNS, "applied-creds", map[string]any{"stringData": map[string]any{"password": clearValues[8]}}))}
	raw := "- complianceType: musthave\n  objectDefinition:\n    apiVersion: v1\n    kind: Secret\n    metadata:\n      name: api-token\n      namespace: app\n    stringData:\n      token: " + clearValues[5] + "\n"
	return map[schema.GroupResource][]map[string]any{
		gvrNamespaces.GroupResource(): {obj("v1", "Namespace", "", policyNS, nil), obj("v1", "Namespace", "", spokeNS, nil)},
		gvrWorks.GroupResource():      {mw},
		gvrWorkSets.GroupResource(): {obj("work.open-cluster-management.io/v1alpha1", "ManifestWorkReplicaSet", policyNS, "app-creds-set", map[string]any{
			"spec": map[string]any{
				"placementRefs":        []any{map[string]any{"name": "all-spokes"}},
				"manifestWorkTemplate": map[string]any{"workload": map[string]any{"manifests": []any{embeddedSecret("db-creds", map[string]any{"password": b64(clearValues[3])}, nil)}}},
			},
		})},
		gvrPolicies.GroupResource(): {obj("policy.open-cluster-management.io/v1", "Policy", policyNS, "policy-db-creds", map[string]any{
			"spec": map[string]any{"remediationAction": "enforce", "disabled": false, "policy-templates": []any{
				map[string]any{"objectDefinition": obj("policy.open-cluster-management.io/v1", "ConfigurationPolicy", "", "db-creds", map[string]any{
					"spec": map[string]any{"remediationAction": "enforce", "severity": "high", "object-templates": []any{map[string]any{
						"complianceType":   "musthave",
						"objectDefinition": embeddedSecret("db-creds", map[string]any{"password": b64(clearValues[4])}, nil),
					}}},
				})},
				map[string]any{"objectDefinition": obj("policy.open-cluster-management.io/v1", "ConfigurationPolicy", "", "api-token", map[string]any{
					"spec": map[string]any{"remediationAction": "enforce", "object-templates-raw": raw},
				})},
			}},
		})},
		gvrSecrets.GroupResource(): {
			dockercfg,
			appliedSecret,
			obj("v1", "Secret", policyNS, "hub-kubeconfig-secret", map[string]any{"type": "Opaque", "data": map[string]any{
				"kubeconfig": b64(kubeconfig), "tls.crt": b64(publicCert),
			}}),
			obj("v1", "Secret", policyNS, "msa-token", map[string]any{
				"metadata": map[string]any{"labels": map[string]any{msaSecretLabel: "true"}},
				"data":     map[string]any{"token": b64(clearValues[9])},
			}),
		},
		gvrDeploys.GroupResource(): {obj("apps/v1", "Deployment", policyNS, "web", map[string]any{
			"metadata": map[string]any{"annotations": map[string]any{LastAppliedAnnotation: deploymentApplied}},
			"spec":     map[string]any{"replicas": 2},
		})},
	}
}

// LastAppliedAnnotation is kubectl apply's annotation, spelled here so that the fixtures read plainly.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// embeddedHub serves the fixtures as a hub.
func embeddedHub(t testing.TB) *fakeAPI {
	return &fakeAPI{
		resources: []fakeResource{
			{gvrNamespaces, "Namespace", false},
			{gvrWorks, "ManifestWork", true},
			{gvrWorkSets, "ManifestWorkReplicaSet", true},
			{gvrPolicies, "Policy", true},
			{gvrSecrets, "Secret", true},
			{gvrDeploys, "Deployment", true},
		},
		objects: embeddedFixtures(t),
	}
}

// assertNoClear fails when any clear value, or its base64 form, is in text.
func assertNoClear(t *testing.T, where string, text []byte) {
	t.Helper()
	for _, v := range clearValues {
		for _, form := range []string{v, b64(v)} {
			if bytes.Contains(text, []byte(form)) {
				t.Errorf("%s holds %q", where, form)
			}
		}
	}
}

// TestCollectElidesEmbeddedSecrets collects the fixtures: the archive holds no credential, wherever it
// hid, and keeps what is no credential.
func TestCollectElidesEmbeddedSecrets(t *testing.T) {
	sum, err := Collect(context.Background(), CollectOptions{
		Targets:    []Target{{Name: HubName, Hub: true, Config: embeddedHub(t).start(t)}},
		Namespaces: []string{policyNS},
		OutDir:     t.TempDir(),
		Now:        func() time.Time { return collectedAt },
	})
	if err != nil {
		t.Fatal(err)
	}
	files := archiveContents(t, sum.Path)
	var all []byte
	for name, body := range files {
		all = append(all, body...)
		assertNoClear(t, name, body)
	}
	assertNoClear(t, "the archive", all)
	hub := testArchiveRoot + "/hub/"
	tests := []struct {
		file string
		want []string // each in the file
	}{
		{"namespaces/" + spokeNS + "/work.open-cluster-management.io/manifestworks/app-creds.yaml",
			[]string{"password: 18 bytes long", "token: 15 bytes long", "ca.crt: " + b64(publicCert), LastAppliedAnnotation}},
		{"namespaces/" + policyNS + "/work.open-cluster-management.io/manifestworkreplicasets/app-creds-set.yaml", []string{"password: 20 bytes long"}},
		{"namespaces/" + policyNS + "/policy.open-cluster-management.io/policies/policy-db-creds.yaml",
			[]string{"password: 22 bytes long", "object-templates-raw: '<elided: this template holds a Secret>'"}},
		{"namespaces/" + policyNS + "/core/secrets/builder-dockercfg-x7k2p.yaml",
			[]string{"openshift.io/token-secret.value: '<elided: it holds a credential>'", "openshift.io/token-secret.name: builder-token-abcde", fmt.Sprintf(".dockercfg: %d bytes long", len(dockercfgJSON))}},
		{"namespaces/" + policyNS + "/core/secrets/applied-creds.yaml", []string{"password: 21 bytes long", LastAppliedAnnotation + ": '<elided: it holds the Secret"}},
		{"namespaces/" + policyNS + "/core/secrets/hub-kubeconfig-secret.yaml",
			[]string{KubeconfigServerAnnotation + ": " + hubServer, "tls.crt: " + b64(publicCert), "kubeconfig: "}},
		{"namespaces/" + policyNS + "/apps/deployments/web.yaml", []string{deploymentApplied}},
		{"collection-errors.txt", []string{"secret " + policyNS + "/msa-token: a ManagedServiceAccount token, never copied"}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			body, ok := files[hub+tc.file]
			if !ok {
				t.Fatalf("%s is not in the archive", tc.file)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("%s lacks %q:\n%s", tc.file, w, body)
				}
			}
		})
	}
	if _, ok := files[hub+"namespaces/"+policyNS+"/core/secrets/msa-token.yaml"]; ok {
		t.Error("the ManagedServiceAccount token Secret was written")
	}
}

// writeOCMustGather writes the fixtures as a real `oc adm must-gather` of a hub holds them: with every
// value in clear (a hand-made or older archive), in per-object files and in List files.
func writeOCMustGather(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	image := filepath.Join(dir, "hub", "must-gather.local.4242", "quay-io-stolostron-must-gather-sha256-0f0f")
	for gr, objs := range embeddedFixtures(t) {
		group := gr.Group
		if group == "" {
			group = "core"
		}
		for _, o := range objs {
			ns := str(o, "metadata", "namespace")
			name := str(o, "metadata", "name")
			var path string
			if ns == "" {
				path = filepath.Join(image, "cluster-scoped-resources", group, gr.Resource, name+".yaml")
			} else {
				path = filepath.Join(image, "namespaces", ns, group, gr.Resource, name+".yaml")
			}
			writeYAML(t, path, o)
		}
	}
	// The same Secrets as an inspect List file, whose items carry no kind.
	var items []any
	for _, o := range embeddedFixtures(t)[gvrSecrets.GroupResource()] {
		delete(o, "kind")
		delete(o, "apiVersion")
		items = append(items, o)
	}
	writeYAML(t, filepath.Join(image, "namespaces", "other", "core", "secrets.yaml"), map[string]any{"apiVersion": "v1", "kind": "List", "items": relabel(items, "other")})
	return dir
}

// relabel moves objects to another namespace.
func relabel(items []any, ns string) []any {
	for _, it := range items {
		it.(map[string]any)["metadata"].(map[string]any)["namespace"] = ns
	}
	return items
}

func writeYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestServeElidesEmbeddedSecrets serves archives offline: the collector's own, and an `oc adm
// must-gather` holding every value in clear. No answer of the API server (objects, lists, tables with
// whole objects) nor the hub view the tools read holds a credential.
func TestServeElidesEmbeddedSecrets(t *testing.T) {
	sum, err := Collect(context.Background(), CollectOptions{
		Targets:    []Target{{Name: HubName, Hub: true, Config: embeddedHub(t).start(t)}},
		Namespaces: []string{policyNS},
		OutDir:     t.TempDir(),
		Now:        func() time.Time { return collectedAt },
	})
	if err != nil {
		t.Fatal(err)
	}
	archives := []struct {
		name string
		path string
	}{
		{"collected", sum.Path},
		{"oc adm must-gather in clear", writeOCMustGather(t)},
	}
	paths := []string{
		"/apis/work.open-cluster-management.io/v1/manifestworks",
		"/apis/work.open-cluster-management.io/v1/namespaces/" + spokeNS + "/manifestworks/app-creds",
		"/apis/work.open-cluster-management.io/v1alpha1/namespaces/" + policyNS + "/manifestworkreplicasets",
		"/apis/policy.open-cluster-management.io/v1/policies",
		"/apis/policy.open-cluster-management.io/v1/namespaces/" + policyNS + "/policies/policy-db-creds",
		"/api/v1/secrets",
		"/api/v1/namespaces/other/secrets",
		"/api/v1/namespaces/" + policyNS + "/secrets/builder-dockercfg-x7k2p",
		"/api/v1/namespaces/" + policyNS + "/secrets/applied-creds",
		"/apis/apps/v1/deployments",
	}
	for _, ar := range archives {
		t.Run(ar.name, func(t *testing.T) {
			a, err := Open(ar.path, OpenOptions{WorkDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			for _, p := range paths {
				for _, accept := range []string{"application/json", "application/json;as=Table;v=v1;g=meta.k8s.io"} {
					url := Host(HubName) + p
					if strings.Contains(accept, "Table") {
						url += "?includeObject=Object"
					}
					body := get(t, a, url, accept)
					assertNoClear(t, p+" ("+accept+")", body)
				}
			}
			// What stays: lengths (Secret values are served as that many bytes, for describe), the
			// kubeconfig's server, public certificates, and a Deployment's last-applied copy.
			dockercfg := get(t, a, Host(HubName)+"/api/v1/namespaces/"+policyNS+"/secrets/builder-dockercfg-x7k2p", "application/json")
			if !strings.Contains(string(dockercfg), `".dockercfg":"`+b64(strings.Repeat("*", len(dockercfgJSON)))+`"`) {
				t.Errorf("dockercfg Secret served as %s", dockercfg)
			}
			work := get(t, a, Host(HubName)+"/apis/work.open-cluster-management.io/v1/namespaces/"+spokeNS+"/manifestworks/app-creds", "application/json")
			// Embedded Secrets are served as Secrets are, so that the kubectl engine shows their lengths.
			if !strings.Contains(string(work), `"password":"`+b64(strings.Repeat("*", 18))+`"`) || !strings.Contains(string(work), `"token":"`+strings.Repeat("*", 15)+`"`) ||
				!strings.Contains(string(work), b64(publicCert)) {
				t.Errorf("ManifestWork served as %s", work)
			}
			deploy := get(t, a, Host(HubName)+"/apis/apps/v1/namespaces/"+policyNS+"/deployments/web", "application/json")
			if !strings.Contains(string(deploy), toJSON(t, deploymentApplied)) {
				t.Errorf("the Deployment's last-applied copy was changed: %s", deploy)
			}
			src, err := a.Source()
			if err != nil {
				t.Fatal(err)
			}
			works, _ := src.ManifestWorks(context.Background(), spokeNS)
			if len(works) != 1 {
				t.Fatalf("ManifestWorks of %s: %d", spokeNS, len(works))
			}
			assertNoClear(t, "the hub view's ManifestWork", []byte(toJSON(t, works[0])))
		})
	}
}

// get asks the archive's API server for url.
func get(t *testing.T, a *Archive, url, accept string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := a.RoundTripper().RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return body
}

// archiveContents reads every regular file of a .tar.gz, uncompressed.
func archiveContents(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			body, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			out[hdr.Name] = body
		}
	}
}
