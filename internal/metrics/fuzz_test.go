package metrics

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// FuzzQuery feeds any text to the entry point of every metrics call: parsing, the guardrails and the
// cluster matcher. Nothing panics; a query that is restricted comes back with the matcher on every
// selector of what is sent.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		`up{job="x"}`, `up`, `{__name__=~".+"}`, `sum by (cluster) (rate(apiserver_request_total{code=~"5.."}[5m]))`,
		`max_over_time(up{job="x"}[1h:1m] offset 1h @ end())`, `label_replace(up{a="b"}, "cluster", "x", "", "")`,
		`up{job="x"} or vector(1)`, `histogram_quantile(0.9, sum by (le) (rate(x_bucket{a="b"}[5m])))`,
		`up{job=~"(.*)|a"}`, `up{job!~"^$"}`, `1 + 2`, `"str"`, `-up{a="b"} > bool 0`, `x{a="b"}[1h * 2]`,
		`count_values("cluster", up{a="b"})`, `absent(nonexistent{job="myjob"})`, `{"cluster"="a", "__name__"="up"}`,
	} {
		f.Add(s, false)
	}
	lim := DefaultLimits()
	f.Fuzz(func(t *testing.T, q string, named bool) {
		expr, err := Parse(q)
		if err != nil {
			return
		}
		_ = lim.Check(expr, named)
		selectors(expr, func(vs *parser.VectorSelector) {
			for _, m := range vs.LabelMatchers {
				_ = blanket(m)
			}
		})
		out, err := Restrict(expr, "cluster", []string{"a", "b.c"})
		if err != nil {
			return
		}
		sent, err := Parse(out)
		if err != nil {
			t.Fatalf("%q restricted to %q, which does not parse: %v", q, out, err)
		}
		selectors(sent, func(vs *parser.VectorSelector) {
			for _, m := range vs.LabelMatchers {
				if m.Name == "cluster" && m.Type == labels.MatchRegexp && m.Value == `a|b\.c` {
					return
				}
			}
			t.Fatalf("%q restricted to %q: selector %s without the matcher", q, out, vs)
		})
	})
}
