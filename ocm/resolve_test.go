package ocm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
	clusterv1beta2 "open-cluster-management.io/api/cluster/v1beta2"
)

func TestClosest(t *testing.T) {
	names := []string{"hub", "east-prod-1", "east-prod-2", "west-stage", "spoke1", "spoke2"}
	tests := []struct {
		in   string
		want []string
	}{
		{"spoke3", []string{"spoke1", "spoke2"}},
		{"east-prod", []string{"east-prod-1", "east-prod-2"}},
		{"wset-stage", []string{"west-stage"}},
		{"HUB", []string{"hub"}},
		{"completely-different", []string{}},
	}
	for _, tc := range tests {
		got := Closest(tc.in, names, 3)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Closest(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "abc", 3}, {"kitten", "sitting", 3}, {"spoke1", "spoke1", 0}, {"é", "e", 1}} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q,%q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}

// countingSource counts how often the hub's clusters are listed.
type countingSource struct {
	*StaticSource
	lists int
}

func (c *countingSource) ManagedClusters(ctx context.Context, sel labels.Selector) ([]*clusterv1.ManagedCluster, error) {
	c.lists++
	return c.StaticSource.ManagedClusters(ctx, sel)
}

// fleetOf is a hub with the named clusters, all available.
func fleetOf(names ...string) *countingSource {
	src := &StaticSource{Name: "test hub"}
	for _, n := range names {
		src.Clusters = append(src.Clusters, &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{ClusterSetLabel: "set-" + n}},
			Status: clusterv1.ManagedClusterStatus{Conditions: []metav1.Condition{{Type: clusterv1.ManagedClusterConditionAvailable, Status: metav1.ConditionTrue}}}})
	}
	return &countingSource{StaticSource: src}
}

// seeing returns a context where only the named clusters are visible, and counts the checks.
func seeing(checks *int, names ...string) context.Context {
	return WithVisibility(context.Background(), func(_ context.Context, c string) bool {
		*checks++
		return slices.Contains(names, c)
	})
}

// TestSuggestionsNameOnlyVisibleClusters: "did you mean" never names a cluster the caller may not read,
// and finding suggestions checks a bounded number of candidates however many are alike.
func TestSuggestionsNameOnlyVisibleClusters(t *testing.T) {
	var many []string
	for i := 0; i < 1000; i++ {
		many = append(many, fmt.Sprintf("spoke%d", i))
	}
	tests := []struct {
		name      string
		fleet     []string
		visible   []string
		ask       string
		want      []string
		maxChecks int
	}{
		{"only the visible neighbour", []string{"spoke1", "spoke2", "spoke3"}, []string{"spoke2"}, "spoke", []string{"spoke2"}, 3},
		{"none visible: only hub", []string{"hubb-prod"}, nil, "hubb", []string{"hub"}, 1},
		{"a thousand alike, none visible", many, nil, "spoke", []string{}, maxSuggestionChecks},
		{"a thousand alike, some visible among the nearest", many, []string{"spoke0", "spoke100", "spoke7"}, "spoke", []string{"spoke0", "spoke100"}, maxSuggestionChecks},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checks := 0
			_, err := Resolve(seeing(&checks, tc.visible...), fleetOf(tc.fleet...), tc.ask)
			var unknown *UnknownClusterError
			if !errors.As(err, &unknown) {
				t.Fatalf("err = %v", err)
			}
			if !reflect.DeepEqual(unknown.Closest, tc.want) {
				t.Errorf("suggestions %v, want %v", unknown.Closest, tc.want)
			}
			for _, c := range tc.fleet {
				if !slices.Contains(tc.visible, c) && strings.Contains(err.Error(), `"`+c+`"`) {
					t.Errorf("the error names %s, which the caller may not read: %v", c, err)
				}
			}
			if checks > tc.maxChecks {
				t.Errorf("%d visibility checks; at most %d", checks, tc.maxChecks)
			}
		})
	}
}

