package diagnose

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
)

// pressureConditions are the node conditions that are bad when True.
var pressureConditions = []corev1.NodeConditionType{corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure, corev1.NodeNetworkUnavailable}

// nodeFindings: nodes not Ready (a cause for every pod on them), and pressure conditions.
func (s *snapshot) nodeFindings() []Finding {
	var out []Finding
	c := s.cluster
	for i := range s.nodes {
		n := &s.nodes[i]
		verify := []string{fmt.Sprintf("kubectl cluster=%s: describe node %s", c, n.Name)}
		ready := nodeCondition(n, corev1.NodeReady)
		if ready == nil || ready.Status != corev1.ConditionTrue {
			ev := "no Ready condition: the kubelet never reported"
			if ready != nil {
				ev = nodeCondLine(ready, s)
			}
			out = append(out, Finding{ID: "node-not-ready", Severity: Critical, Rank: 62, Subject: "cluster " + c,
				Title: fmt.Sprintf("Node %s is not Ready: its pods are not served", n.Name), Looked: []string{"Node " + n.Name},
				Evidence: append([]string{ev}, taintLines(n)...), Verify: verify, Runbook: "runbook://ocm/node-pressure",
				Next: fmt.Sprintf("Find why the kubelet stopped reporting (the node's health, its network); move the workloads meanwhile (kubectl_write cluster=%s: drain %s --ignore-daemonsets).", c, n.Name)})
			continue
		}
		var ev, kinds []string
		for _, t := range pressureConditions {
			if cond := nodeCondition(n, t); cond != nil && cond.Status == corev1.ConditionTrue {
				ev = append(ev, nodeCondLine(cond, s))
				kinds = append(kinds, string(t))
			}
		}
		if len(ev) == 0 {
			continue
		}
		out = append(out, Finding{ID: "node-pressure", Severity: Warning, Rank: 48, Subject: "cluster " + c,
			Title:  fmt.Sprintf("Node %s reports %s: the kubelet evicts pods and the scheduler avoids it", n.Name, strings.Join(kinds, ", ")),
			Looked: []string{"Node " + n.Name + " conditions"}, Evidence: append(ev, taintLines(n)...), Verify: verify,
			Runbook: "runbook://ocm/node-pressure",
			Next:    fmt.Sprintf("Free what the node lacks (memory, disk, process ids) or move work off it (kubectl_write cluster=%s: cordon %s, then drain).", c, n.Name)})
	}
	return out
}

