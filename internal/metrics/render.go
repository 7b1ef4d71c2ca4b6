package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
)

// Answer is a query's outcome with what the compact form says about it.
type Answer struct {
	Source   string // which source answered, in words
	Query    string // the query as the caller gave it
	Value    model.Value
	Time     time.Time     // an instant query's evaluation time
	Start    time.Time     // a range query's start (zero for an instant query)
	End      time.Time     // a range query's end
	Step     time.Duration // a range query's step
	Warnings []string
}

// sparkWidth is how many characters a range series' trend takes.
const sparkWidth = 20

// maxCell bounds a label value's width in a table.
const maxCell = 80

// Render is the compact form: a summary line, the labels common to every series once, then one row
// per series with only the labels that differ (an instant vector's value; a range's last, min, max,
// average and trend), at most maxSeries rows, highest first, and what was cut with how to narrow.
func Render(a Answer, maxSeries int) string {
	var b strings.Builder
	switch v := a.Value.(type) {
	case model.Vector:
		rows := make([]row, len(v))
		for i, s := range v {
			rows[i] = row{metric: s.Metric, last: float64(s.Value)}
		}
		writeSummary(&b, a, len(rows))
		writeRows(&b, a, rows, maxSeries, false)
	case model.Matrix:
		rows := make([]row, len(v))
		for i, s := range v {
			rows[i] = rangeRow(s, a.Start, a.End)
		}
		writeSummary(&b, a, len(rows))
		writeRows(&b, a, rows, maxSeries, true)
	case *model.Scalar:
		writeSummary(&b, a, -1)
		fmt.Fprintf(&b, "Scalar: %s\n", FormatValue(float64(v.Value)))
	case *model.String:
		writeSummary(&b, a, -1)
		fmt.Fprintf(&b, "String: %q\n", v.Value)
	default:
		writeSummary(&b, a, 0)
	}
	writeWarnings(&b, a.Warnings)
	return b.String()
}

func writeWarnings(b *strings.Builder, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(b, "Warning from Prometheus: %s\n", oneLine(w))
	}
}

func writeSummary(b *strings.Builder, a Answer, series int) {
	fmt.Fprintf(b, "Source: %s. Query: %s. ", a.Source, a.Query)
	switch {
	case series == 1:
		b.WriteString("1 series")
	case series >= 0:
		fmt.Fprintf(b, "%d series", series)
	default:
		b.WriteString("a single value")
	}
	if !a.Start.IsZero() {
		fmt.Fprintf(b, " over %s, %s to %s, every %s.\n", dur(a.End.Sub(a.Start)), a.Start.UTC().Format(time.RFC3339), a.End.UTC().Format(time.RFC3339), dur(a.Step))
	} else {
		fmt.Fprintf(b, " at %s.\n", a.Time.UTC().Format(time.RFC3339))
	}
}

// row is one series' figures.
type row struct {
	metric              model.Metric
	last, min, max, avg float64
	points              int
	trend               string
}

func rangeRow(s *model.SampleStream, start, end time.Time) row {
	r := row{metric: s.Metric, last: math.NaN(), min: math.NaN(), max: math.NaN(), avg: math.NaN()}
	sum, n := 0.0, 0
	for _, p := range s.Values {
		v := float64(p.Value)
		r.last = v
		if math.IsNaN(v) {
			continue
		}
		if n == 0 || v < r.min {
			r.min = v
		}
		if n == 0 || v > r.max {
			r.max = v
		}
		sum += v
		n++
	}
	if n > 0 {
		r.avg = sum / float64(n)
	}
	r.points = len(s.Values)
	r.trend = Sparkline(s.Values, start, end, sparkWidth)
	return r
}

func writeRows(b *strings.Builder, a Answer, rows []row, maxSeries int, ranged bool) {
	if len(rows) == 0 {
		b.WriteString("No series matched. Check the metric name and labels with metrics_series (label: __name__ lists metric names).\n")
		return
	}
	sort.SliceStable(rows, func(i, j int) bool {
		x, y := rows[i].last, rows[j].last
		if math.IsNaN(x) != math.IsNaN(y) {
			return !math.IsNaN(x)
		}
		if x != y {
			return x > y
		}
		return rows[i].metric.String() < rows[j].metric.String()
	})
	metrics := make([]model.Metric, len(rows))
	for i, r := range rows {
		metrics[i] = r.metric
	}
	common, differing := splitLabels(metrics)
	if len(common) > 0 {
		fmt.Fprintf(b, "Labels of every series: %s\n", common.String())
	}
	shown := rows
	if maxSeries > 0 && len(rows) > maxSeries {
		shown = rows[:maxSeries]
	}
	header := make([]string, 0, len(differing)+6)
	for _, l := range differing {
		header = append(header, headerName(l))
	}
	if ranged {
		header = append(header, "LAST", "MIN", "MAX", "AVG", "TREND")
	} else {
		header = append(header, "VALUE")
	}
	table := [][]string{header}
	for _, r := range shown {
		cells := make([]string, 0, len(header))
		for _, l := range differing {
			v, ok := r.metric[l]
			if !ok {
				cells = append(cells, "-")
				continue
			}
			cells = append(cells, truncate(string(v), maxCell))
		}
		if ranged {
			cells = append(cells, FormatValue(r.last), FormatValue(r.min), FormatValue(r.max), FormatValue(r.avg), r.trend)
		} else {
			cells = append(cells, FormatValue(r.last))
		}
		table = append(table, cells)
	}
	writeTable(b, table)
	if len(shown) < len(rows) {
		fmt.Fprintf(b, "Showing %d of %d series (highest %s first); %d not shown. To narrow: add label matchers, or aggregate, e.g. topk(10, %s) or sum by (cluster) (%s).\n",
			len(shown), len(rows), map[bool]string{true: "last value", false: "value"}[ranged], len(rows)-len(shown), truncate(a.Query, 200), truncate(a.Query, 200))
	}
}

