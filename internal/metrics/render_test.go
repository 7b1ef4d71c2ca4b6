package metrics

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

var at = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func sample(v float64, ls ...string) *model.Sample {
	m := model.Metric{}
	for i := 0; i+1 < len(ls); i += 2 {
		m[model.LabelName(ls[i])] = model.LabelValue(ls[i+1])
	}
	return &model.Sample{Metric: m, Value: model.SampleValue(v), Timestamp: model.TimeFromUnixNano(at.UnixNano())}
}

func TestRenderInstantVector(t *testing.T) {
	v := model.Vector{
		sample(0.25, "__name__", "up", "job", "apiserver", "cluster", "spoke1", "instance", "10.0.0.1:6443"),
		sample(1, "__name__", "up", "job", "apiserver", "cluster", "spoke2", "instance", "10.0.0.2:6443"),
		sample(0, "__name__", "up", "job", "apiserver", "cluster", "local-cluster", "instance", "10.0.0.3:6443"),
	}
	golden(t, "instant", Render(Answer{Source: "hub store (service ns/thanos:9090 on the hub)", Query: `up{job="apiserver"}`, Value: v, Time: at}, 500))
}

func stream(fn func(i int) float64, n int, step time.Duration, ls ...string) *model.SampleStream {
	m := model.Metric{}
	for i := 0; i+1 < len(ls); i += 2 {
		m[model.LabelName(ls[i])] = model.LabelValue(ls[i+1])
	}
	start := at.Add(-time.Duration(n-1) * step)
	s := &model.SampleStream{Metric: m}
	for i := range n {
		s.Values = append(s.Values, model.SamplePair{Timestamp: model.TimeFromUnixNano(start.Add(time.Duration(i) * step).UnixNano()), Value: model.SampleValue(fn(i))})
	}
	return s
}

func TestRenderRange(t *testing.T) {
	m := model.Matrix{
		stream(func(i int) float64 { return float64(i) / 10 }, 61, time.Minute, "cluster", "spoke1", "code", "500", "verb", "GET"),
		stream(func(i int) float64 { return math.Sin(float64(i)/6) + 1 }, 61, time.Minute, "cluster", "spoke2", "code", "503", "verb", "GET"),
		stream(func(int) float64 { return 0.002 }, 61, time.Minute, "cluster", "spoke3", "code", "500", "verb", "GET"),
	}
	a := Answer{Source: "each cluster's own Prometheus", Query: `sum by (code, verb) (rate(apiserver_request_total{code=~"5.."}[5m]))`,
		Value: m, Start: at.Add(-time.Hour), End: at, Step: time.Minute, Warnings: []string{"some series were dropped"}}
	golden(t, "range", Render(a, 500))
}

func TestRenderCutsSeriesAndSaysHowToNarrow(t *testing.T) {
	var v model.Vector
	for i := range 30 {
		v = append(v, sample(float64(i), "__name__", "kube_pod_info", "namespace", "ns", "pod", "pod-"+string(rune('a'+i%26))+strings.Repeat("x", i/26)))
	}
	out := Render(Answer{Source: "s", Query: `kube_pod_info{namespace="ns"}`, Value: v, Time: at}, 10)
	if !strings.Contains(out, "Showing 10 of 30 series") || !strings.Contains(out, "topk(10, kube_pod_info") {
		t.Errorf("no cut note:\n%s", out)
	}
	if strings.Count(out, "\n") > 16 {
		t.Errorf("more rows than the limit:\n%s", out)
	}
	// Highest first.
	if !strings.Contains(strings.Split(out, "\n")[3], "29") {
		t.Errorf("not highest first:\n%s", out)
	}
}

func TestRenderScalarStringAndEmpty(t *testing.T) {
	out := Render(Answer{Source: "s", Query: "1+1", Value: &model.Scalar{Value: 2}, Time: at}, 10)
	if !strings.Contains(out, "Scalar: 2") || !strings.Contains(out, "a single value") {
		t.Error(out)
	}
	out = Render(Answer{Source: "s", Query: `"x"`, Value: &model.String{Value: "x"}, Time: at}, 10)
	if !strings.Contains(out, `String: "x"`) {
		t.Error(out)
	}
	out = Render(Answer{Source: "s", Query: `up{job="none"}`, Value: model.Vector{}, Time: at}, 10)
	if !strings.Contains(out, "0 series") || !strings.Contains(out, "No series matched") {
		t.Error(out)
	}
	one := Render(Answer{Source: "s", Query: `up{job="x"}`, Value: model.Vector{sample(1, "__name__", "up", "job", "x", "cluster", "a")}, Time: at}, 10)
	if !strings.Contains(one, `Labels of every series: up{job="x"}`) || !strings.Contains(one, "CLUSTER   VALUE\na         1") {
		t.Errorf("one series:\n%s", one)
	}
}

func TestRenderRawIsThePrometheusJSON(t *testing.T) {
	v := model.Vector{sample(1.5, "__name__", "up", "cluster", "a")}
	out := RenderRaw(Answer{Source: "hub store", Value: v})
	var got struct {
		Source     string          `json:"source"`
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var back model.Vector
	if err := json.Unmarshal(got.Result, &back); err != nil || got.ResultType != "vector" || len(back) != 1 || back[0].Value != 1.5 {
		t.Errorf("raw: %s", out)
	}
}

func TestFormatValue(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 3: "3", 0.25: "0.25", 1.23456: "1.235", 123456.7: "123457", 1234.5: "1234", 1234567: "1234567",
		0.0001234: "1.234e-04", math.NaN(): "NaN", math.Inf(1): "+Inf", -2.5: "-2.5", 12345678.9: "1.235e+07"} {
		if got := FormatValue(v); got != want && !(math.IsNaN(v) && got == "NaN") {
			t.Errorf("FormatValue(%v) = %s; want %s", v, got, want)
		}
	}
}

func TestSparkline(t *testing.T) {
	s := stream(func(i int) float64 { return float64(i) }, 20, time.Minute)
	got := Sparkline(s.Values, at.Add(-19*time.Minute), at, 20)
	if got != "▁▁▂▂▂▃▃▃▄▄▅▅▅▆▆▆▇▇██" && []rune(got)[0] != '▁' {
		t.Errorf("rising: %q", got)
	}
	if r := []rune(got); r[0] != '▁' || r[len(r)-1] != '█' || len(r) != 20 {
		t.Errorf("rising: %q", got)
	}
	flat := Sparkline(stream(func(int) float64 { return 5 }, 10, time.Minute).Values, at.Add(-9*time.Minute), at, 20)
	if strings.Trim(flat, "▄ ") != "" {
		t.Errorf("flat: %q", flat)
	}
	// A gap in the data is a gap in the line.
	gap := stream(func(i int) float64 { return float64(i % 3) }, 60, time.Minute)
	gap.Values = append(gap.Values[:10], gap.Values[40:]...)
	if g := Sparkline(gap.Values, at.Add(-59*time.Minute), at, 20); !strings.Contains(g, " ") {
		t.Errorf("gap: %q", g)
	}
	if Sparkline(nil, at, at, 20) != "" {
		t.Error("empty")
	}
}
