package tools

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/kubernetes"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

type clusterStatusArgs struct {
	Cluster string `json:"cluster" jsonschema:"The ManagedCluster name (from list_clusters), or hub"`
}

func clusterStatus(d Deps) server.ServerTool {
	tool := mcp.NewTool("cluster_status",
		mcp.WithTitleAnnotation("Cluster status and verdict"),
		mcp.WithDescription("Everything the hub knows about one cluster, and what the cluster itself says: every condition, "+
			"the lease against its duration, taints, claims, capacity, version, each add-on with its conditions, failed "+
			"ManifestWorks, the server's credentials for it, and (when the spoke answers) nodes, failing pods and warning "+
			"events of the last hour, and when a metrics source answers for it, its firing alerts, API server 5xx rate, container restarts "+
			"and node pressure (unknown where they cannot be read; \"Metrics: no source\" when none answers). Ends with a verdict (Healthy, Degraded, Unavailable, Unknown) and its most probable cause."),
		mcp.WithInputSchema[clusterStatusArgs](),
		mcp.WithOutputSchema[StatusData](),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, _ mcp.CallToolRequest, args clusterStatusArgs) (*mcp.CallToolResult, error) {
		text, data, err := clusterStatusAnswer(ctx, d, args.Cluster)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		return mcp.NewToolResultStructured(data, output.Truncate(text, d.MaxOutputBytes, "use the kubectl tool for the full list of pods or events")), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

func clusterStatusText(ctx context.Context, d Deps, name string) (string, error) {
	text, _, err := clusterStatusAnswer(ctx, d, name)
	return text, err
}

// clusterStatusAnswer is cluster_status' answer as text and as data.
func clusterStatusAnswer(ctx context.Context, d Deps, name string) (string, StatusData, error) {
	t, err := ocm.Resolve(ctx, d.Source, name)
	if err != nil {
		return "", StatusData{}, err
	}
	// The status comes from the server's own view of the hub, so the hub is checked like any cluster.
	if err := d.readable(ctx, t); err != nil {
		return "", StatusData{}, err
	}
	audit.Clusters(ctx, t.Name)
	if t.Cluster == nil {
		text, ev := hubStatusText(ctx, d)
		return text, statusData(t.Name, ev, ocm.Assessment{Verdict: ocm.Unknown, Cause: hubUnregistered}), nil
	}
	mc := t.Cluster
	now := d.Now()
	if ocm.StateUnknown(mc) {
		text, ev := unknownStateText(ctx, d, t, now)
		return text, statusData(t.Name, ev, ocm.Assess(ev)), nil
	}
	ev, works, err := hubEvidence(ctx, d, mc, now)
	if err != nil {
		return "", StatusData{}, err
	}
	liveNote := ""
	ev.Live, liveNote, ev.LiveErr = readLive(ctx, d, t, now)
	verdict := ocm.Assess(ev)

	var b strings.Builder
	fmt.Fprintf(&b, "Cluster %s: %s\nCause: %s\n\n", mc.Name, verdict.Verdict, verdict.Cause)
	writeIdentity(&b, mc, now)
	writeConditions(&b, mc, now)
	fmt.Fprintf(&b, "Lease: %s\n", describeLease(ev.Lease))
	writeTaintsClaims(&b, mc)
	writeCapacity(&b, mc)
	writeAddOns(&b, ev, now)
	fmt.Fprintf(&b, "ManifestWorks: %d in namespace %s, %d failed\n", works, mc.Name, len(ev.FailedWorks))
	for _, f := range ev.FailedWorks {
		fmt.Fprintf(&b, "  - %s\n", f)
	}
	if d.Clusters != nil {
		b.WriteString("Server credentials:\n")
		for _, l := range d.Clusters.CredentialState(ctx, mc.Name) {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	writeLive(&b, liveTitle(d), ev.Live, ev.LiveErr, liveNote, now)
	if !d.Offline {
		b.WriteString(d.metricsHealthText(ctx, t))
	}
	return b.String(), statusData(mc.Name, ev, verdict), nil
}

// unknownStateText describes a cluster the data holds without any hub data about it: its OCM state is
// unknown, and only what its own folder says is shown.
func unknownStateText(ctx context.Context, d Deps, t ocm.Target, now time.Time) (string, ocm.Evidence) {
	var b strings.Builder
	fmt.Fprintf(&b, "Cluster %s: %s\nCause: %s\n\n", t.Name, ocm.Unknown, ocm.UnknownStateCause)
	b.WriteString("OCM state: not known from this archive (no ManagedCluster, lease, add-on or ManifestWork of this cluster in it)\n")
	live, note, err := readLive(ctx, d, t, now)
	writeLive(&b, liveTitle(d), live, err, note, now)
	return b.String(), ocm.Evidence{Cluster: t.Cluster, Live: live, LiveErr: err}
}

// hubUnregistered is why the hub has no OCM status of its own.
const hubUnregistered = "hub is not registered as a ManagedCluster of itself"

func liveTitle(d Deps) string {
	if d.Offline {
		return "From the cluster's own folder in the must-gather:"
	}
	return "Live, from the cluster itself:"
}

// readLive reads the spoke itself, when that is sensible: the server already holds credentials, or the
// cluster is available (then credentials are provisioned on the way). It never provisions credentials
// for a cluster that is not available: that would only wait for a token that cannot come.
func readLive(ctx context.Context, d Deps, t ocm.Target, now time.Time) (*ocm.LiveSummary, string, error) {
	if d.Clusters == nil {
		return nil, "not read: no connection to the clusters", nil
	}
	if ocm.WouldWaitForToken(t, d.Clusters.Provisioned) {
		return nil, "not read: " + ocm.NoCredentialsYet, nil
	}
	cfg, err := d.Clusters.RESTConfig(ctx, t)
	if notCollected(err) {
		// Not a target of the collection: no evidence about the spoke, so no effect on the verdict.
		return nil, "not read: " + err.Error(), nil
	}
	if err != nil {
		return nil, "", err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, "", err
	}
	live, err := ocm.GatherLive(ctx, kube, now, time.Hour)
	return live, "", auth.ExplainSpokeError(t.Name, cfg, err)
}

func hubStatusText(ctx context.Context, d Deps) (string, ocm.Evidence) {
	var b strings.Builder
	b.WriteString("The " + hubUnregistered + " (no cluster is labelled local-cluster=true), so the hub has no OCM status of its own.\n")
	live, note, err := readLive(ctx, d, ocm.Target{Name: ocm.HubName, Hub: true, Cluster: &clusterv1.ManagedCluster{}}, d.Now())
	writeLive(&b, liveTitle(d), live, err, note, d.Now())
	return b.String(), ocm.Evidence{Live: live, LiveErr: err}
}

func writeIdentity(b *strings.Builder, mc *clusterv1.ManagedCluster, now time.Time) {
	var urls []string
	for _, c := range mc.Spec.ManagedClusterClientConfigs {
		urls = append(urls, c.URL)
	}
	fmt.Fprintf(b, "Kubernetes %s; created %s ago; hubAcceptsClient=%t; API %s\n",
		nonEmpty(mc.Status.Version.Kubernetes, "unknown"), output.Age(mc.CreationTimestamp.Time, now), mc.Spec.HubAcceptsClient, nonEmpty(strings.Join(urls, ", "), "not published"))
	if mc.Labels != nil {
		keys := make([]string, 0, len(mc.Labels))
		for k := range mc.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		pairs := make([]string, len(keys))
		for i, k := range keys {
			pairs[i] = k + "=" + mc.Labels[k]
		}
		fmt.Fprintf(b, "Labels: %s\n", strings.Join(pairs, ", "))
	}
}

func writeConditions(b *strings.Builder, mc *clusterv1.ManagedCluster, now time.Time) {
	b.WriteString("\nConditions:\n")
	t := &output.Table{Header: []string{"TYPE", "STATUS", "REASON", "AGE", "MESSAGE"}}
	for _, c := range mc.Status.Conditions {
		t.Append(c.Type, string(c.Status), c.Reason, output.Age(c.LastTransitionTime.Time, now), c.Message)
	}
	if len(t.Rows) == 0 {
		b.WriteString("  none reported\n")
		return
	}
	b.WriteString(t.String())
}

func describeLease(l ocm.LeaseState) string {
	if !l.Present {
		return "none on the hub (the registration agent has never renewed one)"
	}
	s := fmt.Sprintf("renewed %s ago, lease duration %s", duration.HumanDuration(l.Age), duration.HumanDuration(l.Duration))
	switch {
	case l.Stale():
		s += " - STALE: the hub marks a cluster Unknown after 5 durations without renewal"
	case l.Late():
		s += " - LATE: renewals are being missed"
	}
	return s
}

func writeTaintsClaims(b *strings.Builder, mc *clusterv1.ManagedCluster) {
	fmt.Fprintf(b, "Taints: %s\n", nonEmpty(taintsShort(mc.Spec.Taints), "none"))
	claims := make([]string, 0, len(mc.Status.ClusterClaims))
	for _, c := range mc.Status.ClusterClaims {
		claims = append(claims, c.Name+"="+c.Value)
	}
	fmt.Fprintf(b, "Claims: %s\n", nonEmpty(strings.Join(claims, ", "), "none"))
}

func writeCapacity(b *strings.Builder, mc *clusterv1.ManagedCluster) {
	res := func(list clusterv1.ResourceList) string {
		keys := make([]string, 0, len(list))
		for k := range list {
			keys = append(keys, string(k))
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			q := list[clusterv1.ResourceName(k)]
			parts[i] = k + " " + q.String()
		}
		return nonEmpty(strings.Join(parts, ", "), "not reported")
	}
	fmt.Fprintf(b, "Capacity: %s\nAllocatable: %s\n", res(mc.Status.Capacity), res(mc.Status.Allocatable))
}

func writeAddOns(b *strings.Builder, ev ocm.Evidence, now time.Time) {
	fmt.Fprintf(b, "\nAdd-ons (%d):\n", len(ev.AddOns))
	if len(ev.AddOns) == 0 {
		b.WriteString("  none enabled\n")
		return
	}
	for _, a := range ev.AddOns {
		health := "healthy"
		if !ocm.AddOnHealthy(a) {
			health = "NOT healthy"
		}
		fmt.Fprintf(b, "  %s (%s; namespace %s)\n", a.Name, health, nonEmpty(a.Status.Namespace, "-"))
		for _, c := range a.Status.Conditions {
			fmt.Fprintf(b, "    %s=%s %s %s ago: %s\n", c.Type, c.Status, c.Reason, output.Age(c.LastTransitionTime.Time, now), oneLine(c.Message))
		}
	}
}

// maxLiveItems bounds each live list; the rest is counted.
const maxLiveItems = 15

func writeLive(b *strings.Builder, title string, live *ocm.LiveSummary, err error, note string, now time.Time) {
	b.WriteString("\n" + title + "\n")
	switch {
	case err != nil:
		fmt.Fprintf(b, "  could not be read: %v\n", err)
		return
	case live == nil:
		fmt.Fprintf(b, "  %s\n", note)
		return
	}
	if len(live.Partial) > 0 {
		fmt.Fprintf(b, "  the granted role may not read: %s\n", strings.Join(live.Partial, ", "))
	}
	if !slices.Contains(live.Partial, "nodes") {
		fmt.Fprintf(b, "  Nodes: %d/%d Ready", live.NodesReady, live.NodesTotal)
		if len(live.NotReadyNodes) > 0 {
			fmt.Fprintf(b, " (not Ready: %s)", strings.Join(live.NotReadyNodes, ", "))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(b, "  Pods not Running/Succeeded or not ready: %d\n", len(live.Pods))
	for i, p := range live.Pods {
		if i == maxLiveItems {
			fmt.Fprintf(b, "    ... and %d more\n", len(live.Pods)-maxLiveItems)
			break
		}
		fmt.Fprintf(b, "    %s/%s %s %s restarts=%d %s\n", p.Namespace, p.Name, p.Phase, p.Reason, p.Restarts, oneLine(p.Message))
	}
	fmt.Fprintf(b, "  Warning events in the last hour: %d\n", len(live.Warnings))
	for i, w := range live.Warnings {
		if i == maxLiveItems {
			fmt.Fprintf(b, "    ... and %d more\n", len(live.Warnings)-maxLiveItems)
			break
		}
		fmt.Fprintf(b, "    %s %s/%s x%d %s ago: %s\n", w.Reason, w.Namespace, w.Object, w.Count, output.Age(w.Last, now), oneLine(w.Message))
	}
}

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
