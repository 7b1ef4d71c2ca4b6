package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/budget"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/fanout"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/telemetry"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// metricsPlan is where one metrics call goes: one fleet store with the clusters' matcher, or each
// cluster's own Prometheus.
type metricsPlan struct {
	kind      string          // metrics.SourceHub, SourceURL or SourceCluster
	store     *metrics.Client // the fleet store (hub, url)
	source    string          // which source, in words
	label     string          // the cluster label of the fleet store
	restrict  bool            // add the clusters' matcher to every selector
	values    []string        // the clusters as the fleet store's label names them
	targets   []ocm.Target    // the clusters (for a cluster's own Prometheus)
	many      bool
	skipped   map[string]string
	denied    []string // named clusters the caller may not read
	probeNote string   // why auto did not use a source before the one chosen
}

// storeName is how a fleet store's cluster label names a target: the ManagedCluster's name (the hub
// registered as local-cluster is "local-cluster"), else the argument's name.
func storeName(t ocm.Target) string {
	if t.Cluster != nil && t.Cluster.Name != "" {
		return t.Cluster.Name
	}
	return t.Name
}

// metricsPlan resolves the cluster argument to the clusters the caller may read and picks the source.
func (d Deps) metricsPlan(ctx context.Context, clusterArg, source string) (*metricsPlan, *mcp.CallToolResult) {
	set := d.Metrics
	if set == nil {
		return nil, mcp.NewToolResultError("metrics are not available on this server")
	}
	switch source {
	case "":
		source = metrics.SourceAuto
	case metrics.SourceAuto, metrics.SourceHub, metrics.SourceCluster, metrics.SourceURL:
	default:
		return nil, metricsRefuse(ctx, fmt.Errorf("source %q is not auto, hub, cluster or url", source))
	}
	arg := strings.TrimSpace(clusterArg)
	if arg == "" {
		arg = "*"
	}
	sel, err := ocm.ResolveMany(ctx, d.Source, arg)
	if err != nil {
		return nil, metricsRefuse(ctx, err)
	}
	targets, denied := d.permitted(ctx, sel.Targets, false)
	if !sel.Many && len(denied) > 0 {
		return nil, mcp.NewToolResultError(denied[0].Error())
	}
	p := &metricsPlan{label: set.ClusterLabel(), many: sel.Many, skipped: sel.Skipped}
	for _, err := range denied {
		p.denied = append(p.denied, oneLine(err.Error()))
	}
	if err := d.pickSource(ctx, p, source); err != nil {
		return nil, mcp.NewToolResultError(err.Error())
	}
	if p.kind == metrics.SourceCluster {
		p.targets = targets
		if len(targets) == 0 {
			return nil, mcp.NewToolResultError(fmt.Sprintf("%q selects no cluster you may read%s", arg, skippedText(sel.Skipped)))
		}
		names := make([]string, len(targets))
		for i, t := range targets {
			names[i] = t.Name
		}
		audit.Clusters(ctx, names...)
		if sel.Many {
			if err := d.spend(ctx, false, budget.Spend{Budget: budget.FanOutPerCaller, Who: callerName(ctx), N: len(targets)}); err != nil {
				return nil, metricsRefuse(ctx, err)
			}
		}
		return p, nil
	}
	// A fleet store answers with the server's identity: the hub's own series only if the caller may
	// read the hub's status, every other cluster's as permitted above. Clusters left out of a fan-out
	// as unavailable still have their history in the store, and the caller may read them.
	for _, t := range targets {
		if t.Hub && d.readable(ctx, t) != nil {
			p.denied = append(p.denied, "hub (you may not read the hub's own status)")
			continue
		}
		p.values = append(p.values, storeName(t))
	}
	for name := range sel.Skipped {
		p.values = append(p.values, name)
	}
	if len(p.values) == 0 {
		return nil, mcp.NewToolResultError(fmt.Sprintf("%q selects no cluster you may read", arg))
	}
	p.restrict = ocm.Restricted(ctx) || clustersNamed(clusterArg) || len(denied) > 0
	audit.Clusters(ctx, p.values...)
	return p, nil
}

func skippedText(skipped map[string]string) string {
	if len(skipped) == 0 {
		return ""
	}
	return "; left out:" + skippedLines(skipped)
}

