package metrics

import (
	"fmt"
	"regexp/syntax"
	"time"
	"unicode"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Limits bound what one metrics call may ask of a Prometheus and bring back.
type Limits struct {
	MaxRange  time.Duration // longest range of a range query, a [range] selector or a subquery
	MinStep   time.Duration // smallest step of a range query or a subquery
	MaxPoints int           // most points per series a range query or a subquery may make
	MaxSeries int           // most series an answer renders; more are cut, with counts
	Timeout   time.Duration // deadline of one call, fan-out included
}

// Limit describes one of the limits, for the settings table.
type Limit struct {
	Name    string // the setting's name after "metrics-"
	Default any    // time.Duration or int
	Usage   string
}

// LimitTable lists the limits with their defaults: the settings derive from it.
func LimitTable() []Limit {
	d := DefaultLimits()
	return []Limit{
		{"max-range", d.MaxRange, "guardrail: longest time range a metrics query may cover (range, [range] selectors, subqueries)"},
		{"min-step", d.MinStep, "guardrail: smallest step of a range query or subquery (also never below range/max-points)"},
		{"max-points", d.MaxPoints, "guardrail: most points per series a range query or subquery may make"},
		{"max-series", d.MaxSeries, "guardrail: most series a metrics answer shows; more are cut, with counts and how to narrow"},
		{"timeout", d.Timeout, "deadline of one metrics call, fan-out included"},
	}
}

// DefaultLimits are the limits when none are configured.
func DefaultLimits() Limits {
	return Limits{MaxRange: 7 * 24 * time.Hour, MinStep: time.Second, MaxPoints: 11000, MaxSeries: 500, Timeout: 30 * time.Second}
}

// withDefaults fills the zero limits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxRange <= 0 {
		l.MaxRange = d.MaxRange
	}
	if l.MinStep <= 0 {
		l.MinStep = d.MinStep
	}
	if l.MaxPoints <= 0 {
		l.MaxPoints = d.MaxPoints
	}
	if l.MaxSeries <= 0 {
		l.MaxSeries = d.MaxSeries
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	return l
}

// Refusal is a query the guardrails refuse; the message says how to narrow it.
type Refusal struct{ Msg string }

func (r *Refusal) Error() string { return r.Msg }

func refuse(format string, args ...any) error { return &Refusal{Msg: fmt.Sprintf(format, args...)} }

// Check applies the guardrails to a parsed query. clustersNamed says the call names its clusters (a
// name, a list, a selector or a clusterset): then a selector may go without a label matcher.
func (l Limits) Check(expr parser.Expr, clustersNamed bool) error {
	l = l.withDefaults()
	var err error
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if err != nil {
			return err
		}
		switch n := n.(type) {
		case *parser.VectorSelector:
			err = l.checkSelector(n, clustersNamed)
		case *parser.MatrixSelector:
			if n.RangeExpr != nil {
				err = refuse("the range selector %s computes its range: give a plain duration, e.g. [5m]", truncate(n.String(), 120))
			} else if n.Range > l.MaxRange {
				err = refuse("the range selector [%s] is longer than the limit of %s: use a shorter range, e.g. rate(x[5m])", dur(n.Range), dur(l.MaxRange))
			}
		case *parser.SubqueryExpr:
			err = l.checkSubquery(n)
		}
		return err
	})
	return err
}

func (l Limits) checkSubquery(n *parser.SubqueryExpr) error {
	if n.RangeExpr != nil || n.StepExpr != nil {
		return refuse("the subquery computes its range or step: give plain durations, e.g. max_over_time(x[1h:1m])")
	}
	if n.Range > l.MaxRange {
		return refuse("the subquery range [%s:] is longer than the limit of %s: use a shorter range, e.g. max_over_time(x[1h:1m])", dur(n.Range), dur(l.MaxRange))
	}
	if n.Step > 0 && n.Step < l.MinStep {
		return refuse("the subquery step %s is below the limit of %s: use a larger step, e.g. [1h:1m]", dur(n.Step), dur(l.MinStep))
	}
	if n.Step > 0 && int64(n.Range/n.Step) > int64(l.MaxPoints) {
		return refuse("the subquery [%s:%s] makes %d points per series, more than the limit of %d: use a larger step or a shorter range, e.g. [1h:1m]",
			dur(n.Range), dur(n.Step), int64(n.Range/n.Step), l.MaxPoints)
	}
	return nil
}

// checkSelector refuses blanket regexes, and a selector with no matcher but its name unless the call
// names its clusters.
func (l Limits) checkSelector(vs *parser.VectorSelector, clustersNamed bool) error {
	narrowed := false
	for _, m := range vs.LabelMatchers {
		if blanket(m) {
			return refuse("the matcher %s in %s selects everything: name the values you mean, e.g. %s{namespace=\"openshift-monitoring\"} or %s{job=~\"apiserver|kubelet\"}",
				m.String(), truncate(vs.String(), 120), exampleName(vs), exampleName(vs))
		}
		if m.Name != model.MetricNameLabel {
			narrowed = true
		}
	}
	if !narrowed && !clustersNamed {
		return refuse("the selector %s has no label matcher besides the metric name, over every cluster: add one, e.g. %s{job=\"apiserver\"} or %s{namespace=\"kube-system\"}, or name the clusters with the cluster argument",
			truncate(vs.String(), 120), exampleName(vs), exampleName(vs))
	}
	return nil
}

