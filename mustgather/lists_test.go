package mustgather

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// get asks the archive's API server for a path of a cluster and returns the code, the decoded body
// and the Warning headers.
func apiGet(t *testing.T, a *Archive, cluster, path string) (int, map[string]any, []string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, Host(cluster)+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.RoundTripper().RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("%s: %v: %s", path, err, data)
	}
	return resp.StatusCode, body, resp.Header.Values("Warning")
}

// TestEmptyListsAndBadFiles: an empty List file says the type exists with no objects in that
// namespace; a file that is not valid YAML is skipped, said in a warning on the answers about its
// resource and in the cluster's notes, and the rest of the cluster answers.
func TestEmptyListsAndBadFiles(t *testing.T) {
	dir := writeFolder(t, map[string]string{
		"namespaces/app/app.yaml":                         "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n",
		"namespaces/app/core/configmaps.yaml":             "apiVersion: v1\nitems: []\nkind: ConfigMapList\nmetadata:\n  resourceVersion: \"\"\n",
		"namespaces/app/apps/statefulsets.yaml":           "apiVersion: apps/v1\nitems: null\nkind: StatefulSetList\n",
		"namespaces/app/policy/poddisruptionbudgets.yaml": "apiVersion: v1\nitems: []\nkind: List\n",
		"namespaces/app/example.com/widgets.yaml":         "apiVersion: example.com/v1\nitems: []\nkind: WidgetList\n",
		"namespaces/app/core/services.yaml":               "apiVersion: v1\nkind: ServiceList\nitems:\n- metadata: {name: web\n  namespace: app\n",
		"namespaces/app/core/secrets/ok.yaml":             "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ok\n  namespace: app\ntype: Opaque\n",
		"namespaces/app/core/secrets/broken.yaml":         "apiVersion: v1\nkind: Secret\nmetadata:\n  name: broken\n  namespace: app\ndata:\n  a: [unclosed\n",
	})
	a, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatalf("one bad file fails the whole archive: %v", err)
	}
	defer a.Close()
	c := a.Clusters["hub"]

	tests := []struct {
		path     string
		code     int
		items    int
		warnings []string // each must appear in some Warning header
	}{
		{"/api/v1/namespaces/app/configmaps", 200, 0, nil},
		{"/apis/apps/v1/namespaces/app/statefulsets", 200, 0, nil},
		{"/apis/policy/v1/namespaces/app/poddisruptionbudgets", 200, 0, nil},
		{"/apis/example.com/v1/namespaces/app/widgets", 200, 0, nil},
		{"/apis/example.com/v1/widgets", 200, 0, nil},
		{"/api/v1/namespaces/app/services", 200, 0, []string{"namespaces/app/core/services.yaml", "skipped"}},
		{"/api/v1/namespaces/app/secrets", 200, 1, []string{"namespaces/app/core/secrets/broken.yaml"}},
		{"/api/v1/namespaces/app/pods", 200, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			code, body, warnings := apiGet(t, a, "hub", tc.path)
			items, _ := body["items"].([]any)
			if code != tc.code || len(items) != tc.items {
				t.Fatalf("code %d, %d items, want %d and %d: %v", code, len(items), tc.code, tc.items, body)
			}
			all := strings.Join(warnings, "\n")
			for _, w := range tc.warnings {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q lack %q", warnings, w)
				}
			}
			if len(tc.warnings) == 0 && len(warnings) > 0 {
				t.Errorf("unexpected warnings %q", warnings)
			}
			if strings.Contains(all, dir) {
				t.Errorf("a warning shows a path of the server's machine: %q", warnings)
			}
			for _, w := range warnings {
				if !strings.HasPrefix(w, `299 - "`) {
					t.Errorf("warning %q is not in the form the API server sends", w)
				}
			}
		})
	}
	// Discovery knows the kinds of the empty lists, with the kind the List names.
	_, body, _ := apiGet(t, a, "hub", "/apis/example.com/v1")
	if !strings.Contains(mustJSON(t, body), `"kind":"Widget"`) {
		t.Errorf("discovery of the empty list's group: %v", body)
	}
	notes := strings.Join(c.Skipped(), "\n")
	for _, w := range []string{"namespaces/app/core/services.yaml", "namespaces/app/core/secrets/broken.yaml"} {
		if !strings.Contains(notes, w) {
			t.Errorf("cluster notes %q lack %s", notes, w)
		}
	}
	if strings.Contains(notes, dir) {
		t.Errorf("notes show a path of the server's machine: %q", notes)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
