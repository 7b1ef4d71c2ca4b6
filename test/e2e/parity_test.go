package e2e

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// parityKinds are the built-in kinds compared between the live API server and the archive.
var parityKinds = []string{
	"pods", "services", "configmaps", "secrets", "serviceaccounts", "endpoints", "events", "namespaces", "nodes",
	"persistentvolumes", "persistentvolumeclaims", "resourcequotas", "limitranges", "replicationcontrollers", "podtemplates",
	"deployments.apps", "replicasets.apps", "statefulsets.apps", "daemonsets.apps", "controllerrevisions.apps",
	"jobs.batch", "cronjobs.batch", "horizontalpodautoscalers.autoscaling", "leases.coordination.k8s.io",
	"endpointslices.discovery.k8s.io", "ingresses.networking.k8s.io", "ingressclasses.networking.k8s.io",
	"networkpolicies.networking.k8s.io", "poddisruptionbudgets.policy", "roles.rbac.authorization.k8s.io",
	"rolebindings.rbac.authorization.k8s.io", "clusterroles.rbac.authorization.k8s.io",
	"clusterrolebindings.rbac.authorization.k8s.io", "storageclasses.storage.k8s.io", "csidrivers.storage.k8s.io",
	"csinodes.storage.k8s.io", "priorityclasses.scheduling.k8s.io", "runtimeclasses.node.k8s.io",
	"certificatesigningrequests.certificates.k8s.io", "mutatingwebhookconfigurations.admissionregistration.k8s.io",
	"validatingwebhookconfigurations.admissionregistration.k8s.io", "customresourcedefinitions.apiextensions.k8s.io",
	"apiservices.apiregistration.k8s.io", "flowschemas.flowcontrol.apiserver.k8s.io",
}

// ageLike matches cells that move with time: ages ("5d3h", "42s"), "(5m ago)" suffixes, timestamps.
var ageLike = regexp.MustCompile(`^(\d+[smhdy](\d+[smhd])?)$|\(\d+[smhdy]\d*[smhd]? ago\)|^\d{4}-\d\d-\d\dT`)

// timeColumns hold times in any form.
var timeColumns = map[string]bool{"AGE": true, "LAST SEEN": true, "FIRST SEEN": true, "DURATION": true, "LAST SCHEDULE": true, "CREATED AT": true, "SINCE": true}

func normaliseRow(header []string, row map[string]string) string {
	cells := make([]string, len(header))
	for i, h := range header {
		c := row[h]
		if timeColumns[h] || ageLike.MatchString(c) {
			c = ageLike.ReplaceAllString(c, "<t>")
			if timeColumns[h] {
				c = "<t>"
			}
		}
		cells[i] = c
	}
	return strings.Join(cells, "|")
}

// TestParityWithLive collects the fleet, opens the archive offline, and compares `get <kind> -A` and
// `get <kind> -A -o wide` for every built-in kind with the live API server, on the objects the archive
// holds, times aside.
func TestParityWithLive(t *testing.T) {
	out := t.TempDir()
	live := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-parity", "--must-gather-dir", out)
	_, path, _ := collect(t, live, map[string]any{"clusters": "spoke1"})
	offline := stdioClient(t, "--must-gather", path)

	var report []string
	equal, differ, absent := 0, 0, 0
	for _, cluster := range []string{"hub", "spoke1"} {
		for _, kind := range parityKinds {
			for _, wide := range []bool{false, true} {
				cmd := "get " + kind + " -A"
				if kind == "events" {
					// The collector keeps Warning events only: compare the same objects.
					cmd += " --field-selector type=Warning"
				}
				if wide {
					cmd += " -o wide"
				}
				args := map[string]any{"cluster": cluster, "command": cmd}
				o, oerr := callTool(t, offline.Client, "kubectl", args)
				if oerr || strings.Contains(o, "No resources found") {
					if !wide {
						absent++
						report = append(report, fmt.Sprintf("| %s | %s | not in the archive |", cluster, kind))
					}
					break
				}
				l, lerr := callTool(t, live.Client, "kubectl", args)
				if lerr {
					t.Errorf("%s on %s live: %s", cmd, cluster, l)
					continue
				}
				lh, lrows := table(t, l)
				oh, orows := table(t, o)
				// The live rows of the objects the archive holds. Events have no name column and keep
				// coming after the collection: the archive's events must be among the live ones.
				key := func(r map[string]string) string { return r["NAMESPACE"] + "/" + r["NAME"] }
				if kind == "events" {
					key = func(r map[string]string) string { return normaliseRow(oh, r) }
				}
				held := map[string]bool{}
				for _, r := range orows {
					held[key(r)] = true
				}
				var lnorm, onorm []string
				for _, r := range lrows {
					if held[key(r)] {
						lnorm = append(lnorm, normaliseRow(lh, r))
					}
				}
				for _, r := range orows {
					onorm = append(onorm, normaliseRow(oh, r))
				}
				if kind == "events" {
					lnorm, onorm = dedupe(lnorm), dedupe(onorm)
				}
				sort.Strings(lnorm)
				sort.Strings(onorm)
				mode := "default"
				if wide {
					mode = "wide"
				}
				if strings.Join(lh, "|") == strings.Join(oh, "|") && strings.Join(lnorm, "\n") == strings.Join(onorm, "\n") {
					equal++
					report = append(report, fmt.Sprintf("| %s | %s (%s) | equal (%d rows) |", cluster, kind, mode, len(onorm)))
					continue
				}
				differ++
				report = append(report, fmt.Sprintf("| %s | %s (%s) | DIFFERS |", cluster, kind, mode))
				t.Errorf("%s on %s differs:\nlive header    %v\noffline header %v\nlive rows:\n%s\noffline rows:\n%s",
					cmd, cluster, lh, oh, strings.Join(lnorm, "\n"), strings.Join(onorm, "\n"))
			}
		}
	}
	t.Logf("parity: %d equal, %d differing, %d kinds not in the archive\n%s", equal, differ, absent, strings.Join(report, "\n"))
}

// dedupe drops repeated rows of a sorted list (events that differ only in their time).
func dedupe(rows []string) []string {
	sort.Strings(rows)
	out := rows[:0]
	for i, r := range rows {
		if i == 0 || r != rows[i-1] {
			out = append(out, r)
		}
	}
	return out
}

// table parses kubectl output into its header and rows.
func table(t *testing.T, text string) ([]string, []map[string]string) {
	t.Helper()
	rows := tableRows(t, text)
	first := strings.Split(strings.TrimSpace(text), "\n")[0]
	var header []string
	for _, h := range regexp.MustCompile(`\S+(?: \S+)*`).FindAllString(first, -1) {
		header = append(header, strings.TrimSpace(h))
	}
	return header, rows
}
