package diagnose

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// addOn diagnoses one add-on: how it is installed and, on one cluster or all, its state.
func (r *Runner) addOn(ctx context.Context, addon, cluster string) ([]Finding, error) {
	out, err := r.addOnInstall(ctx, addon, cluster)
	if err != nil {
		return nil, err
	}
	if cluster == "" {
		return out, nil
	}
	t, err := ocm.Resolve(ctx, r.Source, cluster)
	if err != nil {
		return nil, err
	}
	all, err := r.addOnsOf(ctx, t.Cluster)
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		if strings.HasPrefix(f.Subject, "add-on "+addon+" ") {
			out = append(out, f)
		}
	}
	out = append(out, r.addOnLease(ctx, t, addon)...)
	return out, nil
}

// addOnInstall follows the ClusterManagementAddOn's install strategy: for Placements, each Placement's
// conditions and decisions, the ManagedClusterSetBindings in its namespace, and whether the decided
// clusters (or the one asked about) have the add-on.
func (r *Runner) addOnInstall(ctx context.Context, addon, cluster string) ([]Finding, error) {
	subject := "add-on " + addon
	r.check(addon + ": ClusterManagementAddOn, install strategy, placements")
	cma, err := r.get(ctx, r.hub, gvrCMA, "", addon)
	if err != nil {
		return nil, err
	}
	if cma == nil {
		return []Finding{{ID: "addon-unknown", Severity: Critical, Rank: 90, Subject: subject, Title: "No ClusterManagementAddOn by that name on the hub",
			Looked: []string{"ClusterManagementAddOn " + addon}, Evidence: []string{"clustermanagementaddon " + addon + " not found"},
			Verify: []string{"kubectl cluster=hub: get clustermanagementaddons"}}}, nil
	}
	strategy := str(cma.Object, "spec", "installStrategy", "type")
	if strategy == "" {
		strategy = "Manual"
	}
	if strategy != "Placements" {
		if cluster == "" {
			return nil, nil
		}
		if mca, _ := r.get(ctx, r.hub, gvrMCA, cluster, addon); mca == nil {
			return []Finding{{ID: "addon-not-enabled", Severity: Warning, Rank: 60, Subject: fmt.Sprintf("%s on cluster %s", subject, cluster),
				Title:    "The add-on is installed manually and nobody enabled it on this cluster",
				Looked:   []string{"ClusterManagementAddOn " + addon + " spec.installStrategy", fmt.Sprintf("ManagedClusterAddOn %s/%s", cluster, addon)},
				Evidence: []string{"installStrategy.type=" + strategy, fmt.Sprintf("no ManagedClusterAddOn %s in namespace %s", addon, cluster)},
				Next:     fmt.Sprintf("Enable it: clusteradm addon enable --names %s --clusters %s.", addon, cluster),
				Runbook:  "runbook://ocm/addon-not-created"}}, nil
		}
		return nil, nil
	}
	refs, _, _ := unstructured.NestedSlice(cma.Object, "spec", "installStrategy", "placements")
	var out []Finding
	for _, ref := range refs {
		m, _ := ref.(map[string]any)
		name, _ := m["name"].(string)
		ns, _ := m["namespace"].(string)
		f, err := r.placement(ctx, addon, cluster, ns, name)
		if err != nil {
			return nil, err
		}
		out = append(out, f...)
	}
	return out, nil
}

