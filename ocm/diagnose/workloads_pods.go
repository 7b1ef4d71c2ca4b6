package diagnose

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Finding ids of the pod analyzers, and their runbooks.
const (
	idCrashLoop     = "pod-crashlooping"
	idOOMKilled     = "pod-oomkilled"
	idImagePull     = "pod-image-pull"
	idUnschedulable = "pod-unschedulable"
	idConfigError   = "pod-config-error"
	idStuckStarting = "pod-stuck-starting"
	idPodFailed     = "pod-failed"
)

// podRules is the policy of the pod analyzers as data: per finding, how bad, its rank among causes,
// what the pods show, and the runbook.
var podRules = map[string]struct {
	severity Severity
	rank     int
	shows    string
	runbook  string
}{
	idOOMKilled:     {Warning, 47, "killed for exceeding their memory limit (OOMKilled)", "runbook://ocm/pod-oomkilled"},
	idCrashLoop:     {Warning, 46, "crash-looping", "runbook://ocm/pod-crashloop"},
	idImagePull:     {Warning, 46, "unable to pull their image", "runbook://ocm/pod-image-pull"},
	idUnschedulable: {Warning, 45, "unschedulable: no node fits them", "runbook://ocm/pod-unschedulable"},
	idConfigError:   {Warning, 45, "unable to create their containers", "runbook://ocm/pod-crashloop"},
	idStuckStarting: {Warning, 40, "scheduled but their containers never started", "runbook://ocm/pod-crashloop"},
	idPodFailed:     {Info, 12, "failed", "runbook://ocm/pod-crashloop"},
}

// stuckAfter is how long a scheduled pod may wait for its containers before that is a finding.
const stuckAfter = 10 * time.Minute

// A running container whose last run ended in an OOM kill, or in an error after flappingRestarts
// restarts, within recentRun, fails again and again between the moments it runs.
const (
	recentRun        = time.Hour
	flappingRestarts = 3
)

func (s *snapshot) recent(t *corev1.ContainerStateTerminated) bool {
	return t != nil && !t.FinishedAt.IsZero() && s.now.Sub(t.FinishedAt.Time) < recentRun
}

// imagePullReasons are the waiting reasons of a container whose image cannot be had.
var imagePullReasons = map[string]bool{"ImagePullBackOff": true, "ErrImagePull": true, "InvalidImageName": true, "ErrImageNeverPull": true}

// explains matches the log lines that usually say why a process ended.
var explains = regexp.MustCompile(`(?i)panic|fatal|error|exception|refused|denied|forbidden|timeout|timed out|no such|not found|killed|out of memory|failed`)

// podFault is one workload's pods that fail the same way.
type podFault struct {
	id                   string
	ns, ownerKind, owner string
	pods                 []*corev1.Pod
	container            string // the container that fails, in the first pod
}

func (f *podFault) key() string { return f.ns + "/" + f.ownerKind + "/" + f.owner }

// classify says how a pod fails, and which container; "" when it does not (or only starts).
func (s *snapshot) classify(p *corev1.Pod) (id, container string) {
	if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded {
		return "", ""
	}
	if kind, _ := owner(p); kind == "Job" && p.Status.Phase == corev1.PodFailed {
		return "", "" // a Job's failed pods are judged with their Job
	}
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		w, last, now := cs.State.Waiting, cs.LastTerminationState.Terminated, cs.State.Terminated
		switch {
		case (last != nil && last.Reason == "OOMKilled" && w != nil) || (now != nil && now.Reason == "OOMKilled"):
			return idOOMKilled, cs.Name
		case w != nil && imagePullReasons[w.Reason]:
			return idImagePull, cs.Name
		case w != nil && (w.Reason == "CrashLoopBackOff" || w.Reason == "RunContainerError"):
			return idCrashLoop, cs.Name
		case w != nil && (w.Reason == "CreateContainerConfigError" || w.Reason == "CreateContainerError"):
			return idConfigError, cs.Name
		case now != nil && now.ExitCode != 0 && p.Spec.RestartPolicy == corev1.RestartPolicyNever:
			return idCrashLoop, cs.Name
		case w == nil && now == nil && s.recent(last):
			// Running again, but its last run ended badly not long ago: it flaps.
			if last.Reason == "OOMKilled" {
				return idOOMKilled, cs.Name
			}
			if last.ExitCode != 0 && cs.RestartCount >= flappingRestarts {
				return idCrashLoop, cs.Name
			}
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return idUnschedulable, ""
		}
	}
	if p.Status.Phase == corev1.PodFailed {
		return idPodFailed, ""
	}
	if p.Status.Phase == corev1.PodPending && p.Spec.NodeName != "" && s.now.Sub(p.CreationTimestamp.Time) > stuckAfter {
		return idStuckStarting, ""
	}
	return "", ""
}

// podFindings reports failing pods, one finding per workload and way of failing; failing maps each
// workload ("ns/Kind/name") to the id of its finding, for the symptoms that point at it.
func (s *snapshot) podFindings() ([]Finding, map[string]string) {
	byKey := map[string]*podFault{}
	var order []string
	for i := range s.pods {
		p := &s.pods[i]
		id, container := s.classify(p)
		if id == "" {
			continue
		}
		kind, name := owner(p)
		k := id + "|" + p.Namespace + "/" + kind + "/" + name
		f, ok := byKey[k]
		if !ok {
			f = &podFault{id: id, ns: p.Namespace, ownerKind: kind, owner: name, container: container}
			byKey[k] = f
			order = append(order, k)
		}
		f.pods = append(f.pods, p)
	}
	sort.Strings(order)
	failing := map[string]string{}
	var out []Finding
	for _, k := range order {
		f := byKey[k]
		if _, seen := failing[f.key()]; !seen {
			failing[f.key()] = f.id
		}
		out = append(out, s.podFinding(f))
	}
	return out, failing
}

