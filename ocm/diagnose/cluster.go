package diagnose

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// protectedAgentNS says why a change the finding suggests may be refused: the server's guardrails
// protect the OCM namespaces by default.
const protectedAgentNS = "The agent's namespace is protected by the server's guardrails by default: the change needs a server started with --guardrails-allow=protected-namespaces, and approval."

// Agent namespaces on a spoke.
const (
	agentNS      = "open-cluster-management-agent"
	agentAddonNS = "open-cluster-management-agent-addon"
	// Secrets of the registration agent on the spoke.
	hubKubeconfigSecret       = "hub-kubeconfig-secret"
	bootstrapKubeconfigSecret = "bootstrap-hub-kubeconfig"
)

func ago(t, now time.Time) string { return duration.HumanDuration(now.Sub(t)) + " ago" }

// cluster runs every check on one cluster.
func (r *Runner) cluster(ctx context.Context, name string) ([]Finding, error) {
	t, err := ocm.Resolve(ctx, r.Source, name)
	if err != nil {
		return nil, err
	}
	if t.Cluster == nil {
		return nil, fmt.Errorf("diagnose works on managed clusters; %q is the hub, which is not registered as a managed cluster of itself (no ManagedCluster is labelled local-cluster=true)", name)
	}
	mc := t.Cluster
	// The hub registered as a cluster of itself (local-cluster) is diagnosed like any other cluster,
	// under its ManagedCluster's name; its API server is the hub's.
	t.Name = mc.Name
	var out []Finding
	avail := r.availability(ctx, mc)
	out = append(out, avail...)
	stale := hasID(avail, "lease-stale") || hasID(avail, "cluster-unknown")
	sp := r.spokeReachable(ctx, t)
	switch {
	case stale:
		out = append(out, r.rootCause(ctx, t, sp)...)
	case sp.err != nil:
		out = append(out, spokeUnreadable(t, sp, r.Offline, ocm.IsAvailable(mc)))
	}
	addons, err := r.addOnsOf(ctx, mc)
	if err != nil {
		return nil, err
	}
	out = append(out, addons...)
	works, err := r.failedWorks(ctx, mc.Name)
	if err != nil {
		return nil, err
	}
	out = append(out, works...)
	creds, err := r.credentials(ctx, mc.Name)
	if err != nil {
		return nil, err
	}
	out = append(out, creds...)
	if sp.readable() {
		for _, f := range r.agentWorkloads(ctx, mc.Name, sp) {
			if !hasFinding(out, f) { // a failing agent pod may already stand as the root cause
				out = append(out, f)
			}
		}
		out = append(out, r.workloads(ctx, mc.Name, sp)...)
	}
	return out, nil
}

func hasFinding(fs []Finding, f Finding) bool {
	for _, g := range fs {
		if g.ID == f.ID && g.Subject == f.Subject && strings.Join(g.Looked, ";") == strings.Join(f.Looked, ";") {
			return true
		}
	}
	return false
}

func hasID(fs []Finding, id string) bool {
	for _, f := range fs {
		if f.ID == id {
			return true
		}
	}
	return false
}