func (r *Runner) placement(ctx context.Context, addon, cluster, ns, name string) ([]Finding, error) {
	subject := "add-on " + addon
	where := fmt.Sprintf("Placement %s/%s", ns, name)
	p, err := r.get(ctx, r.hub, gvrPlacement, ns, name)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return []Finding{{ID: "addon-placement-missing", Severity: Critical, Rank: 88, Subject: subject,
			Title: "The add-on is installed by a Placement that does not exist", Looked: []string{where},
			Evidence: []string{where + " not found, yet ClusterManagementAddOn " + addon + " installs by it"},
			Next:     "Create the Placement, or point the install strategy at an existing one.", Runbook: "runbook://ocm/placement-no-decisions"}}, nil
	}
	bindings, err := r.list(ctx, r.hub, gvrBinding, ns, "")
	if err != nil {
		return nil, err
	}
	var bound []string
	for i := range bindings {
		bound = append(bound, str(bindings[i].Object, "spec", "clusterSet"))
	}
	sort.Strings(bound)
	decisions, err := r.list(ctx, r.hub, gvrDecision, ns, "cluster.open-cluster-management.io/placement="+name)
	if err != nil {
		return nil, err
	}
	decided := map[string]bool{}
	for i := range decisions {
		ds, _, _ := unstructured.NestedSlice(decisions[i].Object, "status", "decisions")
		for _, d := range ds {
			if dm, ok := d.(map[string]any); ok {
				decided[fmt.Sprint(dm["clusterName"])] = true
			}
		}
	}
	// Clusters the caller may not read are counted, never named.
	hidden := 0
	for c := range decided {
		if !ocm.Visible(ctx, c) {
			delete(decided, c)
			hidden++
		}
	}
	decidedText := listOrNone(keys(decided))
	switch {
	case hidden > 0 && len(decided) == 0:
		decidedText = fmt.Sprintf("%d you may not read", hidden)
	case hidden > 0:
		decidedText = fmt.Sprintf("%s, and %d you may not read", decidedText, hidden)
	}
	evidence := []string{fmt.Sprintf("ManagedClusterSetBindings in namespace %s: %s", ns, listOrNone(bound)), fmt.Sprintf("%s decides %d cluster(s): %s", where, len(decided)+hidden, decidedText)}
	if c := findCondition(conditions(p), "PlacementSatisfied"); c != nil {
		evidence = append([]string{condLine(c, r.Now)}, evidence...)
	}
	looked := []string{where, "PlacementDecisions of " + where, "ManagedClusterSetBindings in " + ns}
	verify := []string{fmt.Sprintf("kubectl cluster=hub: get placement %s -n %s -o yaml", name, ns), fmt.Sprintf("kubectl cluster=hub: get managedclustersetbindings -n %s", ns)}
	switch {
	case len(bound) == 0:
		return []Finding{{ID: "addon-placement-no-bindings", Severity: Critical, Rank: 87, Subject: subject,
			Title:  fmt.Sprintf("The add-on is never created: its %s selects nothing because namespace %s has no ManagedClusterSetBinding", where, ns),
			Looked: looked, Evidence: evidence, Verify: verify, Runbook: "runbook://ocm/addon-not-created",
			Next: fmt.Sprintf("Bind a ManagedClusterSet into %s: kubectl_write cluster=hub: apply a ManagedClusterSetBinding (metadata.name and spec.clusterSet = the set, e.g. global) in namespace %s.", ns, ns)}}, nil
	case len(decided)+hidden == 0:
		return []Finding{{ID: "addon-placement-no-decisions", Severity: Critical, Rank: 86, Subject: subject,
			Title:  fmt.Sprintf("The add-on is never created: its %s selects no cluster", where),
			Looked: looked, Evidence: evidence, Verify: verify, Runbook: "runbook://ocm/placement-no-decisions",
			Next: "Check the bound sets' members and the Placement's predicates and tolerations."}}, nil
	}
	var out []Finding
	var missing []string
	for c := range decided {
		if cluster != "" && c != cluster {
			continue
		}
		if mca, _ := r.get(ctx, r.hub, gvrMCA, c, addon); mca == nil {
			missing = append(missing, c)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		out = append(out, Finding{ID: "addon-not-created", Severity: Critical, Rank: 80, Subject: subject,
			Title:  fmt.Sprintf("%s decides cluster(s) where the add-on does not exist: the add-on manager did not create it", where),
			Looked: append(looked, "ManagedClusterAddOns "+addon), Evidence: append(evidence, "no ManagedClusterAddOn on: "+strings.Join(missing, ", ")),
			Next: "Check that the add-on manager runs on the hub (its pods and logs).", Runbook: "runbook://ocm/addon-not-created", Verify: verify})
	}
	if cluster != "" && !decided[cluster] {
		out = append(out, Finding{ID: "addon-cluster-not-selected", Severity: Warning, Rank: 70, Subject: fmt.Sprintf("%s on cluster %s", subject, cluster),
			Title:  fmt.Sprintf("%s does not select cluster %s", where, cluster),
			Looked: looked, Evidence: append(evidence, r.clusterSetOf(ctx, cluster)),
			Next: fmt.Sprintf("Put %s in a set bound to %s, or relax the Placement's predicates.", cluster, ns), Runbook: "runbook://ocm/placement-no-decisions", Verify: verify})
	}
	return out, nil
}

func (r *Runner) clusterSetOf(ctx context.Context, cluster string) string {
	t, err := ocm.Resolve(ctx, r.Source, cluster)
	if err != nil || t.Cluster == nil {
		return "cluster " + cluster + " is unknown"
	}
	set := t.Cluster.Labels[ocm.ClusterSetLabel]
	if set == "" {
		return "cluster " + cluster + " carries no clusterset label"
	}
	return fmt.Sprintf("cluster %s is in ManagedClusterSet %s", cluster, set)
}

// addOnLease reads the add-on's health lease on the spoke (Lease health checks).
func (r *Runner) addOnLease(ctx context.Context, t ocm.Target, addon string) []Finding {
	sp := r.spokeClient(ctx, t)
	if !sp.readable() {
		return nil
	}
	r.check(fmt.Sprintf("%s: health lease of %s", t.Name, addon))
	lease, err := r.get(ctx, sp.dyn, gvrLeases, agentAddonNS, addon)
	if err != nil || lease == nil {
		return nil
	}
	renew, err := time.Parse(time.RFC3339Nano, str(lease.Object, "spec", "renewTime"))
	if err != nil || r.Now.Sub(renew) < leaseStaleAfter {
		return nil
	}
	return []Finding{{ID: "addon-lease-stale", Severity: Warning, Rank: 45, Subject: fmt.Sprintf("add-on %s on cluster %s", addon, t.Name),
		Title:    "The add-on's health lease on the spoke is not renewed: its agent is down",
		Looked:   []string{fmt.Sprintf("Lease %s/%s on the spoke", agentAddonNS, addon)},
		Evidence: []string{fmt.Sprintf("renewTime %s (%s)", renew.UTC().Format(time.RFC3339), ago(renew, r.Now))},
		Verify:   []string{fmt.Sprintf("kubectl cluster=%s: get pods -n %s", t.Name, agentAddonNS)}, Runbook: "runbook://ocm/addon-unavailable"}}
}

// leaseStaleAfter is how old an add-on health lease may get (addon-framework renews every 60 s).
const leaseStaleAfter = 5 * time.Minute

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
