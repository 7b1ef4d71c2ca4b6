package tools

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
)

func plan(t *testing.T, command string) *kubectl.Plan {
	t.Helper()
	words, err := kubectl.Split(command)
	if err != nil {
		t.Fatal(err)
	}
	p, err := kubectl.Check(words, kubectl.ReadTool, false)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseAggregate(t *testing.T) {
	tests := []struct {
		arg, command string
		column       string
		wantErr      string // "" accepts
	}{
		{"", "get pods", "", ""},
		{"count", "get pods -A", "", ""},
		{"group-by:STATUS", "get pods -A", "STATUS", ""},
		{" group-by: status ", "get pods -A -o wide", "status", ""},
		{"group-by:TYPE", "get pods -o custom-columns=NAME:.metadata.name,TYPE:.spec.nodeName", "TYPE", ""},
		{"group-by:TYPE", "events -A", "TYPE", ""},
		{"group-by:", "get pods", "", "names no column"},
		{"sum", "get pods", "", `aggregate "sum" is not one of: count`},
		{"count", "get pods -o yaml", "", "-o yaml prints none"},
		{"count", "get pods -ojson", "", "-o json prints none"},
		{"count", "get pods --output=name", "", "-o name prints none"},
		{"count", "get pods --no-headers", "", "leave out --no-headers"},
		{"count", "describe pods", "", "`kubectl describe` prints none"},
		{"count", "logs deploy/web", "", "`kubectl logs` prints none"},
	}
	for _, tc := range tests {
		t.Run(tc.arg+"/"+tc.command, func(t *testing.T) {
			a, err := parseAggregate(tc.arg, plan(t, tc.command))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.arg == "" {
				if a != nil {
					t.Fatalf("no argument gave %+v", a)
				}
				return
			}
			if a.column != tc.column {
				t.Errorf("column %q, want %q", a.column, tc.column)
			}
		})
	}
}

const (
	podsA = "NAMESPACE   NAME   READY   STATUS             RESTARTS   AGE\n" +
		"shop        web-1  1/1     Running            0          1d\n" +
		"shop        web-2  0/1     CrashLoopBackOff   7          1d\n" +
		"kube        dns-1  1/1     Running            0          9d\n"
	podsB = "NAMESPACE   NAME   READY   STATUS    RESTARTS   AGE\n" +
		"shop        web-1  0/1     Pending   0          1m\n"
	podsAndServices = "NAME    READY   STATUS    RESTARTS   AGE\n" +
		"web-1   1/1     Running   0          1d\n\n" +
		"NAME   TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE\n" +
		"web    ClusterIP   10.0.0.1     <none>        80/TCP    1d\n"
)

func TestRenderAggregate(t *testing.T) {
	ok := func(cluster, out string) clusterRun {
		return clusterRun{cluster: cluster, res: kubectl.Result{Stdout: out}}
	}
	empty := clusterRun{cluster: "c", res: kubectl.Result{Stderr: "No resources found in shop namespace.\n"}}
	down := clusterRun{cluster: "d", res: kubectl.Result{Err: errors.New("connection refused")}}
	tests := []struct {
		name    string
		column  string
		runs    []clusterRun
		skipped map[string]string
		want    []string // in this order
		absent  []string
		wantErr string
	}{
		{"count", "", []clusterRun{ok("a", podsA), ok("b", podsB), empty, down}, map[string]string{"e": "not available"},
			[]string{"Fan-out over 5 cluster(s): 3 ok, 1 failed, 1 skipped.", "Rows: 4 on 3 cluster(s).", "CLUSTER   ROWS", "a         3", "b         1", "c         0", "Skipped:", "Failed on 1 of 4"},
			[]string{"No resources found", "web-1"}, ""},
		{"group by status", "STATUS", []clusterRun{ok("a", podsA), ok("b", podsB), empty},
			nil,
			[]string{"Rows: 4 on 3 cluster(s), by STATUS: 3 value(s).", "STATUS             ROWS", "Running            2", "CrashLoopBackOff   1", "Pending            1",
				"CLUSTER   ROWS   STATUS", "a         3      Running=2, CrashLoopBackOff=1", "b         1      Pending=1", "c         0      -"},
			[]string{"web-2"}, ""},
		{"case and underscores", "namespace", []clusterRun{ok("a", podsA)}, nil,
			[]string{"by NAMESPACE: 2 value(s).", "shop        2", "kube        1"}, nil, ""},
		{"rows of tables without the column", "STATUS", []clusterRun{ok("a", podsAndServices)}, nil,
			[]string{"(no STATUS column)   1", "Running              1"}, nil, ""},
		{"unknown column", "STATU", []clusterRun{ok("a", podsA), ok("b", podsB)}, nil, nil, nil,
			`no table printed has a column "STATU"; the columns are: NAMESPACE, NAME, READY, STATUS, RESTARTS, AGE`},
		{"not a table", "", []clusterRun{ok("a", "apiVersion: v1\nkind: Pod\n")}, nil, nil, nil, "cluster a printed something else"},
		{"no rows anywhere: nothing to check the column against", "STATU", []clusterRun{empty}, nil,
			[]string{"Rows: 0 on 1 cluster(s), by STATU: 0 value(s)."}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, _, err := renderAggregate(&aggregate{column: tc.column}, tc.runs, tc.skipped, true)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			at := 0
			for _, w := range tc.want {
				i := strings.Index(text[at:], w)
				if i < 0 {
					t.Fatalf("missing (or out of order) %q in:\n%s", w, text)
				}
				at += i + len(w)
			}
			for _, a := range tc.absent {
				if strings.Contains(text, a) {
					t.Errorf("%q should not appear in:\n%s", a, text)
				}
			}
		})
	}
}

