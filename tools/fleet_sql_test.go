package tools

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/index"
)

// failingInitPod is a pod whose init container fails (not in the sample archive, which has none).
const failingInitPod = `apiVersion: v1
kind: Pod
metadata:
  name: orders-db-0
  namespace: shop
  uid: 5b0c3c1e-0000-4000-8000-000000000001
  creationTimestamp: "2026-12-01T13:30:00Z"
  labels: {app: orders-db}
spec:
  initContainers: [{name: migrate, image: quay.io/fleet-samples/orders-migrate:1.0.0}]
  containers: [{name: db, image: quay.io/fleet-samples/orders-db:1.0.0}]
status:
  phase: Pending
  initContainerStatuses:
  - name: migrate
    ready: false
    restartCount: 4
    state: {waiting: {reason: CrashLoopBackOff, message: back-off restarting failed container}}
    lastState: {terminated: {reason: Error, exitCode: 1}}
  containerStatuses:
  - name: db
    ready: false
    state: {waiting: {reason: PodInitializing}}
`

// indexedSample is the sample archive, with a pod whose init container fails on spoke2, loaded into a
// fleet index as the offline server loads it.
func indexedSample(t *testing.T) Deps {
	t.Helper()
	root := sampleWithout(t, "none")
	dir := filepath.Join(root, "spoke2", "namespaces", "shop", "core", "pods")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "orders-db-0.yaml"), []byte(failingInitPod), 0o600); err != nil {
		t.Fatal(err)
	}
	d := archiveDeps(t, root)
	s, err := index.Open(context.Background(), index.Options{Dir: t.TempDir(), Now: d.Archive.ReferenceTime})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	kinds, _ := index.ParseKinds(index.DefaultKinds())
	hub, _ := index.ParseKinds(index.DefaultHubKinds())
	if _, err := index.LoadArchive(context.Background(), s, d.Archive, kinds, hub); err != nil {
		t.Fatal(err)
	}
	d.Index = s
	return d
}

const initQuery = `select cluster, namespace, name, payload->>'$.status.phase' as phase
from k8s_resource where kind = 'Pod' and exists (
  select 1 from json_each(payload->'$.status.initContainerStatuses') c
  where c.value->>'$.state.waiting.reason' is not null and c.value->>'$.state.waiting.reason' <> 'PodInitializing')`

func TestFleetSQLOffline(t *testing.T) {
	d := indexedSample(t)
	text, isErr := callTool(t, fleetSQLTool(d), map[string]any{"query": initQuery})
	if isErr {
		t.Fatal(text)
	}
	lines := strings.Split(text, "\n")
	if !strings.HasPrefix(lines[0], "1 rows (sqlite") || !strings.Contains(lines[1], "from the must-gather") {
		t.Errorf("summary lines:\n%s", text)
	}
	if !strings.Contains(text, "spoke2    shop        orders-db-0   Pending") {
		t.Errorf("answer:\n%s", text)
	}
	t.Logf("answer:\n%s", text)
	// The sample's pods, nodes and ManagedClusters are there too.
	text, _ = callTool(t, fleetSQLTool(d), map[string]any{"query": "select kind, count(*) from k8s_resource group by kind order by kind"})
	for _, k := range []string{"ManagedCluster ", "Node ", "Pod ", "Deployment "} {
		if !strings.Contains(text, k) {
			t.Errorf("no %s rows:\n%s", k, text)
		}
	}
}

func TestFleetSQLRefusesWrites(t *testing.T) {
	d := indexedSample(t)
	for _, q := range []string{
		"delete from k8s_resource",
		"select 1; delete from k8s_resource",
		"select * from mcmcp_resource",
		"pragma query_only = 0",
		"attach database 'x.db' as x",
	} {
		text, isErr := callTool(t, fleetSQLTool(d), map[string]any{"query": q})
		if !isErr || !strings.Contains(text, "refused") {
			t.Errorf("%q: %s", q, text)
		}
	}
	text, _ := callTool(t, fleetSQLTool(d), map[string]any{"query": "select count(*) as n from k8s_resource where name = 'orders-db-0'"})
	if !strings.Contains(text, "\n1\n") && !strings.HasSuffix(strings.TrimSpace(text), "1") {
		t.Errorf("the pod is gone after the refusals:\n%s", text)
	}
}

func TestFleetSQLScopedToCaller(t *testing.T) {
	d := indexedSample(t)
	d.Authz = reads("spoke1")
	for _, q := range []string{
		"select distinct cluster from k8s_resource",
		"select distinct cluster from k8s_history",
		"select cluster from k8s_cluster",
	} {
		text, isErr := callAs(t, d, alice, "fleet_sql", map[string]any{"query": q})
		if isErr {
			t.Fatal(text)
		}
		for _, hidden := range []string{"spoke2", "spoke3", "hub"} {
			if strings.Contains(text, hidden) {
				t.Errorf("%q shows %s to a reader of spoke1:\n%s", q, hidden, text)
			}
		}
	}
	text, isErr := callAs(t, d, alice, "fleet_sql", map[string]any{"query": "select count(*) from mcmcp_resource"})
	if !isErr || !strings.Contains(text, "store's own table") {
		t.Errorf("naming the base table: %s", text)
	}
}

func TestFleetHistoryOffline(t *testing.T) {
	d := indexedSample(t)
	text, isErr := callTool(t, fleetHistoryTool(d), map[string]any{"cluster": "spoke2", "since": "1h"})
	if isErr {
		t.Fatal(text)
	}
	t.Logf("history:\n%s", text)
	if !strings.Contains(text, "shop/orders-db-0") || !strings.Contains(text, "created") {
		t.Errorf("history:\n%s", text)
	}
	for _, other := range []string{"spoke1 ", "spoke3 "} {
		if strings.Contains(text, other) {
			t.Errorf("history of spoke2 shows %s:\n%s", other, text)
		}
	}
}

// emptyIndex is a fleet index holding nothing.
func emptyIndex(t *testing.T) *index.Store {
	t.Helper()
	s, err := index.Open(context.Background(), index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}
