package diagnose

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// pdbFindings: PodDisruptionBudgets that allow no disruption. When every pod they cover is healthy,
// the budget itself blocks drains and node upgrades (a cause); when pods are unhealthy, it is their
// symptom. A budget the disruption controller has not judged yet says nothing.
func (s *snapshot) pdbFindings() []Finding {
	var out []Finding
	for i := range s.pdbs {
		b := &s.pdbs[i]
		st := b.Status
		if st.ObservedGeneration == 0 || st.ExpectedPods == 0 || st.DisruptionsAllowed > 0 {
			continue
		}
		name := fmt.Sprintf("PodDisruptionBudget %s/%s", b.Namespace, b.Name)
		rule := "minAvailable " + intOrString(b.Spec.MinAvailable)
		if b.Spec.MaxUnavailable != nil {
			rule = "maxUnavailable " + intOrString(b.Spec.MaxUnavailable)
		}
		f := Finding{ID: "pdb-blocks-disruption", Severity: Warning, Rank: 25, Subject: "cluster " + s.cluster,
			Looked:  []string{name},
			Runbook: "runbook://ocm/pdb-blocks-disruption",
			Evidence: []string{fmt.Sprintf("%s, selector %s: %d pod(s) expected, %d healthy, %d must stay healthy, disruptions allowed %d",
				rule, metav1.FormatLabelSelector(b.Spec.Selector), st.ExpectedPods, st.CurrentHealthy, st.DesiredHealthy, st.DisruptionsAllowed)},
			Verify: []string{fmt.Sprintf("kubectl cluster=%s: get pdb %s -n %s", s.cluster, b.Name, b.Namespace)}}
		if st.CurrentHealthy >= st.ExpectedPods {
			f.Title = fmt.Sprintf("%s allows no disruption though all its %d pod(s) are healthy: a drain or node upgrade waits forever", name, st.ExpectedPods)
			f.Next = fmt.Sprintf("Let one pod go at a time (kubectl_write cluster=%s: patch pdb %s -n %s -p '{\"spec\":{\"minAvailable\":null,\"maxUnavailable\":1}}'), or run more replicas than the budget keeps.", s.cluster, b.Name, b.Namespace)
		} else {
			f.Rank, f.Severity = 7, Info
			f.Title = fmt.Sprintf("%s allows no disruption because only %d of %d pod(s) are healthy (a symptom of the pods' fault)", name, st.CurrentHealthy, st.ExpectedPods)
			f.Next = "Fix the unhealthy pods first; the budget then allows disruptions again."
		}
		out = append(out, f)
	}
	return out
}

func intOrString(v *intstr.IntOrString) string {
	if v == nil {
		return "unset"
	}
	return v.String()
}

// controllerOf names an object's controller ("Kind/name"), or "".
func controllerOf(refs []metav1.OwnerReference) string {
	for _, r := range refs {
		if r.Controller != nil && *r.Controller {
			return r.Kind + "/" + r.Name
		}
	}
	return ""
}
