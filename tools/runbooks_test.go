package tools

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/runbooks"
)

// TestRunbookCommandsAreAccepted: every kubectl and kubectl_write call a built-in runbook tells the model
// to make passes the interpreter's parser and policy for that tool, so a runbook never leads into a refusal.
func TestRunbookCommandsAreAccepted(t *testing.T) {
	books, err := runbooks.Load("")
	if err != nil {
		t.Fatal(err)
	}
	// A command belongs to the last tool named before it on its line; "and `manifest`" right after it
	// means the manifest argument is given.
	tokens := regexp.MustCompile("`(kubectl|kubectl_write)`|`command=([^`]*)`( and `manifest`)?")
	placeholder := regexp.MustCompile(`<[^<>]*>`)
	calls := 0
	for _, rb := range books.Runbooks {
		for _, line := range strings.Split(rb.Content, "\n") {
			tool := ""
			for _, m := range tokens.FindAllStringSubmatch(line, -1) {
				if m[1] != "" {
					tool = m[1]
					continue
				}
				if tool == "" {
					t.Errorf("%s: command=%s names no tool before it", rb.URI, m[2])
					continue
				}
				calls++
				checkToolCommand(t, rb.URI, tool, placeholder.ReplaceAllString(m[2], "x"), m[3] != "")
			}
		}
	}
	if calls < 20 {
		t.Errorf("found only %d tool calls in the runbooks: has their phrasing changed?", calls)
	}
	t.Logf("%d tool calls in %d runbooks", calls, len(books.Runbooks))
}

// checkToolCommand parses and checks one command offered to the model (placeholders already filled in).
func checkToolCommand(t *testing.T, uri, toolName, command string, manifest bool) {
	t.Helper()
	tool := kubectl.ReadTool
	if toolName == "kubectl_write" {
		tool = kubectl.WriteTool
	}
	words, err := kubectl.Split(command)
	if err == nil {
		_, err = kubectl.Check(words, tool, manifest)
	}
	if err != nil {
		t.Errorf("%s: %s command=%s is refused: %v", uri, toolName, command, err)
	}
}
