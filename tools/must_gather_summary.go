package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

type mustGatherSummaryArgs struct {
	Cluster string `json:"cluster,omitempty" jsonschema:"Optional: only this cluster of the archive"`
}

func mustGatherSummaryTool(d Deps) server.ServerTool {
	tool := mcp.NewTool("must_gather_summary",
		mcp.WithTitleAnnotation("Summarise the must-gather"),
		mcp.WithDescription("What is wrong in the must-gather archive, first: clusters that are not healthy (with the most "+
			"probable cause), unavailable add-ons, failed ManifestWorks, failing pods (CrashLoopBackOff, Pending, "+
			"ImagePullBackOff, failing init containers) with restart counts and messages, the top warning events, and "+
			"what the collection could not gather. Then dig in with cluster_status and kubectl."),
		mcp.WithInputSchema[mustGatherSummaryArgs](),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, _ mcp.CallToolRequest, args mustGatherSummaryArgs) (*mcp.CallToolResult, error) {
		text, err := mustGatherSummary(ctx, d, args.Cluster)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		return mcp.NewToolResultText(output.Truncate(text, d.MaxOutputBytes, "pass cluster to summarise one cluster")), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

// summaryItems bounds each list of the summary.
const summaryItems = 20

func mustGatherSummary(ctx context.Context, d Deps, only string) (string, error) {
	a := d.Archive
	now := d.Now()
	names := a.Names()
	if only != "" {
		if a.Clusters[only] == nil {
			return "", fmt.Errorf("the must-gather holds no cluster %q; it holds: %s", only, strings.Join(names, ", "))
		}
		names = []string{only}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Must-gather %s: %d cluster(s) (%s), %d files, %s; collected %s.\n",
		a.Path, len(a.Clusters), strings.Join(a.Names(), ", "), a.Files, humanBytes(a.Bytes), describeTime(a.CollectedAt))

	clusters, err := d.Source.ManagedClusters(ctx, labels.Everything())
	if err != nil {
		return "", err
	}
	b.WriteString("\nClusters that are not healthy (hub view):\n")
	unhealthy := 0
	for _, mc := range clusters {
		if only != "" && mc.Name != only {
			continue
		}
		ev, _, err := hubEvidence(ctx, d, mc, now)
		if err != nil {
			return "", err
		}
		// What the collector met on the spoke counts, as cluster_status counts it.
		if _, err := d.Clusters.RESTConfig(ctx, ocm.Target{Name: mc.Name, Cluster: mc}); err != nil && !notCollected(err) {
			ev.LiveErr = err
		}
		if res := ocm.Assess(ev); res.Verdict != ocm.Healthy {
			unhealthy++
			fmt.Fprintf(&b, "  %s: %s - %s\n", mc.Name, res.Verdict, res.Cause)
		}
	}
	switch {
	case len(clusters) == 0:
		b.WriteString("  the archive holds no hub data (no ManagedClusters)\n")
	case unhealthy == 0:
		fmt.Fprintf(&b, "  none: all %d ManagedCluster(s) are available with add-ons healthy and no failed ManifestWork\n", len(clusters))
	}

	for _, name := range names {
		live, err := archivedClusterState(ctx, d, name, now)
		if err != nil {
			// A cluster the collector could not read has only its error, listed below.
			fmt.Fprintf(&b, "\nCluster %s: nothing to summarise: %s\n", name, oneLine(err.Error()))
			continue
		}
		writeClusterFindings(&b, name, live)
	}
	skippedHeader := false
	for _, name := range names {
		notes := a.Clusters[name].Skipped()
		for i, n := range notes {
			if !skippedHeader {
				b.WriteString("\nFiles skipped as unreadable (their objects are missing from every answer):\n")
				skippedHeader = true
			}
			if i == summaryItems/2 {
				fmt.Fprintf(&b, "  %s: ... and %d more\n", name, len(notes)-summaryItems/2)
				break
			}
			fmt.Fprintf(&b, "  %s: %s\n", name, n)
		}
	}
	if len(a.Errors) > 0 {
		b.WriteString("\nNot collected (recorded by the collector):\n")
		for _, name := range a.Names() {
			lines := strings.Split(strings.TrimSpace(a.Errors[name]), "\n")
			if lines[0] == "" {
				continue
			}
			for i, l := range lines {
				if i == 5 {
					fmt.Fprintf(&b, "  %s: ... and %d more\n", name, len(lines)-5)
					break
				}
				fmt.Fprintf(&b, "  %s: %s\n", name, oneLine(l))
			}
		}
	}
	return b.String(), nil
}

// archivedClusterState reads one cluster's nodes, failing pods and warnings from the archive.
func archivedClusterState(ctx context.Context, d Deps, name string, now time.Time) (*ocm.LiveSummary, error) {
	cfg, err := d.Clusters.RESTConfig(ctx, ocm.Target{Name: name, Hub: name == ocm.HubName})
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	// Every warning the archive holds counts: the archive is a moment, not a window.
	return ocm.GatherLive(ctx, kube, now, 100*365*24*time.Hour)
}

// hubEvidence assembles what the hub data says about one cluster, and counts its ManifestWorks.
func hubEvidence(ctx context.Context, d Deps, mc *clusterv1.ManagedCluster, now time.Time) (ocm.Evidence, int, error) {
	lease, err := d.Source.Lease(ctx, mc.Name)
	if err != nil {
		return ocm.Evidence{}, 0, err
	}
	addons, err := d.Source.AddOns(ctx, mc.Name)
	if err != nil {
		return ocm.Evidence{}, 0, err
	}
	works, err := d.Source.ManifestWorks(ctx, mc.Name)
	if err != nil {
		return ocm.Evidence{}, 0, err
	}
	ev := ocm.Evidence{Cluster: mc, Lease: ocm.LeaseOf(mc, lease, now), AddOns: addons}
	for _, w := range works {
		if why := ocm.WorkFailure(w); why != "" {
			ev.FailedWorks = append(ev.FailedWorks, w.Name+": "+why)
		}
	}
	return ev, len(works), nil
}

// notCollected says an archive holds nothing of a cluster because the collection did not target it:
// no evidence about the cluster either way.
func notCollected(err error) bool {
	var nc *mustgather.NotCollectedError
	return errors.As(err, &nc)
}

func writeClusterFindings(b *strings.Builder, name string, live *ocm.LiveSummary) {
	var failing []ocm.PodProblem
	for _, p := range live.Pods {
		if p.Failing || p.Reason == "Pending" {
			failing = append(failing, p)
		}
	}
	fmt.Fprintf(b, "\nCluster %s: %d failing or pending pod(s), %d kind(s) of warning event\n", name, len(failing), len(live.Warnings))
	if len(live.NotReadyNodes) > 0 {
		fmt.Fprintf(b, "  nodes not Ready: %s\n", strings.Join(live.NotReadyNodes, ", "))
	}
	for i, p := range failing {
		if i == summaryItems {
			fmt.Fprintf(b, "  ... and %d more (kubectl get pods -A on cluster %s)\n", len(failing)-summaryItems, name)
			break
		}
		fmt.Fprintf(b, "  pod %s/%s: %s, restarts %d: %s\n", p.Namespace, p.Name, p.Reason, p.Restarts, oneLine(p.Message))
	}
	for i, w := range live.Warnings {
		if i == summaryItems/2 {
			fmt.Fprintf(b, "  ... and %d more warnings (kubectl events -A --types=Warning on cluster %s)\n", len(live.Warnings)-summaryItems/2, name)
			break
		}
		fmt.Fprintf(b, "  warning %s on %s/%s x%d: %s\n", w.Reason, w.Namespace, w.Object, w.Count, oneLine(w.Message))
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
}

func describeTime(t time.Time) string {
	if t.IsZero() {
		return "at an unrecorded time"
	}
	return t.UTC().Format(time.RFC3339)
}
