package e2e

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

var spokeNames = []string{"spoke1", "spoke2", "spoke3"}

// podCounts counts the pods of each spoke, read with the admin client.
func podCounts(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, name := range spokeNames {
		pods, err := env.fleet.Spoke(name).Kube.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[name] = len(pods.Items)
	}
	return out
}

// aggregateRows reads the per-cluster table of an aggregate answer: cluster -> ROWS.
func aggregateRows(text string) map[string]string {
	rows := map[string]string{}
	re := regexp.MustCompile(`(?m)^(\S+) +(\d+)(?: +.*)?$`)
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		rows[m[1]] = m[2]
	}
	return rows
}

// TestFanOutAggregate: the kubectl tool's aggregate modes over the real fleet: counts per cluster that
// match what the spokes hold, pods by STATUS over the fleet and per cluster, the status line first, and a
// clear error for a column no table has.
func TestFanOutAggregate(t *testing.T) {
	c := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA).Client
	spokes := strings.Join(spokeNames, ",")

	// Pods come and go (other tests inject faults): compare with the admin's count taken just before and
	// just after the call, when both agree.
	var text string
	for attempt := 0; ; attempt++ {
		before := podCounts(t)
		var isErr bool
		text, isErr = callTool(t, c, "kubectl", map[string]any{"cluster": spokes, "command": "get pods -A", "aggregate": "count"})
		if isErr {
			t.Fatal(text)
		}
		after := podCounts(t)
		if fmt.Sprint(before) != fmt.Sprint(after) && attempt < 5 {
			continue
		}
		if !strings.HasPrefix(text, "Fan-out over 3 cluster(s): 3 ok.\n") {
			t.Errorf("the status line is not first:\n%s", text)
		}
		got, total := aggregateRows(text), 0
		for _, name := range spokeNames {
			total += after[name]
			if got[name] != fmt.Sprint(after[name]) {
				t.Errorf("%s: %s rows, the spoke holds %d pods:\n%s", name, got[name], after[name], text)
			}
		}
		if !strings.Contains(text, fmt.Sprintf("Rows: %d on 3 cluster(s).", total)) {
			t.Errorf("no total of %d:\n%s", total, text)
		}
		break
	}
	if strings.Contains(text, "kube-system") {
		t.Errorf("count mode printed rows:\n%s", text)
	}

	text, isErr := callTool(t, c, "kubectl", map[string]any{"cluster": spokes, "command": "get pods -A", "aggregate": "group-by:STATUS"})
	if isErr {
		t.Fatal(text)
	}
	for _, w := range []string{"Fan-out over 3 cluster(s): 3 ok.", ", by STATUS: ", "STATUS ", "Running ", "CLUSTER   ROWS   STATUS"} {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q:\n%s", w, text)
		}
	}
	for _, name := range spokeNames {
		if !regexp.MustCompile(`(?m)^` + name + ` +\d+ +.*Running=\d+`).MatchString(text) {
			t.Errorf("no STATUS breakdown for %s:\n%s", name, text)
		}
	}

	text, isErr = callTool(t, c, "kubectl", map[string]any{"cluster": spokes, "command": "get pods -A", "aggregate": "group-by:COLOR"})
	if !isErr || !strings.Contains(text, `no table printed has a column "COLOR"; the columns are: NAMESPACE, NAME, READY, STATUS, RESTARTS, AGE`) {
		t.Errorf("unknown column: %v\n%s", isErr, text)
	}
	text, isErr = callTool(t, c, "kubectl", map[string]any{"cluster": spokes, "command": "get pods -A -o json", "aggregate": "count"})
	if !isErr || !strings.Contains(text, "-o json prints none") {
		t.Errorf("json output: %v\n%s", isErr, text)
	}
}

// TestFanOutAggregatePerCaller: over HTTP, an aggregate over every cluster counts only the clusters the
// caller may read: alice (spoke1 by name) gets one, the operator (every ManagedCluster) all of them.
func TestFanOutAggregatePerCaller(t *testing.T) {
	grantUsers(t)
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA)
	args := map[string]any{"cluster": "*", "command": "get ns", "aggregate": "count"}
	text, isErr := callTool(t, asUser(t, srv, fleet.AliceToken), "kubectl", args)
	if isErr || !strings.HasPrefix(text, "Fan-out over 1 cluster(s): 1 ok.\n") || strings.Contains(text, "spoke2") || strings.Contains(text, "spoke3") {
		t.Errorf("alice: %v\n%s", isErr, text)
	}
	text, isErr = callTool(t, asUser(t, srv, fleet.OperatorToken), "kubectl", args)
	n := len(env.fleet.ManagedClusterNames())
	if isErr || !strings.HasPrefix(text, fmt.Sprintf("Fan-out over %d cluster(s):", n)) {
		t.Fatalf("operator: %v\n%s", isErr, text)
	}
	got := aggregateRows(text)
	var missing []string
	for _, name := range spokeNames {
		nss, err := env.fleet.Spoke(name).Kube.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got[name] != fmt.Sprint(len(nss.Items)) {
			missing = append(missing, fmt.Sprintf("%s: %s rows, %d namespaces", name, got[name], len(nss.Items)))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("operator counts: %v\n%s", missing, text)
	}
}
