package ocm

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
)

// Selection is a resolved fan-out target: the clusters to run on, and those left out with the reason.
type Selection struct {
	Targets []Target
	Skipped map[string]string // cluster -> why it was left out
	// Many is true when the argument named a set (list, *, selector, clusterset), even of one cluster.
	Many bool
}

// MaxNamedClusters is how many names a comma-separated cluster list may hold; larger sets are chosen by a
// selector or a clusterset.
const MaxNamedClusters = 1000

// ResolveMany turns a cluster argument into targets. It accepts a single name or "hub"; a comma-separated
// list; "*" for every available cluster; "selector:<label selector>"; or "clusterset:<name>". Clusters
// picked by a pattern that are not available are skipped, with the reason; named clusters are always
// tried. A pattern picks only clusters the caller may see (WithVisibility): the others are neither
// targets nor listed as skipped.
func ResolveMany(ctx context.Context, src Source, arg string) (Selection, error) {
	arg = strings.TrimSpace(arg)
	sel := Selection{Skipped: map[string]string{}}
	var picked []*clusterv1.ManagedCluster
	switch {
	case arg == "*":
		all, err := src.ManagedClusters(ctx, labels.Everything())
		if err != nil {
			return sel, err
		}
		// Clusters the data holds without their OCM state (a plain cluster must-gather) are clusters too.
		picked, sel.Many = append(all, UnregisteredClusters(src)...), true
	case strings.HasPrefix(arg, "selector:"):
		s, err := ParseSelector(strings.TrimPrefix(arg, "selector:"))
		if err != nil {
			return sel, err
		}
		if picked, err = src.ManagedClusters(ctx, s); err != nil {
			return sel, err
		}
		sel.Many = true
	case strings.HasPrefix(arg, "clusterset:"):
		name := strings.TrimPrefix(arg, "clusterset:")
		s, err := ClusterSetSelectorByName(ctx, src, name)
		if err != nil {
			return sel, err
		}
		if picked, err = src.ManagedClusters(ctx, s); err != nil {
			return sel, err
		}
		sel.Many = true
	default:
		names := strings.Split(arg, ",")
		if len(names) > MaxNamedClusters {
			return sel, fmt.Errorf("the cluster list names %d clusters; at most %d: choose many clusters with *, selector:<label selector> or clusterset:<name>", len(names), MaxNamedClusters)
		}
		for i, n := range names {
			names[i] = strings.TrimSpace(n)
			if names[i] == "" {
				return sel, fmt.Errorf(`cluster is required: a ManagedCluster name from list_clusters, or "hub" (the list %q has an empty entry)`, truncateRunes(arg, 80))
			}
			if err := CheckClusterName(names[i]); err != nil {
				return sel, err
			}
		}
		all, err := src.ManagedClusters(ctx, labels.Everything())
		if err != nil {
			return sel, err
		}
		sel.Many = len(names) > 1
		seen := map[string]bool{}
		for _, n := range names {
			t, err := resolveIn(ctx, src, n, all)
			if err != nil {
				return sel, err
			}
			if !seen[t.Name] {
				seen[t.Name] = true
				sel.Targets = append(sel.Targets, t)
			}
		}
		return sel, nil
	}
	names := make([]string, len(picked))
	for i, mc := range picked {
		names[i] = mc.Name
	}
	visible := VisibleMany(ctx, names)
	for i, mc := range picked {
		if !visible[i] {
			continue
		}
		if c := meta.FindStatusCondition(mc.Status.Conditions, clusterv1.ManagedClusterConditionAvailable); !StateUnknown(mc) && (c == nil || c.Status != "True") {
			status := "absent"
			if c != nil {
				status = string(c.Status)
			}
			sel.Skipped[mc.Name] = fmt.Sprintf("not available on the hub (Available=%s)", status)
			continue
		}
		name := mc.Name
		if IsLocalCluster(mc) {
			name = HubName
		}
		sel.Targets = append(sel.Targets, Target{Name: name, Hub: IsLocalCluster(mc), Cluster: mc})
	}
	if len(sel.Targets) == 0 && len(sel.Skipped) == 0 {
		if Restricted(ctx) {
			return sel, fmt.Errorf("%q selects no cluster you may read on %s; see list_clusters", arg, src.Where())
		}
		return sel, fmt.Errorf("%q selects no cluster on %s; see list_clusters", arg, src.Where())
	}
	return sel, nil
}

// ClusterSetSelectorByName returns the member selector of the named ManagedClusterSet, or an error that
// suggests the closest names. A caller whose view is restricted (WithVisibility) is not told which sets
// exist: set names are not theirs to see, and their clusters' sets are in list_clusters.
func ClusterSetSelectorByName(ctx context.Context, src Source, name string) (labels.Selector, error) {
	if len(name) > maxSuggestLength {
		return nil, fmt.Errorf("ManagedClusterSet name %q... is %d characters long; an object name has at most %d", truncateRunes(name, 20), len(name), maxSuggestLength)
	}
	sets, err := src.ClusterSets(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range sets {
		if s.Name == name {
			return ClusterSetSelector(s)
		}
		names = append(names, s.Name)
	}
	msg := fmt.Sprintf("unknown ManagedClusterSet %q on %s", name, src.Where())
	if Restricted(ctx) {
		// The same words as for a set none of whose clusters the caller may read: which sets exist is
		// not the caller's to learn here.
		return nil, fmt.Errorf("no cluster you may read is in a ManagedClusterSet %q on %s; list_clusters shows the CLUSTERSET of each cluster you may read", name, src.Where())
	}
	if c := Closest(name, names, 3); len(c) > 0 {
		msg += "; did you mean " + strings.Join(c, ", ") + "?"
	}
	if len(names) > 0 {
		msg += " Known sets: " + strings.Join(names, ", ")
	}
	return nil, fmt.Errorf("%s", msg)
}
