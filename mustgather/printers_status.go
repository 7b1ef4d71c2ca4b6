package mustgather

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/duration"
)

func statuses(o map[string]any, field string) []map[string]any {
	s, _, _ := unstructured.NestedSlice(o, "status", field)
	out := make([]map[string]any, 0, len(s))
	for _, x := range s {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func podReady(o map[string]any, _ time.Time) any {
	cs := statuses(o, "containerStatuses")
	specs, _, _ := unstructured.NestedSlice(o, "spec", "containers")
	ready := 0
	for _, c := range cs {
		if b, _ := c["ready"].(bool); b {
			ready++
		}
	}
	return fmt.Sprintf("%d/%d", ready, len(specs))
}

// podRestarts is the restart count, with how long ago the last one was when it is known.
func podRestarts(o map[string]any, now time.Time) any {
	var n int64
	var last time.Time
	for _, c := range statuses(o, "containerStatuses") {
		n += num(c, "restartCount")
		if t, err := time.Parse(time.RFC3339, str(c, "lastState", "terminated", "finishedAt")); err == nil && t.After(last) {
			last = t
		}
	}
	if n != 0 && !last.IsZero() {
		return fmt.Sprintf("%d (%s ago)", n, duration.HumanDuration(now.Sub(last)))
	}
	return fmt.Sprint(n)
}

// podStatus follows kubectl's rules for the STATUS column, in short.
func podStatus(o map[string]any, _ time.Time) any {
	reason := first(str(o, "status", "reason"), str(o, "status", "phase"))
	inits := statuses(o, "initContainerStatuses")
	initializing := false
	for i, c := range inits {
		switch {
		case num(c, "state", "terminated", "exitCode") == 0 && str(c, "state", "terminated", "reason") != "" && str(c, "state", "terminated", "reason") != "Error":
			continue
		case str(c, "state", "terminated", "reason") != "":
			reason = "Init:" + str(c, "state", "terminated", "reason")
		case num(c, "state", "terminated", "exitCode") != 0:
			reason = fmt.Sprintf("Init:ExitCode:%d", num(c, "state", "terminated", "exitCode"))
		case str(c, "state", "waiting", "reason") != "" && str(c, "state", "waiting", "reason") != "PodInitializing":
			reason = "Init:" + str(c, "state", "waiting", "reason")
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(inits))
		}
		initializing = true
		break
	}
	if !initializing {
		cs := statuses(o, "containerStatuses")
		for i := len(cs) - 1; i >= 0; i-- {
			c := cs[i]
			switch {
			case str(c, "state", "waiting", "reason") != "":
				reason = str(c, "state", "waiting", "reason")
			case str(c, "state", "terminated", "reason") != "":
				reason = str(c, "state", "terminated", "reason")
			}
		}
	}
	if str(o, "metadata", "deletionTimestamp") != "" {
		reason = "Terminating"
	}
	return reason
}

func servicePorts(o map[string]any, _ time.Time) any {
	ports, _, _ := unstructured.NestedSlice(o, "spec", "ports")
	var parts []string
	for _, p := range ports {
		m, _ := p.(map[string]any)
		s := fmt.Sprintf("%d/%s", num(m, "port"), first(str(m, "protocol"), "TCP"))
		if np := num(m, "nodePort"); np > 0 {
			s = fmt.Sprintf("%d:%d/%s", num(m, "port"), np, first(str(m, "protocol"), "TCP"))
		}
		parts = append(parts, s)
	}
	return none(strings.Join(parts, ","))
}

func nodeStatus(o map[string]any, _ time.Time) any {
	status := "Unknown"
	for _, c := range statuses(o, "conditions") {
		if c["type"] == "Ready" {
			if c["status"] == "True" {
				status = "Ready"
			} else {
				status = "NotReady"
			}
		}
	}
	if b, _, _ := unstructured.NestedBool(o, "spec", "unschedulable"); b {
		status += ",SchedulingDisabled"
	}
	return status
}

func nodeRoles(o map[string]any, _ time.Time) any {
	labels, _, _ := unstructured.NestedStringMap(o, "metadata", "labels")
	var roles []string
	for k := range labels {
		if r, ok := strings.CutPrefix(k, "node-role.kubernetes.io/"); ok && r != "" {
			roles = append(roles, r)
		}
	}
	sort.Strings(roles)
	return none(strings.Join(roles, ","))
}

func jobStatus(o map[string]any, _ time.Time) any {
	has := func(t string) bool {
		for _, c := range statuses(o, "conditions") {
			if c["type"] == t && c["status"] == "True" {
				return true
			}
		}
		return false
	}
	switch {
	case has("Complete"):
		return "Complete"
	case has("Failed"):
		return "Failed"
	case str(o, "metadata", "deletionTimestamp") != "":
		return "Terminating"
	case has("Suspended"):
		return "Suspended"
	case has("FailureTarget"):
		return "FailureTarget"
	case has("SuccessCriteriaMet"):
		return "SuccessCriteriaMet"
	}
	return "Running"
}

func sortStrings(s []string) { sort.Strings(s) }
