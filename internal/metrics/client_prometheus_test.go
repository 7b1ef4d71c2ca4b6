package metrics

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics/metricstest"
)

// TestClientAgainstARealPrometheus: instant and range queries, series, label values, alerts and a
// refused query, against a Prometheus that scrapes itself, through GET requests only.
func TestClientAgainstARealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus")
	}
	base := metricstest.Start(t)
	var methods []string
	c, err := NewClient(base, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		methods = append(methods, r.Method)
		return http.DefaultTransport.RoundTrip(r)
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Wait for two scrapes and a rule evaluation.
	var alerts []Alert
	for ctx.Err() == nil {
		list, err := c.Alerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if alerts = AlertsFromAPI(list, "test", []string{"firing"}); len(alerts) > 0 {
			if res, err := c.Query(ctx, `count_over_time(up{job="prometheus"}[1m])`, time.Now(), 10*time.Second); err == nil {
				if v, ok := res.Value.(model.Vector); ok && len(v) == 1 && v[0].Value >= 2 {
					break
				}
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	if len(alerts) != 1 || alerts[0].Name != "AlwaysFiring" || alerts[0].Severity != "warning" || alerts[0].Summary != "It always fires." || alerts[0].Since.IsZero() {
		t.Fatalf("alerts: %+v", alerts)
	}
	now := time.Now()
	res, err := c.Query(ctx, `up{job="prometheus"}`, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := res.Value.(model.Vector)
	if !ok || len(v) != 1 || v[0].Value != 1 || v[0].Metric["job"] != "prometheus" {
		t.Fatalf("instant: %#v", res.Value)
	}
	res, err = c.QueryRange(ctx, `up{job="prometheus"}`, now.Add(-time.Minute), now, time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := res.Value.(model.Matrix); !ok || len(m) != 1 || len(m[0].Values) < 2 {
		t.Fatalf("range: %#v", res.Value)
	}
	text := Render(Answer{Source: "test", Query: `up{job="prometheus"}`, Value: res.Value, Start: now.Add(-time.Minute), End: now, Step: time.Second}, 10)
	if !strings.Contains(text, "1 series over 1m") || !strings.Contains(text, "LAST") {
		t.Errorf("rendered:\n%s", text)
	}
	res, err = c.Query(ctx, `ALERTS{alertstate="firing"}`, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := AlertsFromSeries(res.Value.(model.Vector), "cluster", "test"); len(got) != 1 || got[0].Name != "AlwaysFiring" {
		t.Errorf("ALERTS: %+v", got)
	}
	series, _, err := c.Series(ctx, []string{`up{job="prometheus"}`}, now.Add(-time.Hour), now, 10)
	if err != nil || len(series) != 1 || series[0]["instance"] == "" {
		t.Errorf("series: %v %v", series, err)
	}
	names, _, err := c.LabelValues(ctx, "__name__", []string{`{job="prometheus"}`}, now.Add(-time.Hour), now, 0)
	if err != nil || len(names) < 10 || !contains(names, "up") {
		t.Errorf("metric names: %d %v", len(names), err)
	}
	_, err = c.Query(ctx, `sum(`, now, 0)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.ErrorType != "bad_data" {
		t.Errorf("a bad query: %v", err)
	}
	_, err = c.Query(ctx, `up`, now, 0)
	if err != nil {
		t.Errorf("a query without a matcher is the guardrails' business, not the client's: %v", err)
	}
	for _, m := range methods {
		if m != http.MethodGet {
			t.Errorf("the client sent a %s request", m)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestClientSendsOnlyGET(t *testing.T) {
	c, err := NewClient("http://127.0.0.1:1", roundTripFunc(func(*http.Request) (*http.Response, error) {
		t.Fatal("a request got past the GET guard")
		return nil, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/api/v1/query", nil)
	if _, err := c.http.Do(req); err == nil || !strings.Contains(err.Error(), "only GET") {
		t.Errorf("POST: %v", err)
	}
	if _, err := NewClient("ftp://x", nil); err == nil {
		t.Error("an ftp URL was taken")
	}
}
