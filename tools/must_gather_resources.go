package tools

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/archives"
)

// Collected archives are resources of the caller who collected them: mustgather://{id}, the summary as
// text and, up to MaxArchiveBlobBytes, the .tar.gz itself.

// ArchiveScheme starts every archive's URI.
const ArchiveScheme = "mustgather://"

// MaxArchiveBlobBytes is the largest archive a resource read carries (base64 makes it a third larger).
const MaxArchiveBlobBytes = 16 << 20

func archiveOwner(ctx context.Context) archives.Owner {
	if c := auth.CallerFrom(ctx); c != nil {
		return archives.Owner{User: c.User, UID: c.UID}
	}
	return archives.Owner{}
}

func registerArchiveResources(s *server.MCPServer, store *archives.Store) {
	s.AddResourceTemplate(mcp.NewResourceTemplate(ArchiveScheme+"{id}", "Collected must-gather",
		mcp.WithTemplateDescription("A must-gather archive you collected with must_gather: its summary, and the .tar.gz (application/gzip) when it is at most 16 MiB"),
		mcp.WithTemplateMIMEType("application/gzip")),
		func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			return readArchive(ctx, store, req.Params.URI)
		})
}

func readArchive(ctx context.Context, store *archives.Store, uri string) ([]mcp.ResourceContents, error) {
	id, ok := strings.CutPrefix(uri, ArchiveScheme)
	if !ok {
		return nil, fmt.Errorf("%s: %w", uri, archives.ErrNotFound)
	}
	e, err := store.Get(archiveOwner(ctx), id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (resources/list lists yours)", uri, err)
	}
	head := fmt.Sprintf("Must-gather %s, %s, collected %s, kept until %s.\n", e.Name(), humanBytes(e.Bytes),
		e.Collected.UTC().Format(time.RFC3339), e.Expires.UTC().Format(time.RFC3339))
	if e.Bytes > MaxArchiveBlobBytes {
		head += fmt.Sprintf("The archive is larger than the %s a resource carries, so only its summary is here: copy it from the server's disk "+
			"(%s; kubectl cp <namespace>/<server pod>:%s .), or collect fewer clusters or namespaces.\n", humanBytes(MaxArchiveBlobBytes), e.Path, e.Path)
	}
	out := []mcp.ResourceContents{mcp.TextResourceContents{URI: uri, MIMEType: "text/plain", Text: head + "\n" + e.Summary}}
	if e.Bytes <= MaxArchiveBlobBytes {
		data, err := os.ReadFile(e.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: reading the archive: %w", uri, err)
		}
		out = append(out, mcp.BlobResourceContents{URI: uri, MIMEType: "application/gzip", Blob: base64.StdEncoding.EncodeToString(data)})
	}
	return out, nil
}

// ArchiveResources are the caller's archives, for resources/list.
func ArchiveResources(ctx context.Context, store *archives.Store) []mcp.Resource {
	var out []mcp.Resource
	for _, e := range store.List(archiveOwner(ctx)) {
		out = append(out, mcp.NewResource(ArchiveScheme+e.ID, e.Name(),
			mcp.WithResourceDescription(fmt.Sprintf("Must-gather you collected at %s, %s; kept until %s", e.Collected.UTC().Format(time.RFC3339),
				humanBytes(e.Bytes), e.Expires.UTC().Format(time.RFC3339))),
			mcp.WithMIMEType("application/gzip")))
	}
	return out
}
