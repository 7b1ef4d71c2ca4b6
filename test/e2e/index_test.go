package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// indexFixtures makes, on spoke1, a pod whose init container fails (the fleet's own workloads have
// none: its status is set as a kubelet would report it, on a pod no node takes so that no kubelet
// overwrites it) and a Deployment to roll out.
func indexFixtures(t *testing.T, indexNS string) {
	t.Helper()
	ctx := context.Background()
	k := env.fleet.Spoke("spoke1").Kube
	if _, err := k.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: indexNS}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.CoreV1().Namespaces().Delete(context.Background(), indexNS, metav1.DeleteOptions{}) })
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "orders-db-0", Namespace: indexNS, Labels: map[string]string{"app": "orders-db"}},
		Spec: corev1.PodSpec{
			NodeSelector:   map[string]string{"e2e-index/none": "none"},
			InitContainers: []corev1.Container{{Name: "migrate", Image: "quay.io/fleet-samples/orders-migrate:1.0.0"}},
			Containers:     []corev1.Container{{Name: "db", Image: "quay.io/fleet-samples/orders-db:1.0.0"}},
		}}
	_, err := k.CoreV1().Pods(indexNS).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	// The scheduler writes the pod's status too (PodScheduled=False): retry on its conflicts.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := k.CoreV1().Pods(indexNS).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Status.Phase = corev1.PodPending
		cur.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "migrate", Image: pod.Spec.InitContainers[0].Image, RestartCount: 4,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 1m20s restarting failed container"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1}},
		}}
		_, err = k.CoreV1().Pods(indexNS).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "e2e-roll", Namespace: indexNS},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "e2e-roll"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "e2e-roll"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "quay.io/fleet-samples/web:1.0.0"}}}}}}
	if _, err := k.AppsV1().Deployments(indexNS).Create(ctx, d, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// waitIndexed polls k8s_cluster until every cluster of the fleet is live in the index.
func waitIndexed(t *testing.T, c *client.Client) {
	t.Helper()
	want := append([]string{"hub"}, spokeNames...)
	deadline := time.Now().Add(4 * time.Minute)
	var text string
	for time.Now().Before(deadline) {
		text, _ = callTool(t, c, "fleet_sql", map[string]any{"query": "select cluster, state from k8s_cluster where state = 'live' order by cluster"})
		live := map[string]bool{}
		for _, line := range strings.Split(text, "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[1] == "live" {
				live[f[0]] = true
			}
		}
		ok := true
		for _, n := range want {
			ok = ok && live[n]
		}
		if ok {
			return
		}
		time.Sleep(2 * time.Second)
	}
	t.Fatalf("the index did not hold every cluster within 4 minutes:\n%s", text)
}

// pollTool calls a tool until its answer holds every wanted text, or fails after timeout.
func pollTool(t *testing.T, c *client.Client, tool string, args map[string]any, timeout time.Duration, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var text string
	for {
		text, _ = callTool(t, c, tool, args)
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered with %q within %s; last answer:\n%s", tool, missing, timeout, text)
		}
		time.Sleep(2 * time.Second)
	}
}

// initQueries are the example query, pods with a failing init container across the fleet, per dialect.
var initQueries = map[string]string{
	"sqlite": `select cluster, namespace, name, payload->>'$.status.phase' as phase from k8s_resource
		where kind = 'Pod' and exists (select 1 from json_each(payload->'$.status.initContainerStatuses') c
		where c.value->>'$.state.waiting.reason' is not null)`,
	"postgres": `select cluster, namespace, name, payload->'status'->>'phase' as phase from k8s_resource
		where kind = 'Pod' and exists (select 1 from jsonb_array_elements(payload->'status'->'initContainerStatuses') c
		where c->'state'->'waiting'->>'reason' is not null)`,
}

