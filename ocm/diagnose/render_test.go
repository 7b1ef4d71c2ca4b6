package diagnose

import (
	"fmt"
	"strings"
	"testing"
)

// A fleet diagnosis says first which kinds of finding it made and where, so that one fault repeated over
// many clusters reads as one line; a diagnosis of one cluster does not.
func TestRenderByKind(t *testing.T) {
	var fs []Finding
	for i := range 7 {
		fs = append(fs, Finding{ID: "pod-image-pull", Severity: Warning, Subject: fmt.Sprintf("cluster c%d", i), Title: "t"})
	}
	fs = append([]Finding{{ID: "agent-down", Severity: Critical, Subject: "cluster c9", Title: "t"},
		{ID: "addon-unavailable", Severity: Warning, Subject: "add-on x on cluster c9", Title: "t"}}, fs...)
	fleet := (&Report{Findings: fs}).Render()
	want := "By kind: agent-down x1 (c9); addon-unavailable x1 (c9); pod-image-pull x7 (c0, c1, c2, c3, c4 and 2 more).\n"
	if lines := strings.SplitN(fleet, "\n", 3); lines[1]+"\n" != want {
		t.Errorf("second line %q, want %q", lines[1], want)
	}
	if one := (&Report{Target: Target{Cluster: "c9"}, Findings: fs[:1]}).Render(); strings.Contains(one, "By kind:") {
		t.Errorf("a one-cluster diagnosis has a by-kind line:\n%s", one)
	}
}
