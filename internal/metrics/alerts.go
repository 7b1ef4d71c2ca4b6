package metrics

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Alert is one alert of one cluster, from whichever evidence had it.
type Alert struct {
	Cluster  string
	Name     string
	Severity string
	State    string    // firing or pending
	Since    time.Time // when it became active; zero when the evidence does not say
	Summary  string
	Labels   model.LabelSet
}

// AlertStates maps the state argument to the states it keeps.
func AlertStates(state string) ([]string, error) {
	switch state {
	case "", "firing":
		return []string{"firing"}, nil
	case "pending":
		return []string{"pending"}, nil
	case "all":
		return []string{"firing", "pending"}, nil
	}
	return nil, fmt.Errorf("state %q is not firing, pending or all", state)
}

// AlertsQuery is the ALERTS selector of the states.
func AlertsQuery(states []string) string {
	if len(states) == 1 {
		return `ALERTS{alertstate="` + states[0] + `"}`
	}
	return `ALERTS{alertstate=~"` + strings.Join(states, "|") + `"}`
}

// AlertsFromSeries reads ALERTS samples; the cluster is the clusterLabel's value, or cluster when given.
func AlertsFromSeries(v model.Vector, clusterLabel, cluster string) []Alert {
	out := make([]Alert, 0, len(v))
	for _, s := range v {
		a := Alert{Cluster: cluster, Name: string(s.Metric["alertname"]), Severity: string(s.Metric["severity"]),
			State: string(s.Metric["alertstate"]), Labels: model.LabelSet(s.Metric)}
		if a.Cluster == "" {
			a.Cluster = string(s.Metric[model.LabelName(clusterLabel)])
		}
		out = append(out, a)
	}
	return out
}

// SetSince completes alerts from ALERTS_FOR_STATE samples, whose value is when each became active.
func SetSince(alerts []Alert, forState model.Vector) {
	since := map[string]time.Time{}
	for _, s := range forState {
		since[alertKey(model.LabelSet(s.Metric))] = time.Unix(int64(s.Value), 0)
	}
	for i := range alerts {
		if t, ok := since[alertKey(alerts[i].Labels)]; ok && alerts[i].Since.IsZero() {
			alerts[i].Since = t
		}
	}
}

// alertKey identifies an alert by its labels, without the ones ALERTS and ALERTS_FOR_STATE differ in.
func alertKey(ls model.LabelSet) string {
	c := ls.Clone()
	delete(c, model.MetricNameLabel)
	delete(c, "alertstate")
	return c.String()
}

// AlertsFromAPI reads /api/v1/alerts (or a rule's alerts) of one cluster, keeping the states given.
func AlertsFromAPI(list []promv1.Alert, cluster string, states []string) []Alert {
	var out []Alert
	for _, x := range list {
		if !contains(states, string(x.State)) {
			continue
		}
		out = append(out, Alert{Cluster: cluster, Name: string(x.Labels["alertname"]), Severity: string(x.Labels["severity"]),
			State: string(x.State), Since: x.ActiveAt, Summary: summaryOf(x.Annotations), Labels: x.Labels})
	}
	return out
}

