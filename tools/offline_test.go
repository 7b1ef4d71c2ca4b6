package tools

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// callTool runs a tool's handler as the MCP server would, and returns its text and error flag.
func callTool(t *testing.T, st server.ServerTool, args map[string]any) (string, bool) {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = st.Tool.Name, args
	res, err := st.Handler(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res.Content[0].(mcp.TextContent).Text, res.IsError
}

// sampleWithUnreadableSpoke is the sample archive plus the folder the collector leaves for a spoke it
// could not read at all: only its error.
func sampleWithUnreadableSpoke(t *testing.T) Deps {
	t.Helper()
	root := sampleWithout(t, "spoke3")
	spoke3 := filepath.Join(root, "spoke3")
	if err := os.Mkdir(spoke3, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(spoke3, "collection-errors.txt"), []byte("cluster spoke3 cannot be read: connection refused\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return archiveDeps(t, root)
}

// sampleWithout unpacks the sample archive without a cluster's folder, as a collection that did not
// reach the cluster leaves it, and returns the archive's root folder.
func sampleWithout(t *testing.T, cluster string) string {
	t.Helper()
	dir := t.TempDir()
	untar(t, filepath.Join("..", "mustgather", "testdata", "sample-fleet.tar.gz"), dir)
	roots, err := filepath.Glob(filepath.Join(dir, "must-gather-*"))
	if err != nil || len(roots) != 1 {
		t.Fatalf("sample layout: %v %v", roots, err)
	}
	if err := os.RemoveAll(filepath.Join(roots[0], cluster)); err != nil {
		t.Fatal(err)
	}
	return roots[0]
}

// untar unpacks a trusted test fixture.
func untar(t *testing.T, archive, dest string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dest, filepath.FromSlash(hdr.Name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o700)
		case tar.TypeReg:
			if err = os.MkdirAll(filepath.Dir(target), 0o700); err == nil {
				var data []byte
				if data, err = io.ReadAll(tr); err == nil {
					err = os.WriteFile(target, data, 0o600)
				}
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestOfflineDiagnose(t *testing.T) {
	withoutSpoke3 := func(t *testing.T) Deps { return archiveDeps(t, sampleWithout(t, "spoke3")) }
	tests := []struct {
		name      string
		deps      func(*testing.T) Deps
		want, not []string
	}{
		{"the sample's faults, each with its cause", sampleArchiveDeps, []string{
			"[warning] pod-crashlooping (cluster spoke1): Deployment payments/payments-api",
			"log (previous run): panic: database unavailable",
			"[warning] job-failed (cluster spoke1): Job reports/nightly-export failed (BackoffLimitExceeded)",
			"[warning] pdb-blocks-disruption (cluster spoke1): PodDisruptionBudget payments/ledger",
			"[warning] pod-image-pull (cluster spoke2): Deployment inventory/inventory-sync",
			"[warning] service-no-endpoints (cluster spoke2): Service inventory/inventory-db has no endpoint: its selector matches no pod",
			"[warning] node-pressure (cluster spoke2): Node spoke2-node-2 reports MemoryPressure",
			"[warning] pod-oomkilled (cluster spoke3): Deployment analytics/report-builder",
			"[warning] pod-unschedulable (cluster spoke3): Deployment analytics/gpu-trainer",
			"[warning] rollout-stuck (cluster local-cluster): Deployment storefront/checkout cannot create its pods"}, []string{"[critical]"}},
		{"a cluster the collection did not target is no finding", withoutSpoke3, []string{
			"spoke3: the spoke's API server, not tried: the must-gather holds no data for cluster spoke3",
			"[warning] pod-crashlooping (cluster spoke1)"}, []string{"(cluster spoke3)"}},
		{"a cluster the collector could not read is", sampleWithUnreadableSpoke, []string{
			"[warning] spoke-api-unreadable (cluster spoke3): The hub saw the cluster available, but the collection could not read its API server",
			"evidence: the must-gather could not collect cluster spoke3: cluster spoke3 cannot be read: connection refused"}, []string{"pod-oomkilled"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, isErr := callTool(t, diagnoseTool(tc.deps(t)), nil)
			if isErr {
				t.Fatalf("tool error: %s", text)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing %q in:\n%s", w, text)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(text, n) {
					t.Errorf("unexpected %q in:\n%s", n, text)
				}
			}
			for _, m := range verifyCall.FindAllStringSubmatch(text, -1) {
				checkToolCommand(t, "diagnose", m[1], m[2], false)
			}
		})
	}
}

// verifyCall finds the kubectl calls a finding offers as verification.
var verifyCall = regexp.MustCompile(`(?m)^\s+verify: (kubectl|kubectl_write) cluster=[^:]+: (.*)$`)

// TestSummaryWithAnUnreadableSpoke: a spoke the collector could not read does not stop the summary.
func TestSummaryWithAnUnreadableSpoke(t *testing.T) {
	text, isErr := callTool(t, mustGatherSummaryTool(sampleWithUnreadableSpoke(t)), nil)
	if isErr {
		t.Fatalf("tool error: %s", text)
	}
	for _, w := range []string{
		"Cluster spoke1: 2 failing or pending pod(s)",
		// Found in the pod table, then read in full: the message is the container's own.
		"CrashLoopBackOff, restarts 5: back-off 5m0s restarting failed container=payments-api",
		"Cluster spoke3: nothing to summarise: the must-gather could not collect cluster spoke3",
		"spoke3: Degraded - the spoke's API server cannot be read from the hub: the must-gather could not collect cluster spoke3",
		"\n  spoke3: cluster spoke3 cannot be read: connection refused\n"} {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q in:\n%s", w, text)
		}
	}
}
