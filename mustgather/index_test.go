package mustgather

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// indexFixture is a cluster whose pods differ in every field the index keeps, and in one it does not
// (spec.priorityClassName), with events, a List file, a file that does not parse and a pod whose
// row is too large for the index to keep.
func indexFixture(t *testing.T) string {
	t.Helper()
	pod := func(ns, name, app, node, phase, prio string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: %s\n  creationTimestamp: \"2026-01-02T03:00:00Z\"\n  labels:\n    app: %s\nspec:\n  nodeName: %s\n  priorityClassName: %s\n  containers:\n  - name: c\nstatus:\n  phase: %s\n",
			name, ns, app, node, prio, phase)
	}
	files := map[string]string{
		"namespaces/a/core/pods/p1.yaml": pod("a", "p1", "web", "n1", "Running", "high"),
		"namespaces/a/core/pods/p2.yaml": pod("a", "p2", "db", "n2", "Pending", "low"),
		"namespaces/b/core/pods/p3.yaml": pod("b", "p3", "web", "n2", "Running", "low"),
		"namespaces/b/core/pods/p4.yaml": pod("b", "p4", "web", "n1", "Failed", "high"),
		"namespaces/b/core/pods/p5.yaml": strings.Replace(pod("b", "p5", "big", "n3", "Running", "low"),
			"  labels:", "  annotations:\n    note: "+strings.Repeat("z", 2*maxKeptRow)+"\n  labels:", 1),
		"namespaces/b/core/pods/bad.yaml":   "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\n  namespace: b\nspec: [unclosed\n",
		"namespaces/a/core/events/e1.yaml":  "apiVersion: v1\nkind: Event\nmetadata:\n  name: e1\n  namespace: a\ninvolvedObject:\n  kind: Pod\n  name: p1\n  namespace: a\nreason: BackOff\ntype: Warning\n",
		"namespaces/a/core/events/e2.yaml":  "apiVersion: v1\nkind: Event\nmetadata:\n  name: e2\n  namespace: a\ninvolvedObject:\n  kind: Pod\n  name: p1\n  namespace: a\nreason: Pulled\ntype: Normal\n",
		"namespaces/a/core/configmaps.yaml": "apiVersion: v1\nkind: ConfigMapList\nitems:\n- metadata:\n    name: cm1\n    namespace: a\n- metadata:\n    name: cm2\n    namespace: a\n",
	}
	return writeFolder(t, files)
}

