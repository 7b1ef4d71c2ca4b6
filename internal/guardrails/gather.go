package guardrails

import (
	"context"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
)

// Reader reads what the budget rule needs from the target cluster, with the caller's credentials.
type Reader interface {
	// Budgets lists the PodDisruptionBudgets of a namespace.
	Budgets(ctx context.Context, namespace string) ([]Budget, error)
	// Pods lists pods ("" namespace: all) by label and field selectors.
	Pods(ctx context.Context, namespace, labelSelector, fieldSelector string) ([]NodePod, error)
	// Nodes lists the names of the nodes a label selector picks.
	Nodes(ctx context.Context, labelSelector string) ([]string, error)
	// Owned lists a namespace's objects of one resource of the cascade table, with their owners.
	Owned(ctx context.Context, namespace, resource string) ([]Owned, error)
}

// NodePod is a listed pod with what a drain needs to know of it.
type NodePod struct {
	Pod
	// DaemonSet, Mirror and Done pods are not evicted by a drain.
	DaemonSet, Mirror, Done bool
}

// Drain names what a drain empties: nodes by name or by selector, and its pod selector.
type Drain struct {
	Nodes                     []string
	NodeSelector, PodSelector string
}

// DrainOf reads a drain's nodes and selectors from its positional arguments and the flags kubectl parsed.
func DrainOf(p *kubectl.Plan) Drain {
	return Drain{Nodes: p.Refs, NodeSelector: p.Flags["selector"], PodSelector: p.Flags["pod-selector"]}
}

// Gather reads the facts the plan needs: for a drain before its preview, the pods it would evict; after
// a preview, the pods of the workloads it scales down or restarts; and the budgets of their namespaces.
// Nothing is read when the budget rule is allowed.
func Gather(ctx context.Context, r Reader, s Settings, p Plan, d *Drain) (Facts, error) {
	f := Facts{Budgets: map[string][]Budget{}, WorkloadPods: map[string][]Pod{}}
	var err error
	if f.Cascade, err = cascade(ctx, r, p); err != nil {
		return f, err
	}
	if slices.Contains(s.Allow, RuleBudgets) {
		return f, nil
	}
	var namespaces []string
	if d != nil {
		pods, nodes, err := drained(ctx, r, *d)
		if err != nil {
			return f, err
		}
		f.Nodes, f.Evicted = nodes, pods
		for _, pod := range pods {
			namespaces = append(namespaces, pod.Namespace)
		}
	}
	for _, pod := range append(removedPods(p), cascadePods(f)...) {
		namespaces = append(namespaces, pod.Namespace)
	}
	for _, c := range p.Changes {
		if !workloadChange(p, c) {
			continue
		}
		ref := parsePath(c.Path)
		sel, err := selectorOf(c.Before)
		if err != nil {
			return f, fmt.Errorf("the pods of %s cannot be found: %v", ref, err)
		}
		listed, err := r.Pods(ctx, ref.namespace, sel, "")
		if err != nil {
			return f, fmt.Errorf("listing the pods of %s: %w", ref, err)
		}
		pods := make([]Pod, len(listed))
		for i, lp := range listed {
			pods[i] = lp.Pod
		}
		f.WorkloadPods[c.Path] = pods
		namespaces = append(namespaces, ref.namespace)
	}
	slices.Sort(namespaces)
	for _, ns := range slices.Compact(namespaces) {
		b, err := r.Budgets(ctx, ns)
		if err != nil {
			return f, fmt.Errorf("listing the PodDisruptionBudgets of namespace %s: %w", ns, err)
		}
		f.Budgets[ns] = b
	}
	return f, nil
}

// drained lists the pods a drain would evict: those on its nodes, but DaemonSet, mirror and finished pods.
func drained(ctx context.Context, r Reader, d Drain) ([]Pod, []string, error) {
	nodes := append([]string(nil), d.Nodes...)
	if d.NodeSelector != "" {
		more, err := r.Nodes(ctx, d.NodeSelector)
		if err != nil {
			return nil, nil, fmt.Errorf("listing the nodes %s picks: %w", d.NodeSelector, err)
		}
		nodes = append(nodes, more...)
	}
	var podSel labels.Selector = labels.Everything()
	if d.PodSelector != "" {
		var err error
		if podSel, err = labels.Parse(d.PodSelector); err != nil {
			return nil, nil, fmt.Errorf("--pod-selector %q: %v", d.PodSelector, err)
		}
	}
	var out []Pod
	for _, n := range nodes {
		listed, err := r.Pods(ctx, "", "", "spec.nodeName="+n)
		if err != nil {
			return nil, nil, fmt.Errorf("listing the pods of node %s: %w", n, err)
		}
		for _, p := range listed {
			if !p.DaemonSet && !p.Mirror && !p.Done && podSel.Matches(labels.Set(p.Labels)) {
				out = append(out, p.Pod)
			}
		}
	}
	return out, nodes, nil
}

// selectorOf is a workload's pod selector as a string: a Scale's status.selector, else spec.selector.
func selectorOf(obj map[string]any) (string, error) {
	if st, ok := obj["status"].(map[string]any); ok && obj["kind"] == "Scale" {
		if s, ok := st["selector"].(string); ok && s != "" {
			return s, nil
		}
	}
	spec, _ := obj["spec"].(map[string]any)
	raw, ok := spec["selector"].(map[string]any)
	if !ok {
		return "", fmt.Errorf("it has no label selector")
	}
	if _, structured := raw["matchLabels"]; !structured {
		if _, structured = raw["matchExpressions"]; !structured {
			return labels.SelectorFromSet(toStrings(raw)).String(), nil // a ReplicationController's map
		}
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
		return "", err
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return "", err
	}
	return sel.String(), nil
}

func toStrings(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k], _ = v.(string)
	}
	return out
}
