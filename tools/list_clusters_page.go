package tools

import (
	"context"
	"fmt"
	"sort"
	"strings"

	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// A fleet of thousands of clusters does not fit one answer, so list_clusters answers in this order: counts
// over the whole selection (by state and by clusterset), then the clusters that need attention, then
// the others, as far as the cap allows, with a cursor to page on. What needs attention is never behind
// healthy rows.

var clusterHeader = []string{"NAME", "ACCEPTED", "JOINED", "AVAILABLE", "KUBERNETES VERSION", "CLUSTERSET", "LEASE", "TAINTS", "ADDONS", "AGE"}

// clusterRow is one cluster's line and why it needs attention (empty: it does not).
type clusterRow struct {
	name string
	set  string
	// cells renders the row's line: only the rows of the page shown are rendered.
	cells   func() []string
	reasons []string
	unknown bool // no OCM state (a plain cluster must-gather)
}

func (r clusterRow) attention() bool { return len(r.reasons) > 0 }

// state is what the state filter matches: attention, healthy or unknown.
func (r clusterRow) state() string {
	switch {
	case r.attention():
		return "attention"
	case r.unknown:
		return "unknown"
	}
	return "healthy"
}

// group orders rows, and starts their cursors: attention (a) first, then healthy (h), then unknown (u).
func (r clusterRow) group() string { return r.state()[:1] }

func clusterRows(ctx context.Context, d Deps, clusters []*clusterv1.ManagedCluster) ([]clusterRow, error) {
	now := d.Now()
	rows := make([]clusterRow, 0, len(clusters))
	for _, mc := range clusters {
		set := mc.Labels[ocm.ClusterSetLabel]
		if ocm.StateUnknown(mc) {
			const u = "unknown"
			rows = append(rows, clusterRow{name: mc.Name, set: set, unknown: true, cells: func() []string { return []string{mc.Name, u, u, u, u, "", u, "", u, u} }})
			continue
		}
		lease, err := d.Source.Lease(ctx, mc.Name)
		if err != nil {
			return nil, err
		}
		addons, err := d.Source.AddOns(ctx, mc.Name)
		if err != nil {
			return nil, err
		}
		healthy := 0
		for _, a := range addons {
			if ocm.AddOnHealthy(a) {
				healthy++
			}
		}
		ls := ocm.LeaseOf(mc, lease, now)
		joined := ocm.ConditionStatus(mc.Status.Conditions, clusterv1.ManagedClusterConditionJoined)
		available := ocm.ConditionStatus(mc.Status.Conditions, clusterv1.ManagedClusterConditionAvailable)
		var reasons []string
		switch {
		case !mc.Spec.HubAcceptsClient:
			reasons = append(reasons, "not accepted")
		case joined != "True":
			reasons = append(reasons, "not joined")
		case available != "True":
			reasons = append(reasons, "not available")
		}
		if ls.Stale() {
			reasons = append(reasons, "stale lease")
		}
		if len(mc.Spec.Taints) > 0 {
			reasons = append(reasons, "tainted")
		}
		if healthy < len(addons) {
			reasons = append(reasons, "add-ons unhealthy")
		}
		total := len(addons)
		rows = append(rows, clusterRow{name: mc.Name, set: set, reasons: reasons, cells: func() []string {
			return []string{mc.Name, fmt.Sprint(mc.Spec.HubAcceptsClient), joined, available, mc.Status.Version.Kubernetes, set, ls.Short(),
				taintsShort(mc.Spec.Taints), fmt.Sprintf("%d/%d", healthy, total), output.Age(mc.CreationTimestamp.Time, now)}
		}})
	}
	sort.Slice(rows, func(i, j int) bool {
		if gi, gj := rows[i].group(), rows[j].group(); gi != gj {
			return gi < gj
		}
		return rows[i].name < rows[j].name
	})
	return rows, nil
}

// fleetPage renders the summary and one page of rows.
func fleetPage(ctx context.Context, d Deps, clusters []*clusterv1.ManagedCluster, args listClustersArgs) (string, error) {
	switch args.State {
	case "", "attention", "healthy", "unknown":
	default:
		return "", fmt.Errorf("state %q is not known: use attention, healthy or unknown", args.State)
	}
	rows, err := clusterRows(ctx, d, clusters)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(fleetSummary(rows))
	picked := rows[:0:0]
	for _, r := range rows {
		if args.State == "" || r.state() == args.State {
			picked = append(picked, r)
		}
	}
	start := 0
	if args.Cursor != "" {
		group, name, ok := strings.Cut(args.Cursor, ":")
		if !ok {
			return "", fmt.Errorf("cursor %q is not one this tool gave: pass the cursor of the previous answer, or none for the first page", args.Cursor)
		}
		for start < len(picked) && (picked[start].group() < group || picked[start].group() == group && picked[start].name <= name) {
			start++
		}
	}
	if len(picked) == 0 || start >= len(picked) {
		fmt.Fprintf(&b, "No cluster on this page%s.\n", describeState(args.State))
		return b.String(), nil
	}
	budget := d.MaxOutputBytes - b.Len() - 400
	page := picked[start:]
	// An aligned line is at least as long as its cells and their separators: the rows whose cells alone
	// fill the budget bound the page before any is aligned.
	for n, used := 0, 0; n < len(page); n++ {
		for _, c := range page[n].cells() {
			used += len(c) + 3
		}
		if budget > 0 && used > budget {
			page = page[:n+1]
			break
		}
	}
	text := rowsTable(page)
	for n := len(page); budget > 0 && len(text) > budget && n > 1; {
		n = max(1, min(n-1, n*budget/len(text)))
		page = page[:n]
		text = rowsTable(page)
	}
	b.WriteString(text)
	if end := start + len(page); end < len(picked) {
		last := page[len(page)-1]
		fmt.Fprintf(&b, "\nShowing clusters %d-%d of %d%s. Next page: cursor=%s:%s (or narrow with state, clusterset, selector or name_prefix)\n",
			start+1, end, len(picked), describeState(args.State), last.group(), last.name)
	}
	return b.String(), nil
}

func describeState(state string) string {
	if state == "" {
		return ""
	}
	return " in state " + state
}

func rowsTable(rows []clusterRow) string {
	t := &output.Table{Header: clusterHeader}
	for _, r := range rows {
		t.Append(r.cells()...)
	}
	return t.String()
}

// fleetSummary counts the selection by state and by clusterset, and names why clusters need attention.
func fleetSummary(rows []clusterRow) string {
	var attention, unknown int
	why := map[string]int{}
	type setCount struct{ total, attention int }
	sets := map[string]*setCount{}
	for _, r := range rows {
		name := r.set
		if name == "" {
			name = "(none)"
		}
		sc := sets[name]
		if sc == nil {
			sc = &setCount{}
			sets[name] = sc
		}
		sc.total++
		switch {
		case r.attention():
			attention++
			sc.attention++
			for _, w := range r.reasons {
				why[w]++
			}
		case r.unknown:
			unknown++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Fleet: %d cluster(s): %d healthy, %d need attention", len(rows), len(rows)-attention-unknown, attention)
	if unknown > 0 {
		fmt.Fprintf(&b, ", %d with OCM state unknown", unknown)
	}
	if attention > 0 {
		var parts []string
		for _, w := range []string{"not accepted", "not joined", "not available", "stale lease", "tainted", "add-ons unhealthy"} {
			if why[w] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", why[w], w))
			}
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	b.WriteString(".\n")
	if len(sets) > 1 || sets["(none)"] == nil {
		names := make([]string, 0, len(sets))
		for n := range sets {
			names = append(names, n)
		}
		sort.Strings(names)
		const maxSets = 30
		var parts []string
		for i, n := range names {
			if i == maxSets {
				parts = append(parts, fmt.Sprintf("and %d more", len(names)-maxSets))
				break
			}
			p := fmt.Sprintf("%s %d", n, sets[n].total)
			if sets[n].attention > 0 {
				p += fmt.Sprintf(" (%d need attention)", sets[n].attention)
			}
			parts = append(parts, p)
		}
		fmt.Fprintf(&b, "Fleet by clusterset: %s.\n", strings.Join(parts, ", "))
	}
	b.WriteString("\n")
	return b.String()
}
