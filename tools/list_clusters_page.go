package tools

import (
	"context"
	"fmt"
	"slices"
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
	// The state the cells show, as values (the fleet dashboard's matrix).
	joined, available string
	lease             ocm.LeaseState
	addOnsHealthy     int
	addOnsTotal       int
	hub               bool // the hub registered as a ManagedCluster of itself (local-cluster)
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
			rows = append(rows, clusterRow{name: mc.Name, set: set, unknown: true, joined: u, available: u, hub: ocm.IsLocalCluster(mc),
				cells: func() []string { return []string{mc.Name, u, u, u, u, "", u, "", u, u} }})
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
		rows = append(rows, clusterRow{name: mc.Name, set: set, reasons: reasons, joined: joined, available: available, lease: ls,
			addOnsHealthy: healthy, addOnsTotal: total, hub: ocm.IsLocalCluster(mc), cells: func() []string {
				return []string{mc.Name, fmt.Sprint(mc.Spec.HubAcceptsClient), joined, available, mc.Status.Version.Kubernetes, set, ls.Short(),
					taintsShort(mc.Spec.Taints), fmt.Sprintf("%d/%d", healthy, total), output.Age(mc.CreationTimestamp.Time, now)}
			}})
	}
	return byGroupThenName(rows), nil
}

// byGroupThenName orders rows by group (attention, healthy, unknown), then by name. The clusters come
// sorted by name, so each group is usually sorted already: the rows are split into their groups in
// order, and a group is sorted only when it is not.
func byGroupThenName(rows []clusterRow) []clusterRow {
	groups := map[string][]int{}
	for i, r := range rows {
		groups[r.group()] = append(groups[r.group()], i)
	}
	out := make([]clusterRow, 0, len(rows))
	for _, g := range []string{"a", "h", "u"} {
		idx := groups[g]
		byName := func(a, b int) int { return strings.Compare(rows[a].name, rows[b].name) }
		if !slices.IsSortedFunc(idx, byName) {
			slices.SortFunc(idx, byName)
		}
		for _, i := range idx {
			out = append(out, rows[i])
		}
	}
	return out
}

// fleetPage renders the summary and one page of rows, as text and as data.
func fleetPage(ctx context.Context, d Deps, clusters []*clusterv1.ManagedCluster, args listClustersArgs) (string, FleetData, error) {
	switch args.State {
	case "", "attention", "healthy", "unknown":
	default:
		return "", FleetData{}, fmt.Errorf("state %q is not known: use attention, healthy or unknown", args.State)
	}
	rows, err := clusterRows(ctx, d, clusters)
	if err != nil {
		return "", FleetData{}, err
	}
	data := fleetCounts(rows)
	var b strings.Builder
	b.WriteString(fleetSummary(data))
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
			return "", FleetData{}, fmt.Errorf("cursor %q is not one this tool gave: pass the cursor of the previous answer, or none for the first page", args.Cursor)
		}
		for start < len(picked) && (picked[start].group() < group || picked[start].group() == group && picked[start].name <= name) {
			start++
		}
	}
	if len(picked) == 0 || start >= len(picked) {
		fmt.Fprintf(&b, "No cluster on this page%s.\n", describeState(args.State))
		return b.String(), data, nil
	}
	budget := d.MaxOutputBytes - b.Len() - 400
	page, cells, text := fitPage(picked[start:], budget)
	b.WriteString(text)
	for i, r := range page {
		data.Clusters = append(data.Clusters, itemOf(r, cells[i]))
	}
	if end := start + len(page); end < len(picked) {
		last := page[len(page)-1]
		data.NextCursor = last.group() + ":" + last.name
		fmt.Fprintf(&b, "\nShowing clusters %d-%d of %d%s. Next page: cursor=%s (or narrow with state, clusterset, selector or name_prefix)\n",
			start+1, end, len(picked), describeState(args.State), data.NextCursor)
	}
	return b.String(), data, nil
}

func describeState(state string) string {
	if state == "" {
		return ""
	}
	return " in state " + state
}

// fitPage renders the longest head of rows whose table fits budget bytes (at least one row; budget <= 0:
// all rows), and returns those rows with their cells. Each row's cells are rendered once and the table once: an aligned line is at least as long
// as its cells and their separators, so the rows whose cells alone fill the budget bound the page, and
// the table of those is cut after its last line that fits (its columns stay aligned).
func fitPage(rows []clusterRow, budget int) ([]clusterRow, [][]string, string) {
	t := &output.Table{Header: clusterHeader}
	used := 0
	for _, r := range rows {
		cells := r.cells()
		t.Append(cells...)
		for _, c := range cells {
			used += len(c) + 3
		}
		if budget > 0 && used > budget {
			break
		}
	}
	text := t.String()
	n := len(t.Rows)
	if budget > 0 && len(text) > budget && n > 1 {
		// Line i+1 of the table is row i; keep the header and at least one row.
		end, kept := strings.IndexByte(text, '\n')+1, 0
		for kept < n {
			next := strings.IndexByte(text[end:], '\n')
			if next < 0 || (kept > 0 && end+next+1 > budget) {
				break
			}
			end += next + 1
			kept++
		}
		text, n = text[:end], kept
	}
	return rows[:n], t.Rows[:n], text
}

// fleetSummary writes the selection's counts by state and by clusterset, and why clusters need attention.
func fleetSummary(d FleetData) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Fleet: %d cluster(s): %d healthy, %d need attention", d.Total, d.Healthy, d.Attention)
	if d.Unknown > 0 {
		fmt.Fprintf(&b, ", %d with OCM state unknown", d.Unknown)
	}
	if d.Attention > 0 {
		var parts []string
		for _, w := range []string{"not accepted", "not joined", "not available", "stale lease", "tainted", "add-ons unhealthy"} {
			if d.Reasons[w] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", d.Reasons[w], w))
			}
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	b.WriteString(".\n")
	if len(d.Clustersets) > 1 || (len(d.Clustersets) == 1 && d.Clustersets[0].Name != "(none)") {
		const maxSets = 30
		var parts []string
		for i, sc := range d.Clustersets {
			if i == maxSets {
				parts = append(parts, fmt.Sprintf("and %d more", len(d.Clustersets)-maxSets))
				break
			}
			p := fmt.Sprintf("%s %d", sc.Name, sc.Total)
			if sc.Attention > 0 {
				p += fmt.Sprintf(" (%d need attention)", sc.Attention)
			}
			parts = append(parts, p)
		}
		fmt.Fprintf(&b, "Fleet by clusterset: %s.\n", strings.Join(parts, ", "))
	}
	b.WriteString("\n")
	return b.String()
}
