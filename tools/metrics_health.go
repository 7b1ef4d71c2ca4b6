package tools

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// healthTimeout bounds the metrics a cluster_status or diagnose answer reads.
const healthTimeout = 10 * time.Second

// clusterQuerier runs instant queries about one cluster on the first source that answers for it: the
// hub store or metrics URL restricted to the cluster, else the cluster's own Prometheus.
type clusterQuerier struct {
	source string
	query  func(ctx context.Context, q string) (model.Vector, error)
}

// querierFor finds a source for the cluster; the error says why there is none. The caller has checked
// that the cluster is readable.
func (d Deps) querierFor(ctx context.Context, t ocm.Target) (*clusterQuerier, error) {
	if d.Metrics == nil {
		return nil, errors.New("no metrics source is configured")
	}
	p := &metricsPlan{label: d.Metrics.ClusterLabel(), restrict: true, values: []string{storeName(t)}, targets: []ocm.Target{t}}
	if err := d.pickSource(ctx, p, metrics.SourceAuto); err != nil {
		return nil, err
	}
	now := d.Now()
	if p.kind != metrics.SourceCluster {
		return &clusterQuerier{source: p.source, query: func(ctx context.Context, q string) (model.Vector, error) {
			expr, err := metrics.Parse(q)
			if err != nil {
				return nil, err
			}
			sq, err := p.storeQuery(expr)
			if err != nil {
				return nil, err
			}
			res, err := p.store.Query(ctx, sq, now, 0)
			if err != nil {
				return nil, p.storeError(d, err)
			}
			v, _ := res.Value.(model.Vector)
			return v, nil
		}}, nil
	}
	if ocm.WouldWaitForToken(t, d.Clusters.Provisioned) {
		return nil, errors.New(ocm.NoCredentialsYet)
	}
	cfg, err := d.Clusters.RESTConfig(ctx, t)
	if err != nil {
		return nil, err
	}
	c, err := d.Metrics.ClusterClient(t.Name+"|"+cfg.Host, cfg)
	if err != nil {
		return nil, err
	}
	svc := d.Metrics.Config().ClusterService
	// One probe first: a cluster without that Prometheus has no source, rather than four unknowns.
	if _, err := c.Query(ctx, "vector(1)", now, 0); err != nil {
		return nil, fmt.Errorf("its Prometheus does not answer: %s", metrics.ExplainProxyError(err, svc, "cluster "+t.Name))
	}
	return &clusterQuerier{source: "the cluster's own Prometheus", query: func(ctx context.Context, q string) (model.Vector, error) {
		res, err := c.Query(ctx, q, now, 0)
		if err != nil {
			return nil, errors.New(metrics.ExplainProxyError(err, svc, "cluster "+t.Name))
		}
		v, _ := res.Value.(model.Vector)
		return v, nil
	}}, nil
}

// metricsHealthText is the metrics part of cluster_status and diagnose: firing alerts, the API server's
// 5xx rate, container restarts and node pressure, each "unknown" with the reason when it cannot be read,
// and "Metrics: no source" when nothing answers for the cluster. None of it changes a verdict.
func (d Deps) metricsHealthText(ctx context.Context, t ocm.Target) string {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	q, err := d.querierFor(ctx, t)
	if err != nil {
		return "Metrics: no source (" + oneLine(err.Error()) + ")\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Metrics (%s):\n", q.source)
	line := func(what string, f func() (string, error)) {
		text, err := f()
		if err != nil {
			text = "unknown (" + oneLine(err.Error()) + ")"
		}
		fmt.Fprintf(&b, "  %s: %s\n", what, text)
	}
	line("firing alerts", func() (string, error) {
		v, err := q.query(ctx, `ALERTS{alertstate="firing"}`)
		if err != nil {
			return "", err
		}
		alerts := metrics.AlertsFromSeries(v, "", t.Name)
		metrics.SortAlerts(alerts)
		if len(alerts) == 0 {
			return "none", nil
		}
		var names []string
		for i, a := range alerts {
			if i == 5 {
				names = append(names, fmt.Sprintf("and %d more", len(alerts)-5))
				break
			}
			names = append(names, a.Name+" ("+nonEmpty(a.Severity, "none")+")")
		}
		return fmt.Sprintf("%d: %s (metrics_alerts lists them)", len(alerts), strings.Join(names, ", ")), nil
	})
	line("API server 5xx", func() (string, error) {
		errs, err := q.query(ctx, `sum(rate(apiserver_request_total{code=~"5.."}[5m]))`)
		if err != nil {
			return "", err
		}
		all, err := q.query(ctx, `sum(rate(apiserver_request_total[5m]))`)
		if err != nil {
			return "", err
		}
		if len(all) == 0 {
			return "", errors.New("no apiserver_request_total series")
		}
		e := 0.0
		if len(errs) > 0 {
			e = float64(errs[0].Value)
		}
		total := float64(all[0].Value)
		share := 0.0
		if total > 0 {
			share = 100 * e / total
		}
		return fmt.Sprintf("%s/s of %s requests/s (%s%%) over 5m", metrics.FormatValue(e), metrics.FormatValue(total), metrics.FormatValue(share)), nil
	})
	line("container restarts, last hour", func() (string, error) {
		v, err := q.query(ctx, `topk(3, sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total[1h])) > 0)`)
		if err != nil {
			return "", err
		}
		present, err := q.query(ctx, `count(kube_pod_container_status_restarts_total)`)
		if err != nil {
			return "", err
		}
		if len(present) == 0 {
			return "", errors.New("no kube_pod_container_status_restarts_total series (kube-state-metrics)")
		}
		if len(v) == 0 {
			return "none", nil
		}
		sort.Slice(v, func(i, j int) bool { return v[i].Value > v[j].Value })
		var top []string
		for _, s := range v {
			top = append(top, fmt.Sprintf("%s/%s %s", s.Metric["namespace"], s.Metric["pod"], metrics.FormatValue(float64(s.Value))))
		}
		return "most: " + strings.Join(top, ", "), nil
	})
	line("node pressure", func() (string, error) {
		v, err := q.query(ctx, `kube_node_status_condition{condition=~"MemoryPressure|DiskPressure|PIDPressure",status="true"} == 1`)
		if err != nil {
			return "", err
		}
		present, err := q.query(ctx, `count(kube_node_status_condition{condition="Ready"})`)
		if err != nil {
			return "", err
		}
		if len(present) == 0 {
			return "", errors.New("no kube_node_status_condition series (kube-state-metrics)")
		}
		if len(v) == 0 {
			return "none", nil
		}
		var nodes []string
		for _, s := range v {
			nodes = append(nodes, string(s.Metric["node"])+" "+string(s.Metric["condition"]))
		}
		sort.Strings(nodes)
		return strings.Join(nodes, ", "), nil
	})
	return b.String()
}
