package ocm

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// PodProblem is a pod that is neither Running and ready nor Succeeded, with the reason a human would
// look for first.
type PodProblem struct {
	Namespace, Name string
	Phase           string
	Reason          string // e.g. CrashLoopBackOff, ImagePullBackOff, Unschedulable, Init:Error
	Message         string
	Restarts        int32
	// Failing is true for a concrete failure (crash loops, image pulls, unschedulable, init failures);
	// false for a pod that is merely not started yet.
	Failing bool
}

// failingReasons are waiting/terminated reasons that mean a pod is broken, not just starting.
var failingReasons = map[string]bool{
	"CrashLoopBackOff": true, "ImagePullBackOff": true, "ErrImagePull": true, "InvalidImageName": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
	"Error": true, "OOMKilled": true, "ContainerCannotRun": true, "DeadlineExceeded": true,
}

// InspectPod returns the pod's problem, or false when it is healthy (Running with every container ready,
// or Succeeded).
func InspectPod(p *corev1.Pod) (PodProblem, bool) {
	pp := PodProblem{Namespace: p.Namespace, Name: p.Name, Phase: string(p.Status.Phase)}
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		pp.Restarts += cs.RestartCount
	}
	if p.Status.Phase == corev1.PodSucceeded {
		return pp, false
	}
	if reason, msg, ok := initFailure(p); ok {
		pp.Reason, pp.Message, pp.Failing = reason, msg, true
		return pp, true
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			pp.Reason, pp.Message, pp.Failing = w.Reason, w.Message, failingReasons[w.Reason]
			return pp, true
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			pp.Reason, pp.Message, pp.Failing = t.Reason, fmt.Sprintf("exit code %d %s", t.ExitCode, t.Message), true
			return pp, true
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			pp.Reason, pp.Message, pp.Failing = c.Reason, c.Message, c.Reason == corev1.PodReasonUnschedulable
			return pp, true
		}
	}
	switch p.Status.Phase {
	case corev1.PodFailed:
		pp.Reason, pp.Message, pp.Failing = p.Status.Reason, p.Status.Message, true
		return pp, true
	case corev1.PodPending:
		pp.Reason = "Pending"
		if p.Spec.NodeName == "" {
			pp.Message = "not scheduled yet"
		} else {
			pp.Message = "scheduled to " + p.Spec.NodeName + ", containers not started"
		}
		return pp, true
	case corev1.PodRunning:
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status != corev1.ConditionTrue {
				pp.Reason, pp.Message = "NotReady", c.Message
				return pp, true
			}
		}
	}
	return pp, false
}

func initFailure(p *corev1.Pod) (string, string, bool) {
	for _, cs := range p.Status.InitContainerStatuses {
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return "Init:" + nonEmpty(t.Reason, "Error"), fmt.Sprintf("init container %s exited %d %s", cs.Name, t.ExitCode, t.Message), true
		}
		if w := cs.State.Waiting; w != nil && failingReasons[w.Reason] {
			return "Init:" + w.Reason, fmt.Sprintf("init container %s: %s", cs.Name, w.Message), true
		}
	}
	return "", "", false
}

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// WarningEvent is one Warning event, aggregated by object and reason.
type WarningEvent struct {
	Namespace, Object, Reason, Message string
	Count                              int32
	Last                               time.Time
}

// WarningEvents keeps the Warning events newer than since, most frequent first.
func WarningEvents(events []corev1.Event, since time.Time) []WarningEvent {
	byKey := map[string]*WarningEvent{}
	for i := range events {
		e := &events[i]
		if e.Type != corev1.EventTypeWarning {
			continue
		}
		last := EventTime(e)
		if last.Before(since) {
			continue
		}
		obj := strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name
		key := e.Namespace + "|" + obj + "|" + e.Reason
		w, ok := byKey[key]
		if !ok {
			w = &WarningEvent{Namespace: e.Namespace, Object: obj, Reason: e.Reason}
			byKey[key] = w
		}
		w.Count += max(e.Count, 1)
		if last.After(w.Last) {
			w.Last, w.Message = last, e.Message
		}
	}
	out := make([]WarningEvent, 0, len(byKey))
	for _, w := range byKey {
		out = append(out, *w)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Last.After(out[j].Last)
	})
	return out
}

// EventTime is when an event last happened, from whichever of its time fields is set.
func EventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}
