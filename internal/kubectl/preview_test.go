package kubectl

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func plan(t *testing.T, line string) *Plan {
	t.Helper()
	return planFor(t, WriteTool, line)
}

// planFor splits and checks a command line for a tool, as the tools do.
func planFor(t testing.TB, tool Tool, line string) *Plan {
	t.Helper()
	words, err := Split(line)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Check(words, tool, false)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return p
}

func TestPreviewPlan(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		line, want, wantErr string
		destructive         bool
	}{
		{line: "scale deploy/web -n shop --replicas=3", want: "scale deploy/web -n shop --replicas=3 --dry-run=server"},
		{line: "scale deploy/web -n shop --replicas=0", want: "--dry-run=server", destructive: true},
		{line: "label ns x a=b", want: "label ns x a=b --dry-run=server"},
		{line: "delete deploy/web -n shop", want: "--dry-run=server", destructive: true},
		{line: "drain node-1 --ignore-daemonsets", want: "drain node-1 --ignore-daemonsets --timeout=25s --dry-run=server", destructive: true},
		{line: "cordon node-1", want: "cordon node-1 --dry-run=server", destructive: true},
		{line: "rollout undo deploy/web", want: "rollout undo deploy/web --dry-run=server", destructive: true},
		{line: "rollout restart deploy/web -n shop", want: `patch deploy/web -n shop --type=merge -p {"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-02T03:04:05Z"}}}}} --dry-run=server`},
		{line: "rollout pause deploy/web", want: `patch deploy/web --type=merge -p {"spec":{"paused":true}} --dry-run=server`},
		{line: "rollout resume deploy/web", want: `patch deploy/web --type=merge -p {"spec":{"paused":false}} --dry-run=server`},
		{line: "rollout restart deploy -l app=web", wantErr: "label selector"},
	} {
		p := plan(t, tc.line)
		if Destructive(p) != tc.destructive {
			t.Errorf("%s: destructive=%v", tc.line, Destructive(p))
		}
		q, err := previewPlan(p, now)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: %v", tc.line, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.line, err)
		}
		if got := strings.Join(q.Args, " "); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.line, got, tc.want)
		}
		if strings.Join(p.Args, " ") == strings.Join(q.Args, " ") {
			t.Errorf("%s: the plan itself was changed", tc.line)
		}
	}
	if !HasDryRun(plan(t, "scale deploy/web --replicas=1 --dry-run=server")) || HasDryRun(plan(t, "scale deploy/web --replicas=1 --dry-run=none")) {
		t.Error("HasDryRun")
	}
}

func TestDiff(t *testing.T) {
	dep := func(replicas int, rv string) map[string]any {
		return map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{
			"name": "web", "namespace": "shop", "resourceVersion": rv, "generation": 4,
			"managedFields": []any{map[string]any{"manager": "kubectl"}},
			"annotations":   map[string]any{"kubectl.kubernetes.io/last-applied-configuration": "{}"},
		}, "spec": map[string]any{"replicas": replicas}}
	}
	path := "/apis/apps/v1/namespaces/shop/deployments/web"
	for _, tc := range []struct {
		name    string
		changes []Change
		want    []string
		not     []string
	}{
		{"changed", []Change{{Path: path, Before: dep(2, "1"), After: dep(3, "2")}},
			[]string{"~ deployments.apps shop/web\n", "-  replicas: 2", "+  replicas: 3"}, []string{"managedFields", "resourceVersion", "generation", "last-applied", "---", "+++"}},
		{"removed", []Change{{Path: path + "/eviction", Before: dep(2, "1")}}, []string{"- deployments.apps shop/web (eviction) would be removed"}, nil},
		{"created", []Change{{Path: "/api/v1/namespaces/x", After: map[string]any{"kind": "Namespace"}}}, []string{"+ namespaces x would be created", "+kind: Namespace"}, nil},
		{"same", []Change{{Path: path, Before: dep(2, "1"), After: dep(2, "2")}}, []string{"= deployments.apps shop/web unchanged"}, nil},
		{"none", nil, []string{"No object would change."}, nil},
	} {
		got := Preview{Changes: tc.changes}.Diff()
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: lacks %q:\n%s", tc.name, w, got)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: shows %q:\n%s", tc.name, n, got)
			}
		}
	}
}

