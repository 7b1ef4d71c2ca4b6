// Package guardrails refuses changes that a careful operator would refuse: ones that break a
// PodDisruptionBudget, scale beyond set limits, touch protected namespaces or kinds, or delete too many
// objects. The rules are data (Rules); each is evaluated on the plan of a change (its verb, its cluster
// and the objects before and after, from the preview) together with facts read from the cluster
// (budgets, pods), before any approval is offered and whatever the autonomy level.
package guardrails

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Rule names, as --guardrails-allow takes them.
const (
	RuleBudgets      = "pod-disruption-budgets"
	RuleMaxReplicas  = "max-replicas"
	RuleScaleFactor  = "max-scale-factor"
	RuleNamespaces   = "protected-namespaces"
	RuleKinds        = "protected-kinds"
	RuleMaxDeletes   = "max-deletes"
	allowSettingName = "--guardrails-allow"
)

// Rule is one guardrail: its name, what it checks, its default and the setting that tunes it.
type Rule struct {
	Name    string
	Checks  string
	Default string
	Setting string
	check   func(Settings, Plan, Facts) []string
}

// Rules is the table of guardrails, in the order they are reported. It is a function so that no caller
// can change it.
func Rules() []Rule {
	return []Rule{
		{Name: RuleBudgets, Setting: "", Default: "on",
			Checks: "drain, pod delete, scale down and rollout restart take down no more pods than each matching PodDisruptionBudget's status.disruptionsAllowed",
			check:  checkBudgets},
		{Name: RuleMaxReplicas, Setting: "--guardrails-max-replicas", Default: "50",
			Checks: "no object is given more replicas (spec.replicas, an autoscaler's spec.maxReplicas) than the limit",
			check:  checkMaxReplicas},
		{Name: RuleScaleFactor, Setting: "--guardrails-max-scale-factor", Default: "2",
			Checks: "a change of replicas multiplies or divides them by at most the factor (counting 0 as 1)",
			check:  checkScaleFactor},
		{Name: RuleNamespaces, Setting: "--guardrails-protected-namespaces", Default: strings.Join(DefaultProtectedNamespaces(), ","),
			Checks: "no object in a protected namespace, nor the namespace itself, is changed (a drain's evictions are left to the budgets)",
			check:  checkNamespaces},
		{Name: RuleKinds, Setting: "--guardrails-protected-kinds", Default: strings.Join(DefaultProtectedKinds(), ","),
			Checks: "no object of a protected resource type is changed",
			check:  checkKinds},
		{Name: RuleMaxDeletes, Setting: "--guardrails-max-deletes", Default: "10",
			Checks: "one command deletes at most the limit of objects",
			check:  checkMaxDeletes},
	}
}

// DefaultProtectedNamespaces are the namespace patterns (path.Match globs) protected by default.
func DefaultProtectedNamespaces() []string {
	return []string{"kube-system", "kube-public", "kube-node-lease", "open-cluster-management*", "openshift-*", "multicluster-engine"}
}

// DefaultProtectedKinds are the resource types (plural, optionally with .group) protected by default.
func DefaultProtectedKinds() []string {
	return []string{"customresourcedefinitions", "namespaces", "roles", "rolebindings", "clusterroles", "clusterrolebindings",
		"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}
}

// Settings tune the rules. A limit of 0 switches its rule off.
type Settings struct {
	MaxReplicas         int
	MaxScaleFactor      int
	MaxDeletes          int
	ProtectedNamespaces []string
	ProtectedKinds      []string
	// Allow names rules that are switched off.
	Allow []string
}

// Defaults are the settings the server starts with unless told otherwise.
func Defaults() Settings {
	return Settings{MaxReplicas: 50, MaxScaleFactor: 2, MaxDeletes: 10,
		ProtectedNamespaces: DefaultProtectedNamespaces(), ProtectedKinds: DefaultProtectedKinds()}
}

// CheckAllow checks that every name is a rule's.
func CheckAllow(allow []string) error {
	names := make([]string, 0, 8)
	for _, r := range Rules() {
		names = append(names, r.Name)
	}
	for _, a := range allow {
		if !slices.Contains(names, a) {
			return fmt.Errorf("%q is not a guardrail; the rules are %s", a, strings.Join(names, ", "))
		}
	}
	return nil
}

// CheckPatterns checks namespace patterns.
func CheckPatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("namespace pattern %q: %v", p, err)
		}
	}
	return nil
}

// Refusal is a change the guardrails refuse: each broken rule and why.
type Refusal struct {
	Rules   []string
	Reasons []string
}

func (r *Refusal) Error() string {
	var b strings.Builder
	b.WriteString("Refused by the server's guardrails; nothing was changed:")
	for _, why := range r.Reasons {
		b.WriteString("\n- " + why)
	}
	return b.String()
}

// Evaluate applies every rule that is not allowed to the plan and the facts; nil when none refuses.
// It is pure: the facts were read before.
func Evaluate(s Settings, p Plan, f Facts) *Refusal {
	var out Refusal
	for _, r := range Rules() {
		if slices.Contains(s.Allow, r.Name) {
			continue
		}
		for _, why := range r.check(s, p, f) {
			if !slices.Contains(out.Rules, r.Name) {
				out.Rules = append(out.Rules, r.Name)
			}
			out.Reasons = append(out.Reasons, fmt.Sprintf("%s [rule %s; %s]", why, r.Name, proceed(r, s)))
		}
	}
	if len(out.Reasons) == 0 {
		return nil
	}
	return &out
}

// proceed says how to go ahead anyway.
func proceed(r Rule, s Settings) string {
	allow := fmt.Sprintf("or start the server with %s=%s", allowSettingName, r.Name)
	switch r.Name {
	case RuleBudgets:
		return "wait until the budget allows it, take down fewer pods, " + allow
	case RuleMaxReplicas:
		return fmt.Sprintf("the limit is %d: raise %s, %s", s.MaxReplicas, r.Setting, allow)
	case RuleScaleFactor:
		return fmt.Sprintf("scale in smaller steps, raise %s (now %d), %s", r.Setting, s.MaxScaleFactor, allow)
	case RuleMaxDeletes:
		return fmt.Sprintf("delete in smaller batches, raise %s (now %d), %s", r.Setting, s.MaxDeletes, allow)
	default:
		return fmt.Sprintf("change %s, %s", r.Setting, allow)
	}
}
