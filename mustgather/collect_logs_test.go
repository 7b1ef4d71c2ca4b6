package mustgather

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestCollectKeepsNewestLogLines: a log longer than the cap keeps its newest lines, whole, with a note
// of how much was cut; a short log is kept as it is, with no note. Current and previous logs alike.
func TestCollectKeepsNewestLogLines(t *testing.T) {
	long := func(prefix string, n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "2026-01-02T03:%02d:%02dZ %s line %05d\n", i/60%60, i%60, prefix, i)
		}
		return b.String()
	}
	const logBytes = 4096
	tests := []struct {
		name, current, previous string
		cut                     bool
	}{
		{"long logs", long("current", 3000), long("previous", 2000), true},
		{"short logs", long("current", 10), long("previous", 5), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := obj("v1", "Pod", agentNS, "agent-1", map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{"name": "agent", "image": "registry.example/agent:1"}}}})
			spoke := &fakeAPI{
				resources: []fakeResource{{gvrNamespaces, "Namespace", false}, {gvrPods, "Pod", true}},
				objects: map[schema.GroupResource][]map[string]any{
					gvrNamespaces.GroupResource(): {obj("v1", "Namespace", "", agentNS, nil)},
					gvrPods.GroupResource():       {pod},
				},
				log: tc.current, previousLog: tc.previous,
			}
			out := t.TempDir()
			sum, err := Collect(context.Background(), CollectOptions{
				Targets: []Target{{Name: "spoke1", Config: spoke.start(t)}}, OutDir: out, LogBytes: logBytes,
				Now: func() time.Time { return collectedAt },
			})
			if err != nil {
				t.Fatal(err)
			}
			a, err := Open(sum.Path, OpenOptions{WorkDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			logs, ok := a.Clusters["spoke1"].Log(agentNS, "agent-1", "agent")
			if !ok || logs.Current == "" || logs.Previous == "" {
				t.Fatalf("logs collected: %+v", logs)
			}
			for which, c := range map[string]struct{ file, full string }{"current": {logs.Current, tc.current}, "previous": {logs.Previous, tc.previous}} {
				data, err := os.ReadFile(c.file)
				if err != nil {
					t.Fatal(err)
				}
				got := string(data)
				lines := strings.Split(strings.TrimSuffix(c.full, "\n"), "\n")
				if !strings.HasSuffix(got, lines[len(lines)-1]+"\n") {
					t.Errorf("%s log does not end with the newest line: ...%q", which, got[max(len(got)-80, 0):])
				}
				if !tc.cut {
					if got != c.full {
						t.Errorf("%s log changed: %q", which, got)
					}
					continue
				}
				if strings.Contains(got, lines[0]) {
					t.Errorf("%s log keeps its oldest line", which)
				}
				note, body, _ := strings.Cut(got, "\n")
				if !strings.Contains(note, "bytes") || !strings.Contains(note, "cut") {
					t.Errorf("%s log: first line %q is no note of the cut", which, note)
				}
				if len(body) > logBytes || len(body) < logBytes/2 {
					t.Errorf("%s log keeps %d bytes, want the newest (at most %d)", which, len(body), logBytes)
				}
				if !strings.HasPrefix(body, "2026-") || !strings.Contains(c.full, "\n"+body) {
					t.Errorf("%s log does not start at a whole line of the original: %q", which, body[:min(len(body), 60)])
				}
			}
		})
	}
}
