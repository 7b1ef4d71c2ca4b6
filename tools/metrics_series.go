package tools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/prometheus/common/model"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics"
)

// seriesWindow is how far back metrics_series looks.
const seriesWindow = time.Hour

const seriesHint = "add label matchers to match, or ask for one label's values with label"

func (d Deps) metricsSeries(ctx context.Context, args metricsSeriesArgs) *mcp.CallToolResult {
	vs, err := metrics.ParseSelector(args.Match)
	if err != nil {
		return metricsRefuse(ctx, err)
	}
	if err := d.metricsLimits().Check(vs, clustersNamed(args.Cluster)); err != nil {
		return metricsRefuse(ctx, err)
	}
	label := strings.TrimSpace(args.Label)
	if label != "" && !metrics.ValidLabelName(label) {
		return metricsRefuse(ctx, fmt.Errorf("label %q is not a label name (e.g. namespace, or __name__ for metric names)", label))
	}
	ctx, cancel := context.WithTimeout(ctx, d.metricsLimits().Timeout)
	defer cancel()
	plan, res := d.metricsPlan(ctx, args.Cluster, args.Source)
	if res != nil {
		return res
	}
	end := d.Now()
	start := end.Add(-seriesWindow)
	limit := d.metricsLimits().MaxSeries
	ans := metrics.SeriesAnswer{Source: plan.source, Match: strings.TrimSpace(args.Match), Since: seriesWindow, Label: label, Clusters: map[string]int{}}
	ask := func(ctx context.Context, c *metrics.Client, match string) ([]model.LabelSet, []string, []string, error) {
		if label != "" {
			vals, w, err := c.LabelValues(ctx, label, []string{match}, start, end, limit+1)
			return nil, vals, w, err
		}
		s, w, err := c.Series(ctx, []string{match}, start, end, limit+1)
		return s, nil, w, err
	}
	var head, tail string
	allFailed := false
	if plan.kind != metrics.SourceCluster {
		match, err := plan.storeQuery(vs)
		if err != nil {
			return mcp.NewToolResultError(err.Error())
		}
		series, vals, w, err := ask(ctx, plan.store, match)
		if err != nil {
			return mcp.NewToolResultError(plan.storeError(d, err).Error())
		}
		ans.Series, ans.Values, ans.Warnings = series, vals, w
		tail = plan.notes()
	} else {
		match := vs.String()
		type got struct {
			series []model.LabelSet
			vals   []string
			warn   []string
		}
		results := d.metricsFanOut(ctx, plan, func(ctx context.Context, c *metrics.Client) (any, error) {
			s, v, w, err := ask(ctx, c, match)
			return got{s, v, w}, err
		})
		seen := map[string]bool{}
		for _, r := range results {
			if r.err != nil {
				continue
			}
			g := r.val.(got)
			ans.Series = append(ans.Series, metrics.MergeSeries(r.cluster, plan.label, g.series)...)
			for _, v := range g.vals {
				if !seen[v] {
					seen[v] = true
					ans.Values = append(ans.Values, v)
				}
				ans.Clusters[v]++
			}
			for _, w := range g.warn {
				ans.Warnings = append(ans.Warnings, r.cluster+": "+w)
			}
			ans.Limited = ans.Limited || len(g.series) > limit || len(g.vals) > limit
		}
		if !plan.many && results[0].err != nil {
			return mcp.NewToolResultError(results[0].err.Error())
		}
		if plan.many {
			ans.Asked = len(results)
			head, tail, allFailed = plan.fanOutText(results)
		} else {
			tail = plan.notes()
		}
	}
	ans.Limited = ans.Limited || len(ans.Series) > limit || len(ans.Values) > limit
	text := head + metrics.RenderSeries(ans, limit) + tail
	if allFailed {
		return mcp.NewToolResultError(d.metricsCap(text, seriesHint))
	}
	return mcp.NewToolResultText(d.metricsCap(text, seriesHint))
}