// availability: acceptance, join (and its CSRs), the Available condition against the lease, taints,
// clock sync.
func (r *Runner) availability(ctx context.Context, mc *clusterv1.ManagedCluster) []Finding {
	subject := "cluster " + mc.Name
	conds := mc.Status.Conditions
	r.check(fmt.Sprintf("%s: acceptance, join, availability and lease", mc.Name))
	var out []Finding
	if c := meta.FindStatusCondition(conds, clusterv1.ManagedClusterConditionHubDenied); c != nil && c.Status == metav1.ConditionTrue {
		out = append(out, Finding{ID: "cluster-denied", Severity: Critical, Rank: 100, Subject: subject, Title: "The hub denies the cluster",
			Looked: []string{"ManagedCluster " + mc.Name}, Evidence: []string{condLine(c, r.Now)},
			Next: "Find who denied it and why before accepting it again."})
	}
	if !mc.Spec.HubAcceptsClient {
		out = append(out, Finding{ID: "cluster-not-accepted", Severity: Critical, Rank: 95, Subject: subject,
			Title: "The hub has not accepted the cluster", Looked: []string{"ManagedCluster " + mc.Name + " spec.hubAcceptsClient"},
			Evidence: []string{"spec.hubAcceptsClient=false"},
			Next:     fmt.Sprintf("Accept it: clusteradm accept --clusters %s (or set spec.hubAcceptsClient=true with kubectl_write on the hub).", mc.Name),
			Verify:   []string{fmt.Sprintf("kubectl cluster=hub: get managedcluster %s", mc.Name)}})
	}
	if !meta.IsStatusConditionTrue(conds, clusterv1.ManagedClusterConditionJoined) {
		f := Finding{ID: "cluster-not-joined", Severity: Critical, Rank: 90, Subject: subject, Title: "The cluster's agent has not joined the hub",
			Looked: []string{"ManagedCluster " + mc.Name, "CertificateSigningRequests of the cluster"}, Runbook: "runbook://ocm/agent-hub-credentials-invalid",
			Verify: []string{fmt.Sprintf("kubectl cluster=hub: get csr -l open-cluster-management.io/cluster-name=%s", mc.Name)}}
		f.Evidence = append(f.Evidence, r.csrEvidence(ctx, mc.Name)...)
		out = append(out, f)
	}
	lease, _ := r.Source.Lease(ctx, mc.Name)
	l := ocm.LeaseOf(mc, lease, r.Now)
	avail := meta.FindStatusCondition(conds, clusterv1.ManagedClusterConditionAvailable)
	leaseEv := "no lease managed-cluster-lease in namespace " + mc.Name
	if l.Present {
		leaseEv = fmt.Sprintf("lease %s/managed-cluster-lease renewed at %s (%s), lease duration %s; the hub marks a cluster Unknown after %s without renewal",
			mc.Name, l.Renewed.UTC().Format(time.RFC3339), ago(l.Renewed, r.Now), l.Duration, 5*l.Duration)
	}
	switch {
	case avail == nil || avail.Status == metav1.ConditionUnknown:
		id, title := "cluster-unknown", "The hub has no word from the cluster: availability Unknown"
		if l.Present && l.Age > l.Duration {
			id, title = "lease-stale", fmt.Sprintf("The registration agent stopped renewing the cluster lease %s ago", duration.HumanDuration(l.Age))
		}
		ev := []string{leaseEv}
		if avail != nil {
			ev = append(ev, condLine(avail, r.Now))
		}
		out = append(out, Finding{ID: id, Severity: Critical, Rank: 60, Subject: subject, Title: title,
			Looked: []string{"ManagedCluster " + mc.Name + " conditions", "Lease " + mc.Name + "/managed-cluster-lease"}, Evidence: ev,
			Next:    "Find out whether the agent is down, cut off, or rejected by the hub (see the root-cause finding).",
			Verify:  []string{fmt.Sprintf("kubectl cluster=hub: get lease managed-cluster-lease -n %s -o yaml", mc.Name)},
			Runbook: "runbook://ocm/cluster-unknown"})
	case avail.Status == metav1.ConditionFalse:
		out = append(out, Finding{ID: "cluster-unavailable", Severity: Critical, Rank: 55, Subject: subject,
			Title: "The agent reports the cluster unavailable", Looked: []string{"ManagedCluster " + mc.Name + " conditions"},
			Evidence: []string{condLine(avail, r.Now), leaseEv},
			Next:     "The spoke's API server is unhealthy according to the agent: look at the spoke's control plane.",
			Verify:   []string{fmt.Sprintf("kubectl cluster=%s: get --raw is not offered; use get nodes and get pods -n kube-system", mc.Name)}})
	case l.Late():
		out = append(out, Finding{ID: "lease-late", Severity: Warning, Rank: 40, Subject: subject, Title: "The cluster lease is renewed late",
			Looked: []string{"Lease " + mc.Name + "/managed-cluster-lease"}, Evidence: []string{leaseEv},
			Next: "The agent is slow or its connection to the hub flaps; read its logs."})
	}
	for _, tn := range mc.Spec.Taints {
		if strings.HasPrefix(tn.Key, "cluster.open-cluster-management.io/") {
			continue // OCM's own taints follow the conditions above
		}
		out = append(out, Finding{ID: "cluster-tainted", Severity: Info, Rank: 10, Subject: subject,
			Title: "The cluster carries a taint: placements without a toleration skip it", Looked: []string{"ManagedCluster " + mc.Name + " spec.taints"},
			Evidence: []string{fmt.Sprintf("taint %s=%s:%s added %s", tn.Key, tn.Value, tn.Effect, ago(tn.TimeAdded.Time, r.Now))}})
	}
	if c := meta.FindStatusCondition(conds, clusterv1.ManagedClusterConditionClockSynced); c != nil && c.Status == metav1.ConditionFalse {
		out = append(out, Finding{ID: "clock-not-synced", Severity: Warning, Rank: 45, Subject: subject,
			Title: "The spoke's clock is out of sync with the hub: leases and certificates misbehave", Looked: []string{"ManagedCluster " + mc.Name + " conditions"},
			Evidence: []string{condLine(c, r.Now)}, Next: "Fix NTP on the spoke's nodes."})
	}
	return out
}