// headerName is a label's column title: CLUSTER, NAMESPACE, NAME (for __name__).
func headerName(l model.LabelName) string {
	if l == model.MetricNameLabel {
		return "NAME"
	}
	return strings.ToUpper(string(l))
}

// splitLabels finds the labels every series has with the same value, and the others (ordered: cluster,
// the metric name, then by name).
func splitLabels(metrics []model.Metric) (model.Metric, []model.LabelName) {
	common := model.Metric{}
	if len(metrics) > 0 {
		for l, v := range metrics[0] {
			common[l] = v
		}
	}
	names := map[model.LabelName]bool{}
	for _, m := range metrics {
		for l := range m {
			names[l] = true
		}
		for l, v := range common {
			if mv, ok := m[l]; !ok || mv != v {
				delete(common, l)
			}
		}
	}
	if len(metrics) == 1 {
		// One series: its labels go in the header line, except the cluster, which names the row.
		if _, ok := common["cluster"]; ok {
			delete(common, "cluster")
			return common, []model.LabelName{"cluster"}
		}
		return common, nil
	}
	var differing []model.LabelName
	for l := range names {
		if _, ok := common[l]; !ok {
			differing = append(differing, l)
		}
	}
	rank := func(l model.LabelName) int {
		switch l {
		case "cluster":
			return 0
		case model.MetricNameLabel:
			return 1
		}
		return 2
	}
	sort.Slice(differing, func(i, j int) bool {
		if ri, rj := rank(differing[i]), rank(differing[j]); ri != rj {
			return ri < rj
		}
		return differing[i] < differing[j]
	})
	return common, differing
}

// writeTable renders rows, the first the header, as every table of the server is rendered.
func writeTable(b *strings.Builder, rows [][]string) {
	if len(rows) == 0 {
		return
	}
	b.WriteString((&output.Table{Header: rows[0], Rows: rows[1:]}).String())
}

// FormatValue prints a sample value briefly: integers whole, others with four significant digits,
// very large or small ones in exponent form.
func FormatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 1e6 || math.Abs(v) < 1e-3:
		return strconv.FormatFloat(v, 'e', 3, 64)
	}
	if math.Abs(v) >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws the values from start to end in width characters: each the average of the points in
// its slice of time, scaled from the series' minimum to its maximum; a slice without points is a space.
func Sparkline(values []model.SamplePair, start, end time.Time, width int) string {
	if len(values) == 0 || width <= 0 {
		return ""
	}
	from, to := start.UnixMilli(), end.UnixMilli()
	if to <= from {
		from, to = int64(values[0].Timestamp), int64(values[len(values)-1].Timestamp)
	}
	span := to - from
	sums := make([]float64, width)
	counts := make([]int, width)
	for _, p := range values {
		v := float64(p.Value)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		i := 0
		if span > 0 {
			i = int((int64(p.Timestamp) - from) * int64(width) / (span + 1))
		}
		i = min(max(i, 0), width-1)
		sums[i] += v
		counts[i]++
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range sums {
		if counts[i] > 0 {
			avg := sums[i] / float64(counts[i])
			sums[i] = avg
			lo, hi = math.Min(lo, avg), math.Max(hi, avg)
		}
	}
	out := make([]rune, width)
	for i := range out {
		switch {
		case counts[i] == 0:
			out[i] = ' '
		case hi == lo:
			out[i] = sparkBlocks[len(sparkBlocks)/2-1]
		default:
			k := int((sums[i] - lo) / (hi - lo) * float64(len(sparkBlocks)-1))
			out[i] = sparkBlocks[min(max(k, 0), len(sparkBlocks)-1)]
		}
	}
	return strings.TrimRight(string(out), " ")
}

// RenderRaw is the answer as the Prometheus API gives it (resultType, result, warnings) with the source.
func RenderRaw(a Answer) string {
	typ := ""
	if a.Value != nil {
		typ = a.Value.Type().String()
	}
	data, err := json.Marshal(struct {
		Source     string      `json:"source"`
		ResultType string      `json:"resultType"`
		Result     model.Value `json:"result"`
		Warnings   []string    `json:"warnings,omitempty"`
	}{a.Source, typ, a.Value, a.Warnings})
	if err != nil {
		return fmt.Sprintf("{\"error\": %q}\n", err.Error())
	}
	return string(data) + "\n"
}
