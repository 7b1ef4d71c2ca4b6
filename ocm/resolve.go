package ocm

import (
	"context"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
)

// Target is a resolved cluster argument: the hub itself, or one ManagedCluster.
type Target struct {
	// Name is what the user asked for, normalised: "hub" or the ManagedCluster name.
	Name string
	// Hub is true for the hub, whether named "hub" or through the ManagedCluster labelled local-cluster=true.
	Hub bool
	// Cluster is the ManagedCluster (nil for "hub" when the hub is not registered as a cluster of itself).
	Cluster *clusterv1.ManagedCluster
}

// UnknownClusterError is returned for a name the hub does not know; it suggests the closest names.
type UnknownClusterError struct {
	Name    string
	Where   string
	Closest []string
}

func (e *UnknownClusterError) Error() string {
	msg := fmt.Sprintf("unknown cluster %q: no ManagedCluster by that name on %s", e.Name, e.Where)
	if len(e.Closest) > 0 {
		msg += "; did you mean " + quoteJoin(e.Closest) + "?"
	}
	return msg + ` Use "hub" for the hub itself, or list_clusters for every name.`
}

// Resolve turns a cluster argument into a Target.
func Resolve(ctx context.Context, src Source, name string) (Target, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Target{}, fmt.Errorf(`cluster is required: a ManagedCluster name from list_clusters, or "hub"`)
	}
	clusters, err := src.ManagedClusters(ctx, labels.Everything())
	if err != nil {
		return Target{}, err
	}
	if strings.EqualFold(name, HubName) {
		t := Target{Name: HubName, Hub: true}
		for _, mc := range clusters {
			if IsLocalCluster(mc) {
				t.Cluster = mc
			}
		}
		return t, nil
	}
	for _, mc := range clusters {
		if mc.Name == name {
			return Target{Name: mc.Name, Hub: IsLocalCluster(mc), Cluster: mc}, nil
		}
	}
	if s, ok := src.(*StaticSource); ok {
		for _, n := range s.Unregistered {
			if n == name {
				return Target{Name: n, Cluster: &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: n}}}, nil
			}
		}
	}
	names := make([]string, 0, len(clusters)+1)
	names = append(names, HubName)
	for _, mc := range clusters {
		names = append(names, mc.Name)
	}
	return Target{}, &UnknownClusterError{Name: name, Where: src.Where(), Closest: Closest(name, names, 3)}
}

// IsLocalCluster reports whether the ManagedCluster is the hub registered as a cluster of itself.
func IsLocalCluster(mc *clusterv1.ManagedCluster) bool {
	return mc.Labels[LocalClusterLabel] == "true"
}

// Closest returns up to n candidates nearest to name by edit distance (case-insensitive), nearest first,
// leaving out those so far away that they are no hint at all.
func Closest(name string, candidates []string, n int) []string {
	type scored struct {
		s string
		d int
	}
	var list []scored
	lower := strings.ToLower(name)
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := editDistance(lower, lc)
		if strings.Contains(lc, lower) || strings.Contains(lower, lc) {
			d = min(d, 1)
		}
		if d <= max(2, len(name)/2) {
			list = append(list, scored{c, d})
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].d != list[j].d {
			return list[i].d < list[j].d
		}
		return list[i].s < list[j].s
	})
	out := make([]string, 0, n)
	for i := 0; i < len(list) && i < n; i++ {
		out = append(out, list[i].s)
	}
	return out
}

// editDistance is the Levenshtein distance, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func quoteJoin(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