func condLine(c *metav1.Condition, now time.Time) string {
	return fmt.Sprintf("condition %s=%s (reason %s) since %s: %s", c.Type, c.Status, c.Reason, ago(c.LastTransitionTime.Time, now), c.Message)
}

// csrEvidence describes the cluster's CSRs on the hub: pending ones and denied ones matter.
func (r *Runner) csrEvidence(ctx context.Context, cluster string) []string {
	csrs, err := r.list(ctx, r.hub, gvrCSR, "", "open-cluster-management.io/cluster-name="+cluster)
	if err != nil {
		return []string{"the CSRs could not be read: " + err.Error()}
	}
	if len(csrs) == 0 {
		return []string{"no CertificateSigningRequest from the cluster on the hub: the agent never reached the hub with its bootstrap credentials"}
	}
	var out []string
	for i := range csrs {
		state := "pending"
		for _, c := range conditions(&csrs[i]) {
			if c.Type == "Approved" || c.Type == "Denied" || c.Type == "Failed" {
				state = strings.ToLower(c.Type) + " (" + c.Reason + ")"
			}
		}
		out = append(out, fmt.Sprintf("CSR %s created %s: %s", csrs[i].GetName(), ago(csrs[i].GetCreationTimestamp().Time, r.Now), state))
	}
	return out
}

// spokeReachable tries the spoke's API server once.
func (r *Runner) spokeReachable(ctx context.Context, t ocm.Target) *spoke {
	sp := r.spokeClient(ctx, t)
	if sp.unchecked != "" {
		r.check(t.Name + ": the spoke's API server, not tried: " + sp.unchecked)
	}
	if !sp.readable() {
		return sp
	}
	r.check(t.Name + ": the spoke's API server answers")
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := r.list(cctx, sp.dyn, gvrPods, agentNS, ""); err != nil {
		sp.err = err
	}
	return sp
}

// spokeUnreadable is the finding for a cluster with a fresh lease whose API server the server cannot
// read. When the hub sees the cluster available, the hub-to-spoke path (URL, network, CA) or the
// server's credentials are at fault, and every spoke-side tool call will fail the same way.
func spokeUnreadable(t ocm.Target, sp *spoke, offline, available bool) Finding {
	next := "Check that the published URL is reachable from the hub and its CA matches, and the server's credentials " +
		"for the cluster (cluster_status shows them); the registration agent talks to the hub, not the other way round, " +
		"so the cluster can stay available while the hub cannot reach it."
	if !available {
		next = "Bring the spoke's API server back (its agent reports the cluster unavailable too); cluster_status reads it again once it answers."
	}
	var title string
	switch {
	case available && offline:
		title = "The hub saw the cluster available, but the collection could not read its API server"
	case available:
		title = "The hub sees the cluster available, but the server cannot read its API server"
	case offline:
		title = "The collection could not read the spoke's API server either"
	default:
		title = "The server cannot read the spoke's API server either"
	}
	published := "none"
	if cfgs := t.Cluster.Spec.ManagedClusterClientConfigs; len(cfgs) > 0 {
		urls := make([]string, len(cfgs))
		for i, c := range cfgs {
			urls[i] = c.URL
		}
		published = strings.Join(urls, ", ")
	}
	return Finding{ID: "spoke-api-unreadable", Severity: Warning, Rank: 58, Subject: "cluster " + t.Name,
		Title:    title,
		Looked:   []string{"the spoke's API server, with the server's credentials", "ManagedCluster spec.managedClusterClientConfigs"},
		Evidence: []string{sp.err.Error(), "API URL(s) the cluster publishes: " + published},
		Next:     next,
		Verify:   []string{fmt.Sprintf("cluster_status cluster=%s", t.Name), fmt.Sprintf("kubectl cluster=%s: get ns kube-system", t.Name)},
		Runbook:  "runbook://ocm/spoke-api-unreadable"}
}

