package ocm

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/kubernetes"
	addonv1alpha1 "open-cluster-management.io/api/addon/v1alpha1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
	workv1 "open-cluster-management.io/api/work/v1"
)

// Verdict is the one-word summary of a cluster's health.
type Verdict string

const (
	Healthy     Verdict = "Healthy"
	Degraded    Verdict = "Degraded"
	Unavailable Verdict = "Unavailable"
	Unknown     Verdict = "Unknown"
)

// agentNamespacePrefix starts the spoke namespaces where OCM's agents and add-ons run.
const agentNamespacePrefix = "open-cluster-management-agent"

// leaseGraceMultiple is how many lease durations OCM's hub waits before it marks a cluster Unknown.
const leaseGraceMultiple = 5

// LeaseState is the registration lease measured against its duration.
type LeaseState struct {
	Present  bool
	Renewed  time.Time
	Age      time.Duration
	Duration time.Duration
}

// LeaseOf measures the cluster's lease.
func LeaseOf(mc *clusterv1.ManagedCluster, lease *coordinationv1.Lease, now time.Time) LeaseState {
	d := time.Duration(mc.Spec.LeaseDurationSeconds) * time.Second
	if d <= 0 {
		d = 60 * time.Second
	}
	s := LeaseState{Duration: d}
	if lease == nil || lease.Spec.RenewTime == nil {
		return s
	}
	s.Present, s.Renewed, s.Age = true, lease.Spec.RenewTime.Time, now.Sub(lease.Spec.RenewTime.Time)
	return s
}

// Stale reports a lease older than the hub's grace (5 durations): the hub marks the cluster Unknown.
func (l LeaseState) Stale() bool { return l.Present && l.Age > leaseGraceMultiple*l.Duration }

// Late reports a lease older than two durations: the agent missed renewals.
func (l LeaseState) Late() bool { return l.Present && l.Age > 2*l.Duration }

// Short renders "12s/60s", with "late" or "stale" appended; "-" when there is no lease.
func (l LeaseState) Short() string {
	if !l.Present {
		return "-"
	}
	s := humanDuration(l.Age) + "/" + humanDuration(l.Duration)
	switch {
	case l.Stale():
		s += " stale"
	case l.Late():
		s += " late"
	}
	return s
}

func humanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return duration.HumanDuration(d)
}

// AddOnHealthy reports whether an add-on is Available and not Degraded.
func AddOnHealthy(a *addonv1alpha1.ManagedClusterAddOn) bool {
	return meta.IsStatusConditionTrue(a.Status.Conditions, addonv1alpha1.ManagedClusterAddOnConditionAvailable) &&
		!meta.IsStatusConditionTrue(a.Status.Conditions, addonv1alpha1.ManagedClusterAddOnConditionDegraded)
}

// WorkFailure returns why a ManifestWork failed, or "" when it did not.
func WorkFailure(w *workv1.ManifestWork) string {
	for _, typ := range []string{workv1.WorkApplied, workv1.WorkAvailable} {
		c := meta.FindStatusCondition(w.Status.Conditions, typ)
		if c != nil && c.Status == metav1.ConditionFalse {
			return fmt.Sprintf("%s=False (%s: %s)", typ, c.Reason, c.Message)
		}
	}
	if c := meta.FindStatusCondition(w.Status.Conditions, workv1.WorkDegraded); c != nil && c.Status == metav1.ConditionTrue {
		return fmt.Sprintf("Degraded (%s: %s)", c.Reason, c.Message)
	}
	return ""
}

// LiveSummary is what the spoke itself says, read with the server's spoke credentials.
type LiveSummary struct {
	NodesReady, NodesTotal int
	NotReadyNodes          []string
	Pods                   []PodProblem   // pods not Running-and-ready nor Succeeded
	Warnings               []WarningEvent // in the last hour
	// Partial lists reads the granted role was not allowed to make.
	Partial []string
}

// GatherLive reads nodes, pods and the warning events of the last window from a cluster. A Forbidden
// read is noted in Partial, not an error: the role may not cover everything.
func GatherLive(ctx context.Context, kube kubernetes.Interface, now time.Time, window time.Duration) (*LiveSummary, error) {
	s := &LiveSummary{}
	nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	switch {
	case isForbidden(err):
		s.Partial = append(s.Partial, "nodes")
	case err != nil:
		return nil, err
	default:
		s.NodesTotal = len(nodes.Items)
		for i := range nodes.Items {
			if nodeReady(&nodes.Items[i]) {
				s.NodesReady++
			} else {
				s.NotReadyNodes = append(s.NotReadyNodes, nodes.Items[i].Name)
			}
		}
	}
	pods, err := problemPods(ctx, kube)
	switch {
	case isForbidden(err):
		s.Partial = append(s.Partial, "pods")
	case err != nil:
		return nil, err
	default:
		s.Pods = pods
		sort.Slice(s.Pods, func(i, j int) bool {
			if s.Pods[i].Namespace != s.Pods[j].Namespace {
				return s.Pods[i].Namespace < s.Pods[j].Namespace
			}
			return s.Pods[i].Name < s.Pods[j].Name
		})
	}
	events, err := kube.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "type=" + corev1.EventTypeWarning})
	switch {
	case isForbidden(err):
		s.Partial = append(s.Partial, "events")
	case err != nil:
		return nil, err
	default:
		s.Warnings = WarningEvents(events.Items, now.Add(-window))
	}
	return s, nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Evidence is everything the verdict is drawn from.