// TestLongNamesAreRefusedBeforeAnyWork: a name longer than a cluster name can be is refused at once, the
// hub not even listed, and the message does not repeat it whole.
func TestLongNamesAreRefusedBeforeAnyWork(t *testing.T) {
	huge := strings.Repeat("spoke", 200_000)
	for _, arg := range []string{huge, "spoke1," + huge, strings.Repeat("a", MaxClusterNameLength+1)} {
		src := fleetOf("spoke1")
		_, err1 := Resolve(context.Background(), src, arg)
		_, err2 := ResolveMany(context.Background(), src, arg)
		for _, err := range []error{err1, err2} {
			if err == nil || !strings.Contains(err.Error(), "at most 63") || len(err.Error()) > 300 {
				t.Errorf("err = %.300v", err)
			}
		}
		if src.lists != 0 {
			t.Errorf("the hub was listed %d times for a name that cannot exist", src.lists)
		}
	}
	if _, err := Resolve(context.Background(), fleetOf("spoke1"), strings.Repeat("a", MaxClusterNameLength)); err == nil || strings.Contains(err.Error(), "at most") {
		t.Errorf("a 63-character name is a possible name: %v", err)
	}
	many := strings.TrimSuffix(strings.Repeat("spoke1,", MaxNamedClusters+1), ",")
	if _, err := ResolveMany(context.Background(), fleetOf("spoke1"), many); err == nil || !strings.Contains(err.Error(), "selector:") {
		t.Errorf("a list of %d names: %v", MaxNamedClusters+1, err)
	}
}

// TestPatternsPickOnlyVisibleClusters: *, selector: and clusterset: pick only clusters the caller may
// see; those it may not see are not listed as skipped either, and an empty pick says so without naming
// anything.
func TestPatternsPickOnlyVisibleClusters(t *testing.T) {
	src := fleetOf("spoke1", "spoke2")
	down := &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: "secret-down", Labels: map[string]string{ClusterSetLabel: "set-spoke1"}}}
	src.Clusters = append(src.Clusters, down)
	src.Sets = []*clusterv1beta2.ManagedClusterSet{{ObjectMeta: metav1.ObjectMeta{Name: "set-spoke1"},
		Spec: clusterv1beta2.ManagedClusterSetSpec{ClusterSelector: clusterv1beta2.ManagedClusterSelector{SelectorType: clusterv1beta2.ExclusiveClusterSetLabel}}}}
	for _, arg := range []string{"*", "selector:" + ClusterSetLabel + "=set-spoke1", "clusterset:set-spoke1"} {
		checks := 0
		sel, err := ResolveMany(seeing(&checks, "spoke1"), src, arg)
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if len(sel.Targets) != 1 || sel.Targets[0].Name != "spoke1" || len(sel.Skipped) != 0 {
			t.Errorf("%s: targets %v, skipped %v", arg, sel.Targets, sel.Skipped)
		}
	}
	checks := 0
	_, err := ResolveMany(seeing(&checks), src, "*")
	if err == nil || !strings.Contains(err.Error(), "no cluster you may read") {
		t.Errorf("nothing visible: %v", err)
	}
	// Unrestricted, the unavailable cluster is listed as skipped.
	sel, err := ResolveMany(context.Background(), src, "*")
	if err != nil || sel.Skipped["secret-down"] == "" {
		t.Errorf("unrestricted: %v %v", sel.Skipped, err)
	}
}

// TestUnknownSetRevealsNoSetNames: a restricted caller's unknown set error names no set, and reads like
// the answer for a set with no cluster it may read.
func TestUnknownSetRevealsNoSetNames(t *testing.T) {
	src := fleetOf("spoke1")
	src.Sets = []*clusterv1beta2.ManagedClusterSet{{ObjectMeta: metav1.ObjectMeta{Name: "team-secret"}}}
	checks := 0
	_, err := ClusterSetSelectorByName(seeing(&checks, "spoke1"), src, "team-secre")
	if err == nil || strings.Contains(err.Error(), "team-secret") || !strings.Contains(err.Error(), "no cluster you may read") {
		t.Errorf("err = %v", err)
	}
	if _, err := ClusterSetSelectorByName(context.Background(), src, "team-secre"); err == nil || !strings.Contains(err.Error(), "did you mean team-secret") {
		t.Errorf("unrestricted: %v", err)
	}
}

func TestBoundedDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		limit int
		want  int
	}{{"kitten", "sitting", 5, 3}, {"kitten", "sitting", 2, 3}, {"abc", "abcdefgh", 2, 3}, {"spoke1", "spoke1", 0, 0}, {"", "ab", 1, 2}} {
		if got := boundedDistance([]rune(tc.a), []rune(tc.b), tc.limit); got != tc.want {
			t.Errorf("boundedDistance(%q,%q,%d) = %d, want %d", tc.a, tc.b, tc.limit, got, tc.want)
		}
	}
}
