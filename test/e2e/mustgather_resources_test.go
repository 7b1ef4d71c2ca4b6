package e2e

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

var archiveURI = regexp.MustCompile(`Read it as the resource (mustgather://\S+) \(yours only`)

func listURIs(t *testing.T, c *client.Client) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := c.ListResources(ctx, mcp.ListResourcesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res.Resources {
		out = append(out, r.URI)
	}
	return out
}

func readResource(c *client.Client, uri string) (*mcp.ReadResourceResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req := mcp.ReadResourceRequest{}
	req.Params.URI = uri
	return c.ReadResource(ctx, req)
}

// TestMustGatherResources: the operator's collection becomes the resource its answer names, listed for
// the operator only; reading it gives the summary and the .tar.gz itself; alice gets not-found; after the
// retention the janitor deletes it.
func TestMustGatherResources(t *testing.T) {
	dir := t.TempDir()
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-mgres", "--must-gather-dir", dir, "--must-gather-retention", "30s")
	op, alice := asUser(t, srv, fleet.OperatorToken), asUser(t, srv, fleet.AliceToken)
	text, isErr := callTool(t, op, "must_gather", map[string]any{"clusters": "spoke1"})
	m, path := archiveURI.FindStringSubmatch(text), archivePath.FindStringSubmatch(text)
	if isErr || m == nil || path == nil {
		t.Fatalf("must_gather:\n%s", text)
	}
	uri := m[1]
	if got := listURIs(t, op); !contains(got, uri) {
		t.Errorf("the operator's resources/list %v lacks %s", got, uri)
	}
	if got := listURIs(t, alice); contains(got, uri) {
		t.Errorf("alice's resources/list shows the operator's archive: %v", got)
	}
	res, err := readResource(op, uri)
	if err != nil {
		t.Fatalf("the operator reads %s: %v", uri, err)
	}
	file, err := os.ReadFile(path[1])
	if err != nil {
		t.Fatal(err)
	}
	var summary, blob bool
	for _, c := range res.Contents {
		switch c := c.(type) {
		case mcp.TextResourceContents:
			summary = strings.Contains(c.Text, "2 of 2 cluster(s) collected")
		case mcp.BlobResourceContents:
			data, err := base64.StdEncoding.DecodeString(c.Blob)
			blob = err == nil && c.MIMEType == "application/gzip" && string(data) == string(file)
		}
	}
	if !summary || !blob {
		t.Errorf("reading %s: summary %v, the archive's bytes %v (%d bytes on disk)", uri, summary, blob, len(file))
	}
	if _, err := readResource(alice, uri); err == nil || !strings.Contains(err.Error(), "no such must-gather archive") {
		t.Errorf("alice reads the operator's archive: %v", err)
	}
	// The janitor deletes it once its 30s are over.
	expired := srv.logs.WaitFor("deleted expired must-gather archives")
	select {
	case <-expired:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the archive was not deleted within 2m of a 30s retention:\n%s", srv.logs.String())
	}
	if _, err := os.Stat(path[1]); !os.IsNotExist(err) {
		t.Errorf("the expired archive is still on disk: %v", err)
	}
	if _, err := readResource(op, uri); err == nil || !strings.Contains(err.Error(), "no such must-gather archive") {
		t.Errorf("reading an expired archive: %v", err)
	}
	if got := listURIs(t, op); contains(got, uri) {
		t.Errorf("an expired archive is still listed: %v", got)
	}
}

// TestMustGatherQuota: an archive that would take the kept ones beyond the quota is refused, with what to
// do, and not kept on disk.
func TestMustGatherQuota(t *testing.T) {
	dir := t.TempDir()
	srv := startHTTPServer(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-mgres", "--must-gather-dir", dir, "--must-gather-quota-bytes", "1000")
	op := asUser(t, srv, fleet.OperatorToken)
	text, isErr := callTool(t, op, "must_gather", map[string]any{"clusters": "spoke1"})
	if !isErr || !strings.Contains(text, "beyond the server's quota: 0 of 1000 bytes used") || !strings.Contains(text, "--must-gather-quota-bytes") {
		t.Errorf("a collection beyond the quota:\n%s", text)
	}
	left, err := filepath.Glob(filepath.Join(dir, "*.tar.gz"))
	if err != nil || len(left) != 0 {
		t.Errorf("archives left on disk: %v %v", left, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
