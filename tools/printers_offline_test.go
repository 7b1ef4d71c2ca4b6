package tools

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestOfflineColumns: kubectl over a plain OpenShift must-gather prints the columns the live servers
// print: built-in kinds with their wide columns, CRD printer columns (dates as ages from the
// collection time, wide-only columns hidden by default, no extra AGE), and OpenShift kinds.
func TestOfflineColumns(t *testing.T) {
	d := archiveDeps(t, filepath.Join("..", "mustgather", "testdata", "ocp-plain"))
	tests := []struct {
		command string
		want    []string // whole lines, spaces collapsed
	}{
		{"get nodes", []string{"NAME STATUS ROLES AGE VERSION", "master-0 Ready control-plane,master 10d v1.31.6"}},
		{"get nodes -o wide", []string{
			"NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME",
			"master-0 Ready control-plane,master 10d v1.31.6 10.0.0.11 <none> Red Hat Enterprise Linux CoreOS 418.94.202511191530-0 5.14.0-427.50.1.el9_4.x86_64 (amd64) cri-o://1.31.4-3.rhaos4.18"}},
		{"get machinesets -n openshift-machine-api", []string{
			"NAME DESIRED CURRENT READY AVAILABLE AGE LAST SCALE",
			"ocp-7x2k9-worker-eu-west-1a 2 2 1 1 10d 3h"}},
		{"get machinesets -n openshift-machine-api -o wide", []string{
			"NAME DESIRED CURRENT READY AVAILABLE AGE INSTANCE TYPE LAST SCALE",
			"ocp-7x2k9-worker-eu-west-1a 2 2 1 1 10d m6i.xlarge 3h"}},
		{"get routes -A", []string{
			"NAMESPACE NAME HOST/PORT PATH SERVICES PORT TERMINATION WILDCARD",
			"openshift-console console console-openshift-console.apps.ocp.example.com console https reencrypt/Redirect None"}},
		{"get clusteroperators", []string{
			"NAME VERSION AVAILABLE PROGRESSING DEGRADED SINCE MESSAGE",
			"etcd 4.18.3 True False True 12h EtcdMembersDegraded: 1 of 3 members are not healthy"}},
		{"get clusterversion", []string{"NAME VERSION AVAILABLE PROGRESSING SINCE STATUS", "version 4.18.3 True False 12h Cluster version is 4.18.3"}},
		{"get pods -A -o wide", []string{
			"NAMESPACE NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES",
			"openshift-etcd etcd-master-0 0/1 CrashLoopBackOff 7 (6m2s ago) 12h 10.0.0.11 master-0 <none> <none>"}},
		{"get cm,pdb -n openshift-etcd", []string{"No resources found in openshift-etcd namespace."}},
	}
	for _, tc := range tests {
		t.Run(tc.command, func(t *testing.T) {
			text, isErr := callTool(t, kubectlTool(d), map[string]any{"cluster": "ocp-plain", "command": tc.command})
			if isErr {
				t.Fatalf("tool error: %s", text)
			}
			var lines []string
			for _, l := range strings.Split(text, "\n") {
				lines = append(lines, strings.Join(strings.Fields(l), " "))
			}
			all := "\n" + strings.Join(lines, "\n") + "\n"
			for _, w := range tc.want {
				if !strings.Contains(all, "\n"+w+"\n") {
					t.Errorf("missing line %q in:\n%s", w, text)
				}
			}
		})
	}
}