// TestRecorder: a change without dry run never leaves; a dry-run change is recorded before and after.
func TestRecorder(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(sent)
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent = append(sent, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/missing"):
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"kind":"Status","message":"not found"}`)
		case r.Method == http.MethodGet:
			_, _ = io.WriteString(w, `{"kind":"Scale","metadata":{"resourceVersion":"7"},"spec":{"replicas":2}}`)
		default:
			_, _ = io.WriteString(w, `{"kind":"Scale","metadata":{"resourceVersion":"7"},"spec":{"replicas":3}}`)
		}
	}))
	defer api.Close()
	rec := newRecording()
	rt := rec.wrap(http.DefaultTransport)
	do := func(method, path, query, body string) error {
		req, _ := http.NewRequest(method, api.URL+path+"?"+query, strings.NewReader(body))
		resp, err := rt.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	scale := "/apis/apps/v1/namespaces/shop/deployments/web/scale"
	var refused *RefusedError
	if err := do(http.MethodPatch, scale, "", `{}`); !errors.As(err, &refused) {
		t.Fatalf("a change without dry run: %v", err)
	}
	if count() != 0 {
		t.Fatalf("a change without dry run was sent (%d requests)", count())
	}
	if err := do(http.MethodPatch, scale, "dryRun=All", `{}`); err != nil {
		t.Fatal(err)
	}
	if err := do(http.MethodPost, "/api/v1/namespaces/shop/configmaps", "dryRun=All", `{"metadata":{"name":"missing"}}`); err != nil {
		t.Fatal(err)
	}
	pod := "/api/v1/namespaces/shop/pods/web-1"
	for _, tc := range []struct{ method, path, query, body string }{
		{http.MethodDelete, pod, "", `{"kind":"DeleteOptions"}`},
		{http.MethodPost, pod + "/eviction", "", `{"kind":"Eviction","dryRun":["All"]}`},
		{http.MethodPatch, pod, "", `{"dryRun":["All"],"metadata":{"labels":{"a":"b"}}}`},
	} {
		if err := do(tc.method, tc.path, tc.query, tc.body); !errors.As(err, &refused) {
			t.Errorf("%s %s %s without dry run: %v", tc.method, tc.path, tc.body, err)
		}
	}
	if count() != 4 { // the two dry runs above, each read first
		t.Fatalf("a change without dry run was sent (%d requests)", count())
	}
	if err := do(http.MethodPost, pod+"/eviction", "", `{"kind":"Eviction","deleteOptions":{"dryRun":["All"]}}`); err != nil {
		t.Fatal(err)
	}
	if err := do(http.MethodDelete, "/api/v1/namespaces/shop/pods/web-2", "", `{"kind":"DeleteOptions","dryRun":["All"]}`); err != nil {
		t.Fatal(err)
	}
	got := rec.list()
	if len(got) != 4 || got[2].Path != pod || got[2].After != nil || got[3].After != nil || got[2].Version != "7" {
		b, _ := json.Marshal(got)
		t.Fatalf("evictions and deletes: %s", b)
	}
	got = got[:2]
	if len(got) != 2 || got[0].Version != "7" || got[0].Path != scale || got[1].Before != nil || got[1].Path != "/api/v1/namespaces/shop/configmaps/missing" {
		b, _ := json.Marshal(got)
		t.Fatalf("recorded %s", b)
	}
	pv := Preview{Changes: got}
	if v := pv.Fingerprints(); len(v[scale]) != 32 || v["/api/v1/namespaces/shop/configmaps/missing"] != "" {
		t.Errorf("fingerprints %v", v)
	}
	withStatus := map[string]any{"kind": "Scale", "metadata": map[string]any{"resourceVersion": "8"}, "spec": map[string]any{"replicas": 2}, "status": map[string]any{"replicas": 1}}
	if fingerprint(withStatus) != got[0].Fingerprint {
		t.Error("a status update changed the fingerprint")
	}
	withStatus["spec"] = map[string]any{"replicas": 5}
	if fingerprint(withStatus) == got[0].Fingerprint {
		t.Error("a spec change kept the fingerprint")
	}
}