type Evidence struct {
	Cluster     *clusterv1.ManagedCluster
	Lease       LeaseState
	AddOns      []*addonv1alpha1.ManagedClusterAddOn
	FailedWorks []string // "name: why"
	Live        *LiveSummary
	LiveErr     error // the spoke could not be read
}

// Assessment is the verdict with its most probable cause.
type Assessment struct {
	Verdict Verdict
	Cause   string
}

// Assess draws the verdict from the evidence, most fundamental problem first.
func Assess(e Evidence) Assessment {
	mc := e.Cluster
	if StateUnknown(mc) {
		return Assessment{Unknown, UnknownStateCause}
	}
	conds := mc.Status.Conditions
	if c := meta.FindStatusCondition(conds, clusterv1.ManagedClusterConditionHubDenied); c != nil && c.Status == metav1.ConditionTrue {
		return Assessment{Unavailable, fmt.Sprintf("the hub denies the cluster (%s: %s)", c.Reason, c.Message)}
	}
	if !mc.Spec.HubAcceptsClient {
		return Assessment{Unavailable, fmt.Sprintf("the hub has not accepted the cluster (spec.hubAcceptsClient=false): accept it with `clusteradm accept --clusters %s`", mc.Name)}
	}
	if !meta.IsStatusConditionTrue(conds, clusterv1.ManagedClusterConditionJoined) {
		return Assessment{Unavailable, "the cluster's registration agent has not joined the hub: its CSR is pending or denied, or its bootstrap kubeconfig is wrong"}
	}
	avail := meta.FindStatusCondition(conds, clusterv1.ManagedClusterConditionAvailable)
	switch {
	case avail == nil || avail.Status == metav1.ConditionUnknown:
		return Assessment{Unknown, unknownCause(e, avail)}
	case avail.Status == metav1.ConditionFalse:
		return Assessment{Unavailable, fmt.Sprintf("the agent reports the cluster unavailable (%s: %s)", avail.Reason, avail.Message)}
	}
	var problems []string
	if e.Lease.Late() {
		problems = append(problems, fmt.Sprintf("the lease is %s old (duration %s): the registration agent is missing renewals", humanDuration(e.Lease.Age), humanDuration(e.Lease.Duration)))
	}
	var sick []string
	for _, a := range e.AddOns {
		if !AddOnHealthy(a) {
			sick = append(sick, a.Name)
		}
	}
	if len(sick) > 0 {
		problems = append(problems, "add-on(s) not available: "+strings.Join(sick, ", "))
	}
	if len(e.FailedWorks) > 0 {
		problems = append(problems, "failed ManifestWork(s): "+strings.Join(e.FailedWorks, "; "))
	}
	if e.LiveErr != nil {
		problems = append(problems, "the spoke's API server cannot be read from the hub: "+e.LiveErr.Error())
	}
	if l := e.Live; l != nil {
		if len(l.NotReadyNodes) > 0 {
			problems = append(problems, fmt.Sprintf("%d of %d node(s) not Ready: %s", len(l.NotReadyNodes), l.NodesTotal, strings.Join(l.NotReadyNodes, ", ")))
		}
		for _, p := range l.Pods {
			if p.Failing && strings.HasPrefix(p.Namespace, agentNamespacePrefix) {
				problems = append(problems, fmt.Sprintf("OCM agent pod %s/%s is %s", p.Namespace, p.Name, p.Reason))
			}
		}
	}
	if len(problems) > 0 {
		return Assessment{Degraded, strings.Join(problems, "; ")}
	}
	return Assessment{Healthy, "available, lease renewed on time, add-ons available, no failed ManifestWork"}
}

// UnknownStateCause explains the verdict of a cluster whose OCM state the data does not hold.
const UnknownStateCause = "its OCM state (accepted, joined, available, lease, add-ons) is not known from this archive: it holds no hub data about this cluster (a plain cluster must-gather); this says nothing of the cluster's health"

func unknownCause(e Evidence, avail *metav1.Condition) string {
	var b strings.Builder
	switch {
	case !e.Lease.Present:
		b.WriteString("the cluster has no lease on the hub: its registration agent has never renewed one")
	case e.Lease.Age > e.Lease.Duration:
		fmt.Fprintf(&b, "the lease has not been renewed for %s (lease duration %s), so the registration agent on the spoke is down or cannot reach the hub",
			humanDuration(e.Lease.Age), humanDuration(e.Lease.Duration))
	default:
		b.WriteString("the hub reports the cluster's availability as Unknown")
		if avail != nil {
			fmt.Fprintf(&b, " (%s: %s)", avail.Reason, avail.Message)
		}
	}
	switch {
	case e.Live != nil:
		b.WriteString("; the spoke's API server still answers the hub's server, so the agent itself is down or its hub credentials are invalid")
	case e.LiveErr != nil:
		b.WriteString("; the spoke's API server does not answer either (" + e.LiveErr.Error() + "), so the whole cluster or the network to it is down")
	}
	return b.String()
}

func isForbidden(err error) bool { return err != nil && apierrors.IsForbidden(err) }
