package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckRefusesWithAWayToNarrow(t *testing.T) {
	lim := DefaultLimits()
	cases := []struct {
		query   string
		named   bool
		refused string // part of the refusal; "" means accepted
	}{
		{`up{job="apiserver"}`, false, ""},
		{`up`, false, "no label matcher besides the metric name"},
		{`up`, true, ""},
		{`{__name__="up"}`, false, "no label matcher besides the metric name"},
		{`{__name__=~".+"}`, true, "selects everything"},
		{`{__name__=~".*", job="x"}`, false, "selects everything"},
		{`up{job=~".*"}`, false, "selects everything"},
		{`up{job=~".+"}`, false, "selects everything"},
		{`up{job=~"(.*)"}`, false, "selects everything"},
		{`up{job=~"^.*$"}`, false, "selects everything"},
		{`up{job=~"a|.*"}`, false, "selects everything"},
		{`up{job=~".*.*"}`, false, "selects everything"},
		{`up{job=~"[\\s\\S]*"}`, false, "selects everything"},
		{`up{job=~"(?s:.*)"}`, false, "selects everything"},
		{`up{job!~""}`, false, "selects everything"},
		{`up{job!~"^$"}`, false, "selects everything"},
		{`up{job!=""}`, false, "selects everything"},
		{`up{job=~"api.*"}`, false, ""},
		{`up{job!~"api.*"}`, false, ""},
		{`up{job=~".*"}`, true, "selects everything"},
		{`rate(apiserver_request_total{code=~"5.."}[5m])`, false, ""},
		{`rate(apiserver_request_total{code=~"5.."}[8d])`, false, "longer than the limit"},
		{`max_over_time(up{job="x"}[8d:1m])`, false, "longer than the limit"},
		{`max_over_time(up{job="x"}[1h:1ms])`, false, "below the limit"},
		{`max_over_time(up{job="x"}[7d:10s])`, false, "points per series"},
		{`max_over_time(up{job="x"}[1h:1m])`, false, ""},
		{`sum(up{job="x"}) or vector(0)`, false, ""},
		{`sum(up{job="x"}) or up`, false, "no label matcher"},
		{`label_replace(up{job="x"}, "cluster", "other", "", "")`, false, ""},
		{`vector(1)`, false, ""},
		{`time()`, false, ""},
		{`up{job="x"} offset 1w`, false, ""},
		{`up{job="x"} @ 100`, false, ""},
	}
	for _, c := range cases {
		expr, err := Parse(c.query)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		err = lim.Check(expr, c.named)
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%s (named %v): refused: %v", c.query, c.named, err)
		case c.refused != "" && err == nil:
			t.Errorf("%s (named %v): accepted; want a refusal with %q", c.query, c.named, c.refused)
		case c.refused != "":
			var r *Refusal
			if !errors.As(err, &r) || !strings.Contains(err.Error(), c.refused) {
				t.Errorf("%s: refusal %q; want it to say %q", c.query, err, c.refused)
			}
			if !strings.Contains(err.Error(), "e.g.") {
				t.Errorf("%s: refusal %q gives no example of how to narrow", c.query, err)
			}
		}
	}
}

func TestCheckRangeAndSteps(t *testing.T) {
	lim := DefaultLimits()
	for _, c := range []struct {
		rng, step time.Duration
		ok        bool
	}{
		{time.Hour, time.Minute, true},
		{7 * 24 * time.Hour, time.Hour, true},
		{8 * 24 * time.Hour, time.Hour, false},
		{time.Hour, 500 * time.Millisecond, false},
		{7 * 24 * time.Hour, 10 * time.Second, false}, // 60481 points
		{0, time.Minute, false},
	} {
		err := lim.CheckRange(c.rng, c.step)
		if (err == nil) != c.ok {
			t.Errorf("range %s step %s: %v; want ok=%v", c.rng, c.step, err, c.ok)
		}
	}
	for _, rng := range []time.Duration{time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
		step := DefaultStep(rng, lim)
		if err := lim.CheckRange(rng, step); err != nil {
			t.Errorf("the default step %s of range %s is refused: %v", step, rng, err)
		}
		if points := int(rng/step) + 1; points < 20 || points > 130 {
			t.Errorf("range %s: default step %s gives %d points; want about 60", rng, step, points)
		}
	}
	small := Limits{MaxPoints: 100}
	if s := MinStepFor(time.Hour, small); int(time.Hour/s)+1 > 100 {
		t.Errorf("MinStepFor(1h, 100 points) = %s, which makes %d points", s, int(time.Hour/s)+1)
	}
	if err := small.CheckRange(time.Hour, DefaultStep(time.Hour, small)); err != nil {
		t.Errorf("default step under a small points limit: %v", err)
	}
}

func TestCheckRefusesComputedRanges(t *testing.T) {
	for _, q := range []string{`rate(up{job="x"}[1h * 1000])`, `max_over_time(up{job="x"}[1h:(1m*0)])`} {
		expr, err := Parse(q)
		if err != nil {
			continue // this parser version does not take duration expressions: nothing to refuse
		}
		if err := DefaultLimits().Check(expr, false); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
}

func TestParseRefusesWhatIsNotPromQL(t *testing.T) {
	for _, q := range []string{"", "   ", "up{", "sum(", strings.Repeat("a", MaxQueryBytes+1), "up{job=\"x\"} | rm -rf"} {
		if _, err := Parse(q); err == nil {
			t.Errorf("%q parsed", truncate(q, 40))
		}
	}
	if _, err := ParseSelector(`rate(up{job="x"}[5m])`); err == nil {
		t.Error("a function call was taken as a series selector")
	}
	if vs, err := ParseSelector(`up{job="x"}`); err != nil || metricName(vs) != "up" {
		t.Errorf("ParseSelector: %v %v", vs, err)
	}
}
