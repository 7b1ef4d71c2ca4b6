package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
)

type metricsQueryArgs struct {
	Query   string `json:"query" jsonschema:"PromQL expression, e.g. sum by (cluster) (rate(apiserver_request_total{code=~\"5..\"}[5m])). Every selector needs a label matcher besides the metric name unless the cluster argument names the clusters; blanket regexes such as =~\".*\" are refused"`
	Cluster string `json:"cluster,omitempty" jsonschema:"Which clusters: a ManagedCluster name from list_clusters, or hub; also a comma-separated list, * , selector:<label selector> or clusterset:<name>. Omitted: every cluster you may read"`
	Source  string `json:"source,omitempty" jsonschema:"Where the metrics come from: auto (default: the hub's fleet store when it answers, else the configured metrics URL, else each cluster's own Prometheus), hub, cluster or url"`
	Range   string `json:"range,omitempty" jsonschema:"Optional: a range query over this long up to end, e.g. 1h or 30m; omitted: an instant query"`
	Step    string `json:"step,omitempty" jsonschema:"Optional, with range: the resolution, e.g. 1m (default: about 60 points over the range)"`
	End     string `json:"end,omitempty" jsonschema:"Optional: the evaluation time (instant) or end of the range, RFC3339, e.g. 2026-01-02T15:04:05Z (default: now)"`
	Raw     bool   `json:"raw,omitempty" jsonschema:"Optional: answer with the Prometheus API's JSON instead of the compact summary (capped)"`
}

type metricsAlertsArgs struct {
	Cluster string `json:"cluster,omitempty" jsonschema:"Which clusters: a ManagedCluster name from list_clusters, or hub; also a comma-separated list, * , selector:<label selector> or clusterset:<name>. Omitted: every cluster you may read"`
	Source  string `json:"source,omitempty" jsonschema:"Where the alerts come from: auto (default), hub, cluster or url"`
	State   string `json:"state,omitempty" jsonschema:"firing (default), pending, or all"`
	Raw     bool   `json:"raw,omitempty" jsonschema:"Optional: answer with JSON instead of the table"`
}

type metricsSeriesArgs struct {
	Match   string `json:"match" jsonschema:"A series selector, e.g. apiserver_request_total{job=\"apiserver\"} or {namespace=\"kube-system\"}"`
	Label   string `json:"label,omitempty" jsonschema:"Optional: list the values of this label over the matching series instead of the series; __name__ lists metric names"`
	Cluster string `json:"cluster,omitempty" jsonschema:"Which clusters: a ManagedCluster name from list_clusters, or hub; also a comma-separated list, * , selector:<label selector> or clusterset:<name>. Omitted: every cluster you may read"`
	Source  string `json:"source,omitempty" jsonschema:"Where the series come from: auto (default), hub, cluster or url"`
}

func readOnlyTool(name, title, desc string, opts ...mcp.ToolOption) mcp.Tool {
	all := append([]mcp.ToolOption{
		mcp.WithTitleAnnotation(title),
		mcp.WithDescription(desc),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	}, opts...)
	return mcp.NewTool(name, all...)
}

