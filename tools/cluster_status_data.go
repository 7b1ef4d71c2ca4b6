package tools

import (
	"time"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// StatusData is cluster_status' structured answer: the verdict and its cause first, then the evidence
// the text shows, as data. Lists are cut at maxLiveItems like the text's.
type StatusData struct {
	Cluster    string          `json:"cluster"`
	Verdict    string          `json:"verdict" jsonschema:"Healthy, Degraded, Unavailable or Unknown"`
	Cause      string          `json:"cause"`
	Conditions []ConditionItem `json:"conditions,omitempty"`
	Lease      *LeaseItem      `json:"lease,omitempty"`
	AddOns     []AddOnItem     `json:"addons,omitempty"`
	// FailedManifestWorks are "name: why".
	FailedManifestWorks []string  `json:"failedManifestWorks,omitempty"`
	Live                *LiveItem `json:"live,omitempty" jsonschema:"What the cluster's own API server said; absent when it was not read"`
	// LiveError says why the cluster could not be read.
	LiveError string `json:"liveError,omitempty"`
}

// ConditionItem is one ManagedCluster condition.
type ConditionItem struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	Since   string `json:"since,omitempty" jsonschema:"When it last changed (RFC 3339)"`
}

// LeaseItem measures the agent's lease.
type LeaseItem struct {
	Present         bool   `json:"present"`
	Renewed         string `json:"renewed,omitempty" jsonschema:"When the agent last renewed it (RFC 3339)"`
	AgeSeconds      int64  `json:"ageSeconds"`
	DurationSeconds int64  `json:"durationSeconds"`
	Stale           bool   `json:"stale"`
}

// AddOnItem is one ManagedClusterAddOn.
type AddOnItem struct {
	Name    string `json:"name"`
	Healthy bool   `json:"healthy"`
}

// LiveItem sums up the cluster's own state.
type LiveItem struct {
	NodesReady    int           `json:"nodesReady"`
	NodesTotal    int           `json:"nodesTotal"`
	NotReadyNodes []string      `json:"notReadyNodes,omitempty"`
	ProblemPods   []PodItem     `json:"problemPods,omitempty"`
	Warnings      []WarningItem `json:"warnings,omitempty" jsonschema:"Warning events of the last hour, most frequent first"`
	// Unreadable lists what the granted role could not read.
	Unreadable []string `json:"unreadable,omitempty"`
}

// PodItem is a pod that is not running and ready, nor done.
type PodItem struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Phase     string `json:"phase"`
	Reason    string `json:"reason,omitempty"`
	Restarts  int32  `json:"restarts"`
	Failing   bool   `json:"failing" jsonschema:"A concrete failure (crash loop, image pull, unschedulable, init failure), not a pod merely starting"`
}

// WarningItem is one Warning event.
type WarningItem struct {
	Namespace string `json:"namespace"`
	Object    string `json:"object"`
	Reason    string `json:"reason"`
	Message   string `json:"message"`
	Count     int32  `json:"count"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// statusData is the evidence as data.
func statusData(name string, ev ocm.Evidence, a ocm.Assessment) StatusData {
	s := StatusData{Cluster: name, Verdict: string(a.Verdict), Cause: a.Cause, FailedManifestWorks: ev.FailedWorks}
	if mc := ev.Cluster; mc != nil && !ocm.StateUnknown(mc) {
		for _, c := range mc.Status.Conditions {
			s.Conditions = append(s.Conditions, ConditionItem{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message, Since: rfc3339(c.LastTransitionTime.Time)})
		}
		l := ev.Lease
		s.Lease = &LeaseItem{Present: l.Present, Renewed: rfc3339(l.Renewed), AgeSeconds: int64(l.Age / time.Second), DurationSeconds: int64(l.Duration / time.Second), Stale: l.Stale()}
	}
	for _, a := range ev.AddOns {
		s.AddOns = append(s.AddOns, AddOnItem{Name: a.Name, Healthy: ocm.AddOnHealthy(a)})
	}
	if ev.LiveErr != nil {
		s.LiveError = ev.LiveErr.Error()
	}
	if l := ev.Live; l != nil {
		li := &LiveItem{NodesReady: l.NodesReady, NodesTotal: l.NodesTotal, NotReadyNodes: l.NotReadyNodes, Unreadable: l.Partial}
		for i, p := range l.Pods {
			if i == maxLiveItems {
				break
			}
			li.ProblemPods = append(li.ProblemPods, PodItem{Namespace: p.Namespace, Name: p.Name, Phase: p.Phase, Reason: p.Reason, Restarts: p.Restarts, Failing: p.Failing})
		}
		for i, w := range l.Warnings {
			if i == maxLiveItems {
				break
			}
			li.Warnings = append(li.Warnings, WarningItem{Namespace: w.Namespace, Object: w.Object, Reason: w.Reason, Message: w.Message, Count: w.Count})
		}
		s.Live = li
	}
	return s
}