// rootCause decides, for a cluster whose lease is stale, between "the whole spoke is down", "the agent
// is down" and "the agent's hub credentials are invalid".
func (r *Runner) rootCause(ctx context.Context, t ocm.Target, sp *spoke) []Finding {
	subject := "cluster " + t.Name
	if sp.unchecked != "" {
		return nil // the stale lease stands alone: without the spoke, agent and network cannot be told apart
	}
	if sp.err != nil {
		return []Finding{{ID: "spoke-unreachable", Severity: Critical, Rank: 80, Subject: subject,
			Title:    "The spoke's API server does not answer either: the cluster or the network to it is down",
			Looked:   []string{"the spoke's API server, with the server's credentials"},
			Evidence: []string{sp.err.Error()},
			Next:     "Check the spoke's control plane and the network between hub and spoke.",
			Runbook:  "runbook://ocm/cluster-unknown"}}
	}
	// A registration agent whose pod fails explains the stale lease by itself: it is not running, so its
	// credentials, whatever their state, are not what stops it.
	if pods := r.failingAgentPods(ctx, t.Name, sp, agentNS); len(pods) > 0 {
		for i := range pods {
			pods[i].Severity, pods[i].Rank = Critical, 88
			pods[i].Title += ": the registration agent cannot run, which explains the stale lease"
			pods[i].Runbook = "runbook://ocm/cluster-unknown"
		}
		for _, c := range r.agentCredentials(ctx, t, sp) {
			if c.ID == "agent-hub-credentials-invalid" { // a second problem, to fix once the agent runs
				c.Severity, c.Rank = Warning, 50
				pods = append(pods, c)
			}
		}
		return pods
	}
	creds := r.agentCredentials(ctx, t, sp)
	if len(creds) > 0 {
		return creds
	}
	return []Finding{{ID: "agent-down", Severity: Critical, Rank: 75, Subject: subject,
		Title:    "The spoke answers but its registration agent does not renew the lease: the agent is down or cut off from the hub",
		Looked:   []string{"the spoke's API server", "pods in " + agentNS},
		Evidence: r.agentPodEvidence(ctx, sp),
		Next:     fmt.Sprintf("Start the agent (kubectl_write cluster=%s: rollout restart deploy/klusterlet-agent -n %s) or restore its network path to the hub. ", t.Name, agentNS) + protectedAgentNS,
		Verify:   []string{fmt.Sprintf("kubectl cluster=%s: get pods -n %s", t.Name, agentNS), fmt.Sprintf("kubectl cluster=hub: get lease managed-cluster-lease -n %s", t.Name)},
		Runbook:  "runbook://ocm/cluster-unknown"}}
}

func (r *Runner) agentPodEvidence(ctx context.Context, sp *spoke) []string {
	pods, err := r.list(ctx, sp.dyn, gvrPods, agentNS, "")
	if err != nil {
		return []string{"pods in " + agentNS + " cannot be read: " + err.Error()}
	}
	if len(pods) == 0 {
		return []string{"no pod runs in " + agentNS + " on the spoke"}
	}
	var out []string
	for i := range pods {
		out = append(out, fmt.Sprintf("pod %s/%s phase %s", agentNS, pods[i].GetName(), str(pods[i].Object, "status", "phase")))
	}
	return out
}