// pickSource sets the plan's source: the one asked, or for auto the hub store when it answers, else
// the metrics URL, else each cluster's own Prometheus.
func (d Deps) pickSource(ctx context.Context, p *metricsPlan, source string) error {
	set := d.Metrics
	useHub := func() error {
		c, err := set.HubStore(ctx)
		if err != nil {
			return err
		}
		p.kind, p.store, p.source = metrics.SourceHub, c, set.HubDescription()
		return nil
	}
	useURL := func() error {
		if set.URLStore() == nil {
			return errors.New("no metrics URL is configured (--metrics-url)")
		}
		p.kind, p.store, p.source = metrics.SourceURL, set.URLStore(), set.URLDescription()
		return nil
	}
	useCluster := func() error {
		if !set.HasCluster() || d.Clusters == nil {
			return errors.New("no cluster Prometheus is configured (--metrics-cluster-service is empty)")
		}
		p.kind, p.source = metrics.SourceCluster, set.ClusterDescription()
		return nil
	}
	switch source {
	case metrics.SourceHub:
		return useHub()
	case metrics.SourceURL:
		return useURL()
	case metrics.SourceCluster:
		return useCluster()
	}
	var why []string
	for _, use := range []func() error{useHub, useURL, useCluster} {
		err := use()
		if err == nil {
			if len(why) > 0 {
				p.probeNote = "Not used: " + strings.Join(why, "; ") + "."
			}
			return nil
		}
		why = append(why, oneLine(err.Error()))
	}
	return fmt.Errorf("%w answers: %s", errNoSource, strings.Join(why, "; "))
}

// queryOut is a query's merged outcome and the text that goes around its rendering.
type queryOut struct {
	source    string
	value     model.Value
	warnings  []string
	head      string // the fan-out's status line
	tail      string // notes, clusters left out, failures
	allFailed bool
}

type queryFunc func(ctx context.Context, c *metrics.Client, query string) (*metrics.Result, error)

// query runs the query on the plan's source: one restricted query on a fleet store, or the query on
// each cluster's own Prometheus, merged under the cluster label.
func (p *metricsPlan) query(ctx context.Context, d Deps, expr parser.Expr, run queryFunc) (*queryOut, error) {
	out := &queryOut{source: p.source}
	if p.kind != metrics.SourceCluster {
		q, err := p.storeQuery(expr)
		if err != nil {
			return nil, err
		}
		res, err := run(ctx, p.store, q)
		if err != nil {
			return nil, p.storeError(d, err)
		}
		out.value, out.warnings = res.Value, res.Warnings
		out.tail = p.notes()
		return out, nil
	}
	q := expr.String()
	results := d.metricsFanOut(ctx, p, func(ctx context.Context, c *metrics.Client) (any, error) {
		res, err := run(ctx, c, q)
		if err != nil {
			return nil, err
		}
		return res, nil
	})
	var parts []metrics.Part
	var warnings []string
	for _, r := range results {
		if r.err != nil {
			continue
		}
		res := r.val.(*metrics.Result)
		parts = append(parts, metrics.Part{Cluster: r.cluster, Value: res.Value})
		for _, w := range res.Warnings {
			warnings = append(warnings, r.cluster+": "+w)
		}
	}
	if !p.many {
		if results[0].err != nil {
			return nil, results[0].err
		}
		out.value, out.warnings = parts[0].Value, warnings
		if v, ok := out.value.(model.Vector); ok {
			out.value = metrics.Merge([]metrics.Part{{Cluster: results[0].cluster, Value: v}}, p.label, false)
		} else if m, ok := out.value.(model.Matrix); ok {
			out.value = metrics.Merge([]metrics.Part{{Cluster: results[0].cluster, Value: m}}, p.label, true)
		}
		out.tail = p.notes()
		return out, nil
	}
	isMatrix := false
	for _, part := range parts {
		if _, ok := part.Value.(model.Matrix); ok {
			isMatrix = true
		}
	}
	out.value, out.warnings = metrics.Merge(parts, p.label, isMatrix), warnings
	out.head, out.tail, out.allFailed = p.fanOutText(results)
	return out, nil
}

// storeQuery is the query sent to a fleet store: restricted to the plan's clusters when it must be.
func (p *metricsPlan) storeQuery(expr parser.Expr) (string, error) {
	if !p.restrict {
		return expr.String(), nil
	}
	return metrics.Restrict(expr, p.label, p.values)
}