func metricsQueryTool(d Deps) server.ServerTool {
	tool := readOnlyTool("metrics_query", "PromQL query over the fleet",
		"Run a PromQL query, instant or over a range, on one cluster, many, or the whole fleet: through the hub's fleet store "+
			"(ACM observability's Thanos querier: one query, series labelled by cluster), a configured metrics URL, or each cluster's "+
			"own Prometheus through its API server. The answer says which source answered, then the labels common to every series once, "+
			"then per series only the labels that differ with the value (instant) or last, min, max, average and a sparkline (range), "+
			"highest first; raw: true gives the Prometheus JSON. Guardrails: a label matcher besides the metric name on every selector "+
			"unless cluster names the clusters, no blanket regexes, bounded range, step, points and series; a refusal says how to narrow.",
		mcp.WithInputSchema[metricsQueryArgs]())
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, _ mcp.CallToolRequest, args metricsQueryArgs) (*mcp.CallToolResult, error) {
		return d.metricsQuery(ctx, args), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

func metricsAlertsTool(d Deps) server.ServerTool {
	desc := "The alerts of one cluster, many, or the fleet (firing by default; pending or all): the ALERTS series through the hub's fleet store " +
		"or a metrics URL, or each cluster's own Prometheus (its /api/v1/alerts, with since and summary). The first line says how many alerts " +
		"fire on how many clusters and which clusters have none; then a table CLUSTER ALERT SEVERITY STATE SINCE SUMMARY, most severe first. " +
		"Clusters whose alerts could not be read are listed as unknown, never as without alerts."
	if d.Offline {
		desc = "The alerts the must-gather recorded: Prometheus's rules with their alerts (monitoring/prometheus/rules.json, as OpenShift " +
			"must-gathers collect them), per cluster: a summary line, then CLUSTER ALERT SEVERITY STATE SINCE SUMMARY, most severe first. " +
			"Without such files the answer says the archive holds no alert data."
	}
	tool := readOnlyTool("metrics_alerts", "Alerts over the fleet", desc, mcp.WithInputSchema[metricsAlertsArgs]())
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, _ mcp.CallToolRequest, args metricsAlertsArgs) (*mcp.CallToolResult, error) {
		if d.Offline {
			return d.offlineAlerts(ctx, args), nil
		}
		return d.metricsAlerts(ctx, args), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

func metricsSeriesTool(d Deps) server.ServerTool {
	tool := readOnlyTool("metrics_series", "Find metrics and series",
		"Discover what metrics exist: the series matching a selector over the last hour (only the labels that differ per series), or with "+
			"label the values of one label (label: __name__ lists metric names, e.g. match {job=\"apiserver\"}). Same cluster and source "+
			"arguments as metrics_query, and the same guardrails on the selector.",
		mcp.WithInputSchema[metricsSeriesArgs]())
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, _ mcp.CallToolRequest, args metricsSeriesArgs) (*mcp.CallToolResult, error) {
		return d.metricsSeries(ctx, args), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

// metricsRefuse is a refusal: the tool's error, and the audit line's reason.
func metricsRefuse(ctx context.Context, err error) *mcp.CallToolResult {
	audit.Refused(ctx, err.Error())
	return mcp.NewToolResultError(err.Error())
}

// rangeArgs are a query's time arguments, parsed.
type rangeArgs struct {
	end   time.Time
	rng   time.Duration
	step  time.Duration
	isRng bool
}

func (d Deps) parseRangeArgs(rng, step, end string) (rangeArgs, error) {
	var r rangeArgs
	r.end = d.Now()
	if end != "" {
		t, err := time.Parse(time.RFC3339, end)
		if err != nil {
			return r, fmt.Errorf("end %q is not an RFC3339 time, e.g. 2026-01-02T15:04:05Z", end)
		}
		r.end = t
	}
	if rng == "" {
		if step != "" {
			return r, fmt.Errorf("step goes with range: give range (e.g. 1h) for a range query, or leave step out")
		}
		return r, nil
	}
	rd, err := metrics.ParseDuration(rng)
	if err != nil {
		return r, fmt.Errorf("range %q is not a duration: use e.g. 1h, 30m or 2d", rng)
	}
	r.rng, r.isRng = rd, true
	lim := d.metricsLimits()
	r.step = metrics.DefaultStep(rd, lim)
	if step != "" {
		if r.step, err = metrics.ParseDuration(step); err != nil {
			return r, fmt.Errorf("step %q is not a duration: use e.g. 30s or 5m", step)
		}
	}
	return r, lim.CheckRange(r.rng, r.step)
}

func (d Deps) metricsLimits() metrics.Limits {
	if d.MetricsLimits != nil {
		return *d.MetricsLimits
	}
	return metrics.DefaultLimits()
}

// metricsCap caps a metrics answer's text with the narrowing hint.
func (d Deps) metricsCap(text, hint string) string {
	return output.Truncate(text, d.MaxOutputBytes, hint)
}

const queryHint = "add label matchers, shorten the range, raise the step, or aggregate (sum by (cluster) (...), topk(10, ...))"

func (d Deps) metricsQuery(ctx context.Context, args metricsQueryArgs) *mcp.CallToolResult {
	expr, err := metrics.Parse(args.Query)
	if err != nil {
		return metricsRefuse(ctx, err)
	}
	ra, err := d.parseRangeArgs(args.Range, args.Step, args.End)
	if err != nil {
		return metricsRefuse(ctx, err)
	}
	if err := d.metricsLimits().Check(expr, clustersNamed(args.Cluster)); err != nil {
		return metricsRefuse(ctx, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.metricsLimits().Timeout)
	defer cancel()
	plan, res := d.metricsPlan(ctx, args.Cluster, args.Source)
	if res != nil {
		return res
	}
	run := func(ctx context.Context, c *metrics.Client, query string) (*metrics.Result, error) {
		if ra.isRng {
			return c.QueryRange(ctx, query, ra.end.Add(-ra.rng), ra.end, ra.step, 0)
		}
		return c.Query(ctx, query, ra.end, 0)
	}
	ans := metrics.Answer{Query: strings.TrimSpace(args.Query), Time: ra.end, Step: ra.step}
	if ra.isRng {
		ans.Start, ans.End = ra.end.Add(-ra.rng), ra.end
	}
	out, err := plan.query(ctx, d, expr, run)
	if err != nil {
		return mcp.NewToolResultError(err.Error())
	}
	ans.Source, ans.Value, ans.Warnings = out.source, out.value, out.warnings
	var text string
	if args.Raw {
		text = metrics.RenderRaw(ans)
	} else {
		text = out.head + metrics.Render(ans, d.metricsLimits().MaxSeries) + out.tail
	}
	if out.allFailed {
		return mcp.NewToolResultError(d.metricsCap(text, queryHint))
	}
	return mcp.NewToolResultText(d.metricsCap(text, queryHint))
}

// clustersNamed says the cluster argument names clusters (not every cluster).
func clustersNamed(arg string) bool {
	arg = strings.TrimSpace(arg)
	return arg != "" && arg != "*"
}

// errNoSource is returned when no source can answer.
var errNoSource = errors.New("no metrics source")
