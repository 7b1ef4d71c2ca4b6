package tools

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
)

// A fan-out's answer starts with what happened on every cluster: the merged output after it is what the
// cap cuts first, never the names of the clusters that did not answer.

// maxNamedInSummary bounds how many clusters the summary line names.
const maxNamedInSummary = 40

// outcomeOf names what a cluster's error was: denied, timed out or failed.
func outcomeOf(err error) string {
	var denied *auth.DeniedError
	switch {
	case errors.As(err, &denied):
		return "denied"
	case errors.Is(err, kubectl.ErrTimeout):
		return "timed out"
	}
	return "failed"
}

// clusterOutcome names a cluster's outcome for the server's metrics: ok, denied, timeout or failed.
func clusterOutcome(err error) string {
	if err == nil {
		return "ok"
	}
	if o := outcomeOf(err); o != "timed out" {
		return o
	}
	return "timeout"
}

// RunData is the kubectl tool's structured answer: how every cluster fared (the text holds kubectl's
// own output).
type RunData struct {
	Clusters int              `json:"clusters" jsonschema:"Clusters selected, skipped ones included"`
	OK       int              `json:"ok"`
	Failed   int              `json:"failed"`
	Denied   int              `json:"denied"`
	TimedOut int              `json:"timedOut"`
	Skipped  int              `json:"skipped" jsonschema:"Selected but not run (not available, or not collected in the archive)"`
	NotOK    []ClusterOutcome `json:"notOk,omitempty" jsonschema:"The clusters that did not answer, with why (at most 500)"`
	Capped   []string         `json:"capped,omitempty" jsonschema:"Clusters whose output stopped at the server's cap (at most 500)"`
}

// ClusterOutcome is one cluster that did not answer.
type ClusterOutcome struct {
	Cluster string `json:"cluster"`
	Outcome string `json:"outcome" jsonschema:"failed, denied, timed out or skipped"`
	Error   string `json:"error"`
}

// maxOutcomes bounds the clusters RunData lists.
const maxOutcomes = 500

// runData sums up the runs and the clusters skipped.
func runData(runs []clusterRun, skipped map[string]string) RunData {
	d := RunData{Clusters: len(runs) + len(skipped), Skipped: len(skipped)}
	for _, r := range runs {
		if r.res.Err == nil {
			d.OK++
			if r.res.Capped && len(d.Capped) < maxOutcomes {
				d.Capped = append(d.Capped, r.cluster)
			}
			continue
		}
		why := outcomeOf(r.res.Err)
		switch why {
		case "denied":
			d.Denied++
		case "timed out":
			d.TimedOut++
		default:
			d.Failed++
		}
		if len(d.NotOK) < maxOutcomes {
			d.NotOK = append(d.NotOK, ClusterOutcome{Cluster: r.cluster, Outcome: why, Error: oneLine(r.res.Err.Error())})
		}
	}
	names := make([]string, 0, len(skipped))
	for n := range skipped {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if len(d.NotOK) < maxOutcomes {
			d.NotOK = append(d.NotOK, ClusterOutcome{Cluster: n, Outcome: "skipped", Error: skipped[n]})
		}
	}
	return d
}

// summary is the first line of a fan-out answer, and the clusters that did not answer.
func (d RunData) summary() string {
	counts := []string{fmt.Sprintf("%d ok", d.OK)}
	for _, c := range []struct {
		n    int
		word string
	}{{d.Failed, "failed"}, {d.Denied, "denied"}, {d.TimedOut, "timed out"}, {d.Skipped, "skipped"}} {
		if c.n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", c.n, c.word))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Fan-out over %d cluster(s): %s.\n", d.Clusters, strings.Join(counts, ", "))
	var named []string
	for _, o := range d.NotOK {
		if o.Outcome != "skipped" {
			named = append(named, o.Cluster+" ("+o.Outcome+")")
		}
	}
	if n := d.Failed + d.Denied + d.TimedOut; n > 0 {
		more := ""
		if n > maxNamedInSummary {
			more = fmt.Sprintf(" and %d more (listed at the end)", n-maxNamedInSummary)
			named = named[:maxNamedInSummary]
		}
		fmt.Fprintf(&b, "Not ok: %s%s.\n", strings.Join(named, ", "), more)
	}
	b.WriteString("\n")
	return b.String()
}

// nameList joins up to limit names, saying how many more there are.
func nameList(names []string, limit int) string {
	if len(names) <= limit {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:limit], ", "), len(names)-limit)
}
