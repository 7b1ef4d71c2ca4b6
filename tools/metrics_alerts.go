package tools

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/prometheus/common/model"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics"
)

// maxAlertRows bounds the alerts table.
const maxAlertRows = 500

const alertsHint = "name fewer clusters with the cluster argument, or ask for state firing only"

func (d Deps) metricsAlerts(ctx context.Context, args metricsAlertsArgs) *mcp.CallToolResult {
	states, err := metrics.AlertStates(args.State)
	if err != nil {
		return metricsRefuse(ctx, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.metricsLimits().Timeout)
	defer cancel()
	plan, res := d.metricsPlan(ctx, args.Cluster, args.Source)
	if res != nil {
		return res
	}
	now := d.Now()
	rep := metrics.AlertReport{Source: plan.source, States: states, Now: now, Unknown: map[string]string{}}
	var status, tail string
	allFailed := false
	if plan.kind != metrics.SourceCluster {
		alerts, unknown, notes, err := d.storeAlerts(ctx, plan, states)
		if err != nil {
			return mcp.NewToolResultError(err.Error())
		}
		rep.Alerts, rep.Unknown, rep.Notes, rep.Asked = alerts, unknown, notes, plan.values
		// A store may hold clusters the hub no longer knows: they count among the clusters asked.
		asked := map[string]bool{}
		for _, c := range rep.Asked {
			asked[c] = true
		}
		for _, a := range alerts {
			if !asked[a.Cluster] {
				asked[a.Cluster] = true
				rep.Asked = append(rep.Asked, a.Cluster)
			}
		}
		tail = plan.notes()
	} else {
		results := d.metricsFanOut(ctx, plan, func(ctx context.Context, c *metrics.Client) (any, error) {
			return clusterAlerts(ctx, c, "", states, now)
		})
		for _, r := range results {
			rep.Asked = append(rep.Asked, r.cluster)
			if r.err != nil {
				rep.Unknown[r.cluster] = r.err.Error()
				continue
			}
			for _, a := range r.val.([]metrics.Alert) {
				a.Cluster = r.cluster
				rep.Alerts = append(rep.Alerts, a)
			}
		}
		if !plan.many && results[0].err != nil {
			return mcp.NewToolResultError(results[0].err.Error())
		}
		if plan.many {
			// The failures are in the report's "Not read" list: only the status line is wanted.
			status, _, allFailed = plan.fanOutText(results)
		}
		tail = plan.notes()
	}
	if args.Raw {
		metrics.SortAlerts(rep.Alerts)
		data, _ := json.MarshalIndent(struct {
			Source  string            `json:"source"`
			Alerts  []metrics.Alert   `json:"alerts"`
			Unknown map[string]string `json:"unknown,omitempty"`
		}{rep.Source, rep.Alerts, rep.Unknown}, "", " ")
		return mcp.NewToolResultText(d.metricsCap(string(data)+"\n", alertsHint))
	}
	text := metrics.RenderAlerts(rep, maxAlertRows)
	if status != "" {
		first, rest, _ := strings.Cut(text, "\n")
		text = first + "\n" + strings.TrimRight(status, "\n") + "\n" + rest
	}
	text += tail
	if allFailed {
		return mcp.NewToolResultError(d.metricsCap(text, alertsHint))
	}
	return mcp.NewToolResultText(d.metricsCap(text, alertsHint))
}

// clusterAlerts reads one cluster's alerts from its own Prometheus: /api/v1/alerts (since and
// summary), else the ALERTS series.
func clusterAlerts(ctx context.Context, c *metrics.Client, cluster string, states []string, now time.Time) ([]metrics.Alert, error) {
	list, err := c.Alerts(ctx)
	if err == nil {
		return metrics.AlertsFromAPI(list, cluster, states), nil
	}
	if !metrics.IsNotServed(err) {
		return nil, err
	}
	res, err2 := c.Query(ctx, metrics.AlertsQuery(states), now, 0)
	if err2 != nil {
		return nil, err2
	}
	v, _ := res.Value.(model.Vector)
	return metrics.AlertsFromSeries(v, "", cluster), nil
}

// storeAlerts reads the alerts of the plan's clusters from a fleet store: ALERTS, the since of each
// from ALERTS_FOR_STATE, and which clusters have any series in the store at all (one that has none is
// unknown, not without alerts).
func (d Deps) storeAlerts(ctx context.Context, plan *metricsPlan, states []string) ([]metrics.Alert, map[string]string, []string, error) {
	now := d.Now()
	run := func(q string) (model.Vector, error) {
		expr, err := metrics.Parse(q)
		if err != nil {
			return nil, err
		}
		sq, err := plan.storeQuery(expr)
		if err != nil {
			return nil, err
		}
		res, err := plan.store.Query(ctx, sq, now, 0)
		if err != nil {
			return nil, plan.storeError(d, err)
		}
		v, _ := res.Value.(model.Vector)
		return v, nil
	}
	v, err := run(metrics.AlertsQuery(states))
	if err != nil {
		return nil, nil, nil, err
	}
	alerts := metrics.AlertsFromSeries(v, plan.label, "")
	var notes []string
	if fs, err := run("ALERTS_FOR_STATE"); err == nil {
		metrics.SetSince(alerts, fs)
	}
	if len(alerts) > 0 {
		notes = append(notes, "Summaries are not kept in a fleet store; source: cluster reads them from a cluster's own Prometheus.")
	}
	unknown := map[string]string{}
	if present, err := run("count by (" + plan.label + ") (up)"); err == nil {
		have := map[string]bool{}
		for _, s := range present {
			have[string(s.Metric[model.LabelName(plan.label)])] = true
		}
		for _, a := range alerts {
			have[a.Cluster] = true
		}
		for _, c := range plan.values {
			if !have[c] {
				unknown[c] = "no series of it in the " + plan.source + " (its metrics do not reach the store)"
			}
		}
	}
	return alerts, unknown, notes, nil
}
