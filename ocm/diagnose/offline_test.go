package diagnose_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm/diagnose"
)

func diagnoseACMBundle(t *testing.T, target diagnose.Target) *diagnose.Report {
	t.Helper()
	a, err := mustgather.Open(filepath.Join("..", "..", "mustgather", "testdata", "acm-bundle"), mustgather.OpenOptions{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	src, err := a.Source()
	if err != nil {
		t.Fatal(err)
	}
	r := &diagnose.Runner{Source: src, Configs: mustgather.Connector{Archive: a}, Now: a.CollectedAt, Offline: true}
	rep, err := r.Run(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// The ACM-shaped sample archive: its hub registers itself as local-cluster; prod-east-1's lease is
// stale, its klusterlet agent pod is in ImagePullBackOff, and the agent's two kubeconfig Secrets are not
// in the archive. The failing pod explains the stale lease; Secrets that were not collected are no
// evidence of anything.
func TestOfflineACMBundleBlamesTheFailingAgentPod(t *testing.T) {
	rep := diagnoseACMBundle(t, diagnose.Target{})
	if len(rep.Findings) == 0 {
		t.Fatal("no finding")
	}
	var ids []string
	for _, f := range rep.Findings {
		ids = append(ids, f.ID)
		if f.ID == "agent-hub-credentials-invalid" {
			t.Errorf("Secrets missing from the archive were taken for invalid credentials: %v", f.Evidence)
		}
	}
	first := rep.Findings[0]
	if first.ID != "agent-pod-failing" || !strings.Contains(first.Title, "ImagePullBackOff") || first.Subject != "cluster prod-east-1" {
		t.Errorf("first finding %s (%s), want the agent pod in ImagePullBackOff; order %v\n%s", first.ID, first.Title, ids, rep.Render())
	}
	if n := strings.Count(rep.Render(), "klusterlet-agent-6b7c8-klmno is failing"); n != 1 {
		t.Errorf("the failing pod is reported %d times:\n%s", n, rep.Render())
	}
}

// local-cluster is a cluster like the others: the fleet check covers it, and it can be named.
func TestOfflineLocalClusterIsDiagnosed(t *testing.T) {
	rep := diagnoseACMBundle(t, diagnose.Target{})
	if !strings.Contains(strings.Join(rep.Checked, "; "), "local-cluster: acceptance, join, availability and lease") {
		t.Errorf("the fleet check skipped local-cluster: %v", rep.Checked)
	}
	for _, name := range []string{"local-cluster", "hub"} {
		rep := diagnoseACMBundle(t, diagnose.Target{Cluster: name})
		if !strings.Contains(strings.Join(rep.Checked, "; "), "local-cluster: acceptance") {
			t.Errorf("cluster=%s: checks %v", name, rep.Checked)
		}
	}
}
