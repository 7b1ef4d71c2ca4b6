package guardrails

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
)

// Budget is a PodDisruptionBudget as read from the cluster.
type Budget struct {
	Namespace, Name string
	// Selector picks the budget's pods (labels.Nothing for a budget without one).
	Selector labels.Selector
	// Spec is what the budget asks, for messages: "minAvailable 2" or "maxUnavailable 25%".
	Spec string
	// DisruptionsAllowed is status.disruptionsAllowed; CurrentHealthy status.currentHealthy.
	DisruptionsAllowed, CurrentHealthy int64
}

// Pod is a pod as far as budgets go.
type Pod struct {
	Namespace, Name string
	Labels          map[string]string
	// Ready pods count against budgets; a pod that is not ready is no disruption.
	Ready bool
}

// Facts are what the guardrails read from the cluster to judge a plan.
type Facts struct {
	// Budgets are the PodDisruptionBudgets of the namespaces concerned, by namespace.
	Budgets map[string][]Budget
	// Nodes a drain empties and the pods it would evict, read before its preview.
	Nodes   []string
	Evicted []Pod
	// WorkloadPods are the pods of each workload a change scales down or restarts, by the change's path.
	WorkloadPods map[string][]Pod
	// Cascade are the objects a delete's cascade would remove besides the deleted ones.
	Cascade []Dependent
}

// cascadePods are the pods among a cascade.
func cascadePods(f Facts) []Pod {
	var out []Pod
	for _, d := range f.Cascade {
		if d.Object.Pod != nil {
			out = append(out, *d.Object.Pod)
		}
	}
	return out
}

// podFromObject reads a pod's name, labels and readiness from its JSON form.
func podFromObject(obj map[string]any) Pod {
	md, _ := obj["metadata"].(map[string]any)
	p := Pod{Labels: map[string]string{}}
	p.Namespace, _ = md["namespace"].(string)
	p.Name, _ = md["name"].(string)
	if ls, ok := md["labels"].(map[string]any); ok {
		for k, v := range ls {
			p.Labels[k], _ = v.(string)
		}
	}
	st, _ := obj["status"].(map[string]any)
	conds, _ := st["conditions"].([]any)
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Ready" && m["status"] == "True" {
			p.Ready = true
		}
	}
	return p
}

// removedPods are the pods a plan's changes remove (a delete, or a drain's evictions once previewed).
func removedPods(p Plan) []Pod {
	var out []Pod
	for _, c := range p.Changes {
		if r := parsePath(c.Path); r.group == "" && r.resource == "pods" && r.subresource == "" && c.Before != nil && c.After == nil {
			out = append(out, podFromObject(c.Before))
		}
	}
	return out
}

// budgetsOf are the budgets that cover any of the pods, with the ready pods each covers.
func budgetsOf(f Facts, pods []Pod) ([]Budget, map[string]int64) {
	var hit []Budget
	count := map[string]int64{}
	for _, pod := range pods {
		for _, b := range f.Budgets[pod.Namespace] {
			if b.Selector == nil || !b.Selector.Matches(labels.Set(pod.Labels)) {
				continue
			}
			key := b.Namespace + "/" + b.Name
			if _, seen := count[key]; !seen {
				hit = append(hit, b)
				count[key] = 0
			}
			if pod.Ready {
				count[key]++
			}
		}
	}
	sort.Slice(hit, func(i, j int) bool { return hit[i].Namespace+"/"+hit[i].Name < hit[j].Namespace+"/"+hit[j].Name })
	return hit, count
}

func budgetMessage(b Budget, what string, down int64) string {
	return fmt.Sprintf("PodDisruptionBudget %s/%s allows %d disruptions: %s would take down %d of its pods (%s, %d healthy)",
		b.Namespace, b.Name, b.DisruptionsAllowed, what, down, b.Spec, b.CurrentHealthy)
}

