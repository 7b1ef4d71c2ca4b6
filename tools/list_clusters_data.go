package tools

import (
	"sort"
	"strings"
)

// FleetData is list_clusters' structured answer: the counts over the whole selection and the page of
// clusters the text shows, with the cursor of the next page.
type FleetData struct {
	Total     int `json:"total" jsonschema:"Clusters in the selection (all pages)"`
	Healthy   int `json:"healthy"`
	Attention int `json:"attention" jsonschema:"Clusters that need attention (listed first)"`
	Unknown   int `json:"unknown" jsonschema:"Clusters without OCM state (a plain cluster must-gather)"`
	// Reasons counts why clusters need attention.
	Reasons     map[string]int    `json:"reasons,omitempty" jsonschema:"Why clusters need attention: not accepted, not joined, not available, stale lease, tainted, add-ons unhealthy"`
	Clustersets []ClustersetCount `json:"clustersets,omitempty"`
	Clusters    []ClusterItem     `json:"clusters" jsonschema:"The clusters of this page, those that need attention first"`
	// NextCursor is given when there are more clusters: pass it as cursor.
	NextCursor string `json:"nextCursor,omitempty" jsonschema:"Pass as cursor for the next page; absent on the last page"`
}

// ClustersetCount is one ManagedClusterSet's share of the selection.
type ClustersetCount struct {
	Name      string `json:"name" jsonschema:"The clusterset, or (none)"`
	Total     int    `json:"total"`
	Attention int    `json:"attention"`
}

// ClusterItem is one cluster of the page.
type ClusterItem struct {
	Name              string   `json:"name"`
	State             string   `json:"state" jsonschema:"attention, healthy or unknown"`
	Reasons           []string `json:"reasons,omitempty"`
	Accepted          string   `json:"accepted"`
	Joined            string   `json:"joined" jsonschema:"The ManagedClusterJoined condition: True, False or Unknown"`
	Available         string   `json:"available" jsonschema:"The ManagedClusterConditionAvailable condition: True, False or Unknown"`
	KubernetesVersion string   `json:"kubernetesVersion,omitempty"`
	Clusterset        string   `json:"clusterset,omitempty"`
	Lease             string   `json:"lease" jsonschema:"Time since the agent last renewed its lease / the lease duration"`
	Taints            string   `json:"taints,omitempty"`
	AddOns            string   `json:"addons" jsonschema:"Healthy add-ons / all add-ons"`
	Age               string   `json:"age"`
}

// itemOf is a row as data; its cells are in clusterHeader's order.
func itemOf(r clusterRow, cells []string) ClusterItem {
	at := func(i int) string {
		if i < len(cells) {
			return cells[i]
		}
		return ""
	}
	return ClusterItem{Name: r.name, State: r.state(), Reasons: r.reasons, Accepted: at(1), Joined: at(2), Available: at(3),
		KubernetesVersion: at(4), Clusterset: at(5), Lease: at(6), Taints: at(7), AddOns: at(8), Age: at(9)}
}

// fleetCounts are the summary's counts as data.
func fleetCounts(rows []clusterRow) FleetData {
	d := FleetData{Total: len(rows), Clusters: []ClusterItem{}}
	sets := map[string]*ClustersetCount{}
	for _, r := range rows {
		name := r.set
		if name == "" {
			name = "(none)"
		}
		sc := sets[name]
		if sc == nil {
			sc = &ClustersetCount{Name: name}
			sets[name] = sc
		}
		sc.Total++
		switch {
		case r.attention():
			d.Attention++
			sc.Attention++
			if d.Reasons == nil {
				d.Reasons = map[string]int{}
			}
			for _, w := range r.reasons {
				d.Reasons[w]++
			}
		case r.unknown:
			d.Unknown++
		}
	}
	d.Healthy = d.Total - d.Attention - d.Unknown
	for _, sc := range sets {
		d.Clustersets = append(d.Clustersets, *sc)
	}
	sort.Slice(d.Clustersets, func(i, j int) bool { return strings.Compare(d.Clustersets[i].Name, d.Clustersets[j].Name) < 0 })
	return d
}
