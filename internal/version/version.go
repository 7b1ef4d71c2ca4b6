// Package version holds the build's identity, stamped by the linker (see the Makefile).
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
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

// Commit is the source commit of this build: the stamped one, else the one the Go toolchain recorded
// (`go build` in a git checkout does; `go run` does not).
func Commit() string {
	if commit != "unknown" {
		return commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		return commitFrom(info.Settings)
	}
	return commit
}

// commitFrom reads the VCS revision from build settings, marking a build from a modified tree.
func commitFrom(settings []debug.BuildSetting) string {
	revision, modified := "unknown", false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && revision != "unknown" {
		revision += "-dirty"
	}
	return revision
}

// ProtocolVersions lists the MCP protocol revisions the server negotiates, newest first.
func ProtocolVersions() []string { return append([]string(nil), mcp.ValidProtocolVersions...) }

// String is what `multicluster-mcp-server version` prints.
func String() string {
	return fmt.Sprintf("version: %s\ncommit: %s\ngo: %s\nmcp protocol versions: %s\n",
		version, Commit(), runtime.Version(), strings.Join(ProtocolVersions(), ", "))
}
