package tools

import (
	"slices"
	"sort"
	"strings"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm/diagnose"
)

// maxDashboardRows bounds the matrix of one answer; the rest, the healthiest, are counted in Omitted.
const maxDashboardRows = 5000

// DashboardData is fleet_dashboard's structured answer: a health matrix of the clusters against
// availability, join, lease, add-ons and findings, the clusters that need attention first.
type DashboardData struct {
	Total    int `json:"total" jsonschema:"Clusters in the selection"`
	Critical int `json:"critical" jsonschema:"Clusters not available, not joined, not accepted, with a stale lease or a critical finding"`
	Warning  int `json:"warning" jsonschema:"Clusters with a late lease, taints, degraded add-ons or a warning finding"`
	Healthy  int `json:"healthy"`
	Unknown  int `json:"unknown" jsonschema:"Clusters without OCM state (a plain cluster must-gather)"`
	// Diagnosed says whether the findings columns come from a fleet diagnosis.
	Diagnosed     bool           `json:"diagnosed" jsonschema:"Whether the fleet diagnosis ran: without it the findings are not checked"`
	DiagnosisNote string         `json:"diagnosisNote,omitempty" jsonschema:"Why the findings are not checked"`
	FleetFindings int            `json:"fleetFindings" jsonschema:"Findings not tied to one cluster (add-on installs, Placements)"`
	Clusters      []DashboardRow `json:"clusters" jsonschema:"The matrix: critical clusters first, then warning, unknown, healthy; by name within each"`
	Omitted       int            `json:"omitted,omitempty" jsonschema:"Clusters left out of the matrix (the last ones of its order)"`
}

// DashboardRow is one cluster of the matrix.
type DashboardRow struct {
	Name           string   `json:"name"`
	Hub            bool     `json:"hub,omitempty" jsonschema:"The hub registered as a ManagedCluster of itself (local-cluster)"`
	Health         string   `json:"health" jsonschema:"critical, warning, ok or unknown (no OCM state)"`
	Reasons        []string `json:"reasons,omitempty" jsonschema:"Why the cluster needs attention, as list_clusters says"`
	Available      string   `json:"available" jsonschema:"The ManagedClusterConditionAvailable condition: True, False or Unknown"`
	Joined         string   `json:"joined" jsonschema:"The ManagedClusterJoined condition: True, False or Unknown"`
	Lease          string   `json:"lease" jsonschema:"fresh, late (renewals missed), stale (past the hub's grace) or unknown (no lease)"`
	LeaseAge       string   `json:"leaseAge,omitempty" jsonschema:"Time since the last renewal / the lease duration"`
	AddOnsHealthy  int      `json:"addonsHealthy"`
	AddOnsDegraded int      `json:"addonsDegraded"`
	Findings       int      `json:"findings" jsonschema:"Findings of the fleet diagnosis on this cluster"`
	Worst          string   `json:"worst,omitempty" jsonschema:"The worst finding's severity: critical, warning or info"`
	Top            string   `json:"top,omitempty" jsonschema:"The worst finding's id"`
}

// healthOrder puts the matrix's rows in order: what needs attention first.
var healthOrder = map[string]int{"critical": 0, "warning": 1, "unknown": 2, "ok": 3}

// clusterFindings are a cluster's findings: how many, and the worst one (findings come most severe first).
type clusterFindings struct {
	n     int
	worst diagnose.Severity
	top   string
}

// findingsByCluster attributes a report's findings to the clusters they name ("cluster X", "add-on A on
// cluster X"); the others are the fleet's.
func findingsByCluster(rep *diagnose.Report) (map[string]*clusterFindings, int) {
	by := map[string]*clusterFindings{}
	fleet := 0
	for _, f := range rep.Findings {
		i := strings.LastIndex(f.Subject, "cluster ")
		if i < 0 || (i > 0 && f.Subject[i-1] != ' ') {
			fleet++
			continue
		}
		name := f.Subject[i+len("cluster "):]
		cf := by[name]
		if cf == nil {
			cf = &clusterFindings{worst: f.Severity, top: f.ID}
			by[name] = cf
		}
		cf.n++
	}
	return by, fleet
}

// dashboardData is the matrix of rows (list_clusters' rows) and, when rep is not nil, the findings of
// the diagnosis.
func dashboardData(rows []clusterRow, rep *diagnose.Report, note string) DashboardData {
	d := DashboardData{Total: len(rows), Diagnosed: rep != nil, DiagnosisNote: note, Clusters: []DashboardRow{}}
	var found map[string]*clusterFindings
	if rep != nil {
		found, d.FleetFindings = findingsByCluster(rep)
	}
	all := make([]DashboardRow, 0, len(rows))
	for _, r := range rows {
		row := dashboardRow(r, found[r.name])
		switch row.Health {
		case "critical":
			d.Critical++
		case "warning":
			d.Warning++
		case "unknown":
			d.Unknown++
		default:
			d.Healthy++
		}
		all = append(all, row)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if a, b := healthOrder[all[i].Health], healthOrder[all[j].Health]; a != b {
			return a < b
		}
		return all[i].Name < all[j].Name
	})
	if len(all) > maxDashboardRows {
		d.Omitted = len(all) - maxDashboardRows
		all = all[:maxDashboardRows]
	}
	d.Clusters = all
	return d
}

func dashboardRow(r clusterRow, f *clusterFindings) DashboardRow {
	// A condition the cluster does not have yet is as good as Unknown.
	orUnknown := func(s string) string {
		if s == "" {
			return "Unknown"
		}
		return s
	}
	row := DashboardRow{Name: r.name, Hub: r.hub, Reasons: r.reasons, Available: orUnknown(r.available), Joined: orUnknown(r.joined),
		AddOnsHealthy: r.addOnsHealthy, AddOnsDegraded: r.addOnsTotal - r.addOnsHealthy}
	switch {
	case r.unknown || !r.lease.Present:
		row.Lease = "unknown"
	case r.lease.Stale():
		row.Lease = "stale"
	case r.lease.Late():
		row.Lease = "late"
	default:
		row.Lease = "fresh"
	}
	if !r.unknown && r.lease.Present {
		row.LeaseAge = r.lease.Short()
	}
	if f != nil {
		row.Findings, row.Worst, row.Top = f.n, f.worst.String(), f.top
	}
	switch {
	case r.unknown:
		row.Health = "unknown"
	case row.Available != "True" || row.Joined != "True" || row.Lease == "stale" || row.Lease == "unknown" ||
		slices.Contains(r.reasons, "not accepted") || (f != nil && f.worst == diagnose.Critical):
		row.Health = "critical"
	case r.attention() || row.Lease == "late" || (f != nil && f.worst == diagnose.Warning):
		row.Health = "warning"
	default:
		row.Health = "ok"
	}
	return row
}
