package tools

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics"
	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// maxRulesFileBytes bounds a rules.json read from an archive.
const maxRulesFileBytes = 64 << 20

// offlineAlerts answers metrics_alerts from what a must-gather recorded.
func (d Deps) offlineAlerts(ctx context.Context, args metricsAlertsArgs) *mcp.CallToolResult {
	states, err := metrics.AlertStates(args.State)
	if err != nil {
		return metricsRefuse(ctx, err)
	}
	if s := args.Source; s != "" && s != metrics.SourceAuto {
		return metricsRefuse(ctx, fmt.Errorf("offline, alerts come from the must-gather only: leave source out (or auto)"))
	}
	arg := strings.TrimSpace(args.Cluster)
	if arg == "" {
		arg = "*"
	}
	sel, err := ocm.ResolveMany(ctx, d.Source, arg)
	if err != nil {
		return metricsRefuse(ctx, err)
	}
	d.leaveOutUncollected(ctx, &sel)
	targets, denied := d.permitted(ctx, sel.Targets, false)
	if !sel.Many && len(denied) > 0 {
		return mcp.NewToolResultError(denied[0].Error())
	}
	rep := metrics.AlertReport{States: states, Now: d.Now(), Unknown: map[string]string{},
		Source: "the must-gather's Prometheus rules (monitoring/prometheus/rules.json)"}
	found := false
	var names []string
	for _, t := range targets {
		name := t.Name
		key := name
		if t.Hub {
			key = mustgather.HubName
		}
		names = append(names, name)
		rep.Asked = append(rep.Asked, name)
		c := d.Archive.Clusters[key]
		if c == nil {
			rep.Unknown[name] = "not in the must-gather"
			continue
		}
		files := c.AlertFiles()
		if !files.Empty() {
			found = true
		}
		alerts, why := alertsFromRulesFiles(files.Rules, name, states)
		if why != "" {
			if len(files.Rules) == 0 && len(files.Alertmanager) > 0 {
				why = "the must-gather holds Alertmanager's status (monitoring/alertmanager/status.json) but no list of alerts (monitoring/prometheus/rules.json)"
			}
			rep.Unknown[name] = why
			continue
		}
		rep.Alerts = append(rep.Alerts, alerts...)
	}
	audit.Clusters(ctx, names...)
	if !found {
		return mcp.NewToolResultText(fmt.Sprintf("The must-gather holds no alert data for %s: no monitoring/prometheus/rules.json "+
			"(Prometheus's /api/v1/rules, which OpenShift must-gathers collect) nor monitoring/alertmanager/status.json. "+
			"Alerts can be read live with metrics_alerts against the hub.\n", strings.Join(names, ", ")))
	}
	return mcp.NewToolResultText(d.metricsCap(metrics.RenderAlerts(rep, maxAlertRows), alertsHint))
}

// alertsFromRulesFiles reads the first rules file that parses (replicas hold the same rules); why
// says what was wrong when none did.
func alertsFromRulesFiles(files []string, cluster string, states []string) ([]metrics.Alert, string) {
	if len(files) == 0 {
		return nil, "the must-gather holds no alert data for it (no monitoring/prometheus/rules.json)"
	}
	var why []string
	for _, f := range files {
		// Named from monitoring/ on: the archive's private folder is nobody's business.
		name := f
		if i := strings.LastIndex(filepath.ToSlash(f), "/monitoring/"); i >= 0 {
			name = filepath.ToSlash(f)[i+1:]
		}
		data, err := readCapped(f, maxRulesFileBytes)
		if err != nil {
			why = append(why, name+": cannot be read")
			continue
		}
		rules, err := metrics.ParseRules(data)
		if err != nil {
			why = append(why, name+": "+err.Error())
			continue
		}
		return metrics.AlertsFromRules(rules, cluster, states), ""
	}
	return nil, "its rules.json could not be read: " + strings.Join(why, "; ")
}

func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d MiB", limit>>20)
	}
	return data, nil
}
