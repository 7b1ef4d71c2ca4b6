package metrics

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// SeriesAnswer is what metrics_series found.
type SeriesAnswer struct {
	Source string
	Match  string
	Since  time.Duration // how far back the series were looked for
	Series []model.LabelSet
	// Label and Values answer a label-values question: the values, and on how many clusters each is
	// (when the answer merges clusters).
	Label    string
	Values   []string
	Clusters map[string]int
	Asked    int // clusters the values were asked of (fan-out), 0 for a fleet store
	// Limited says the source stopped at the limit: there are more than shown.
	Limited  bool
	Warnings []string
}

// RenderSeries lists series (only the labels that differ among them; the common ones once) or a
// label's values, at most max of them, with what was cut and how to narrow.
func RenderSeries(a SeriesAnswer, max int) string {
	var b strings.Builder
	if a.Label != "" {
		vals := append([]string(nil), a.Values...)
		sort.Strings(vals)
		fmt.Fprintf(&b, "Source: %s. Values of label %s on series matching %s over the last %s: %d%s.\n",
			a.Source, a.Label, a.Match, dur(a.Since), len(vals), moreText(a.Limited))
		shown := vals
		if max > 0 && len(shown) > max {
			shown = shown[:max]
		}
		for _, v := range shown {
			if a.Asked > 1 {
				fmt.Fprintf(&b, "%s  (on %d of %d clusters)\n", v, a.Clusters[v], a.Asked)
				continue
			}
			fmt.Fprintf(&b, "%s\n", v)
		}
		if len(shown) < len(vals) || a.Limited {
			fmt.Fprintf(&b, "Showing %d values; to narrow, add label matchers to match, e.g. %s.\n", len(shown), exampleNarrow(a.Match))
		}
		if len(vals) == 0 {
			b.WriteString("No value: no series matched. Try a wider match, e.g. {job=~\"apiserver|kubelet\"}, or another cluster.\n")
		}
		writeWarnings(&b, a.Warnings)
		return b.String()
	}
	series := append([]model.LabelSet(nil), a.Series...)
	sort.Slice(series, func(i, j int) bool { return series[i].String() < series[j].String() })
	fmt.Fprintf(&b, "Source: %s. Series matching %s over the last %s: %d%s.\n", a.Source, a.Match, dur(a.Since), len(series), moreText(a.Limited))
	if len(series) == 0 {
		b.WriteString("No series matched. Check the metric name with label: __name__ (e.g. match {job=\"apiserver\"}).\n")
		writeWarnings(&b, a.Warnings)
		return b.String()
	}
	shown := series
	if max > 0 && len(shown) > max {
		shown = shown[:max]
	}
	metrics := make([]model.Metric, len(shown))
	for i, s := range shown {
		metrics[i] = model.Metric(s)
	}
	common, differing := splitLabels(metrics)
	if len(common) > 0 {
		fmt.Fprintf(&b, "Labels of every series: %s\n", common.String())
	}
	if len(differing) > 0 {
		header := make([]string, len(differing))
		for i, l := range differing {
			header[i] = headerName(l)
		}
		table := [][]string{header}
		for _, m := range metrics {
			cells := make([]string, len(differing))
			for i, l := range differing {
				v, ok := m[l]
				if !ok {
					cells[i] = "-"
					continue
				}
				cells[i] = truncate(string(v), maxCell)
			}
			table = append(table, cells)
		}
		writeTable(&b, table)
	}
	if len(shown) < len(series) || a.Limited {
		fmt.Fprintf(&b, "Showing %d series; to narrow, add label matchers, e.g. %s, or list one label's values with label.\n", len(shown), exampleNarrow(a.Match))
	}
	writeWarnings(&b, a.Warnings)
	return b.String()
}

func moreText(limited bool) string {
	if limited {
		return " or more (the source stopped at the limit)"
	}
	return ""
}

func exampleNarrow(match string) string {
	if strings.Contains(match, "}") {
		return strings.Replace(match, "}", `, namespace="kube-system"}`, 1)
	}
	return match + `{namespace="kube-system"}`
}
