package tools

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/guardrails"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
)

// maxCascadeLines bounds the objects of a delete's cascade a preview names.
const maxCascadeLines = 30

// guard checks a change against the guardrails on its cluster, with the same credentials as the change:
// before the preview (pv nil) only a drain, whose evictions a budget would stall; after it, with the
// objects the preview says would change. A refusal is an error naming the rules, the numbers and how to
// proceed, and goes in the audit line.
func (d Deps) guard(ctx context.Context, w writeChange, cfg *rest.Config, pv *kubectl.Preview) error {
	settings := guardrails.Defaults()
	if d.Guardrails != nil {
		settings = *d.Guardrails
	}
	plan := guardrails.Plan{Verb: w.plan.Verb, Sub: w.plan.Sub, Cluster: w.target.Name, Cascade: guardrails.CascadeOf(w.plan)}
	var drain *guardrails.Drain
	if pv == nil {
		if w.plan.Verb != "drain" {
			return nil
		}
		dr := guardrails.DrainOf(w.plan)
		drain = &dr
	} else {
		for _, c := range pv.Changes {
			plan.Changes = append(plan.Changes, guardrails.Change{Path: c.Path, Before: c.Before, After: c.After})
		}
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	facts, err := guardrails.Gather(ctx, guardrails.ClientReader{Kube: kube}, settings, plan, drain)
	if err != nil {
		audit.Guardrails(ctx, guardrails.RuleBudgets)
		return fmt.Errorf("the guardrails could not check the PodDisruptionBudgets on cluster %s, so nothing was changed: %v "+
			"(the caller needs to list poddisruptionbudgets and pods there, and for a delete the replicasets and jobs it may own; or start the server with --guardrails-allow=%s)",
			w.target.Name, err, guardrails.RuleBudgets)
	}
	if pv != nil {
		pv.Cascade = guardrails.CascadeLines(facts.Cascade, plan.Cascade, maxCascadeLines)
	}
	if ref := guardrails.Evaluate(settings, plan, facts); ref != nil {
		audit.Guardrails(ctx, ref.Rules...)
		return ref
	}
	return nil
}
