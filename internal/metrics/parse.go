package metrics

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// MaxQueryBytes bounds the PromQL text a call may send.
const MaxQueryBytes = 8 << 10

// promql is the parser the tools use: the standard functions only, no experimental ones.
var promql = parser.NewParser(parser.Options{})

// Parse reads a PromQL expression. Nothing in the input makes it panic: a parser panic becomes an error.
func Parse(query string) (expr parser.Expr, err error) {
	if strings.TrimSpace(query) == "" {
		return nil, fmt.Errorf("the query is empty: give a PromQL expression, e.g. up{job=\"apiserver\"}")
	}
	if len(query) > MaxQueryBytes {
		return nil, fmt.Errorf("the query is %d bytes long; at most %d", len(query), MaxQueryBytes)
	}
	defer func() {
		if r := recover(); r != nil {
			expr, err = nil, fmt.Errorf("the query could not be parsed: %v", r)
		}
	}()
	expr, err = promql.ParseExpr(query)
	if err != nil {
		return nil, fmt.Errorf("the query is not valid PromQL: %s", oneLine(err.Error()))
	}
	return expr, nil
}

// ParseSelector reads a series selector (metric{label="value"} or {label="value"}) as a vector selector.
func ParseSelector(sel string) (sel2 *parser.VectorSelector, err error) {
	expr, err := Parse(sel)
	if err != nil {
		return nil, err
	}
	vs, ok := expr.(*parser.VectorSelector)
	if !ok {
		return nil, fmt.Errorf("%q is not a series selector: give metric{label=\"value\"} or {label=\"value\"}, without functions, operators or [range]", truncate(sel, 80))
	}
	return vs, nil
}

// selectors calls f on every vector selector of expr, those inside range selectors and subqueries too.
func selectors(expr parser.Node, f func(*parser.VectorSelector)) {
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			f(vs)
		}
		return nil
	})
}

// metricName is the selector's metric name, "" when it selects by other labels only.
func metricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}

// ParseDuration reads a duration as PromQL writes them (30s, 5m, 1h, 2d, 1w) or as Go does (1h30m).
func ParseDuration(s string) (time.Duration, error) {
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not positive", s)
	}
	return d, nil
}
