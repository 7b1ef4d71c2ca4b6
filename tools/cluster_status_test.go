package tools

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
)

func TestClusterStatusGolden(t *testing.T) {
	for _, name := range []string{"east-prod", "west-stage", "new-edge"} {
		t.Run(name, func(t *testing.T) {
			got, err := clusterStatusText(context.Background(), fixtureDeps(), name)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "cluster_status_"+name+".txt", got)
		})
	}
}

func TestClusterStatusUnknownName(t *testing.T) {
	_, err := clusterStatusText(context.Background(), fixtureDeps(), "east-prd")
	if err == nil || !strings.Contains(err.Error(), `did you mean "east-prod"`) {
		t.Fatalf("err = %v", err)
	}
}

// TestClusterStatusOfflineClusterNotCollected: a cluster the hub knows but the collection did not target
// is judged from the hub's view alone; its absence from the archive is said, not taken for an outage.
func TestClusterStatusOfflineClusterNotCollected(t *testing.T) {
	d := archiveDeps(t, sampleWithout(t, "spoke3"))
	got, err := clusterStatusText(context.Background(), d, "spoke3")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Cluster spoke3: Healthy\n", "not read: the must-gather holds no data for cluster spoke3 (it holds: hub, spoke1, spoke2)"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

// sampleArchiveDeps serves the checked-in sample must-gather (hub, spoke1 and spoke2 collected; the hub
// also knows spoke3) the way `serve --must-gather` does.
func sampleArchiveDeps(t *testing.T) Deps {
	t.Helper()
	return archiveDeps(t, filepath.Join("..", "mustgather", "testdata", "sample-fleet.tar.gz"))
}

// archiveDeps serves a must-gather (a folder or a .tar.gz).
func archiveDeps(t *testing.T, path string) Deps {
	t.Helper()
	a, err := mustgather.Open(path, mustgather.OpenOptions{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	src, err := a.Source()
	if err != nil {
		t.Fatal(err)
	}
	engine, _ := engineAndRunbooks(t)
	return Deps{Source: src, Clusters: mustgather.Connector{Archive: a}, Kubectl: engine, Offline: true, ReadOnly: true,
		Archive: a, Now: a.ReferenceTime, MaxOutputBytes: 1 << 16, FanOutConcurrency: 4}
}
