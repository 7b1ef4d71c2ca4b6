package metrics

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// clusterMatcher is label="v" for one value, label=~"v1|v2|..." (each quoted) for several.
func clusterMatcher(label string, values []string) (*labels.Matcher, error) {
	if len(values) == 0 {
		return nil, fmt.Errorf("no cluster to restrict the query to")
	}
	if !ValidLabelName(label) {
		return nil, fmt.Errorf("%q is not a label name", label)
	}
	vals := append([]string(nil), values...)
	sort.Strings(vals)
	if len(vals) == 1 {
		return labels.NewMatcher(labels.MatchEqual, label, vals[0])
	}
	quoted := make([]string, len(vals))
	for i, v := range vals {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return labels.NewMatcher(labels.MatchRegexp, label, strings.Join(quoted, "|"))
}

// ValidLabelName says s is a label name ([a-zA-Z_][a-zA-Z0-9_]*).
func ValidLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Restrict adds a matcher of label to the clusters in values to every selector of expr, those in
// range selectors, subqueries and function arguments included, so that the query reads no series of
// any other cluster: whatever the rest of the query does (or, label_replace, offsets, @), each series it
// reads passes the matcher. It returns the query to send, which it parses again and checks: a printed
// form that lost a matcher anywhere is an error, never a query sent.
func Restrict(expr parser.Expr, label string, values []string) (string, error) {
	m, err := clusterMatcher(label, values)
	if err != nil {
		return "", err
	}
	n := 0
	selectors(expr, func(vs *parser.VectorSelector) {
		vs.LabelMatchers = append(vs.LabelMatchers, m)
		n++
	})
	out := expr.String()
	if err := verifyRestricted(out, m, n); err != nil {
		return "", err
	}
	return out, nil
}

// RestrictSelector is Restrict for a series selector (metrics_series, label values).
func RestrictSelector(vs *parser.VectorSelector, label string, values []string) (string, error) {
	return Restrict(vs, label, values)
}

// verifyRestricted parses the query again and checks that each of its want selectors carries m.
func verifyRestricted(query string, m *labels.Matcher, want int) error {
	expr, err := Parse(query)
	if err != nil {
		return fmt.Errorf("the restricted query does not parse again (%v); it was not sent", err)
	}
	got, bad := 0, 0
	selectors(expr, func(vs *parser.VectorSelector) {
		got++
		for _, x := range vs.LabelMatchers {
			if x.Name == m.Name && x.Type == m.Type && x.Value == m.Value {
				return
			}
		}
		bad++
	})
	if got != want || bad > 0 {
		return fmt.Errorf("the restricted query lost its cluster matcher on %d of %d selectors; it was not sent", bad+max(want-got, 0), want)
	}
	return nil
}
