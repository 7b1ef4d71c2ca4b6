// Package version holds the build's identity, stamped by the linker (see the Makefile).
package version

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// Set with -ldflags "-X github.com/ocm-fleet/multicluster-mcp-server/internal/version.version=...".
var (
	version = "dev"
	commit  = "unknown"
)

// Version is the release version of this build.
func Version() string { return version }

// Commit is the source commit of this build.
func Commit() string { return commit }

// ProtocolVersions lists the MCP protocol revisions the server negotiates, newest first.
func ProtocolVersions() []string { return append([]string(nil), mcp.ValidProtocolVersions...) }

// String is what `multicluster-mcp-server version` prints.
func String() string {
	return fmt.Sprintf("version: %s\ncommit: %s\ngo: %s\nmcp protocol versions: %s\n",
		version, commit, runtime.Version(), strings.Join(ProtocolVersions(), ", "))
}