// checkIndex runs the index's end-to-end checks on a server with --index: the example query, a
// rollout's history, a caller of one cluster, a refused write.
func checkIndex(t *testing.T, srv *httpServer, dialect, indexNS string) {
	admin, alice := asUser(t, srv, fleet.OperatorToken), asUser(t, srv, fleet.AliceToken)
	waitIndexed(t, admin)

	// The example query, live: the failing init container on spoke1.
	text := pollTool(t, admin, "fleet_sql", map[string]any{"query": initQueries[dialect]}, time.Minute, "spoke1", indexNS, "orders-db-0", "Pending")
	t.Logf("the example query:\n%s", text)
	if !strings.Contains(text, "("+dialect+",") || !strings.Contains(text, "Index: 4 cluster(s), data age:") {
		t.Errorf("summary and freshness lines:\n%s", text)
	}

	// A rollout's history: scale and update the Deployment, then read its timeline.
	ctx := context.Background()
	deps := env.fleet.Spoke("spoke1").Kube.AppsV1().Deployments(indexNS)
	pollTool(t, admin, "fleet_sql", map[string]any{"query": "select name from k8s_resource where kind = 'Deployment' and name = 'e2e-roll'"}, time.Minute, "e2e-roll")
	d, err := deps.Get(ctx, "e2e-roll", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Replicas = ptr.To[int32](2)
	d.Spec.Template.Spec.Containers[0].Image = "quay.io/fleet-samples/web:1.1.0"
	if _, err := deps.Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	text = pollTool(t, admin, "fleet_history", map[string]any{"cluster": "spoke1", "since": "15m", "kind": "Deployment", "namespace": indexNS, "name": "e2e-roll"},
		time.Minute, "spec.replicas", "web=quay.io/fleet-samples/web:1.1.0", "created")
	t.Logf("the rollout's history:\n%s", text)
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "spec.replicas") && !(strings.Contains(line, " 1 ") && strings.HasSuffix(strings.TrimSpace(line), "2")) {
			t.Errorf("replicas line: %q", line)
		}
	}
	// The new ReplicaSet's creation is in the cluster's last quarter hour too.
	pollTool(t, admin, "fleet_history", map[string]any{"cluster": "spoke1", "since": "15m", "kind": "replicasets", "change": "created"}, time.Minute, indexNS+"/e2e-roll-")

	// A caller who may read spoke1 only sees its rows, whatever the statement names.
	for _, q := range []string{
		"select distinct cluster from k8s_resource",
		"select distinct cluster from k8s_history",
		"select cluster from k8s_cluster",
		"select cluster, count(*) from k8s_resource where cluster <> 'spoke1' group by cluster",
	} {
		text, isErr := callTool(t, alice, "fleet_sql", map[string]any{"query": q})
		if isErr {
			t.Errorf("alice: %q: %s", q, text)
		}
		for _, other := range []string{"spoke2", "spoke3", "hub "} {
			if strings.Contains(text, other) {
				t.Errorf("alice sees %s with %q:\n%s", other, q, text)
			}
		}
	}
	text, _ = callTool(t, alice, "fleet_sql", map[string]any{"query": initQueries[dialect]})
	if !strings.Contains(text, "orders-db-0") {
		t.Errorf("alice does not see spoke1's pod:\n%s", text)
	}
	for _, q := range []string{
		"select cluster, name from mcmcp_resource",
		`select cluster, name from "mcmcp_resource"`,
		"select cluster, name from public.mcmcp_resource",
		"select cluster from k8s_resource union select cluster from mcmcp_resource",
	} {
		text, isErr := callTool(t, alice, "fleet_sql", map[string]any{"query": q})
		if !isErr || !strings.Contains(text, "refused") || strings.Contains(text, "spoke2") {
			t.Errorf("alice naming the base table: %q: %v\n%s", q, isErr, text)
		}
	}
	fleetHist, isErr := callTool(t, alice, "fleet_history", map[string]any{"cluster": "spoke2"})
	if !isErr || !strings.Contains(fleetHist, "may not read cluster spoke2") {
		t.Errorf("alice's history of spoke2: %s", fleetHist)
	}

	// Anything but a SELECT is refused, and nothing changes.
	count := func() string {
		text, _ := callTool(t, admin, "fleet_sql", map[string]any{"query": "select count(*) as n from k8s_resource where name = 'orders-db-0' and namespace = '" + indexNS + "'"})
		_, rows, _ := strings.Cut(text, "\nn\n")
		return rows
	}
	before := count()
	for _, q := range []string{
		"delete from k8s_resource",
		"select 1; delete from k8s_resource",
		"with x as (delete from k8s_resource returning 1) select count(*) from x",
		"update k8s_resource set name = 'x'",
		"drop table k8s_resource",
	} {
		text, isErr := callTool(t, admin, "fleet_sql", map[string]any{"query": q})
		if !isErr || !strings.Contains(text, "refused") {
			t.Errorf("%q was not refused: %s", q, text)
		}
	}
	if after := count(); after != before || !strings.Contains(after, "1") {
		t.Errorf("the refused statements changed the index: %q then %q", before, after)
	}
}

func TestIndexLiveEmbedded(t *testing.T) {
	grantUsers(t)
	indexFixtures(t, "e2e-index-sqlite")
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA, "--prepare-credentials", "--index")
	checkIndex(t, srv, "sqlite", "e2e-index-sqlite")
}

func TestIndexLivePostgres(t *testing.T) {
	grantUsers(t)
	indexFixtures(t, "e2e-index-pg")
	pg := startPostgres(t)
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA, "--prepare-credentials", "--index",
		"--index-dsn", pg.DSN)
	checkIndex(t, srv, "postgres", "e2e-index-pg")
}

// TestIndexOffline: the binary loads a must-gather into the index at start and answers fleet_sql and
// fleet_history on it, with no hub.
func TestIndexOffline(t *testing.T) {
	s := stdioClient(t, "--must-gather", filepath.Join(fleet.ModuleRoot(), "mustgather", "testdata", "sample-fleet.tar.gz"))
	text, isErr := callTool(t, s.Client, "fleet_sql", map[string]any{"query": "select cluster, count(*) as pods, " +
		"sum(case when payload->>'$.status.phase' <> 'Running' then 1 else 0 end) as not_running from k8s_resource where kind = 'Pod' group by cluster order by cluster"})
	if isErr || !strings.Contains(text, "rows (sqlite") || !strings.Contains(text, "from the must-gather collected") {
		t.Fatalf("offline fleet_sql: %s", text)
	}
	for _, c := range []string{"hub ", "spoke1 ", "spoke2 ", "spoke3 "} {
		if !strings.Contains(text, "\n"+c) {
			t.Errorf("no pods of %s:\n%s", c, text)
		}
	}
	text, isErr = callTool(t, s.Client, "fleet_history", map[string]any{"cluster": "spoke1", "since": "1h", "kind": "Pod"})
	if isErr || !strings.Contains(text, "changes since") || !strings.Contains(text, "created") {
		t.Errorf("offline fleet_history: %s", text)
	}
	if text, isErr = callTool(t, s.Client, "fleet_sql", map[string]any{"query": "pragma query_only = 0"}); !isErr || !strings.Contains(text, "refused") {
		t.Errorf("offline pragma: %s", text)
	}
}
