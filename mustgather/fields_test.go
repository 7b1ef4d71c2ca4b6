package mustgather

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// TestFieldSelectorValues checks field selectors against the values the API server gives the fields
// it selects on: booleans and counts an object leaves out are "false" and "0", a Job's
// status.successful is its succeeded count, an event's source falls back to its reporting
// controller, a pod's IP is its first of status.podIPs. Each selector is answered from the index, and
// from the objects when it also names a field the index does not keep.
func TestFieldSelectorValues(t *testing.T) {
	dir := writeFolder(t, map[string]string{
		"cluster-scoped-resources/core/nodes/n1.yaml": "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels:\n    k: v\n",
		"cluster-scoped-resources/core/nodes/n2.yaml": "apiVersion: v1\nkind: Node\nmetadata:\n  name: n2\n  labels:\n    k: v\nspec:\n  unschedulable: true\n",
		"namespaces/a/core/pods/p1.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p1\n  namespace: a\n  labels:\n    k: v\nspec:\n  containers:\n  - name: c\n" +
			"status:\n  podIP: 10.0.0.1\n  podIPs:\n  - ip: 10.0.0.1\n  - ip: fd00::1\n",
		"namespaces/a/core/pods/p2.yaml":        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p2\n  namespace: a\n  labels:\n    k: v\nspec:\n  hostNetwork: true\n  containers:\n  - name: c\n",
		"namespaces/a/batch/jobs/j1.yaml":       "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j1\n  namespace: a\n  labels:\n    k: v\nstatus:\n  succeeded: 2\n",
		"namespaces/a/batch/jobs/j2.yaml":       "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j2\n  namespace: a\n  labels:\n    k: v\nstatus: {}\n",
		"namespaces/a/apps/replicasets/r1.yaml": "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: r1\n  namespace: a\n  labels:\n    k: v\nstatus:\n  replicas: 1000000\n",
		"namespaces/a/apps/replicasets/r2.yaml": "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: r2\n  namespace: a\n  labels:\n    k: v\n",
		"namespaces/a/core/events/e1.yaml":      "apiVersion: v1\nkind: Event\nmetadata:\n  name: e1\n  namespace: a\n  labels:\n    k: v\nsource:\n  component: kubelet\nreportingComponent: other\ntype: Normal\n",
		"namespaces/a/core/events/e2.yaml":      "apiVersion: v1\nkind: Event\nmetadata:\n  name: e2\n  namespace: a\n  labels:\n    k: v\nreportingComponent: kubelet\ntype: Normal\n",
	})
	a, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tests := []struct {
		path, field string
		want        []string
	}{
		{"/api/v1/nodes", "spec.unschedulable=false", []string{"n1"}},
		{"/api/v1/nodes", "spec.unschedulable=true", []string{"n2"}},
		{"/api/v1/nodes", "spec.unschedulable!=false", []string{"n2"}},
		{"/api/v1/pods", "spec.hostNetwork=false", []string{"p1"}},
		{"/api/v1/pods", "spec.hostNetwork==true", []string{"p2"}},
		{"/api/v1/pods", "status.podIP=10.0.0.1", []string{"p1"}},
		{"/api/v1/pods", "status.podIP=fd00::1", nil},
		{"/api/v1/pods", "status.podIP=", []string{"p2"}},
		{"/apis/batch/v1/jobs", "status.successful=2", []string{"j1"}},
		{"/apis/batch/v1/jobs", "status.successful=0", []string{"j2"}},
		{"/apis/apps/v1/replicasets", "status.replicas=1000000", []string{"r1"}},
		{"/apis/apps/v1/replicasets", "status.replicas=0", []string{"r2"}},
		{"/api/v1/events", "source=kubelet", []string{"e1", "e2"}},
		{"/api/v1/events", "reportingComponent=kubelet", []string{"e2"}},
		{"/api/v1/events", "source=other", nil},
		{"/api/v1/namespaces/a/pods", "metadata.namespace=a,metadata.name=p2", []string{"p2"}},
		{"/api/v1/pods", "metadata.namespace=b", nil},
	}
	for _, tc := range tests {
		// The second selector names a field the index does not keep (always empty here), so that the
		// object is read and every field valued from it.
		for _, field := range []string{tc.field, tc.field + ",no.such.field="} {
			t.Run(tc.path+"?"+field, func(t *testing.T) {
				for _, table := range []bool{false, true} {
					code, p, msg := listPage(t, a, tc.path, url.Values{"fieldSelector": {field}, "labelSelector": {"k=v"}}, table)
					sort.Strings(p.names)
					if code != 200 || strings.Join(p.names, ",") != strings.Join(tc.want, ",") {
						t.Errorf("table=%v: %d %s %v, want %v", table, code, msg, p.names, tc.want)
					}
				}
			})
		}
	}
}

// page is one answer of a list request, as a list of objects or as a table.
type page struct {
	names []string
	cont  string
}

// listPage asks for one page and reads the names it holds and its continue token.
func listPage(t *testing.T, a *Archive, path string, q url.Values, table bool) (int, page, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, Host(HubName)+path+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if table {
		req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	}
	resp, err := a.RoundTripper().RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Message  string
		Metadata struct{ Continue string }
		Items    []struct{ Metadata struct{ Name string } }
		Rows     []struct {
			Object struct{ Metadata struct{ Name string } }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	p := page{cont: body.Metadata.Continue}
	for _, it := range body.Items {
		p.names = append(p.names, it.Metadata.Name)
	}
	for _, r := range body.Rows {
		p.names = append(p.names, r.Object.Metadata.Name)
	}
	return resp.StatusCode, p, body.Message
}
