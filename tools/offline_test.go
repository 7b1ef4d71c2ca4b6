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
	dir := t.TempDir()
	untar(t, filepath.Join("..", "mustgather", "testdata", "sample-fleet.tar.gz"), dir)
	roots, err := filepath.Glob(filepath.Join(dir, "must-gather-*"))
	if err != nil || len(roots) != 1 {
		t.Fatalf("sample layout: %v %v", roots, err)
	}
	spoke3 := filepath.Join(roots[0], "spoke3")
	if err := os.Mkdir(spoke3, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(spoke3, "collection-errors.txt"), []byte("cluster spoke3 cannot be read: connection refused\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return archiveDeps(t, roots[0])
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
	tests := []struct {
		name string
		deps func(*testing.T) Deps
		want []string
	}{
		{"a cluster the collection did not target is no finding", sampleArchiveDeps, []string{
			"No problem found for the fleet",
			"spoke3: the spoke's API server, not tried: the must-gather holds no data for cluster spoke3"}},
		{"a cluster the collector could not read is", sampleWithUnreadableSpoke, []string{
			"Diagnosis of the fleet: 1 finding(s)",
			"[warning] spoke-api-unreadable (cluster spoke3): The hub saw the cluster available, but the collection could not read its API server",
			"evidence: the must-gather could not collect cluster spoke3: cluster spoke3 cannot be read: connection refused"}},
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
		"Cluster spoke1: 1 failing or pending pod(s)",
		"Cluster spoke3: nothing to summarise: the must-gather could not collect cluster spoke3",
		"spoke3: Degraded - the spoke's API server cannot be read from the hub: the must-gather could not collect cluster spoke3",
		"\n  spoke3: cluster spoke3 cannot be read: connection refused\n"} {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q in:\n%s", w, text)
		}
	}
}
