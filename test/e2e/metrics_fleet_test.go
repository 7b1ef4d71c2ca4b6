package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// promAlert is one alert of a Prometheus /api/v1/alerts answer.
type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
}

// clusterAlerts reads a cluster's own Prometheus alerts through that cluster's API server service proxy.
func clusterAlerts(ctx context.Context, c *fleet.Cluster) ([]promAlert, error) {
	body, err := c.ServiceProxyGet(ctx, fleet.ClusterMonitoringNamespace, fleet.PrometheusService, fleet.PrometheusServicePort, "api/v1/alerts", nil)
	if err != nil {
		return nil, err
	}
	var res struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &res); err != nil || res.Status != "success" {
		return nil, fmt.Errorf("alerts answer %.200s: %v", body, err)
	}
	return res.Data.Alerts, nil
}

// alertStates maps "alertname" to its state on one cluster ("" when absent).
func alertStates(alerts []promAlert) map[string]string {
	out := map[string]string{}
	for _, a := range alerts {
		out[a.Labels["alertname"]] = a.State
	}
	return out
}

// hubQuery runs an instant query on the hub's Thanos querier through the hub API server's service proxy.
func hubQuery(ctx context.Context, query string) ([]fleet.PromSample, error) {
	return env.fleet.PromQuery(ctx, env.fleet.Hub, fleet.ObservabilityNamespace, fleet.ThanosQueryService, fleet.ThanosQueryServicePort, query)
}

// clustersOf lists the cluster label of every sample, sorted.
func clustersOf(samples []fleet.PromSample) []string {
	var out []string
	for _, s := range samples {
		out = append(out, s.Metric[fleet.MetricsClusterLabel])
	}
	sort.Strings(out)
	return out
}

// pendingAlertCluster is the spoke with the Unschedulable fault, where KubePodsPending is pending.
func pendingAlertCluster(t *testing.T) string {
	t.Helper()
	for _, flt := range env.fleet.Faults() {
		if flt.Kind == fleet.FaultUnschedulable {
			return flt.Cluster
		}
	}
	t.Fatal("the fleet has no Unschedulable fault")
	return ""
}

// TestMetricsFleetStores checks the fleet's metrics stores directly, as the server will find them: each
// cluster's Prometheus through its own API server's service proxy (scraping its API server, scheduler and
// kwok; the rule file's alerts in the states the data gives them), and the hub's Thanos querier through
// the hub's service proxy, with every cluster's series labelled by cluster. A caller without RBAC is
// refused by the proxy.
func TestMetricsFleetStores(t *testing.T) {
	ctx := context.Background()
	down, pending := env.fleet.MetricsTargetDownCluster(), pendingAlertCluster(t)
	if down == "" || down == pending {
		t.Fatalf("target-down cluster %q, pending-alert cluster %q: the fleet should make them two spokes", down, pending)
	}
	for _, c := range env.fleet.Managed() {
		name := c.ManagedClusterName()
		t.Run(name, func(t *testing.T) {
			ups, err := env.fleet.PromQuery(ctx, c, fleet.ClusterMonitoringNamespace, fleet.PrometheusService, fleet.PrometheusServicePort, "up")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, s := range ups {
				got[s.Metric["job"]] = fmt.Sprint(s.Value[1])
			}
			want := map[string]string{"apiserver": "1", "kube-scheduler": "1", "kwok": "1"}
			if name == down {
				want[fleet.DownTargetJob] = "0"
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("up by job through the service proxy: %v, want %v", got, want)
			}
			// Alerts reach their states from the data: poll, the rules need their for: durations.
			wantStates := map[string]string{fleet.AlertWatchdog: "firing"}
			if name == down {
				wantStates[fleet.AlertTargetDown] = "firing"
			}
			if name == pending {
				wantStates[fleet.AlertPodsPending] = "pending"
			}
			var last map[string]string
			err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
				alerts, err := clusterAlerts(ctx, c)
				if err != nil {
					return false, err
				}
				last = alertStates(alerts)
				return fmt.Sprint(last) == fmt.Sprint(wantStates), nil
			})
			if err != nil {
				t.Errorf("alerts of %s: %v, want %v: %v", name, last, wantStates, err)
			}
		})
	}

	// The hub's store: one querier over every cluster's sidecar.
	all := env.fleet.ManagedClusterNames()
	sort.Strings(all)
	res, err := hubQuery(ctx, `count by (cluster) (up{job="apiserver"})`)
	if err != nil {
		t.Fatal(err)
	}
	if got := clustersOf(res); strings.Join(got, ",") != strings.Join(all, ",") {
		t.Errorf("the hub's querier holds API server series of %v, want %v", got, all)
	}
	var firing []string
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		res, err := hubQuery(ctx, `ALERTS{alertstate="firing", alertname="TargetDown"}`)
		if err != nil {
			return false, err
		}
		firing = clustersOf(res)
		return strings.Join(firing, ",") == down, nil
	})
	if err != nil {
		t.Errorf("TargetDown firing through the hub on %v, want %s: %v", firing, down, err)
	}
	if res, err = hubQuery(ctx, `count by (cluster) (ALERTS{alertname="Watchdog", alertstate="firing"})`); err != nil {
		t.Fatal(err)
	} else if got := clustersOf(res); strings.Join(got, ",") != strings.Join(all, ",") {
		t.Errorf("Watchdog fires through the hub on %v, want %v", got, all)
	}

	// The proxy is RBAC's: a user with no rights is refused before any request reaches Prometheus.
	_, _, caFile := env.fleet.ServingCert()
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	req, _ := http.NewRequest(http.MethodGet, env.fleet.Spoke(down).URL+"/api/v1/namespaces/"+fleet.ClusterMonitoringNamespace+
		fmt.Sprintf("/services/http:%s:%d/proxy/api/v1/query?query=up", fleet.PrometheusService, fleet.PrometheusServicePort), nil)
	req.Header.Set("Authorization", "Bearer "+fleet.NobodyToken)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `cannot get resource \"services/proxy\"`) {
		t.Errorf("nobody through %s's service proxy: %s %s", down, resp.Status, body)
	}
}