func exampleName(vs *parser.VectorSelector) string {
	if n := metricName(vs); n != "" {
		return n
	}
	return "up"
}

// CheckRange applies the range, step and points limits to a range query.
func (l Limits) CheckRange(rng, step time.Duration) error {
	l = l.withDefaults()
	if rng <= 0 {
		return refuse("the range must be positive, e.g. 1h")
	}
	if rng > l.MaxRange {
		return refuse("the range %s is longer than the limit of %s: use a shorter range (e.g. 24h), or aggregate first", dur(rng), dur(l.MaxRange))
	}
	if step < l.MinStep {
		return refuse("the step %s is below the limit of %s: use a step of at least %s", dur(step), dur(l.MinStep), dur(l.MinStep))
	}
	if points := int64(rng/step) + 1; points > int64(l.MaxPoints) {
		return refuse("a range of %s every %s makes %d points per series, more than the limit of %d: use a step of at least %s, or leave step out",
			dur(rng), dur(step), points, l.MaxPoints, dur(MinStepFor(rng, l)))
	}
	return nil
}

// MinStepFor is the smallest step a range may use under the limits.
func MinStepFor(rng time.Duration, l Limits) time.Duration {
	l = l.withDefaults()
	s := (rng + time.Duration(l.MaxPoints-1) - 1) / time.Duration(l.MaxPoints-1)
	s = s.Round(time.Second)
	if s < l.MinStep {
		s = l.MinStep
	}
	for int64(rng/s)+1 > int64(l.MaxPoints) {
		s += time.Second
	}
	return s
}

// DefaultStep is the step a range query gets when none is asked: about 60 points, on a round value.
func DefaultStep(rng time.Duration, l Limits) time.Duration {
	l = l.withDefaults()
	raw := rng / 60
	var step time.Duration
	for _, s := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour} {
		step = s
		if s >= raw {
			break
		}
	}
	if step < raw {
		step = raw.Round(time.Hour)
	}
	return max(step, l.MinStep, MinStepFor(rng, l))
}

// blanket says a matcher selects every series that has the label, or every series at all: =~".*",
// =~".+", !~"", !="" and their equivalents.
func blanket(m *labels.Matcher) bool {
	switch m.Type {
	case labels.MatchRegexp:
		all, nonEmpty := regexCoverage(m.Value)
		return all || nonEmpty
	case labels.MatchNotRegexp:
		return regexOnlyEmpty(m.Value)
	case labels.MatchNotEqual:
		return m.Value == ""
	}
	return false
}

func parseRegex(re string) *syntax.Regexp {
	r, err := syntax.Parse(re, syntax.Perl|syntax.DotNL)
	if err != nil {
		return nil
	}
	return r.Simplify()
}

// regexCoverage says whether the regex matches every string, or every non-empty one (anchored, as
// Prometheus anchors its regexes).
func regexCoverage(re string) (all, nonEmpty bool) {
	r := parseRegex(re)
	if r == nil {
		return false, false
	}
	return coverage(r)
}

func coverage(r *syntax.Regexp) (all, nonEmpty bool) {
	switch r.Op {
	case syntax.OpStar:
		return anyChar(r.Sub[0]), false
	case syntax.OpPlus:
		return false, anyChar(r.Sub[0])
	case syntax.OpRepeat:
		if r.Max == -1 && anyChar(r.Sub[0]) {
			return r.Min == 0, r.Min == 1
		}
	case syntax.OpCapture:
		return coverage(r.Sub[0])
	case syntax.OpAlternate:
		for _, s := range r.Sub {
			a, n := coverage(s)
			all, nonEmpty = all || a, nonEmpty || n
		}
		return all, nonEmpty && !all
	case syntax.OpConcat:
		// Parts that are all "anything" or empty-width assertions: the whole is anything too.
		plus := false
		for _, s := range r.Sub {
			if emptyWidth(s) {
				continue
			}
			a, n := coverage(s)
			if !a && !n {
				return false, false
			}
			plus = plus || n
		}
		return !plus, plus
	}
	return false, false
}

func emptyWidth(r *syntax.Regexp) bool {
	switch r.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		return true
	case syntax.OpCapture:
		return emptyWidth(r.Sub[0])
	case syntax.OpConcat:
		for _, s := range r.Sub {
			if !emptyWidth(s) {
				return false
			}
		}
		return true
	}
	return false
}

// anyChar says the node matches any one character (newline aside, which label values do not hold).
func anyChar(r *syntax.Regexp) bool {
	switch r.Op {
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return true
	case syntax.OpCharClass:
		// [\s\S], [^x]-free classes: ranges that cover everything but perhaps the newline.
		covered := 0
		for i := 0; i+1 < len(r.Rune); i += 2 {
			covered += int(r.Rune[i+1]-r.Rune[i]) + 1
		}
		return covered >= unicode.MaxRune
	case syntax.OpCapture:
		return anyChar(r.Sub[0])
	}
	return false
}

// regexOnlyEmpty says the regex matches the empty string alone (so !~ it means "the label is set").
func regexOnlyEmpty(re string) bool {
	r := parseRegex(re)
	return r != nil && emptyWidth(r)
}

// dur prints a duration as PromQL does (1h, 1d, 1m30s).
func dur(d time.Duration) string { return model.Duration(d).String() }
