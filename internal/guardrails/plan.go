package guardrails

import (
	"fmt"
	"path"
	"strings"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
)

// Change is one object a command would change, from the preview.
type Change struct {
	// Path is the object's API path, subresource included (…/deployments/web/scale).
	Path string
	// Before is the object before the change (nil: it does not exist); After after it (nil: removed).
	Before, After map[string]any
}

// Plan is a change as the guardrails see it.
type Plan struct {
	Verb, Sub string
	Cluster   string
	// Cascade is how a delete treats the objects its objects own: background, foreground or orphan.
	Cascade string
	// Changes are the objects the preview says would change; empty before the preview.
	Changes []Change
}

// ref is what an API path names.
type ref struct {
	group, resource, namespace, name, subresource string
}

// parsePath reads /api/v1/... and /apis/<group>/<version>/... paths, as the request guard does.
func parsePath(p string) ref {
	a := kubectl.ParseAPIPath(p)
	return ref{group: a.Group, resource: a.Resource, namespace: a.Namespace, name: a.Name, subresource: a.Subresource}
}

func (r ref) String() string {
	return kubectl.APIPath{Group: r.group, Resource: r.resource, Namespace: r.namespace, Name: r.name}.String()
}

// number reads a numeric field of an object; ok is false when it is absent.
func number(obj map[string]any, fields ...string) (int64, bool) {
	var cur any = obj
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return 0, false
		}
		cur = m[f]
	}
	switch v := cur.(type) {
	case float64:
		return int64(v), true
	case int64:
		return v, true
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	}
	return 0, false
}

// replicas is what an object asks for: spec.replicas, or an autoscaler's spec.maxReplicas.
func replicas(obj map[string]any) (int64, bool) {
	if n, ok := number(obj, "spec", "replicas"); ok {
		return n, true
	}
	return number(obj, "spec", "maxReplicas")
}

func checkMaxReplicas(s Settings, p Plan, _ Facts) []string {
	if s.MaxReplicas <= 0 {
		return nil
	}
	var out []string
	for _, c := range p.Changes {
		after, ok := replicas(c.After)
		if !ok || after <= int64(s.MaxReplicas) {
			continue
		}
		if before, ok := replicas(c.Before); ok && after <= before {
			continue // not growing: an object already above the limit may shrink
		}
		out = append(out, fmt.Sprintf("%s would have %d replicas, more than the limit of %d", parsePath(c.Path), after, s.MaxReplicas))
	}
	return out
}

func checkScaleFactor(s Settings, p Plan, _ Facts) []string {
	if s.MaxScaleFactor <= 0 {
		return nil
	}
	var out []string
	for _, c := range p.Changes {
		before, ok1 := replicas(c.Before)
		after, ok2 := replicas(c.After)
		if !ok1 || !ok2 || before == after {
			continue
		}
		lo, hi := max(min(before, after), 1), max(before, after, 1)
		if hi > lo*int64(s.MaxScaleFactor) {
			out = append(out, fmt.Sprintf("%s would go from %d to %d replicas, a change by more than a factor of %d", parsePath(c.Path), before, after, s.MaxScaleFactor))
		}
	}
	return out
}

// protectedNamespace returns the pattern that protects a namespace ("" when none does).
func protectedNamespace(s Settings, ns string) string {
	for _, pat := range s.ProtectedNamespaces {
		if ok, _ := path.Match(pat, ns); ok {
			return pat
		}
	}
	return ""
}

func checkNamespaces(s Settings, p Plan, _ Facts) []string {
	var out []string
	for _, c := range p.Changes {
		r := parsePath(c.Path)
		if p.Verb == "drain" && r.resource == "pods" {
			continue // evictions: the budgets decide
		}
		ns := r.namespace
		if r.group == "" && r.resource == "namespaces" && r.namespace == "" {
			ns = r.name
		}
		if ns == "" {
			continue
		}
		if pat := protectedNamespace(s, ns); pat != "" {
			out = append(out, fmt.Sprintf("%s is in the protected namespace %s (pattern %q)", r, ns, pat))
		}
	}
	return out
}

func checkKinds(s Settings, p Plan, _ Facts) []string {
	var out []string
	for _, c := range p.Changes {
		r := parsePath(c.Path)
		for _, k := range s.ProtectedKinds {
			res, group, hasGroup := strings.Cut(strings.ToLower(k), ".")
			if res == r.resource && (!hasGroup || group == r.group) {
				out = append(out, fmt.Sprintf("%s is of the protected kind %s", r, k))
				break
			}
		}
	}
	return out
}

func checkMaxDeletes(s Settings, p Plan, _ Facts) []string {
	if s.MaxDeletes <= 0 || p.Verb == "drain" {
		return nil
	}
	n := 0
	for _, c := range p.Changes {
		if c.After == nil && c.Before != nil {
			n++
		}
	}
	if n <= s.MaxDeletes {
		return nil
	}
	return []string{fmt.Sprintf("the command would delete %d objects, more than the limit of %d", n, s.MaxDeletes)}
}
