package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/policy"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// policyChange checks a previewed kubectl_write change against the policy: the caller, the cluster as
// the hub knows it, the command and each object before and after. A subresource's object (a
// Deployment's scale) is read with the change's own credentials for its labels and annotations. A
// denial, or a policy that cannot decide, is an error; the audit line names the rules.
func (d Deps) policyChange(ctx context.Context, w writeChange, cfg *rest.Config, pv kubectl.Preview) error {
	if d.Policy == nil {
		return nil
	}
	in := policy.Input{
		Tool: policy.ToolKubectlWrite, Caller: policyCaller(ctx), Cluster: policyCluster(w.target),
		Verb: w.plan.Verb, Subcommand: w.plan.Sub, Command: w.binding.Command, Destructive: kubectl.Destructive(w.plan),
		Namespace: w.plan.Flags["namespace"], ReadOnly: d.ReadOnly,
	}
	var kube kubernetes.Interface
	prefix := hostPath(cfg)
	for _, c := range pv.Changes {
		apiPath := strings.TrimPrefix(c.Path, prefix) // behind cluster-proxy, the API is under a prefix
		p := kubectl.ParseAPIPath(apiPath)
		obj := policy.Object{Group: p.Group, Resource: p.Resource, Subresource: p.Subresource, Namespace: p.Namespace, Name: p.Name,
			Before: c.Before, After: c.After}
		if p.Subresource != "" {
			if kube == nil {
				jcfg := rest.CopyConfig(cfg)
				jcfg.ContentType, jcfg.AcceptContentTypes = "application/json", "application/json"
				k, err := kubernetes.NewForConfig(jcfg)
				if err != nil {
					return err
				}
				kube = k
			}
			parent, err := readObject(ctx, kube, strings.TrimSuffix(apiPath, "/"+p.Subresource), w)
			if err != nil {
				audit.Policy(ctx, policyUnevaluated)
				return fmt.Errorf("the policy could not be evaluated, so it refuses (nothing was changed): %s", err)
			}
			obj.Parent = parent
		}
		in.Objects = append(in.Objects, obj)
	}
	return d.policyDecide(ctx, in, "nothing was changed")
}

// policyUnevaluated is the audit's rule name when the policy could not decide.
const policyUnevaluated = "evaluation-failed"

// hostPath is the path part of a config's host ("" for a plain API server URL).
func hostPath(cfg *rest.Config) string {
	u, err := url.Parse(cfg.Host)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

// readObject GETs an object by its API path for the policy input.
func readObject(ctx context.Context, kube kubernetes.Interface, path string, w writeChange) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	data, err := kube.CoreV1().RESTClient().Get().AbsPath(path).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s on cluster %s could not be read: %v", path, w.target.Name, err)
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("%s on cluster %s could not be read: %v", path, w.target.Name, err)
	}
	return obj, nil
}

// policyGather checks one cluster of a must_gather against the policy, before it is collected.
func (d Deps) policyGather(ctx context.Context, t ocm.Target) error {
	if d.Policy == nil {
		return nil
	}
	if t.Cluster == nil {
		if full, err := ocm.Resolve(ctx, d.Source, t.Name); err == nil {
			t = full // the hub's local-cluster, or a cluster the selection skipped, with its labels
		}
	}
	return d.policyDecide(ctx, policy.Input{Tool: policy.ToolMustGather, Caller: policyCaller(ctx), Cluster: policyCluster(t), ReadOnly: d.ReadOnly},
		"the cluster was not collected")
}

// policyDecide evaluates the input: each denial becomes a line of the refusal (one line for a
// collection's cluster, which its summary shows in a line), with its rule; an evaluation that fails
// refuses too (fail closed).
func (d Deps) policyDecide(ctx context.Context, in policy.Input, outcome string) error {
	denies, err := d.Policy.Evaluate(ctx, in)
	if err != nil {
		audit.Policy(ctx, policyUnevaluated)
		return fmt.Errorf("the policy could not decide, so it refuses (%s): %v", outcome, err)
	}
	if len(denies) == 0 {
		return nil
	}
	rules := make([]string, 0, len(denies))
	lines := make([]string, 0, len(denies))
	for _, dn := range denies {
		rules = append(rules, dn.Rule)
		hint := ""
		if d.Policy.IsBuiltin(dn.Rule) && in.Tool == policy.ToolKubectlWrite {
			hint = "; built in, --policy-disable=" + dn.Rule + " switches it off"
		}
		lines = append(lines, fmt.Sprintf("%s [rule %s%s]", dn.Msg, dn.Rule, hint))
	}
	audit.Policy(ctx, rules...)
	if in.Tool == policy.ToolMustGather {
		return fmt.Errorf("refused by policy: %s", strings.Join(lines, "; "))
	}
	return policyRefusal("Refused by policy; " + outcome + ":\n- " + strings.Join(lines, "\n- "))
}

// policyRefusal is a refusal's text, shown to the model as it is.
type policyRefusal string

func (r policyRefusal) Error() string { return string(r) }

// policyCaller is the caller as the policy sees it.
func policyCaller(ctx context.Context) policy.Caller {
	c := auth.CallerFrom(ctx)
	if c == nil {
		return policy.Caller{Local: true}
	}
	return policy.Caller{User: c.User, UID: c.UID, Groups: c.Groups}
}

// policyCluster is the target as the policy sees it: its ManagedCluster's labels, clusterset and claims.
func policyCluster(t ocm.Target) policy.Cluster {
	out := policy.Cluster{Name: t.Name, Hub: t.Hub}
	if mc := t.Cluster; mc != nil {
		out.Labels = mc.Labels
		out.Clusterset = mc.Labels[ocm.ClusterSetLabel]
		out.Claims = make(map[string]string, len(mc.Status.ClusterClaims))
		for _, c := range mc.Status.ClusterClaims {
			out.Claims[c.Name] = c.Value
		}
	}
	return out
}