func summaryOf(ann model.LabelSet) string {
	for _, k := range []model.LabelName{"summary", "message", "description"} {
		if v := strings.TrimSpace(string(ann[k])); v != "" {
			return oneLine(v)
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SeverityRank orders severities: critical, warning, any other, info, none.
func SeverityRank(s string) int {
	switch strings.ToLower(s) {
	case "critical":
		return 0
	case "warning":
		return 1
	case "info":
		return 3
	case "", "none":
		return 4
	}
	return 2
}

// SortAlerts orders alerts by severity (critical first), then cluster, alert name and since.
func SortAlerts(alerts []Alert) {
	sort.SliceStable(alerts, func(i, j int) bool {
		a, b := alerts[i], alerts[j]
		if ra, rb := SeverityRank(a.Severity), SeverityRank(b.Severity); ra != rb {
			return ra < rb
		}
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.State != b.State {
			return a.State < b.State
		}
		return a.Labels.String() < b.Labels.String()
	})
}

// AlertReport is what metrics_alerts answers.
type AlertReport struct {
	Source string
	States []string
	Alerts []Alert
	// Asked are the clusters asked about (their names as the alerts carry them); Unknown those whose
	// alerts could not be read, with why: they are neither "with" nor "without" alerts.
	Asked   []string
	Unknown map[string]string
	Now     time.Time
	Notes   []string
}

// maxSummary bounds the SUMMARY column.
const maxSummary = 120

// RenderAlerts is the summary line ("N firing alerts on M of K clusters; clusters with none: ..."),
// then the table CLUSTER ALERT SEVERITY STATE SINCE SUMMARY, most severe first, at most maxRows rows.
func RenderAlerts(r AlertReport, maxRows int) string {
	SortAlerts(r.Alerts)
	with := map[string]bool{}
	for _, a := range r.Alerts {
		with[a.Cluster] = true
	}
	var none []string
	for _, c := range r.Asked {
		if !with[c] && r.Unknown[c] == "" {
			none = append(none, c)
		}
	}
	sort.Strings(none)
	word := strings.Join(r.States, " or ")
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s alert%s on %d of %d cluster%s", len(r.Alerts), word, plural(len(r.Alerts)), len(with), len(r.Asked), plural(len(r.Asked)))
	if len(none) > 0 {
		fmt.Fprintf(&b, "; clusters with none: %s", joinCapped(none, 40))
	}
	if len(r.Unknown) > 0 {
		names := make([]string, 0, len(r.Unknown))
		for c := range r.Unknown {
			names = append(names, c)
		}
		sort.Strings(names)
		fmt.Fprintf(&b, "; unknown (not read): %s", joinCapped(names, 40))
	}
	fmt.Fprintf(&b, ". Source: %s.\n", r.Source)
	if len(r.Alerts) > 0 {
		table := [][]string{{"CLUSTER", "ALERT", "SEVERITY", "STATE", "SINCE", "SUMMARY"}}
		shown := r.Alerts
		if maxRows > 0 && len(shown) > maxRows {
			shown = shown[:maxRows]
		}
		for _, a := range shown {
			sev := a.Severity
			if sev == "" {
				sev = "none"
			}
			since := "-"
			if !a.Since.IsZero() {
				since = duration.HumanDuration(r.Now.Sub(a.Since)) + " ago"
			}
			sum := a.Summary
			if sum == "" {
				sum = "-"
			}
			table = append(table, []string{a.Cluster, a.Name, sev, a.State, since, truncate(sum, maxSummary)})
		}
		b.WriteString("\n")
		writeTable(&b, table)
		if len(shown) < len(r.Alerts) {
			fmt.Fprintf(&b, "Showing %d of %d alerts, most severe first; narrow with the cluster argument or state.\n", len(shown), len(r.Alerts))
		}
	}
	if len(r.Unknown) > 0 {
		b.WriteString("\nNot read:\n")
		names := make([]string, 0, len(r.Unknown))
		for c := range r.Unknown {
			names = append(names, c)
		}
		sort.Strings(names)
		for _, c := range names {
			fmt.Fprintf(&b, "  %s: %s\n", c, oneLine(r.Unknown[c]))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "%s\n", n)
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func joinCapped(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}

// RulesFile is the /api/v1/rules answer as a must-gather keeps it (monitoring/prometheus/rules.json):
// the envelope with data, or data alone.
func ParseRules(data []byte) (promv1.RulesResult, error) {
	var env struct {
		Status string              `json:"status"`
		Data   *promv1.RulesResult `json:"data"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return promv1.RulesResult{}, fmt.Errorf("not the JSON of /api/v1/rules: %w", err)
	}
	if env.Data != nil {
		return *env.Data, nil
	}
	var bare promv1.RulesResult
	if err := json.Unmarshal(data, &bare); err != nil {
		return promv1.RulesResult{}, fmt.Errorf("not the JSON of /api/v1/rules: %w", err)
	}
	return bare, nil
}

// AlertsFromRules lists the alerts of the alerting rules, in the states given.
func AlertsFromRules(r promv1.RulesResult, cluster string, states []string) []Alert {
	var out []Alert
	for _, g := range r.Groups {
		for _, rule := range g.Rules {
			ar, ok := rule.(promv1.AlertingRule)
			if !ok {
				continue
			}
			list := make([]promv1.Alert, 0, len(ar.Alerts))
			for _, a := range ar.Alerts {
				if a == nil {
					continue
				}
				x := *a
				if x.Labels == nil {
					x.Labels = model.LabelSet{}
				}
				if _, ok := x.Labels["alertname"]; !ok {
					x.Labels = x.Labels.Clone()
					x.Labels["alertname"] = model.LabelValue(ar.Name)
				}
				if summaryOf(x.Annotations) == "" {
					x.Annotations = ar.Annotations
				}
				list = append(list, x)
			}
			out = append(out, AlertsFromAPI(list, cluster, states)...)
		}
	}
	return out
}
