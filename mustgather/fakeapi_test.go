package mustgather

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// fakeResource is one resource the fake API server discovers and lists.
type fakeResource struct {
	gvr        schema.GroupVersionResource
	kind       string
	namespaced bool
}

// fakeAPI poses as a cluster's kube-apiserver for the collector: version, discovery (the legacy
// documents, which client-go falls back to when the server does not offer aggregated discovery), get
// and list of the objects it holds (with the field selectors the collector sends), and pod logs. What
// it serves is given as is, hostile names included, the way a compromised spoke could answer.
type fakeAPI struct {
	resources []fakeResource
	// objects by group/resource; each is served as given.
	objects map[schema.GroupResource][]map[string]any
	// log is the text of every container's current log; previous logs exist when previousLog is set.
	log, previousLog string
}

// start serves the fake API and returns a config to read it.
func (f *fakeAPI) start(t *testing.T) *rest.Config {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL, QPS: -1}
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	notFound := func() {
		reply(http.StatusNotFound, map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404, "message": r.URL.Path + " not found"})
	}
	p := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/version":
		reply(http.StatusOK, map[string]string{"major": "1", "minor": "30", "gitVersion": "v1.30.0"})
		return
	case r.URL.Path == "/api":
		reply(http.StatusOK, map[string]any{"kind": "APIVersions", "versions": []string{"v1"}})
		return
	case r.URL.Path == "/apis":
		reply(http.StatusOK, f.groupList())
		return
	case len(p) == 2 && p[0] == "api":
		reply(http.StatusOK, f.resourceList(schema.GroupVersion{Version: p[1]}))
		return
	case len(p) == 3 && p[0] == "apis":
		reply(http.StatusOK, f.resourceList(schema.GroupVersion{Group: p[1], Version: p[2]}))
		return
	}
	var gv schema.GroupVersion
	switch {
	case len(p) >= 3 && p[0] == "api":
		gv, p = schema.GroupVersion{Version: p[1]}, p[2:]
	case len(p) >= 4 && p[0] == "apis":
		gv, p = schema.GroupVersion{Group: p[1], Version: p[2]}, p[3:]
	default:
		notFound()
		return
	}
	ns := ""
	if len(p) >= 3 && p[0] == "namespaces" {
		ns, p = p[1], p[2:]
	}
	res := f.find(gv, p[0])
	if res == nil {
		notFound()
		return
	}
	switch {
	case len(p) == 1:
		sel, err := fields.ParseSelector(r.URL.Query().Get("fieldSelector"))
		if err != nil {
			reply(http.StatusBadRequest, map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "BadRequest", "code": 400, "message": err.Error()})
			return
		}
		items := []any{}
		for _, o := range f.objects[res.gvr.GroupResource()] {
			if (ns == "" || str(o, "metadata", "namespace") == ns) && matchFields(res.gvr.GroupResource(), o, sel) {
				items = append(items, o)
			}
		}
		reply(http.StatusOK, map[string]any{"apiVersion": gv.String(), "kind": res.kind + "List", "metadata": map[string]any{"resourceVersion": "1"}, "items": items})
	case len(p) == 2:
		for _, o := range f.objects[res.gvr.GroupResource()] {
			if str(o, "metadata", "namespace") == ns && str(o, "metadata", "name") == p[1] {
				reply(http.StatusOK, o)
				return
			}
		}
		notFound()
	case len(p) == 3 && p[0] == "pods" && p[2] == "log":
		text := f.log
		if r.URL.Query().Get("previous") == "true" {
			if f.previousLog == "" {
				reply(http.StatusBadRequest, map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "BadRequest", "code": 400, "message": "previous terminated container not found"})
				return
			}
			text = f.previousLog
		}
		// As the kubelet does: tailLines picks the last lines, then limitBytes keeps the first bytes of them.
		if n, err := strconv.Atoi(r.URL.Query().Get("tailLines")); err == nil {
			lines := strings.SplitAfter(text, "\n")
			if lines[len(lines)-1] == "" {
				lines = lines[:len(lines)-1]
			}
			text = strings.Join(lines[max(len(lines)-n, 0):], "")
		}
		if n, err := strconv.Atoi(r.URL.Query().Get("limitBytes")); err == nil && n < len(text) {
			text = text[:n]
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(text))
	default:
		notFound()
	}
}

func (f *fakeAPI) find(gv schema.GroupVersion, resource string) *fakeResource {
	for i := range f.resources {
		if f.resources[i].gvr.GroupVersion() == gv && f.resources[i].gvr.Resource == resource {
			return &f.resources[i]
		}
	}
	return nil
}

func (f *fakeAPI) groupList() map[string]any {
	seen := map[string]bool{}
	var groups []any
	var names []string
	for _, r := range f.resources {
		if r.gvr.Group != "" && !seen[r.gvr.GroupVersion().String()] {
			seen[r.gvr.GroupVersion().String()] = true
			names = append(names, r.gvr.GroupVersion().String())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		gv, _ := schema.ParseGroupVersion(n)
		v := map[string]any{"groupVersion": n, "version": gv.Version}
		groups = append(groups, map[string]any{"name": gv.Group, "versions": []any{v}, "preferredVersion": v})
	}
	return map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
}

func (f *fakeAPI) resourceList(gv schema.GroupVersion) map[string]any {
	list := []any{}
	for _, r := range f.resources {
		if r.gvr.GroupVersion() != gv {
			continue
		}
		list = append(list, map[string]any{
			"name": r.gvr.Resource, "singularName": strings.ToLower(r.kind), "namespaced": r.namespaced,
			"kind": r.kind, "verbs": []string{"get", "list"},
		})
	}
	return map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv.String(), "resources": list}
}

// obj builds an object of a kind with a namespace (empty for cluster-scoped objects) and a name.
func obj(apiVersion, kind, ns, name string, fields map[string]any) map[string]any {
	md := map[string]any{"name": name}
	if ns != "" {
		md["namespace"] = ns
	}
	o := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": md}
	for k, v := range fields {
		if k == "metadata" {
			for mk, mv := range v.(map[string]any) {
				md[mk] = mv
			}
			continue
		}
		o[k] = v
	}
	return o
}

// core, apps and rbac resources the fake servers discover.
var (
	gvrNamespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	gvrNodes      = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	gvrEvents     = schema.GroupVersionResource{Version: "v1", Resource: "events"}
	gvrPods       = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrConfigMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	gvrSecrets    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	gvrRoles      = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
	gvrDeploys    = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)
