package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// TestRestrictLeavesNoSelectorUnrestricted tries the ways a query could read another cluster's series
// through a fleet store, and checks that every selector of the query sent carries the cluster matcher.
func TestRestrictLeavesNoSelectorUnrestricted(t *testing.T) {
	queries := []string{
		`up{job="apiserver"}`,
		`up{cluster="other"}`,
		`up{cluster=~".+"}`,
		`up{job="x"} or up{cluster="other"}`,
		`up{job="x"} or on() vector(1)`,
		`sum by (cluster) (rate(apiserver_request_total{code=~"5.."}[5m]))`,
		`max_over_time(up{cluster="other"}[1h:1m])`,
		`max_over_time((up{job="x"} or up{cluster="other"})[1h:1m] offset 1h)`,
		`label_replace(up{cluster="other"}, "cluster", "mine", "", "")`,
		`label_replace(up{job="x"}, "cluster", "other", "", "") or up`,
		`{__name__=~"up|node_.*"}`,
		`{__name__=~".+", cluster="other"}`,
		`up{job="x"} offset 1w`,
		`up{job="x"} @ 1700000000`,
		`up{job="x"} @ start()`,
		`rate(up{job="x"}[5m] @ end() offset -1h)`,
		`absent(up{cluster="other"})`,
		`count_values("cluster", up{job="x"})`,
		`topk(1, up{job="x"}) and on(cluster) up{cluster="other"}`,
		`histogram_quantile(0.99, sum by (le) (rate(apiserver_request_duration_seconds_bucket{job="x"}[5m])))`,
		`-up{job="x"} * 2 > bool 1`,
		`(((up{job="x"})))`,
		`sort_desc(up{"cluster"="other"})`,
		`scalar(up{job="x"}) + 1`,
		`vector(1)`,
	}
	for _, q := range queries {
		expr, err := Parse(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out, err := Restrict(expr, "cluster", []string{"spoke1", "spoke.2"})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		sent, err := Parse(out)
		if err != nil {
			t.Fatalf("%s: the query sent does not parse: %s: %v", q, out, err)
		}
		selectors(sent, func(vs *parser.VectorSelector) {
			ok := false
			for _, m := range vs.LabelMatchers {
				if m.Name == "cluster" && m.Type == labels.MatchRegexp && m.Value == `spoke\.2|spoke1` {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s: sent %s: selector %s has no cluster matcher", q, out, vs)
			}
		})
		// The restricted matcher is anchored by Prometheus: a value with regex characters is quoted, so
		// "spoke.2" cannot match "spokeX2".
		m, _ := clusterMatcher("cluster", []string{"spoke1", "spoke.2"})
		if m.Matches("spokeX2") || !m.Matches("spoke.2") || !m.Matches("spoke1") || m.Matches("spoke10") {
			t.Fatalf("matcher %s matches the wrong clusters", m)
		}
	}
}

func TestRestrictOneClusterIsAnEqualityMatcher(t *testing.T) {
	expr, _ := Parse(`rate(up{job="x"}[5m])`)
	out, err := Restrict(expr, "cluster", []string{"spoke1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `rate(up{cluster="spoke1",job="x"}[5m])`; strings.ReplaceAll(out, ", ", ",") != want {
		t.Errorf("sent %s; want %s", out, want)
	}
}

func TestRestrictRefusesNoCluster(t *testing.T) {
	expr, _ := Parse(`up{job="x"}`)
	if _, err := Restrict(expr, "cluster", nil); err == nil {
		t.Error("restricted to no cluster")
	}
	if _, err := Restrict(expr, "bad-label", []string{"a"}); err == nil {
		t.Error("an invalid label name was used")
	}
}

func TestRestrictSelector(t *testing.T) {
	vs, err := ParseSelector(`{__name__=~"apiserver_.*", job="apiserver"}`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := RestrictSelector(vs, "cluster", []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `cluster=~"a|b"`) {
		t.Errorf("sent %s", out)
	}
}
