package guardrails

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

func pod(ns, name string, ready bool, lbls map[string]any) map[string]any {
	status := "False"
	if ready {
		status = "True"
	}
	return map[string]any{"kind": "Pod", "metadata": map[string]any{"namespace": ns, "name": name, "labels": lbls},
		"status": map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": status}}}}
}

func scaleObj(n float64, sel string) map[string]any {
	return map[string]any{"kind": "Scale", "spec": map[string]any{"replicas": n}, "status": map[string]any{"selector": sel}}
}

func deployment(n float64, strategy map[string]any) map[string]any {
	return map[string]any{"kind": "Deployment", "spec": map[string]any{"replicas": n, "strategy": strategy,
		"selector": map[string]any{"matchLabels": map[string]any{"app": "ledger"}}}}
}

func ledgerBudget(allowed int64) Budget {
	return Budget{Namespace: "payments", Name: "ledger", Selector: labels.SelectorFromSet(labels.Set{"app": "ledger"}),
		Spec: "minAvailable 2", DisruptionsAllowed: allowed, CurrentHealthy: 2}
}

var ledgerPods = []Pod{
	{Namespace: "payments", Name: "ledger-a", Labels: map[string]string{"app": "ledger"}, Ready: true},
	{Namespace: "payments", Name: "ledger-b", Labels: map[string]string{"app": "ledger"}, Ready: true},
}

const (
	ledgerScale = "/apis/apps/v1/namespaces/payments/deployments/ledger/scale"
	ledgerDep   = "/apis/apps/v1/namespaces/payments/deployments/ledger"
)

func TestEvaluate(t *testing.T) {
	budgets := map[string][]Budget{"payments": {ledgerBudget(0)}}
	manyDeletes := make([]Change, 11)
	for i := range manyDeletes {
		manyDeletes[i] = Change{Path: "/api/v1/namespaces/default/configmaps/c" + string(rune('a'+i)), Before: map[string]any{}}
	}
	cases := []struct {
		name     string
		settings func(*Settings)
		plan     Plan
		facts    Facts
		rules    []string // refusing rules; none: allowed
		want     []string // in the message
	}{
		{name: "drain evicting budgeted pods", plan: Plan{Verb: "drain"},
			facts: Facts{Budgets: budgets, Nodes: []string{"spoke1-node-1"}, Evicted: ledgerPods},
			rules: []string{RuleBudgets},
			want:  []string{"PodDisruptionBudget payments/ledger allows 0 disruptions: draining node spoke1-node-1 would take down 2 of its pods (minAvailable 2, 2 healthy)", "--guardrails-allow=pod-disruption-budgets"}},
		{name: "drain within the budget", plan: Plan{Verb: "drain"},
			facts: Facts{Budgets: map[string][]Budget{"payments": {ledgerBudget(2)}}, Nodes: []string{"n"}, Evicted: ledgerPods}},
		{name: "drain of pods not ready", plan: Plan{Verb: "drain"},
			facts: Facts{Budgets: budgets, Nodes: []string{"n"}, Evicted: []Pod{{Namespace: "payments", Name: "x", Labels: map[string]string{"app": "ledger"}}}}},
		{name: "drain, budget rule allowed", settings: func(s *Settings) { s.Allow = []string{RuleBudgets} }, plan: Plan{Verb: "drain"},
			facts: Facts{Budgets: budgets, Nodes: []string{"n"}, Evicted: ledgerPods}},
		{name: "pod delete", plan: Plan{Verb: "delete", Changes: []Change{
			{Path: "/api/v1/namespaces/payments/pods/ledger-a", Before: pod("payments", "ledger-a", true, map[string]any{"app": "ledger"})}}},
			facts: Facts{Budgets: budgets}, rules: []string{RuleBudgets}, want: []string{"deleting the pods would take down 1 of its pods"}},
		{name: "pod delete, other labels", plan: Plan{Verb: "delete", Changes: []Change{
			{Path: "/api/v1/namespaces/payments/pods/web", Before: pod("payments", "web", true, map[string]any{"app": "web"})}}},
			facts: Facts{Budgets: budgets}},
		{name: "scale down past the budget", plan: Plan{Verb: "scale", Changes: []Change{{Path: ledgerScale, Before: scaleObj(2, "app=ledger"), After: scaleObj(1, "app=ledger")}}},
			facts: Facts{Budgets: budgets, WorkloadPods: map[string][]Pod{ledgerScale: ledgerPods}}, rules: []string{RuleBudgets},
			want: []string{"scaling deployments.apps payments/ledger from 2 to 1 would take down 1 of its pods"}},
		{name: "scale down within the budget", plan: Plan{Verb: "scale", Changes: []Change{{Path: ledgerScale, Before: scaleObj(2, "app=ledger"), After: scaleObj(1, "app=ledger")}}},
			facts: Facts{Budgets: map[string][]Budget{"payments": {ledgerBudget(1)}}, WorkloadPods: map[string][]Pod{ledgerScale: ledgerPods}}},
		{name: "restart of a Recreate deployment", plan: Plan{Verb: "rollout", Sub: "restart", Changes: []Change{{Path: ledgerDep,
			Before: deployment(2, map[string]any{"type": "Recreate"}), After: deployment(2, map[string]any{"type": "Recreate"})}}},
			facts: Facts{Budgets: budgets, WorkloadPods: map[string][]Pod{ledgerDep: ledgerPods}}, rules: []string{RuleBudgets},
			want: []string{"restarting deployments.apps payments/ledger would take down 2"}},
		{name: "rolling restart that surges", plan: Plan{Verb: "rollout", Sub: "restart", Changes: []Change{{Path: ledgerDep,
			Before: deployment(2, map[string]any{"type": "RollingUpdate"}), After: deployment(2, nil)}}},
			facts: Facts{Budgets: budgets, WorkloadPods: map[string][]Pod{ledgerDep: ledgerPods}}},
		{name: "rolling restart maxUnavailable 1", plan: Plan{Verb: "rollout", Sub: "restart", Changes: []Change{{Path: ledgerDep,
			Before: deployment(2, map[string]any{"rollingUpdate": map[string]any{"maxUnavailable": float64(1)}}), After: deployment(2, nil)}}},
			facts: Facts{Budgets: budgets, WorkloadPods: map[string][]Pod{ledgerDep: ledgerPods}}, rules: []string{RuleBudgets}},
		{name: "too many replicas", plan: Plan{Verb: "scale", Changes: []Change{{Path: "/apis/apps/v1/namespaces/shop/deployments/frontend/scale",
			Before: scaleObj(2, ""), After: scaleObj(500, "")}}},
			rules: []string{RuleMaxReplicas, RuleScaleFactor},
			want:  []string{"deployments.apps shop/frontend would have 500 replicas, more than the limit of 50", "from 2 to 500 replicas, a change by more than a factor of 2", "--guardrails-max-replicas"}},
		{name: "new deployment above the limit", plan: Plan{Verb: "apply", Changes: []Change{{Path: "/apis/apps/v1/namespaces/shop/deployments/big", After: deployment(60, nil)}}},
			rules: []string{RuleMaxReplicas}},
		{name: "autoscaler above the limit", plan: Plan{Verb: "autoscale", Changes: []Change{{Path: "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/web",
			After: map[string]any{"spec": map[string]any{"maxReplicas": float64(80)}}}}}, rules: []string{RuleMaxReplicas}},
		{name: "shrinking an object above the limit", plan: Plan{Verb: "scale", Changes: []Change{{Path: "/apis/apps/v1/namespaces/shop/deployments/f/scale",
			Before: scaleObj(90, ""), After: scaleObj(60, "")}}}},
		{name: "doubling", plan: Plan{Verb: "scale", Changes: []Change{{Path: "/apis/apps/v1/namespaces/shop/deployments/f/scale", Before: scaleObj(2, ""), After: scaleObj(4, "")}}}},
		{name: "one to zero", plan: Plan{Verb: "scale", Changes: []Change{{Path: "/apis/apps/v1/namespaces/shop/deployments/f/scale", Before: scaleObj(1, ""), After: scaleObj(0, "")}}}},
		{name: "ten to zero", plan: Plan{Verb: "scale", Changes: []Change{{Path: "/apis/apps/v1/namespaces/shop/deployments/f/scale", Before: scaleObj(10, ""), After: scaleObj(0, "")}}},
			rules: []string{RuleScaleFactor}},
		{name: "factor switched off", settings: func(s *Settings) { s.MaxScaleFactor = 0 },
			plan: Plan{Verb: "scale", Changes: []Change{{Path: "/apis/apps/v1/namespaces/shop/deployments/f/scale", Before: scaleObj(10, ""), After: scaleObj(1, "")}}}},
		{name: "label kube-system", plan: Plan{Verb: "label", Changes: []Change{{Path: "/api/v1/namespaces/kube-system", Before: map[string]any{}, After: map[string]any{}}}},
			rules: []string{RuleNamespaces, RuleKinds},
			want:  []string{"namespaces kube-system is in the protected namespace kube-system", "is of the protected kind namespaces", "--guardrails-protected-namespaces"}},
		{name: "object in an ocm namespace", plan: Plan{Verb: "patch", Changes: []Change{{Path: "/apis/apps/v1/namespaces/open-cluster-management-agent/deployments/klusterlet", Before: map[string]any{}, After: map[string]any{}}}},
			rules: []string{RuleNamespaces}, want: []string{`pattern "open-cluster-management*"`}},
		{name: "namespace patterns and kinds allowed", settings: func(s *Settings) { s.Allow = []string{RuleNamespaces, RuleKinds} },
			plan: Plan{Verb: "label", Changes: []Change{{Path: "/api/v1/namespaces/kube-system", Before: map[string]any{}, After: map[string]any{}}}}},
		{name: "a drain's evictions in kube-system", plan: Plan{Verb: "drain", Changes: []Change{{Path: "/api/v1/namespaces/kube-system/pods/coredns", Before: pod("kube-system", "coredns", true, nil)}}}},
		{name: "crd", plan: Plan{Verb: "apply", Changes: []Change{{Path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.example.com", After: map[string]any{}}}},
			rules: []string{RuleKinds}},
		{name: "webhook by group", settings: func(s *Settings) {
			s.ProtectedKinds = []string{"validatingwebhookconfigurations.admissionregistration.k8s.io"}
		},
			plan:  Plan{Verb: "delete", Changes: []Change{{Path: "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/w", Before: map[string]any{}}}},
			rules: []string{RuleKinds}},
		{name: "a configmap in default", plan: Plan{Verb: "create", Changes: []Change{{Path: "/api/v1/namespaces/default/configmaps/x", After: map[string]any{}}}}},
		{name: "eleven deletes", plan: Plan{Verb: "delete", Changes: manyDeletes}, rules: []string{RuleMaxDeletes},
			want: []string{"would delete 11 objects, more than the limit of 10"}},
		{name: "ten deletes", plan: Plan{Verb: "delete", Changes: manyDeletes[:10]}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Defaults()
			if tc.settings != nil {
				tc.settings(&s)
			}
			got := Evaluate(s, tc.plan, tc.facts)
			if len(tc.rules) == 0 {
				if got != nil {
					t.Fatalf("refused: %v", got)
				}
				return
			}
			if got == nil {
				t.Fatalf("allowed; want refused by %v", tc.rules)
			}
			if strings.Join(got.Rules, ",") != strings.Join(tc.rules, ",") {
				t.Errorf("rules %v, want %v", got.Rules, tc.rules)
			}
			for _, w := range append(tc.want, "nothing was changed") {
				if !strings.Contains(got.Error(), w) {
					t.Errorf("message lacks %q:\n%s", w, got.Error())
				}
			}
		})
	}
}

// fakeReader serves fixed budgets and pods.
type fakeReader struct {
	budgets map[string][]Budget
	pods    []NodePod
	owned   []Owned
	fail    error
	listed  []string
}

func (f *fakeReader) Budgets(_ context.Context, ns string) ([]Budget, error) {
	f.listed = append(f.listed, "budgets "+ns)
	return f.budgets[ns], f.fail
}

func (f *fakeReader) Pods(_ context.Context, ns, ls, fs string) ([]NodePod, error) {
	f.listed = append(f.listed, "pods "+ns+" "+ls+" "+fs)
	return f.pods, f.fail
}

func (f *fakeReader) Nodes(context.Context, string) ([]string, error) {
	return []string{"node-b"}, f.fail
}

func TestGatherDrain(t *testing.T) {
	r := &fakeReader{budgets: map[string][]Budget{"payments": {ledgerBudget(0)}}, pods: []NodePod{
		{Pod: ledgerPods[0]}, {Pod: ledgerPods[1]},
		{Pod: Pod{Namespace: "kube-system", Name: "proxy"}, DaemonSet: true},
		{Pod: Pod{Namespace: "kube-system", Name: "static"}, Mirror: true},
		{Pod: Pod{Namespace: "jobs", Name: "done"}, Done: true},
	}}
	d := DrainOf(checked(t, "drain node-a --ignore-daemonsets"))
	f, err := Gather(context.Background(), r, Defaults(), Plan{Verb: "drain"}, &d)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Evicted) != 2 || len(f.Budgets["payments"]) != 1 || len(f.Budgets) != 1 {
		t.Fatalf("facts: %+v", f)
	}
	if ref := Evaluate(Defaults(), Plan{Verb: "drain"}, f); ref == nil || !strings.Contains(ref.Error(), "draining node node-a would take down 2") {
		t.Errorf("refusal: %v", ref)
	}
	sel := DrainOf(checked(t, "drain -l pool=a --pod-selector=app=ledger"))
	if sel.NodeSelector != "pool=a" || sel.PodSelector != "app=ledger" {
		t.Errorf("selectors: %+v", sel)
	}
	if f, err := Gather(context.Background(), r, Defaults(), Plan{Verb: "drain"}, &sel); err != nil || len(f.Nodes) != 1 || f.Nodes[0] != "node-b" {
		t.Errorf("by selector: %v %+v", err, f)
	}
	r.fail = errors.New("forbidden")
	if _, err := Gather(context.Background(), r, Defaults(), Plan{Verb: "drain"}, &d); err == nil {
		t.Error("a read that fails must fail the check")
	}
	allowed := Defaults()
	allowed.Allow = []string{RuleBudgets}
	r.listed = nil
	if _, err := Gather(context.Background(), r, allowed, Plan{Verb: "drain"}, &d); err != nil || len(r.listed) != 0 {
		t.Errorf("with the budget rule allowed nothing is read: %v %v", err, r.listed)
	}
}

func TestGatherScale(t *testing.T) {
	r := &fakeReader{budgets: map[string][]Budget{"payments": {ledgerBudget(0)}}, pods: []NodePod{{Pod: ledgerPods[0]}, {Pod: ledgerPods[1]}}}
	p := Plan{Verb: "scale", Changes: []Change{{Path: ledgerScale, Before: scaleObj(2, "app=ledger"), After: scaleObj(1, "app=ledger")}}}
	f, err := Gather(context.Background(), r, Defaults(), p, nil)
	if err != nil || len(f.WorkloadPods[ledgerScale]) != 2 {
		t.Fatalf("%v %+v", err, f)
	}
	if strings.Join(r.listed, ";") != "pods payments app=ledger ;budgets payments" {
		t.Errorf("reads: %v", r.listed)
	}
	r.listed = nil
	restart := Plan{Verb: "rollout", Sub: "restart", Changes: []Change{{Path: ledgerDep, Before: deployment(2, map[string]any{"type": "Recreate"}), After: deployment(2, nil)}}}
	if _, err := Gather(context.Background(), r, Defaults(), restart, nil); err != nil || r.listed[0] != "pods payments app=ledger " {
		t.Errorf("restart reads: %v %v", err, r.listed)
	}
	r.listed = nil
	up := Plan{Verb: "scale", Changes: []Change{{Path: ledgerScale, Before: scaleObj(2, "app=ledger"), After: scaleObj(3, "app=ledger")}}}
	if _, err := Gather(context.Background(), r, Defaults(), up, nil); err != nil || len(r.listed) != 0 {
		t.Errorf("scaling up reads nothing: %v %v", err, r.listed)
	}
}

func TestSettingsChecks(t *testing.T) {
	if err := CheckAllow([]string{RuleBudgets, RuleMaxDeletes}); err != nil {
		t.Error(err)
	}
	if err := CheckAllow([]string{"pdb"}); err == nil || !strings.Contains(err.Error(), RuleBudgets) {
		t.Errorf("unknown rule: %v", err)
	}
	if err := CheckPatterns([]string{"openshift-*", "a[b"}); err == nil {
		t.Error("a bad pattern passed")
	}
	for _, r := range Rules() {
		if r.Name == "" || r.Checks == "" || r.Default == "" || r.check == nil {
			t.Errorf("incomplete rule %+v", r)
		}
	}
}
