package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func TestSortAlertsBySeverityThenCluster(t *testing.T) {
	alerts := []Alert{
		{Cluster: "b", Name: "Watchdog", Severity: "none"},
		{Cluster: "c", Name: "X", Severity: "info"},
		{Cluster: "b", Name: "Y", Severity: "warning"},
		{Cluster: "a", Name: "Z", Severity: "warning"},
		{Cluster: "z", Name: "Burn", Severity: "critical"},
		{Cluster: "a", Name: "Odd", Severity: "major"},
		{Cluster: "a", Name: "NoSev"},
	}
	SortAlerts(alerts)
	var got []string
	for _, a := range alerts {
		got = append(got, a.Cluster+"/"+a.Name)
	}
	want := "z/Burn a/Z b/Y a/Odd c/X a/NoSev b/Watchdog"
	if strings.Join(got, " ") != want {
		t.Errorf("order %v; want %s", got, want)
	}
}

func TestRenderAlertsSummaryAndTable(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	rep := AlertReport{
		Source: "hub store", States: []string{"firing"}, Now: now,
		Asked:   []string{"spoke1", "spoke2", "spoke3", "local-cluster"},
		Unknown: map[string]string{"spoke3": "no series of it in the hub store"},
		Alerts: []Alert{
			{Cluster: "spoke2", Name: "KubePodCrashLooping", Severity: "warning", State: "firing", Since: now.Add(-17 * time.Minute), Summary: "Pod is crash looping."},
			{Cluster: "spoke1", Name: "KubeAPIErrorBudgetBurn", Severity: "critical", State: "firing", Since: now.Add(-90 * time.Minute)},
			{Cluster: "spoke1", Name: "Watchdog", Severity: "none", State: "firing"},
		},
	}
	golden(t, "alerts", RenderAlerts(rep, 100))
	first := strings.SplitN(RenderAlerts(rep, 100), "\n", 2)[0]
	if !strings.HasPrefix(first, "3 firing alerts on 2 of 4 clusters; clusters with none: local-cluster; unknown (not read): spoke3") {
		t.Errorf("summary line: %s", first)
	}
}

func TestAlertsFromSeriesAndSince(t *testing.T) {
	v := model.Vector{
		sample(1, "__name__", "ALERTS", "alertname", "KubeAPIDown", "alertstate", "firing", "severity", "critical", "cluster", "spoke1"),
		sample(1, "__name__", "ALERTS", "alertname", "Watchdog", "alertstate", "firing", "severity", "none", "cluster", "spoke2"),
	}
	alerts := AlertsFromSeries(v, "cluster", "")
	since := time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC)
	SetSince(alerts, model.Vector{sample(float64(since.Unix()), "__name__", "ALERTS_FOR_STATE", "alertname", "KubeAPIDown", "severity", "critical", "cluster", "spoke1")})
	if len(alerts) != 2 || alerts[0].Cluster != "spoke1" || alerts[0].Name != "KubeAPIDown" || !alerts[0].Since.Equal(since) || !alerts[1].Since.IsZero() {
		t.Errorf("alerts %+v", alerts)
	}
	if q := AlertsQuery([]string{"firing", "pending"}); q != `ALERTS{alertstate=~"firing|pending"}` {
		t.Error(q)
	}
	if _, err := AlertStates("resolved"); err == nil {
		t.Error("a state that is not firing, pending or all was taken")
	}
}

func TestParseRulesOfAMustGather(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ParseRules(data)
	if err != nil {
		t.Fatal(err)
	}
	firing := AlertsFromRules(rules, "spoke1", []string{"firing"})
	if len(firing) != 2 {
		t.Fatalf("firing: %+v", firing)
	}
	SortAlerts(firing)
	burn := firing[0]
	if burn.Name != "KubeAPIErrorBudgetBurn" || burn.Severity != "critical" || burn.Summary != "The API server is burning too much error budget." ||
		!burn.Since.Equal(time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)) || burn.Cluster != "spoke1" {
		t.Errorf("burn: %+v", burn)
	}
	if firing[1].Name != "Watchdog" || !strings.HasPrefix(firing[1].Summary, "This is an alert meant") {
		t.Errorf("watchdog: %+v", firing[1])
	}
	all := AlertsFromRules(rules, "spoke1", []string{"firing", "pending"})
	if len(all) != 3 {
		t.Errorf("all: %+v", all)
	}
	// The data alone, without the envelope, is read too; anything else is an error, not a panic.
	bare := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(string(data)), `{"status":"success","data":`), "}")
	if r, err := ParseRules([]byte(bare)); err != nil || len(r.Groups) != 2 {
		t.Errorf("bare: %v %d", err, len(r.Groups))
	}
	for _, bad := range []string{"", "null", "[]", `{"data":{"groups":[{"rules":[{"type":"nope"}]}]}}`, `{"data":{"groups":"x"}}`} {
		_, _ = ParseRules([]byte(bad))
	}
}