func nodeCondition(n *corev1.Node, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == t {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

func nodeCondLine(c *corev1.NodeCondition, s *snapshot) string {
	return fmt.Sprintf("condition %s=%s (reason %s) since %s: %s", c.Type, c.Status, c.Reason, ago(c.LastTransitionTime.Time, s.now), c.Message)
}

func taintLines(n *corev1.Node) []string {
	var ts []string
	for _, t := range n.Spec.Taints {
		ts = append(ts, fmt.Sprintf("%s:%s", t.Key, t.Effect))
	}
	if len(ts) == 0 {
		return nil
	}
	return []string{"taints: " + strings.Join(ts, ", ")}
}

// jobFindings: Jobs that failed, unless a newer Job of the same CronJob has succeeded since.
func (s *snapshot) jobFindings() []Finding {
	var out []Finding
	for i := range s.jobs {
		j := &s.jobs[i]
		failed := jobCondition(j, batchv1.JobFailed)
		if failed == nil || s.supersededJob(j) {
			continue
		}
		f := Finding{ID: "job-failed", Severity: Warning, Rank: 42, Subject: "cluster " + s.cluster,
			Title:  fmt.Sprintf("Job %s/%s failed (%s)", j.Namespace, j.Name, failed.Reason),
			Looked: []string{fmt.Sprintf("Job %s/%s", j.Namespace, j.Name)}, Runbook: "runbook://ocm/job-failed",
			Evidence: []string{fmt.Sprintf("condition Failed=True (reason %s) since %s: %s; %d pod(s) failed, backoffLimit %d",
				failed.Reason, ago(failed.LastTransitionTime.Time, s.now), failed.Message, j.Status.Failed, ptr.Deref(j.Spec.BackoffLimit, 6))},
			Verify: []string{fmt.Sprintf("kubectl cluster=%s: get pods -n %s -l job-name=%s", s.cluster, j.Namespace, j.Name)},
			Next:   "Fix what the failed pods' logs say, then run the Job again (delete it and apply it anew, or create one from its CronJob)."}
		if p := s.lastJobPod(j); p != nil {
			cs := firstFailedContainer(p)
			if cs != nil {
				f.Evidence = append(f.Evidence, crashLine(p, cs))
				f.Evidence = append(f.Evidence, s.logEvidence(p, cs.Name, cs, false)...)
				f.Verify = append(f.Verify, fmt.Sprintf("kubectl cluster=%s: logs %s -n %s -c %s --tail=100", s.cluster, p.Name, j.Namespace, cs.Name))
			}
		}
		out = append(out, f)
	}
	return out
}

func jobCondition(j *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if c := &j.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// supersededJob: a newer Job of the same owner completed.
func (s *snapshot) supersededJob(j *batchv1.Job) bool {
	ref := controllerOf(j.OwnerReferences)
	if ref == "" {
		return false
	}
	for i := range s.jobs {
		o := &s.jobs[i]
		if o.Namespace == j.Namespace && controllerOf(o.OwnerReferences) == ref && o.CreationTimestamp.After(j.CreationTimestamp.Time) && jobCondition(o, batchv1.JobComplete) != nil {
			return true
		}
	}
	return false
}

func (s *snapshot) lastJobPod(j *batchv1.Job) *corev1.Pod {
	var last *corev1.Pod
	for i := range s.pods {
		p := &s.pods[i]
		if kind, name := owner(p); kind == "Job" && name == j.Name && p.Namespace == j.Namespace && p.Status.Phase == corev1.PodFailed {
			if last == nil || p.CreationTimestamp.After(last.CreationTimestamp.Time) {
				last = p
			}
		}
	}
	return last
}

func firstFailedContainer(p *corev1.Pod) *corev1.ContainerStatus {
	for i := range p.Status.ContainerStatuses {
		if t := lastRun(&p.Status.ContainerStatuses[i]); t != nil && t.ExitCode != 0 {
			return &p.Status.ContainerStatuses[i]
		}
	}
	return nil
}

// rolloutFindings: Deployments that cannot create pods (ReplicaFailure) or made no progress before
// their deadline. A rollout whose pods fail is a symptom of that pod finding.
func (s *snapshot) rolloutFindings(failing map[string]string, webhookDown bool) []Finding {
	var out []Finding
	for i := range s.deployments {
		d := &s.deployments[i]
		repFail := deployCondition(d, appsv1.DeploymentReplicaFailure, corev1.ConditionTrue)
		stalled := deployCondition(d, appsv1.DeploymentProgressing, corev1.ConditionFalse)
		if repFail == nil && (stalled == nil || stalled.Reason != "ProgressDeadlineExceeded") {
			continue
		}
		name := fmt.Sprintf("Deployment %s/%s", d.Namespace, d.Name)
		f := Finding{ID: "rollout-stuck", Severity: Warning, Rank: 41, Subject: "cluster " + s.cluster, Looked: []string{name},
			Runbook: "runbook://ocm/rollout-stuck",
			Verify:  []string{fmt.Sprintf("kubectl cluster=%s: rollout status deployment/%s -n %s --timeout=5s", s.cluster, d.Name, d.Namespace)}}
		replicas := fmt.Sprintf("%d desired, %d updated, %d ready, %d available", ptr.Deref(d.Spec.Replicas, 1), d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas)
		for _, c := range []*appsv1.DeploymentCondition{repFail, stalled} {
			if c != nil {
				f.Evidence = append(f.Evidence, fmt.Sprintf("condition %s=%s (reason %s) since %s: %s", c.Type, c.Status, c.Reason, ago(c.LastTransitionTime.Time, s.now), c.Message))
			}
		}
		f.Evidence = append(f.Evidence, "replicas: "+replicas)
		if cause, ok := failing[d.Namespace+"/Deployment/"+d.Name]; ok && repFail == nil {
			f.Rank, f.Title = 9, fmt.Sprintf("%s does not progress because its pods fail (a symptom: see %s)", name, cause)
			f.Next = "Fix the pods' fault first; the rollout then completes on its own."
			out = append(out, f)
			continue
		}
		if repFail != nil && webhookDown && strings.Contains(repFail.Message, "failed calling webhook") {
			f.Rank, f.Title = 9, fmt.Sprintf("%s cannot create its pods because an admission webhook cannot be called (a symptom: see webhook-unavailable)", name)
			f.Next = "Bring the webhook back; the ReplicaSet then creates the pods on its own."
		} else if repFail != nil {
			f.Title = fmt.Sprintf("%s cannot create its pods: %s", name, repFail.Reason)
			f.Next = "Remove what refuses the pods (the message says: a ResourceQuota, a LimitRange, an admission webhook), " +
				fmt.Sprintf("or ask for fewer (kubectl_write cluster=%s: scale deployment/%s -n %s --replicas=<n>).", s.cluster, d.Name, d.Namespace)
			if strings.Contains(repFail.Message, "exceeded quota") {
				f.Verify = append(f.Verify, fmt.Sprintf("kubectl cluster=%s: describe resourcequota -n %s", s.cluster, d.Namespace))
			}
		} else {
			f.Title = fmt.Sprintf("%s made no progress before its deadline", name)
			f.Next = fmt.Sprintf("See what holds the new ReplicaSet (kubectl cluster=%s: describe deployment %s -n %s), or roll back (kubectl_write cluster=%s: rollout undo deployment/%s -n %s).",
				s.cluster, d.Name, d.Namespace, s.cluster, d.Name, d.Namespace)
		}
		out = append(out, f)
	}
	return out
}

func deployCondition(d *appsv1.Deployment, t appsv1.DeploymentConditionType, status corev1.ConditionStatus) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if c := &d.Status.Conditions[i]; c.Type == t && c.Status == status {
			return c
		}
	}
	return nil
}

// serviceFindings: Services with a selector and no ready endpoint. A selector that matches no pod is
// the cause; pods that match but are not ready make the Service a symptom. A Service with no
// EndpointSlice at all is unknown (not collected, or no controller): no finding.
func (s *snapshot) serviceFindings() []Finding {
	if _, ok := s.unread["endpointslices"]; ok {
		return nil
	}
	slices := map[string][]*discoveryv1.EndpointSlice{}
	for i := range s.slices {
		sl := &s.slices[i]
		if svc := sl.Labels[discoveryv1.LabelServiceName]; svc != "" {
			slices[sl.Namespace+"/"+svc] = append(slices[sl.Namespace+"/"+svc], sl)
		}
	}
	var out []Finding
	for i := range s.services {
		svc := &s.services[i]
		held, ok := slices[svc.Namespace+"/"+svc.Name]
		if len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName || !ok || readyEndpoints(held) > 0 {
			continue
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		var matching, notReady []string
		for j := range s.pods {
			p := &s.pods[j]
			if p.Namespace == svc.Namespace && sel.Matches(labels.Set(p.Labels)) {
				matching = append(matching, p.Name)
				if !podReady(p) {
					notReady = append(notReady, p.Name)
				}
			}
		}
		name := fmt.Sprintf("Service %s/%s", svc.Namespace, svc.Name)
		f := Finding{ID: "service-no-endpoints", Severity: Warning, Rank: 38, Subject: "cluster " + s.cluster,
			Looked:  []string{name, "EndpointSlices of " + name, "pods in namespace " + svc.Namespace},
			Runbook: "runbook://ocm/service-no-endpoints",
			Verify:  []string{fmt.Sprintf("kubectl cluster=%s: get endpointslices -n %s -l kubernetes.io/service-name=%s", s.cluster, svc.Namespace, svc.Name)}}
		if _, unread := s.unread["pods"]; unread {
			f.Title = name + " has no ready endpoint (its pods could not be read to tell why)"
			f.Evidence = []string{"selector " + sel.String(), "pods: unknown, not readable"}
			out = append(out, f)
			continue
		}
		if len(matching) == 0 {
			f.Title = fmt.Sprintf("%s has no endpoint: its selector matches no pod", name)
			f.Evidence = []string{fmt.Sprintf("selector %s matches none of the %d pod(s) in namespace %s", sel.String(), s.podsIn(svc.Namespace), svc.Namespace)}
			if near := s.labelValues(svc.Namespace, svc.Spec.Selector); near != "" {
				f.Evidence = append(f.Evidence, "pods there carry "+near)
			}
			f.Next = fmt.Sprintf("Make the selector match the pods it should serve (kubectl_write cluster=%s: patch service %s -n %s -p '{\"spec\":{\"selector\":{...}}}'), or start those pods.", s.cluster, svc.Name, svc.Namespace)
		} else {
			f.Rank, f.Severity = 8, Info
			f.Title = fmt.Sprintf("%s has no ready endpoint: %d of its %d pod(s) are not ready (a symptom of the pods' fault)", name, len(notReady), len(matching))
			f.Evidence = []string{"selector " + sel.String() + " matches " + strings.Join(matching[:min(len(matching), 5)], ", ")}
			f.Next = "Fix the pods (their finding says why they are not ready); the endpoints follow."
		}
		out = append(out, f)
	}
	return out
}

func readyEndpoints(slices []*discoveryv1.EndpointSlice) int {
	n := 0
	for _, sl := range slices {
		for _, ep := range sl.Endpoints {
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				n++
			}
		}
	}
	return n
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (s *snapshot) podsIn(ns string) int {
	n := 0
	for i := range s.pods {
		if s.pods[i].Namespace == ns {
			n++
		}
	}
	return n
}

// labelValues lists the values the namespace's pods carry for the selector's keys ("app=a, b").
func (s *snapshot) labelValues(ns string, selector map[string]string) string {
	var parts []string
	keys := make([]string, 0, len(selector))
	for k := range selector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		seen := map[string]bool{}
		for i := range s.pods {
			if v, ok := s.pods[i].Labels[k]; ok && s.pods[i].Namespace == ns {
				seen[v] = true
			}
		}
		if len(seen) == 0 {
			continue
		}
		vals := make([]string, 0, len(seen))
		for v := range seen {
			vals = append(vals, v)
		}
		sort.Strings(vals)
		parts = append(parts, k+"="+strings.Join(vals[:min(len(vals), 5)], ", "))
	}
	return strings.Join(parts, "; ")
}
