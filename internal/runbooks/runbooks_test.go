package runbooks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuiltinRunbooksAreComplete(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cluster-unknown", "agent-hub-credentials-invalid", "addon-not-created", "addon-unavailable",
		"serviceaccount-token-missing", "manifestwork-failed", "placement-no-decisions", "spoke-api-unreadable",
		"pod-crashloop", "pod-oomkilled", "pod-image-pull", "pod-unschedulable", "service-no-endpoints", "pdb-blocks-disruption",
		"rollout-stuck", "job-failed", "node-pressure"}
	for _, name := range want {
		rb := s.Get("runbook://ocm/" + name)
		if rb == nil {
			t.Errorf("runbook %s missing", name)
			continue
		}
		for _, h := range []string{"## Symptoms", "## Checks", "## Causes", "## Fixes", "## Verify"} {
			if !strings.Contains(rb.Content, h) {
				t.Errorf("%s lacks %q", name, h)
			}
		}
		if !strings.Contains(rb.Content, "kubectl_write") {
			t.Errorf("%s gives no fix as a kubectl_write call", name)
		}
		if rb.Title == "" || rb.Description == "" {
			t.Errorf("%s: title %q description %q", name, rb.Title, rb.Description)
		}
	}
}

func TestSearchRanks(t *testing.T) {
	dir := t.TempDir()
	team := "# Our VPN drops spokes\n\nWhen the site VPN flaps, spokes in region emea go Unknown.\n\n## Fixes\nRestart the vpn-gateway.\n"
	if err := os.WriteFile(filepath.Join(dir, "vpn.md"), []byte(team), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query, wantURI string
	}{
		{"lease stale cluster unknown", "runbook://ocm/cluster-unknown"},
		{"x509 certificate expired bootstrap kubeconfig", "runbook://ocm/agent-hub-credentials-invalid"},
		{"NoManagedClusterSetBindings placement decisions", "runbook://ocm/placement-no-decisions"},
		{"TokenReported managedserviceaccount", "runbook://ocm/serviceaccount-token-missing"},
		{"vpn flaps emea", "runbook://team/vpn"},
		{"OOMKilled exit code 137 memory limit", "runbook://ocm/pod-oomkilled"},
		{"ImagePullBackOff registry tag", "runbook://ocm/pod-image-pull"},
		{"PodDisruptionBudget drain disruptions allowed", "runbook://ocm/pdb-blocks-disruption"},
		{"CrashLoopBackOff logs previous", "runbook://ocm/pod-crashloop"},
		{"FailedScheduling didn't match node affinity selector", "runbook://ocm/pod-unschedulable"},
		{"BackoffLimitExceeded job", "runbook://ocm/job-failed"},
		{"ProgressDeadlineExceeded ResourceQuota", "runbook://ocm/rollout-stuck"},
		{"DiskPressure node evicted", "runbook://ocm/node-pressure"},
		{"EndpointSlices selector service", "runbook://ocm/service-no-endpoints"},
	}
	for _, tc := range tests {
		hits := s.Search(tc.query, 3)
		if len(hits) == 0 || hits[0].Section.Runbook.URI != tc.wantURI {
			got := ""
			if len(hits) > 0 {
				got = hits[0].Section.Runbook.URI
			}
			t.Errorf("search %q: top %s, want %s", tc.query, got, tc.wantURI)
		}
	}
	if hits := s.Search("zebra giraffe", 3); len(hits) != 0 {
		t.Errorf("nonsense query matched %d sections", len(hits))
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("an empty runbook folder was accepted")
	}
}