func (s *snapshot) podFinding(f *podFault) Finding {
	rule := podRules[f.id]
	p := f.pods[0]
	total := s.podsOf(f.ns, f.ownerKind, f.owner)
	workload := fmt.Sprintf("%s %s/%s", f.ownerKind, f.ns, f.owner)
	title := fmt.Sprintf("%s: %d of %d pod(s) %s", workload, len(f.pods), total, rule.shows)
	if f.ownerKind == "Pod" {
		title = fmt.Sprintf("Pod %s/%s is %s", f.ns, p.Name, rule.shows)
	}
	looked := []string{fmt.Sprintf("Pod %s/%s", f.ns, p.Name)}
	if len(f.pods) > 1 {
		looked = append(looked, fmt.Sprintf("%d more pod(s) of %s", len(f.pods)-1, workload))
	}
	fd := Finding{ID: f.id, Severity: rule.severity, Rank: rule.rank, Subject: "cluster " + s.cluster, Title: title,
		Looked: looked, Runbook: rule.runbook}
	c := s.cluster
	fd.Verify = []string{fmt.Sprintf("kubectl cluster=%s: describe pod %s -n %s", c, p.Name, f.ns)}
	cs, spec := containerOf(p, f.container)
	switch f.id {
	case idCrashLoop:
		fd.Evidence = append(fd.Evidence, crashLine(p, cs))
		fd.Evidence = append(fd.Evidence, s.logEvidence(p, f.container, cs, false)...)
		fd.Title += fmt.Sprintf(": container %s %s", f.container, exitWords(cs))
		fd.Next = "Read why the last run ended (the log lines above) and fix that cause (configuration, a dependency the process needs)" + rollback(f, c) + "."
		fd.Verify = append(fd.Verify, fmt.Sprintf("kubectl cluster=%s: logs %s -n %s -c %s --previous --tail=100", c, p.Name, f.ns, f.container))
	case idOOMKilled:
		fd.Evidence = append(fd.Evidence, crashLine(p, cs), memoryLine(f.container, spec))
		fd.Evidence = append(fd.Evidence, s.logEvidence(p, f.container, cs, true)...)
		fd.Title += fmt.Sprintf(": container %s, %s", f.container, limitWords(spec))
		fd.Next = "Raise the memory limit above what the container needs"
		if f.ownerKind == "Deployment" {
			fd.Next += fmt.Sprintf(" (kubectl_write cluster=%s: set resources deployment/%s -n %s -c %s --limits=memory=<more>)", c, f.owner, f.ns, f.container)
		}
		fd.Next += ", or make it use less (cache sizes, heap settings)."
		fd.Verify = append(fd.Verify, fmt.Sprintf("kubectl cluster=%s: get pod %s -n %s", c, p.Name, f.ns))
	case idImagePull:
		image := ""
		if spec != nil {
			image = spec.Image
		}
		fd.Title += fmt.Sprintf(": image %s", image)
		fd.Evidence = append(fd.Evidence, fmt.Sprintf("container %s wants image %s: %s", f.container, image, waitingWords(cs)))
		fd.Evidence = append(fd.Evidence, s.eventEvidence("Pod", f.ns, p.Name, 2)...)
		fd.Evidence = append(fd.Evidence, pullSecretsLine(p))
		fd.Next = "Point the workload at an image that exists and that the nodes may pull (a tag that exists, an imagePullSecret for a private registry)" + rollback(f, c) + "."
		fd.Verify = append(fd.Verify, fmt.Sprintf("kubectl cluster=%s: get events -n %s --field-selector involvedObject.name=%s", c, f.ns, p.Name))
	case idUnschedulable:
		fd.Evidence = append(fd.Evidence, s.schedulingEvidence(p)...)
		fd.Next = "Make a node fit the pod or the pod fit the nodes, as the scheduler's reason says: label a node, relax the nodeSelector, affinity or tolerations, or add capacity."
		fd.Verify = append(fd.Verify, fmt.Sprintf("kubectl cluster=%s: get nodes --show-labels", c))
	default:
		fd.Evidence = append(fd.Evidence, statusLine(p, cs))
		fd.Evidence = append(fd.Evidence, s.eventEvidence("Pod", f.ns, p.Name, 3)...)
		fd.Next = "Read the pod's events for what stops it."
	}
	if len(f.pods) > 1 {
		names := make([]string, 0, 3)
		for _, q := range f.pods[1:min(len(f.pods), 4)] {
			names = append(names, q.Name)
		}
		fd.Evidence = append(fd.Evidence, fmt.Sprintf("%d more pod(s) fail the same way: %s", len(f.pods)-1, strings.Join(names, ", ")))
	}
	return fd
}

// podsOf counts the pods of a workload.
func (s *snapshot) podsOf(ns, kind, name string) int {
	n := 0
	for i := range s.pods {
		if k, o := owner(&s.pods[i]); s.pods[i].Namespace == ns && k == kind && o == name {
			n++
		}
	}
	return n
}

func rollback(f *podFault, cluster string) string {
	if f.ownerKind != "Deployment" {
		return ""
	}
	return fmt.Sprintf(", or roll back to the last working revision (kubectl_write cluster=%s: rollout undo deployment/%s -n %s)", cluster, f.owner, f.ns)
}

func containerOf(p *corev1.Pod, name string) (*corev1.ContainerStatus, *corev1.Container) {
	var cs *corev1.ContainerStatus
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				cs = &list[i]
			}
		}
	}
	for _, list := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range list {
			if list[i].Name == name {
				return cs, &list[i]
			}
		}
	}
	return cs, nil
}
