package tools

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
)

// TestFanOutSummaryComesFirst: whatever the cap cuts, the first lines say how every cluster fared and
// name those that did not answer.
func TestFanOutSummaryComesFirst(t *testing.T) {
	runs := []clusterRun{
		{cluster: "a", res: kubectl.Result{Stdout: "NAME   STATUS\nx      Active\n"}},
		{cluster: "b", res: kubectl.Result{Err: errors.New("connection refused")}},
		{cluster: "c", res: kubectl.Result{Err: fmt.Errorf("cluster c did not finish within 5s: %w", kubectl.ErrTimeout)}},
		{cluster: "d", res: kubectl.Result{Err: &auth.DeniedError{Caller: "alice", Cluster: "d", What: "read"}}},
	}
	text, failed := renderFanOut(runs, map[string]string{"e": "not available"})
	lines := strings.Split(text, "\n")
	if lines[0] != "Fan-out over 5 cluster(s): 1 ok, 1 failed, 1 denied, 1 timed out, 1 skipped." {
		t.Errorf("first line %q", lines[0])
	}
	if lines[1] != "Not ok: b (failed), c (timed out), d (denied)." {
		t.Errorf("second line %q", lines[1])
	}
	if failed != 3 || !strings.Contains(text, "Failed on 3 of 4 cluster(s)") {
		t.Errorf("failed=%d:\n%s", failed, text)
	}
	var many []clusterRun
	for i := range 100 {
		many = append(many, clusterRun{cluster: fmt.Sprintf("c%03d", i), res: kubectl.Result{Err: errors.New("down")}})
	}
	text, _ = renderFanOut(many, nil)
	first := strings.SplitN(text, "\n", 3)
	if !strings.HasSuffix(first[1], "and 60 more (listed at the end).") || strings.Contains(first[1], "c040") {
		t.Errorf("the summary names more than %d clusters: %s", maxNamedInSummary, first[1])
	}
}
