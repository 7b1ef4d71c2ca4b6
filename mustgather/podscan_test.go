package mustgather

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// TestPodScanFromTable: the cluster summary finds failing pods in the pod table, reads the first ones in
// full (their messages are the containers' own) and describes the rest from their rows; healthy pods,
// running and ready or completed, are none of them.
func TestPodScanFromTable(t *testing.T) {
	files := map[string]string{}
	pod := func(name, phase, state string, ready bool) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: app}
spec: {nodeName: n1, containers: [{name: c, image: i}]}
status:
  phase: %s
  conditions: [{type: Ready, status: "%v"}]
  containerStatuses: [{name: c, image: i, ready: %v, restartCount: 4, state: %s}]
`, name, phase, map[bool]string{true: "True", false: "False"}[ready], ready, state)
	}
	crash := `{waiting: {reason: CrashLoopBackOff, message: "back-off 5m0s restarting failed container=c"}}`
	const failing = 130
	for i := range failing {
		name := fmt.Sprintf("bad-%03d", i)
		files["namespaces/app/core/pods/"+name+".yaml"] = pod(name, "Running", crash, false)
	}
	for i := range 40 {
		name := fmt.Sprintf("good-%03d", i)
		files["namespaces/app/core/pods/"+name+".yaml"] = pod(name, "Running", "{running: {}}", true)
	}
	files["namespaces/app/core/pods/done.yaml"] = pod("done", "Succeeded", "{terminated: {exitCode: 0, reason: Completed}}", false)
	a, err := Open(writeFolder(t, files), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	s, err := ocm.GatherLive(context.Background(), clientFor(t, a, "hub"), time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Pods) != failing {
		t.Fatalf("%d problem pods, want %d", len(s.Pods), failing)
	}
	full, fromRow := 0, 0
	for _, p := range s.Pods {
		switch {
		case strings.HasPrefix(p.Name, "good") || p.Name == "done":
			t.Errorf("healthy pod %s reported", p.Name)
		case p.Message == "back-off 5m0s restarting failed container=c" && p.Restarts == 4:
			full++
		case p.Reason == "CrashLoopBackOff" && strings.Contains(p.Message, "from the pod table"):
			fromRow++
		default:
			t.Errorf("pod %+v", p)
		}
	}
	if full != 30 || fromRow != failing-30 {
		t.Errorf("%d pods read in full, %d from their row; want 30 and %d", full, fromRow, failing-30)
	}
	for _, p := range s.Pods {
		if !p.Failing {
			t.Errorf("a crash-looping pod is not failing: %+v", p)
		}
	}
}
