package diagnose

import (
	"cmp"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/klog/v2"
)

// lastRun is the termination of a container's last run: the current state when it is terminated,
// else the last state.
func lastRun(cs *corev1.ContainerStatus) *corev1.ContainerStateTerminated {
	if cs == nil {
		return nil
	}
	if cs.State.Terminated != nil {
		return cs.State.Terminated
	}
	return cs.LastTerminationState.Terminated
}

func exitWords(cs *corev1.ContainerStatus) string {
	if t := lastRun(cs); t != nil {
		return fmt.Sprintf("exits with code %d (%s)", t.ExitCode, cmp.Or(t.Reason, "no reason"))
	}
	return "does not stay up"
}

func crashLine(p *corev1.Pod, cs *corev1.ContainerStatus) string {
	if cs == nil {
		return fmt.Sprintf("pod %s/%s: no container status", p.Namespace, p.Name)
	}
	line := fmt.Sprintf("container %s of pod %s/%s: %s, %d restart(s)", cs.Name, p.Namespace, p.Name, waitingWords(cs), cs.RestartCount)
	if t := lastRun(cs); t != nil {
		line += fmt.Sprintf("; last run ended with exit code %d (%s)", t.ExitCode, cmp.Or(t.Reason, "no reason"))
		if !t.FinishedAt.IsZero() {
			line += " at " + t.FinishedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		if t.Message != "" {
			line += ": " + t.Message
		}
	}
	return line
}

func waitingWords(cs *corev1.ContainerStatus) string {
	switch {
	case cs == nil:
		return "no status"
	case cs.State.Waiting != nil:
		w := cs.State.Waiting
		if w.Message != "" {
			return fmt.Sprintf("waiting %s (%s)", w.Reason, w.Message)
		}
		return "waiting " + w.Reason
	case cs.State.Terminated != nil:
		return "terminated"
	case cs.State.Running != nil:
		return "running"
	}
	return "no state"
}

func statusLine(p *corev1.Pod, cs *corev1.ContainerStatus) string {
	line := fmt.Sprintf("pod %s/%s phase %s", p.Namespace, p.Name, p.Status.Phase)
	if p.Status.Reason != "" {
		line += fmt.Sprintf(" (%s: %s)", p.Status.Reason, p.Status.Message)
	}
	if cs != nil {
		line += fmt.Sprintf("; container %s %s", cs.Name, waitingWords(cs))
	}
	return line
}

func memoryLine(container string, c *corev1.Container) string {
	if c == nil {
		return "container " + container + ": its spec is not in the pod"
	}
	req := c.Resources.Requests.Memory()
	line := fmt.Sprintf("container %s: %s", container, limitWords(c))
	if !req.IsZero() {
		line += ", memory request " + req.String()
	}
	return line
}

func limitWords(c *corev1.Container) string {
	if c == nil {
		return "memory limit unknown"
	}
	if l := c.Resources.Limits.Memory(); !l.IsZero() {
		return "memory limit " + l.String()
	}
	return "no memory limit of its own (a LimitRange default, or the node ran out of memory)"
}

func pullSecretsLine(p *corev1.Pod) string {
	if len(p.Spec.ImagePullSecrets) == 0 {
		return fmt.Sprintf("the pod has no imagePullSecrets (service account %s)", cmp.Or(p.Spec.ServiceAccountName, "default"))
	}
	names := make([]string, len(p.Spec.ImagePullSecrets))
	for i, s := range p.Spec.ImagePullSecrets {
		names[i] = s.Name
	}
	return "imagePullSecrets: " + strings.Join(names, ", ")
}

// eventEvidence is the newest Warning events about an object, or why events are unknown.
func (s *snapshot) eventEvidence(kind, ns, name string, n int) []string {
	if why, ok := s.unread["events"]; ok {
		return []string{"events: unknown, not readable: " + why}
	}
	evs := s.warningsFor(kind, ns, name)
	out := make([]string, 0, n)
	for i := range evs[:min(n, len(evs))] {
		out = append(out, eventLine(&evs[i], s.now))
	}
	return out
}

// logEvidence is the log lines that say why a container's last run ended: the lines that look like
// errors, else the last ones. previous reads the run before the current one, as a restarting
// container's cause is there; a container that never restarted is read as it is.
func (s *snapshot) logEvidence(p *corev1.Pod, container string, cs *corev1.ContainerStatus, lastLines bool) []string {
	previous := cs != nil && cs.RestartCount > 0 && cs.State.Terminated == nil
	lines, err := s.logs(p.Namespace, p.Name, container, previous, 50)
	if err != nil && previous {
		previous = false
		lines, err = s.logs(p.Namespace, p.Name, container, false, 50)
	}
	run := "current run"
	if previous {
		run = "previous run"
	}
	if err != nil {
		return []string{fmt.Sprintf("logs of container %s: unknown, could not be read: %v", container, err)}
	}
	if len(lines) == 0 {
		return []string{fmt.Sprintf("logs of container %s (%s): empty", container, run)}
	}
	var picked []string
	if !lastLines {
		for _, l := range lines {
			if explains.MatchString(l) {
				picked = append(picked, l)
			}
		}
		if len(picked) > 6 {
			picked = picked[len(picked)-6:]
		}
	}
	if len(picked) == 0 {
		picked = lines[max(0, len(lines)-3):]
	}
	out := make([]string, len(picked))
	for i, l := range picked {
		if len(l) > 300 {
			l = l[:300] + "..."
		}
		out[i] = fmt.Sprintf("log (%s): %s", run, l)
	}
	return out
}

// schedulingEvidence is the scheduler's word on a pod, and what of the pod's constraints no node meets.
func (s *snapshot) schedulingEvidence(p *corev1.Pod) []string {
	var out []string
	for i := range p.Status.Conditions {
		c := p.Status.Conditions[i]
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			out = append(out, fmt.Sprintf("PodScheduled=False (%s) since %s: %s", c.Reason, ago(c.LastTransitionTime.Time, s.now), c.Message))
		}
	}
	said := "" // the scheduler's message, which its FailedScheduling event usually repeats
	if len(out) > 0 {
		_, said, _ = strings.Cut(out[0], ": ")
	}
	for _, e := range s.eventEvidence("Pod", p.Namespace, p.Name, 1) {
		if said == "" || !strings.HasSuffix(e, said) {
			out = append(out, e)
		}
	}
	if len(p.Spec.NodeSelector) > 0 {
		sel := labels.SelectorFromSet(p.Spec.NodeSelector)
		if _, unread := s.unread["nodes"]; unread {
			out = append(out, "nodeSelector "+sel.String()+"; whether a node carries it is unknown (nodes not readable)")
		} else {
			fit := 0
			for i := range s.nodes {
				if sel.Matches(labels.Set(s.nodes[i].Labels)) {
					fit++
				}
			}
			out = append(out, fmt.Sprintf("nodeSelector %s: %d of %d node(s) carry it", sel.String(), fit, len(s.nodes)))
		}
	}
	if p.Spec.Affinity != nil && p.Spec.Affinity.NodeAffinity != nil {
		out = append(out, "the pod has a node affinity")
	}
	if taints := s.taintsNotTolerated(p); len(taints) > 0 {
		out = append(out, "node taints the pod does not tolerate: "+strings.Join(taints, ", "))
	}
	return out
}

// taintsNotTolerated lists the NoSchedule/NoExecute taints of the nodes that the pod does not tolerate.
func (s *snapshot) taintsNotTolerated(p *corev1.Pod) []string {
	seen := map[string]bool{}
	for i := range s.nodes {
		for _, t := range s.nodes[i].Spec.Taints {
			if t.Effect == corev1.TaintEffectPreferNoSchedule {
				continue
			}
			tolerated := false
			for _, tol := range p.Spec.Tolerations {
				tolerated = tolerated || tol.ToleratesTaint(klog.Background(), &t, true)
			}
			if !tolerated {
				seen[fmt.Sprintf("%s=%s:%s", t.Key, t.Value, t.Effect)] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