// TestAggregateFitsAFleet: 2,000 clusters of 30 pods each answer in a few KiB, the status first.
func TestAggregateFitsAFleet(t *testing.T) {
	var runs []clusterRun
	pending := 0
	for i := range 2000 {
		var b strings.Builder
		b.WriteString("NAMESPACE   NAME   READY   STATUS    RESTARTS   AGE\n")
		for j := range 30 {
			status := "Running"
			if (i+j)%97 == 0 {
				status = "Pending"
				pending++
			}
			fmt.Fprintf(&b, "shop        web-%d  1/1     %s   0          1d\n", j, status)
		}
		runs = append(runs, clusterRun{cluster: fmt.Sprintf("c%04d", i), res: kubectl.Result{Stdout: b.String()}})
	}
	text, _, err := renderAggregate(&aggregate{column: "STATUS"}, runs, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	head := strings.SplitN(text, "\n\n", 3)
	if head[0] != "Fan-out over 2000 cluster(s): 2000 ok." || !strings.HasPrefix(head[1], fmt.Sprintf("Rows: 60000 on 2000 cluster(s), by STATUS: 2 value(s).\nSTATUS    ROWS\nRunning   %d\nPending   %d", 60000-pending, pending)) {
		t.Fatalf("head:\n%s\n\n%s", head[0], head[1])
	}
	if len(text) > 200<<10 {
		t.Errorf("the answer is %d bytes", len(text))
	}
}

// TestAggregateThroughTheTool: the kubectl tool's aggregate argument over an archive's clusters.
func TestAggregateThroughTheTool(t *testing.T) {
	d := archiveDeps(t, sampleWithout(t, "spoke3"))
	tests := []struct {
		name  string
		args  map[string]any
		isErr bool
		want  []string
	}{
		{"count", map[string]any{"cluster": "*", "command": "get pods -A", "aggregate": "count"}, false,
			[]string{"Fan-out over 4 cluster(s): 3 ok, 1 skipped.", "Rows: 22 on 3 cluster(s).", "CLUSTER   ROWS", "spoke1    11", "Skipped:"}},
		{"group-by", map[string]any{"cluster": "*", "command": "get pods -A", "aggregate": "group-by:STATUS"}, false,
			[]string{"Fan-out over 4 cluster(s): 3 ok, 1 skipped.", "by STATUS: 5 value(s).", "Running            17", "CrashLoopBackOff   1",
				"CLUSTER   ROWS   STATUS", "spoke1    11     Running=8, Completed=1, CrashLoopBackOff=1, Error=1"}},
		{"one cluster", map[string]any{"cluster": "spoke1", "command": "get pods -A", "aggregate": "group-by:NAMESPACE"}, false,
			[]string{"Rows: ", "on 1 cluster(s), by NAMESPACE:", "open-cluster-management-agent"}},
		{"unknown column", map[string]any{"cluster": "*", "command": "get pods -A", "aggregate": "group-by:COLOR"}, true,
			[]string{`no table printed has a column "COLOR"; the columns are: NAMESPACE, NAME, READY, STATUS, RESTARTS, AGE`}},
		{"not a table", map[string]any{"cluster": "*", "command": "get pods -A -o yaml", "aggregate": "count"}, true,
			[]string{"-o yaml prints none"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, isErr := callAs(t, d, nil, "kubectl", tc.args)
			if isErr != tc.isErr {
				t.Fatalf("isError=%v, want %v:\n%s", isErr, tc.isErr, text)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing %q in:\n%s", w, text)
				}
			}
		})
	}
}
