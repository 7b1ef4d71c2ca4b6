package guardrails

import (
	"context"
	"fmt"
	"strings"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
)

// A delete's cascade: the garbage collector then removes what the deleted objects own (through
// ownerReferences), unless the delete orphans them (--cascade=orphan). The preview lists those objects
// and the budget rule counts the pods among them. Which resources hold a workload's dependents is a
// table; a dependent that owns others (a Deployment's ReplicaSets) is followed in turn.

// dependentsOf says, for a deleted object's resource (resource.group), where its dependents are.
func dependentsOf() map[string][]string {
	return map[string][]string{
		"deployments.apps":       {"replicasets.apps"},
		"replicasets.apps":       {"pods"},
		"statefulsets.apps":      {"pods"},
		"daemonsets.apps":        {"pods"},
		"replicationcontrollers": {"pods"},
		"cronjobs.batch":         {"jobs.batch"},
		"jobs.batch":             {"pods"},
	}
}

// maxCascade bounds how many dependents one check follows.
const maxCascade = 5000

// Owned is an object as the cascade sees it.
type Owned struct {
	// Resource is resource.group ("pods" for the core group), as in the table.
	Resource, Namespace, Name, UID string
	// Owners are the UIDs of its ownerReferences.
	Owners []string
	// Pod is set for pods: what the budgets need.
	Pod *Pod
}

func (o Owned) String() string { return o.Resource + " " + o.Namespace + "/" + o.Name }

// Dependent is one object a delete's cascade would remove, with the object whose deletion removes it.
type Dependent struct {
	Object Owned
	Owner  string
}

// CascadeOf reads how a delete treats dependents from the flags kubectl parsed: "orphan" leaves them,
// "background" (kubectl's default, and the value of --cascade alone) and "foreground" remove them.
func CascadeOf(p *kubectl.Plan) string {
	switch v := p.Flags["cascade"]; v {
	case "", "true":
		return "background"
	case "false":
		return "orphan"
	default:
		return v
	}
}

// cascade lists what the plan's deletes would also remove.
func cascade(ctx context.Context, r Reader, p Plan) ([]Dependent, error) {
	if p.Verb != "delete" || p.Cascade == "orphan" {
		return nil, nil
	}
	table := dependentsOf()
	type item struct {
		resource, namespace, uid, label string
	}
	var queue []item
	for _, c := range p.Changes {
		if c.Before == nil || c.After != nil {
			continue
		}
		ref := parsePath(c.Path)
		key := ref.resource
		if ref.group != "" {
			key += "." + ref.group
		}
		md, _ := c.Before["metadata"].(map[string]any)
		uid, _ := md["uid"].(string)
		if _, ok := table[key]; ok && uid != "" && ref.subresource == "" {
			queue = append(queue, item{key, ref.namespace, uid, ref.String()})
		}
	}
	listed := map[string][]Owned{} // namespace|resource → objects
	var out []Dependent
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		for _, res := range table[it.resource] {
			key := it.namespace + "|" + res
			objs, ok := listed[key]
			if !ok {
				var err error
				if objs, err = r.Owned(ctx, it.namespace, res); err != nil {
					return nil, fmt.Errorf("listing the %s of namespace %s that %s may own: %w", res, it.namespace, it.label, err)
				}
				listed[key] = objs
			}
			for _, o := range objs {
				if !ownedBy(o, it.uid) {
					continue
				}
				if len(out) == maxCascade {
					return nil, fmt.Errorf("%s owns more than %d objects; delete fewer at a time, or with --cascade=orphan", it.label, maxCascade)
				}
				out = append(out, Dependent{Object: o, Owner: it.label})
				if _, more := table[o.Resource]; more && o.UID != "" {
					queue = append(queue, item{o.Resource, o.Namespace, o.UID, o.String()})
				}
			}
		}
	}
	return out, nil
}

func ownedBy(o Owned, uid string) bool {
	for _, u := range o.Owners {
		if u == uid {
			return true
		}
	}
	return false
}

// CascadeLines renders what a cascade would remove, at most limit lines and a count of the rest.
func CascadeLines(deps []Dependent, mode string, limit int) string {
	if len(deps) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "- and the garbage collector would then remove %d object(s) they own (--cascade=%s):\n", len(deps), mode)
	for i, d := range deps {
		if i == limit {
			fmt.Fprintf(&b, "  ... and %d more\n", len(deps)-i)
			break
		}
		fmt.Fprintf(&b, "  - %s (owned by %s)\n", d.Object, d.Owner)
	}
	return b.String()
}