func (p *metricsPlan) storeError(d Deps, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the %s did not answer within %s: narrow the query or the range", p.source, d.metricsLimits().Timeout)
	}
	if p.kind == metrics.SourceHub {
		return fmt.Errorf("the %s failed: %s", p.source, metrics.ExplainProxyError(err, d.Metrics.Config().HubService, "the hub"))
	}
	return fmt.Errorf("the %s failed: %s", p.source, oneLine(err.Error()))
}

// notes are what a fleet store's answer ends with: clusters left out, and why auto chose this source.
func (p *metricsPlan) notes() string {
	var b strings.Builder
	if len(p.denied) > 0 {
		fmt.Fprintf(&b, "\nLeft out (not yours to read): %s\n", strings.Join(p.denied, "; "))
	}
	if p.kind == metrics.SourceCluster && len(p.skipped) > 0 {
		b.WriteString("\nSkipped:" + skippedLines(p.skipped) + "\n")
	}
	if p.probeNote != "" {
		b.WriteString(p.probeNote + "\n")
	}
	return b.String()
}

// clusterAnswer is one cluster's outcome in a fan-out over clusters' own Prometheus.
type clusterAnswer struct {
	cluster string
	val     any
	err     error
}

// metricsFanOut runs fn on each target's own Prometheus with bounded concurrency under the call's one
// deadline; a cluster not started before it records a timeout.
func (d Deps) metricsFanOut(ctx context.Context, p *metricsPlan, fn func(context.Context, *metrics.Client) (any, error)) []clusterAnswer {
	out := make([]clusterAnswer, len(p.targets))
	svc := d.Metrics.Config().ClusterService
	telemetry.FanOut(ctx, len(p.targets))
	fanout.Run(ctx, len(p.targets), d.FanOutConcurrency, func(ctx context.Context, i int) {
		t := p.targets[i]
		out[i] = clusterAnswer{cluster: t.Name}
		ctx, done := telemetry.Cluster(ctx, t.Name)
		defer func() { done(clusterOutcome(out[i].err)) }()
		cfg, err := d.Clusters.RESTConfig(ctx, t)
		if err != nil {
			out[i].err = err
			return
		}
		c, err := d.Metrics.ClusterClient(t.Name+"|"+cfg.Host, cfg)
		if err != nil {
			out[i].err = err
			return
		}
		v, err := fn(ctx, c)
		switch {
		case err == nil:
			out[i].val = v
		case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
			out[i].err = fmt.Errorf("cluster %s did not answer within %s: %w", t.Name, d.metricsLimits().Timeout, kubectl.ErrTimeout)
		default:
			out[i].err = fmt.Errorf("cluster %s: %s", t.Name, metrics.ExplainProxyError(err, svc, "cluster "+t.Name))
		}
	}, func(i int, _ error) {
		name := p.targets[i].Name
		telemetry.Skipped(ctx, name)
		out[i] = clusterAnswer{cluster: name, err: fmt.Errorf("cluster %s was not started before the call's deadline (narrow the selection): %w", name, kubectl.ErrTimeout)}
	})
	return out
}

// fanOutText is the status line a fan-out starts with and the failures it ends with.
func (p *metricsPlan) fanOutText(results []clusterAnswer) (head, tail string, allFailed bool) {
	runs := make([]clusterRun, len(results))
	var failures []string
	for i, r := range results {
		runs[i] = clusterRun{cluster: r.cluster, res: kubectl.Result{Err: r.err}}
		if r.err != nil {
			failures = append(failures, fmt.Sprintf("%s: %s", r.cluster, oneLine(r.err.Error())))
		}
	}
	st := runData(runs, p.skipped)
	var b strings.Builder
	b.WriteString(p.notes())
	if len(p.skipped) == 0 && len(failures) > 0 {
		b.WriteString("\n")
	}
	if len(failures) > 0 {
		fmt.Fprintf(&b, "Failed on %d of %d cluster(s):\n", len(failures), len(results))
		for _, f := range failures {
			fmt.Fprintf(&b, "  %s\n", f)
		}
	}
	return st.summary(), b.String(), len(failures) == len(results)
}