func checkBudgets(_ Settings, p Plan, f Facts) []string {
	var out []string
	removal := func(pods []Pod, what string) {
		hit, count := budgetsOf(f, pods)
		for _, b := range hit {
			if n := count[b.Namespace+"/"+b.Name]; n > b.DisruptionsAllowed {
				out = append(out, budgetMessage(b, what, n))
			}
		}
	}
	if len(f.Evicted) > 0 {
		removal(f.Evicted, "draining node "+strings.Join(f.Nodes, ", "))
	}
	if pods := removedPods(p); len(pods) > 0 {
		what := "deleting the pods"
		if p.Verb == "drain" {
			what = "the drain"
		}
		removal(pods, what)
	}
	if pods := cascadePods(f); len(pods) > 0 {
		removal(pods, "the delete's cascade (--cascade="+p.Cascade+")")
	}
	for _, c := range p.Changes {
		pods, ok := f.WorkloadPods[c.Path]
		if !ok {
			continue
		}
		down, what := takesDown(p, c)
		if down <= 0 {
			continue
		}
		hit, _ := budgetsOf(f, pods)
		for _, b := range hit {
			if down > b.DisruptionsAllowed {
				out = append(out, budgetMessage(b, what, down))
			}
		}
	}
	return out
}

// workloadChange says whether a change scales a workload down or restarts it: what budgets care about.
func workloadChange(p Plan, c Change) bool {
	down, _ := takesDown(p, c)
	return down > 0
}

// takesDown is how many pods a change takes down at once (scale down: the difference; rollout restart:
// what the update strategy lets go unavailable), and what it does, for messages.
func takesDown(p Plan, c Change) (int64, string) {
	r := parsePath(c.Path)
	if c.Before == nil || c.After == nil {
		return 0, ""
	}
	if p.Verb == "rollout" && p.Sub == "restart" {
		return unavailableAtOnce(r, c.Before), "restarting " + r.String()
	}
	if r.subresource != "scale" && r.subresource != "" {
		return 0, ""
	}
	switch r.resource {
	case "deployments", "statefulsets", "replicasets", "replicationcontrollers":
	default:
		return 0, ""
	}
	before, ok1 := number(c.Before, "spec", "replicas")
	after, ok2 := number(c.After, "spec", "replicas")
	if !ok1 || !ok2 || after >= before {
		return 0, ""
	}
	return before - after, fmt.Sprintf("scaling %s from %d to %d", r, before, after)
}

// unavailableAtOnce is how many pods a rolling restart may take down at once: a Recreate deployment all
// of them; otherwise maxUnavailable (deployments: 25% rounded down by default, 1 when it and maxSurge
// are both 0; statefulsets and daemonsets: 1).
func unavailableAtOnce(r ref, obj map[string]any) int64 {
	total, _ := number(obj, "spec", "replicas")
	if r.resource == "daemonsets" {
		total, _ = number(obj, "status", "desiredNumberScheduled")
	}
	spec, _ := obj["spec"].(map[string]any)
	key := "strategy"
	if r.resource != "deployments" {
		key = "updateStrategy"
	}
	strategy, _ := spec[key].(map[string]any)
	if t, _ := strategy["type"].(string); t == "Recreate" {
		return total
	} else if t == "OnDelete" {
		return 0
	}
	rolling, _ := strategy["rollingUpdate"].(map[string]any)
	def := "1"
	if r.resource == "deployments" {
		def = "25%"
	}
	unavail := scaled(rolling["maxUnavailable"], def, total, false)
	if r.resource == "deployments" && unavail == 0 && scaled(rolling["maxSurge"], "25%", total, true) == 0 {
		unavail = 1
	}
	return min(unavail, total)
}

// scaled resolves an int-or-percent against total, rounding down (or up).
func scaled(v any, def string, total int64, up bool) int64 {
	s := def
	switch x := v.(type) {
	case float64:
		return int64(x)
	case string:
		s = x
	}
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.ParseInt(pct, 10, 64)
		if err != nil {
			return 0
		}
		if up {
			return (n*total + 99) / 100
		}
		return n * total / 100
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