func TestIndexAnswers(t *testing.T) {
	tests := []struct {
		name, path, label, field string
		want                     []string
	}{
		{"every pod", "/api/v1/pods", "", "", []string{"p1", "p2", "p3", "p4", "p5"}},
		{"one namespace", "/api/v1/namespaces/b/pods", "", "", []string{"p3", "p4", "p5"}},
		{"an indexed field", "/api/v1/pods", "", "spec.nodeName=n1", []string{"p1", "p4"}},
		{"not equal", "/api/v1/pods", "", "status.phase!=Running", []string{"p2", "p4"}},
		{"the name", "/api/v1/pods", "", "metadata.name=p2", []string{"p2"}},
		{"the namespace", "/api/v1/pods", "", "metadata.namespace=a", []string{"p1", "p2"}},
		{"a field the index does not keep", "/api/v1/pods", "", "spec.priorityClassName=high", []string{"p1", "p4"}},
		{"labels and fields", "/api/v1/namespaces/b/pods", "app=web", "spec.nodeName=n2", []string{"p3"}},
		{"an absent value", "/api/v1/pods", "", "status.podIP=", []string{"p1", "p2", "p3", "p4", "p5"}},
		{"events of an object", "/api/v1/events", "", "involvedObject.name=p1,type=Warning", []string{"e1"}},
		{"a List file", "/api/v1/namespaces/a/configmaps", "", "", []string{"cm1", "cm2"}},
		{"nothing", "/api/v1/pods", "app=none", "", nil},
	}
	for _, mode := range []struct {
		name string
		wait int
	}{{"decoded at open", 0}, {"decoded in the background", -1}} {
		t.Run(mode.name, func(t *testing.T) {
			a, err := Open(indexFixture(t), OpenOptions{waitObjects: mode.wait})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					q := url.Values{}
					if tc.label != "" {
						q.Set("labelSelector", tc.label)
					}
					if tc.field != "" {
						q.Set("fieldSelector", tc.field)
					}
					u := Host(HubName) + tc.path + "?" + q.Encode()
					var list struct {
						Items []struct {
							Metadata struct{ Name string }
						}
					}
					if err := json.Unmarshal(get(t, a, u, "application/json"), &list); err != nil {
						t.Fatal(err)
					}
					var objs []string
					for _, it := range list.Items {
						objs = append(objs, it.Metadata.Name)
					}
					var table struct {
						ColumnDefinitions []struct{ Name string }
						Rows              []struct{ Cells []any }
					}
					if err := json.Unmarshal(get(t, a, u, "application/json;as=Table;v=v1;g=meta.k8s.io"), &table); err != nil {
						t.Fatal(err)
					}
					col := 0
					for i, d := range table.ColumnDefinitions {
						if d.Name == "Name" {
							col = i
						}
					}
					var rows []string
					for _, r := range table.Rows {
						rows = append(rows, fmt.Sprint(r.Cells[col]))
					}
					sort.Strings(objs)
					sort.Strings(rows)
					if fmt.Sprint(objs) != fmt.Sprint(tc.want) || fmt.Sprint(rows) != fmt.Sprint(tc.want) {
						t.Errorf("objects %v, rows %v, want %v", objs, rows, tc.want)
					}
				})
			}
			if err := a.Indexed(context.Background()); err != nil {
				t.Fatal(err)
			}
			if notes := a.Clusters[HubName].Skipped(); len(notes) != 1 || !strings.Contains(notes[0], "pods/bad.yaml is not valid YAML") {
				t.Errorf("notes %q, want one about bad.yaml", notes)
			}
		})
	}
}

// TestIndexTableRows checks what table rows carry: metadata (also for a row too large for the index
// to keep), the whole object, or nothing.
func TestIndexTableRows(t *testing.T) {
	a, err := Open(indexFixture(t), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tests := []struct {
		include, name string
		want          string // in the row's object
	}{
		{"", "p1", `"kind":"PartialObjectMetadata","metadata":{"creationTimestamp":"2026-01-02T03:00:00Z","labels":{"app":"web"}`},
		{"Metadata", "p5", `"note":"zzz`},
		{"Object", "p1", `"priorityClassName":"high"`},
		{"None", "p1", `null`},
	}
	for _, tc := range tests {
		t.Run(tc.include+" "+tc.name, func(t *testing.T) {
			u := Host(HubName) + "/api/v1/pods?fieldSelector=metadata.name%3D" + tc.name + "&includeObject=" + tc.include
			var table struct {
				Rows []struct {
					Cells  []any
					Object json.RawMessage
				}
			}
			if err := json.Unmarshal(get(t, a, u, "application/json;as=Table;v=v1;g=meta.k8s.io"), &table); err != nil {
				t.Fatal(err)
			}
			if len(table.Rows) != 1 || table.Rows[0].Cells[0] != tc.name || !strings.Contains(string(table.Rows[0].Object), tc.want) {
				t.Errorf("rows %+v, want one of %s with %s", table.Rows, tc.name, tc.want)
			}
		})
	}
}

func TestSpill(t *testing.T) {
	tests := []struct {
		name  string
		spill *spill
	}{
		{"in a file", openSpill(t.TempDir())},
		{"in memory, when the file cannot be made", openSpill(filepath.Join(t.TempDir(), "missing"))},
		{"in memory, after a write error", &spill{err: errors.New("disk full")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.spill.close()
			var refs []spillRef
			for i := 0; i < 3; i++ {
				refs = append(refs, tc.spill.put([]byte(fmt.Sprintf(`{"n":%d}`, i))))
			}
			for i, r := range refs {
				data, err := tc.spill.get(r)
				if err != nil || string(data) != fmt.Sprintf(`{"n":%d}`, i) {
					t.Errorf("object %d: %q, %v", i, data, err)
				}
			}
		})
	}
}
