package tools

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// bigFleet is n clusters in four clustersets, of which every 250th is unavailable with a stale lease.
func bigFleet(n int) (*ocm.StaticSource, map[string]bool) {
	src := &ocm.StaticSource{Name: "big hub", LeaseByCluster: map[string]*coordinationv1.Lease{}}
	down := map[string]bool{}
	for i := range n {
		name := fmt.Sprintf("cluster-%04d", i)
		avail := metav1.ConditionTrue
		renewed := 10 * time.Second
		if i%250 == 7 {
			avail, renewed = metav1.ConditionUnknown, time.Hour
			down[name] = true
		}
		src.Clusters = append(src.Clusters, &clusterv1.ManagedCluster{
			ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: ago(48 * time.Hour),
				Labels: map[string]string{ocm.ClusterSetLabel: fmt.Sprintf("set-%d", i%4)}},
			Spec: clusterv1.ManagedClusterSpec{HubAcceptsClient: true, LeaseDurationSeconds: 60},
			Status: clusterv1.ManagedClusterStatus{Version: clusterv1.ManagedClusterVersion{Kubernetes: "v1.36.3"}, Conditions: []metav1.Condition{
				cond(clusterv1.ManagedClusterConditionJoined, metav1.ConditionTrue, "ManagedClusterJoined", time.Hour),
				cond(clusterv1.ManagedClusterConditionAvailable, avail, "x", time.Hour)}},
		})
		src.LeaseByCluster[name] = lease(name, renewed)
	}
	return src, down
}

// TestListClustersAtFleetScale: at 2,000 clusters the first answer counts all of them, shows every
// cluster that needs attention, and the cursor pages through the rest, each cluster exactly once.
func TestListClustersAtFleetScale(t *testing.T) {
	src, down := bigFleet(2000)
	d := Deps{Source: src, Now: func() time.Time { return testNow }, MaxOutputBytes: 32 << 10}
	first, err := listClustersText(context.Background(), d, listClustersArgs{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first, "Fleet: 2000 cluster(s): 1992 healthy, 8 need attention (8 not available, 8 stale lease).\n"+
		"Fleet by clusterset: set-0 500, set-1 500 (4 need attention), set-2 500, set-3 500 (4 need attention).") {
		t.Errorf("summary:\n%.300s", first)
	}
	if len(first) > d.MaxOutputBytes {
		t.Errorf("the first page is %d bytes; the cap is %d", len(first), d.MaxOutputBytes)
	}
	seen := map[string]int{}
	cursorRE := regexp.MustCompile(`cursor=(\S+)`)
	rowRE := regexp.MustCompile(`(?m)^(cluster-\d{4}) `)
	page, pages := first, 0
	for {
		pages++
		for _, m := range rowRE.FindAllStringSubmatch(page, -1) {
			seen[m[1]]++
		}
		if pages == 1 {
			for name := range down {
				if !strings.Contains(page, name+" ") {
					t.Errorf("the first page lacks %s, which needs attention", name)
				}
			}
		}
		m := cursorRE.FindStringSubmatch(page)
		if m == nil {
			break
		}
		if page, err = listClustersText(context.Background(), d, listClustersArgs{Cursor: m[1]}); err != nil {
			t.Fatal(err)
		}
		if pages > 100 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 2000 {
		t.Errorf("paging showed %d distinct clusters of 2000", len(seen))
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s shown %d times", name, n)
		}
	}
	t.Logf("2000 clusters in %d pages of at most %d bytes", pages, d.MaxOutputBytes)

	only, err := listClustersText(context.Background(), d, listClustersArgs{State: "attention"})
	if err != nil || strings.Count(only, "Unknown") != 8 || strings.Contains(only, "cursor=") {
		t.Errorf("state=attention: %v\n%s", err, only)
	}
	prefixed, _ := listClustersText(context.Background(), d, listClustersArgs{NamePrefix: "cluster-19"})
	if n := len(rowRE.FindAllString(prefixed, -1)); n != 100 {
		t.Errorf("name_prefix=cluster-19 listed %d clusters, want 100", n)
	}
	if _, err := listClustersText(context.Background(), d, listClustersArgs{State: "sick"}); err == nil || !strings.Contains(err.Error(), "use attention, healthy or unknown") {
		t.Errorf("bad state: %v", err)
	}
	if _, err := listClustersText(context.Background(), d, listClustersArgs{Cursor: "garbage"}); err == nil || !strings.Contains(err.Error(), "cursor") {
		t.Errorf("bad cursor: %v", err)
	}
}

// TestRowOrderAndPageFit: rows go attention first, then healthy, then unknown, each by name, whatever
// order they come in; a page holds the rows that fit the budget (at least one), with its columns aligned.
func TestRowOrderAndPageFit(t *testing.T) {
	row := func(name string, reasons []string, unknown bool) clusterRow {
		return clusterRow{name: name, reasons: reasons, unknown: unknown, cells: func() []string {
			return []string{name, "true", "True", "True", "v1.36.3", "set", "10s/60s", "", "0/0", "2d"}
		}}
	}
	bad := []string{"not available"}
	order := []struct {
		name string
		in   []clusterRow
		want []string
	}{
		{"sorted", []clusterRow{row("a", nil, false), row("b", bad, false), row("c", nil, true)}, []string{"b", "a", "c"}},
		{"unsorted within groups", []clusterRow{row("z", nil, true), row("d", nil, false), row("y", bad, false), row("c", nil, false), row("a", nil, true), row("x", bad, false)},
			[]string{"x", "y", "c", "d", "a", "z"}},
		{"empty", nil, nil},
	}
	for _, tc := range order {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range byGroupThenName(tc.in) {
				got = append(got, r.name)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("order %v; want %v", got, tc.want)
			}
		})
	}
	var many []clusterRow
	for i := range 500 {
		many = append(many, row(fmt.Sprintf("cluster-%03d", i), nil, false))
	}
	for _, budget := range []int{0, 10, 1000, 8000, 1 << 20} {
		page, cells, text := fitPage(many, budget)
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		switch {
		case len(cells) != len(page) || len(page) > 0 && cells[len(page)-1][0] != page[len(page)-1].name:
			t.Errorf("budget %d: %d rows, %d rows of cells", budget, len(page), len(cells))
		case len(page) == 0:
			t.Errorf("budget %d: no row", budget)
		case len(lines) != len(page)+1:
			t.Errorf("budget %d: %d rows but %d lines", budget, len(page), len(lines))
		case budget > 100 && len(text) > budget:
			t.Errorf("budget %d: the page is %d bytes", budget, len(text))
		case (budget == 0 || budget == 1<<20) && len(page) != len(many):
			t.Errorf("budget %d: %d rows of %d", budget, len(page), len(many))
		case budget == 8000 && len(text) < budget-len(lines[1])-1:
			t.Errorf("budget %d: the page is %d bytes: one more row would fit", budget, len(text))
		}
		for _, l := range lines[1:] {
			if strings.Index(l, "true") != strings.Index(lines[0], "ACCEPTED") {
				t.Fatalf("budget %d: columns not aligned:\n%s\n%s", budget, lines[0], l)
			}
		}
	}
}
