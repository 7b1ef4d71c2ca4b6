package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// finding is one block of a diagnosis: its header fields and its whole text.
type finding struct {
	severity, id, subject, title, text string
}

func parseFindings(text string) []finding {
	var out []finding
	for _, block := range strings.Split(text, "\n\n") {
		m := topFinding.FindStringSubmatch(block)
		if m == nil {
			continue
		}
		out = append(out, finding{severity: m[1], id: m[2], subject: m[3], title: m[4], text: block})
	}
	return out
}

// faultExpectation is what a diagnosis must say of an injected fault: the finding that names its
// cause, the object its title names, and a piece of the evidence.
func faultExpectation(flt fleet.InjectedFault) (id, object, evidence string) {
	switch flt.Kind {
	case fleet.FaultCrashLoop:
		return "pod-crashlooping", "Deployment payments/payments-api", "panic: database unavailable"
	case fleet.FaultImagePull:
		return "pod-image-pull", "Deployment " + flt.Namespace + "/" + flt.Name, "9.9.9-missing"
	case fleet.FaultOOMKilled:
		return "pod-oomkilled", "Deployment " + flt.Namespace + "/" + flt.Name, "memory limit 256Mi"
	case fleet.FaultUnschedulable:
		return "pod-unschedulable", "Deployment " + flt.Namespace + "/" + flt.Name, "didn't match Pod's node affinity/selector"
	case fleet.FaultJobFailed:
		return "job-failed", "Job " + flt.Namespace + "/" + flt.Name, "AccessDenied: role fleet-export may not write"
	case fleet.FaultNoEndpoints:
		return "service-no-endpoints", "Service " + flt.Namespace + "/" + flt.Name, "pods there carry app=" + flt.Name + "-primary"
	case fleet.FaultPDBBlocks:
		return "pdb-blocks-disruption", "PodDisruptionBudget " + flt.Namespace + "/" + flt.Name, "minAvailable 2"
	case fleet.FaultRolloutStuck:
		return "rollout-stuck", "Deployment " + flt.Namespace + "/" + flt.Name, "exceeded quota"
	case fleet.FaultNodePressure:
		return "node-pressure", "Node " + flt.Name, "KubeletHasInsufficientMemory"
	}
	return "", "", ""
}

// checkFleetDiagnosis checks a fleet diagnosis against the injected faults: for each, the first
// finding about its object names the right cause, with its evidence; every other finding is about an
// injected fault's object (a symptom ranked after its cause), or one of extra for a cluster.
func checkFleetDiagnosis(t *testing.T, where, text string, extra map[string][]string) {
	t.Helper()
	fs := parseFindings(text)
	accounted := make([]bool, len(fs))
	for _, flt := range env.fleet.Faults() {
		id, object, evidence := faultExpectation(flt)
		subject := "cluster " + flt.Cluster
		first := -1
		for i, f := range fs {
			if f.subject == subject && strings.Contains(f.title, object) {
				accounted[i] = true
				if first < 0 {
					first = i
				}
			}
		}
		switch {
		case first < 0:
			t.Errorf("%s: no finding about %s on %s (%s)", where, object, flt.Cluster, flt.Kind)
		case fs[first].id != id:
			t.Errorf("%s: the first finding about %s on %s is %s, want %s:\n%s", where, object, flt.Cluster, fs[first].id, id, fs[first].text)
		case !strings.Contains(fs[first].text, evidence):
			t.Errorf("%s: the %s finding lacks %q:\n%s", where, id, evidence, fs[first].text)
		}
	}
	for i, f := range fs {
		if accounted[i] {
			continue
		}
		ok := false
		cluster := f.subject[strings.LastIndex(f.subject, "cluster ")+len("cluster "):] // "cluster x", "add-on y on cluster x"
		for _, id := range extra[cluster] {
			ok = ok || f.id == id
		}
		if !ok {
			t.Errorf("%s: a finding no injected fault explains (a false alarm):\n%s", where, f.text)
		}
	}
	if t.Failed() {
		t.Logf("%s diagnosis:\n%s", where, text)
	}
}

func faultsSummary() string {
	var parts []string
	for _, flt := range env.fleet.Faults() {
		parts = append(parts, fmt.Sprintf("%s on %s", flt.Kind, flt.Cluster))
	}
	return strings.Join(parts, ", ")
}
