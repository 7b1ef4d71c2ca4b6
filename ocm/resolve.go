package ocm

import (
	"context"
	"fmt"
	"sort"
	"strings"

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

// MaxClusterNameLength is the longest ManagedCluster name (a DNS label). A longer argument cannot name a
// cluster and is refused before any work.
const MaxClusterNameLength = 63

// maxSuggestions is how many names an unknown-cluster error suggests, and maxSuggestionChecks how many
// candidates, nearest first, may be checked for visibility to find them: bounded work whatever the fleet.
const (
	maxSuggestions      = 3
	maxSuggestionChecks = 10
)

// Visibility says whether the request's caller may see a cluster: its name and its state. Names the
// caller may not see never reach it: not in suggestions, not in lists of clusters left out.
type Visibility func(ctx context.Context, cluster string) bool

type visibilityKey struct{}

// WithVisibility scopes what Resolve, ResolveMany and the messages they make reveal to what v allows.
// Without it (stdio, or no authorization) every cluster is visible.
func WithVisibility(ctx context.Context, v Visibility) context.Context {
	return context.WithValue(ctx, visibilityKey{}, v)
}

// Restricted reports whether the context limits what the caller may see.
func Restricted(ctx context.Context) bool {
	_, ok := ctx.Value(visibilityKey{}).(Visibility)
	return ok
}

// Visible reports whether the request's caller may see the cluster.
func Visible(ctx context.Context, cluster string) bool {
	v, ok := ctx.Value(visibilityKey{}).(Visibility)
	return !ok || v(ctx, cluster)
}

// VisibilityMany is Visibility for many clusters at once: one answer per cluster, in their order.
type VisibilityMany func(ctx context.Context, clusters []string) []bool

type visibilityManyKey struct{}

// WithVisibilityMany is WithVisibility with a bulk form of v, which VisibleMany asks: a question about a
// whole fleet then costs what the bulk form makes it cost, not one question per cluster.
func WithVisibilityMany(ctx context.Context, v Visibility, many VisibilityMany) context.Context {
	return context.WithValue(WithVisibility(ctx, v), visibilityManyKey{}, many)
}

// VisibleMany reports, for each cluster, whether the request's caller may see it.
func VisibleMany(ctx context.Context, clusters []string) []bool {
	out := make([]bool, len(clusters))
	v, ok := ctx.Value(visibilityKey{}).(Visibility)
	if many, bulk := ctx.Value(visibilityManyKey{}).(VisibilityMany); ok && bulk {
		if got := many(ctx, clusters); len(got) == len(clusters) {
			return got
		}
	}
	for i, c := range clusters {
		out[i] = !ok || v(ctx, c)
	}
	return out
}

// UnknownClusterError is returned for a name the hub does not know; it suggests the closest names the
// caller may see.
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

// CheckClusterName refuses an argument too long to be a cluster name, without repeating it whole.
func CheckClusterName(name string) error {
	if len(name) <= MaxClusterNameLength {
		return nil
	}
	return fmt.Errorf("cluster name %q... is %d characters long; a ManagedCluster name has at most %d: pass a name from list_clusters, or \"hub\"",
		truncateRunes(name, 20), len(name), MaxClusterNameLength)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

// Resolve turns a cluster argument into a Target.
func Resolve(ctx context.Context, src Source, name string) (Target, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Target{}, fmt.Errorf(`cluster is required: a ManagedCluster name from list_clusters, or "hub"`)
	}
	if err := CheckClusterName(name); err != nil {
		return Target{}, err
	}
	clusters, err := src.ManagedClusters(ctx, labels.Everything())
	if err != nil {
		return Target{}, err
	}
	return resolveIn(ctx, src, name, clusters)
}

// resolveIn resolves a checked, trimmed name among the hub's clusters.
func resolveIn(ctx context.Context, src Source, name string, clusters []*clusterv1.ManagedCluster) (Target, error) {
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
	for _, mc := range UnregisteredClusters(src) {
		if mc.Name == name {
			return Target{Name: mc.Name, Cluster: mc}, nil
		}
	}
	names := make([]string, 0, len(clusters))
	for _, mc := range clusters {
		names = append(names, mc.Name)
	}
	// "hub" always exists: suggesting it reveals nothing.
	suggest := closest(name, append([]string{HubName}, names...), maxSuggestionChecks+1)
	visible := make([]string, 0, maxSuggestions)
	checks := 0
	for _, c := range suggest {
		if len(visible) == maxSuggestions {
			break
		}
		if c != HubName {
			if checks == maxSuggestionChecks {
				break
			}
			checks++
			if !Visible(ctx, c) {
				continue
			}
		}
		visible = append(visible, c)
	}
	return Target{}, &UnknownClusterError{Name: name, Where: src.Where(), Closest: visible}
}

// IsLocalCluster reports whether the ManagedCluster is the hub registered as a cluster of itself.
func IsLocalCluster(mc *clusterv1.ManagedCluster) bool {
	return mc.Labels[LocalClusterLabel] == "true"
}

// maxSuggestLength bounds the names Closest compares: nothing longer than a Kubernetes object name (253)
// is worth a suggestion, and longer input would only cost time.
const maxSuggestLength = 253

// Closest returns up to n candidates nearest to name by edit distance (case-insensitive), nearest first,
// leaving out those so far away that they are no hint at all.
func Closest(name string, candidates []string, n int) []string {
	return closest(name, candidates, n)
}

func closest(name string, candidates []string, n int) []string {
	if len(name) > maxSuggestLength {
		return []string{}
	}
	type scored struct {
		s string
		d int
	}
	var list []scored
	lower := []rune(strings.ToLower(name))
	limit := max(2, len(name)/2)
	for _, c := range candidates {
		if len(c) > maxSuggestLength {
			continue
		}
		lc := strings.ToLower(c)
		d := boundedDistance(lower, []rune(lc), limit)
		if strings.Contains(lc, string(lower)) || strings.Contains(string(lower), lc) {
			d = min(d, 1)
		}
		if d <= limit {
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
	return boundedDistance(ra, rb, max(len(ra), len(rb)))
}

// boundedDistance is the Levenshtein distance of a and b, or limit+1 when it is more than limit; it stops
// as soon as the answer is known to be over the limit.
func boundedDistance(ra, rb []rune, limit int) int {
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return min(prev[len(rb)], limit+1)
}

func quoteJoin(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
