package guardrails

import (
	"context"
	"strings"
	"testing"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes/fake"
)

// Owned serves the fake reader's objects of one resource and namespace.
func (f *fakeReader) Owned(_ context.Context, ns, resource string) ([]Owned, error) {
	f.listed = append(f.listed, "owned "+ns+" "+resource)
	var out []Owned
	for _, o := range f.owned {
		if o.Namespace == ns && o.Resource == resource {
			out = append(out, o)
		}
	}
	return out, f.fail
}

func withMeta(obj map[string]any, uid string) map[string]any {
	obj["metadata"] = map[string]any{"name": "web", "namespace": "shop", "uid": uid}
	return obj
}

func TestCascade(t *testing.T) {
	ready := func(name string) *Pod {
		return &Pod{Namespace: "shop", Name: name, Labels: map[string]string{"app": "web"}, Ready: true}
	}
	objs := []Owned{
		{Resource: "replicasets.apps", Namespace: "shop", Name: "web-1", UID: "rs1", Owners: []string{"dep"}},
		{Resource: "replicasets.apps", Namespace: "shop", Name: "other-1", UID: "rs2", Owners: []string{"other"}},
		{Resource: "pods", Namespace: "shop", Name: "web-1-a", UID: "p1", Owners: []string{"rs1"}, Pod: ready("web-1-a")},
		{Resource: "pods", Namespace: "shop", Name: "web-1-b", UID: "p2", Owners: []string{"rs1"}, Pod: ready("web-1-b")},
		{Resource: "pods", Namespace: "shop", Name: "other-1-a", UID: "p3", Owners: []string{"rs2"}, Pod: ready("other-1-a")},
		{Resource: "jobs.batch", Namespace: "shop", Name: "nightly-1", UID: "j1", Owners: []string{"cron"}},
		{Resource: "pods", Namespace: "shop", Name: "nightly-1-x", UID: "p4", Owners: []string{"j1"}},
	}
	budget := Budget{Namespace: "shop", Name: "web", Selector: labels.SelectorFromSet(labels.Set{"app": "web"}), Spec: "minAvailable 2", DisruptionsAllowed: 0, CurrentHealthy: 2}
	del := func(path, uid string) Change {
		return Change{Path: path, Before: withMeta(map[string]any{"kind": "X"}, uid)}
	}
	cases := []struct {
		name    string
		plan    Plan
		want    []string // dependents, in order
		refused string   // part of the budget refusal, "" when allowed
	}{
		{"a Deployment removes its ReplicaSets and their pods", Plan{Verb: "delete", Cascade: "background",
			Changes: []Change{del("/apis/apps/v1/namespaces/shop/deployments/web", "dep")}},
			[]string{"replicasets.apps shop/web-1", "pods shop/web-1-a", "pods shop/web-1-b"},
			"the delete's cascade (--cascade=background) would take down 2 of its pods"},
		{"foreground too", Plan{Verb: "delete", Cascade: "foreground",
			Changes: []Change{del("/apis/apps/v1/namespaces/shop/replicasets/web-1", "rs1")}},
			[]string{"pods shop/web-1-a", "pods shop/web-1-b"}, "would take down 2"},
		{"orphan removes nothing more", Plan{Verb: "delete", Cascade: "orphan",
			Changes: []Change{del("/apis/apps/v1/namespaces/shop/deployments/web", "dep")}}, nil, ""},
		{"a CronJob removes its Jobs and their pods", Plan{Verb: "delete", Cascade: "background",
			Changes: []Change{del("/apis/batch/v1/namespaces/shop/cronjobs/nightly", "cron")}},
			[]string{"jobs.batch shop/nightly-1", "pods shop/nightly-1-x"}, ""},
		{"a ConfigMap owns nothing the table follows", Plan{Verb: "delete", Cascade: "background",
			Changes: []Change{del("/api/v1/namespaces/shop/configmaps/web", "cm")}}, nil, ""},
		{"a scale is no delete", Plan{Verb: "scale", Cascade: "background",
			Changes: []Change{{Path: "/apis/apps/v1/namespaces/shop/deployments/web", Before: withMeta(map[string]any{}, "dep"), After: map[string]any{}}}}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &fakeReader{owned: objs, budgets: map[string][]Budget{"shop": {budget}}}
			f, err := Gather(context.Background(), r, Defaults(), tc.plan, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range f.Cascade {
				got = append(got, d.Object.String())
			}
			if strings.Join(got, ";") != strings.Join(tc.want, ";") {
				t.Errorf("cascade %v, want %v", got, tc.want)
			}
			ref := Evaluate(Defaults(), tc.plan, f)
			switch {
			case tc.refused == "" && ref != nil:
				t.Errorf("refused: %v", ref)
			case tc.refused != "" && (ref == nil || !strings.Contains(ref.Error(), tc.refused)):
				t.Errorf("got %v, want a refusal with %q", ref, tc.refused)
			}
		})
	}
	// With the budget rule allowed the cascade is still listed (the preview shows it), and no budget is read.
	allowed := Defaults()
	allowed.Allow = []string{RuleBudgets}
	r := &fakeReader{owned: objs}
	f, err := Gather(context.Background(), r, allowed, cases[0].plan, nil)
	if err != nil || len(f.Cascade) != 3 || strings.Contains(strings.Join(r.listed, ";"), "budgets") {
		t.Errorf("allowed budgets: %v %d %v", err, len(f.Cascade), r.listed)
	}
	text := CascadeLines(f.Cascade, "background", 2)
	for _, w := range []string{"would then remove 3 object(s) they own (--cascade=background)", "replicasets.apps shop/web-1 (owned by deployments.apps shop/web)", "... and 1 more"} {
		if !strings.Contains(text, w) {
			t.Errorf("lines lack %q:\n%s", w, text)
		}
	}
}

func TestCascadeOf(t *testing.T) {
	for args, want := range map[string]string{
		"delete deploy web":                  "background",
		"delete deploy web --cascade":        "background",
		"delete deploy web --cascade=orphan": "orphan",
		// --cascade alone has a default: "false" is then a resource name, as kubectl reads it.
		"delete deploy web --cascade false":      "background",
		"delete deploy web --cascade=false":      "orphan",
		"delete deploy web --cascade=true":       "background",
		"delete deploy web --cascade=foreground": "foreground",
	} {
		if got := CascadeOf(checked(t, args)); got != want {
			t.Errorf("%s: %s, want %s", args, got, want)
		}
	}
}

// Every resource the table leads to is one the client reader lists.
func TestCascadeTableIsReadable(t *testing.T) {
	r := ClientReader{Kube: fake.NewClientset()}
	for owner, deps := range dependentsOf() {
		for _, res := range deps {
			if _, err := r.Owned(context.Background(), "shop", res); err != nil {
				t.Errorf("%s -> %s: %v", owner, res, err)
			}
		}
	}
}

// checked is the plan kubectl's own flag parsing makes of a kubectl_write command line.
func checked(t *testing.T, line string) *kubectl.Plan {
	t.Helper()
	words, err := kubectl.Split(line)
	if err != nil {
		t.Fatal(err)
	}
	p, err := kubectl.Check(words, kubectl.WriteTool, false)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return p
}
