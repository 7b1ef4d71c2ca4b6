package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
)

func TestClusterStatusHealthy(t *testing.T) {
	c := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA).Client
	text, isErr := callTool(t, c, "cluster_status", map[string]any{"cluster": "spoke1"})
	if isErr {
		t.Fatalf("cluster_status failed: %s", text)
	}
	for _, want := range []string{
		"Cluster spoke1: Healthy",
		"managed-serviceaccount (healthy",
		"ManagedServiceAccount spoke1/" + roMSA + ": ready",
		"RBAC grant: ClusterPermission spoke1/" + roMSA + " applied (ClusterRoles view and " + roMSA + ")",
		"Capacity: cpu 8, ephemeral-storage 200Gi, memory 32Gi, pods 220",
		"Live, from the cluster itself:",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("cluster_status lacks %q:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`(?m)^ManagedClusterConditionAvailable +True `).MatchString(text) {
		t.Errorf("condition Available=True not listed:\n%s", text)
	}
	text, isErr = callTool(t, c, "cluster_status", map[string]any{"cluster": "spokee1"})
	if !isErr || !strings.Contains(text, `unknown cluster "spokee1"`) || !strings.Contains(text, `did you mean "spoke1"`) {
		t.Errorf("unknown cluster: %v %s", isErr, text)
	}
}

// TestSpoke3Faults breaks spoke3 in two ways, in order, restoring it after each.
func TestSpoke3Faults(t *testing.T) {
	ctx := context.Background()
	spoke3 := env.fleet.Spoke("spoke3")
	s := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--msa-name", roMSA, "--cluster-timeout", "4s")
	c := s.Client
	// Provision credentials while the cluster is healthy.
	if text, isErr := callTool(t, c, "cluster_status", map[string]any{"cluster": "spoke3"}); isErr || !strings.Contains(text, "Cluster spoke3: Healthy") {
		t.Fatalf("spoke3 not healthy at the start:\n%s", text)
	}

	t.Run("registration agent stopped", func(t *testing.T) {
		stopUntilCleanup(t, spoke3.RegistrationAgent, "spoke3")
		if err := env.fleet.WaitClusterCondition(ctx, "spoke3", clusterv1.ManagedClusterConditionAvailable, metav1.ConditionUnknown, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		text, isErr := callTool(t, c, "cluster_status", map[string]any{"cluster": "spoke3"})
		if isErr {
			t.Fatal(text)
		}
		for _, want := range []string{"Cluster spoke3: Unknown", "the lease has not been renewed for", "registration agent on the spoke is down or cannot reach the hub", "API server still answers"} {
			if !strings.Contains(text, want) {
				t.Errorf("cluster_status lacks %q:\n%s", want, text)
			}
		}
		text, _ = callTool(t, c, "list_clusters", nil)
		for _, r := range tableRows(t, text) {
			if r["NAME"] == "spoke3" && (r["AVAILABLE"] != "Unknown" || !strings.Contains(r["LEASE"], "stale")) {
				t.Errorf("list_clusters row for spoke3: %v", r)
			}
		}
	})

	t.Run("API server stopped", func(t *testing.T) {
		stopUntilCleanup(t, spoke3.APIServer, "spoke3")
		began := time.Now()
		text, isErr := callTool(t, c, "cluster_status", map[string]any{"cluster": "spoke3"})
		took := time.Since(began)
		if isErr {
			t.Fatal(text)
		}
		if !strings.Contains(text, "could not be read: cluster spoke3") || !strings.Contains(text, spoke3.URL) {
			t.Errorf("cluster_status does not say the spoke is unreachable at its URL:\n%s", text)
		}
		// Bounded by --cluster-timeout (4s per request; three reads at most).
		if took > 20*time.Second {
			t.Errorf("cluster_status took %s with the spoke down", took)
		}
		// diagnose says the same, whether or not the lease has gone stale yet: the hub sees the cluster but
		// cannot read it (spoke-api-unreadable), or the whole spoke is down (spoke-unreachable).
		text, isErr = callTool(t, c, "diagnose", map[string]any{"cluster": "spoke3"})
		host := strings.TrimPrefix(spoke3.URL, "https://")
		if isErr || !regexp.MustCompile(`\] spoke-(api-unreadable|unreachable) \(cluster spoke3\)`).MatchString(text) || !strings.Contains(text, host) {
			t.Errorf("diagnose does not report spoke3's API server as unreadable at %s:\n%s", host, text)
		}
		t.Logf("diagnose with spoke3's API server down: %s; %s", regexp.MustCompile(`\[\w+\] [a-z-]+`).FindString(text),
			regexp.MustCompile(`spoke-[a-z-]+ \(cluster spoke3\): [^\n]*`).FindString(text))
		text, isErr = callTool(t, c, "cluster_status", map[string]any{"cluster": "spoke1"})
		if isErr || !strings.Contains(text, "Cluster spoke1: Healthy") {
			t.Errorf("spoke1 affected by spoke3's outage:\n%s", text)
		}
	})
}

func TestPrepareCredentials(t *testing.T) {
	s := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--read-only", "--prepare-credentials", "--msa-name", "e2e-prep")
	select {
	case <-s.Logs.WaitFor(`"msg":"credentials prepared"`):
	case <-time.After(3 * time.Minute):
		t.Fatalf("credentials were not prepared:\n%s", s.Logs.String())
	}
	if strings.Contains(s.Logs.String(), "preparing credentials failed") {
		t.Errorf("a cluster failed:\n%s", s.Logs.String())
	}
	ctx := context.Background()
	for _, sp := range env.fleet.Spokes {
		sec, err := env.fleet.Hub.Kube.CoreV1().Secrets(sp.Name).Get(ctx, "e2e-prep", metav1.GetOptions{})
		if err != nil || len(sec.Data["token"]) == 0 {
			t.Errorf("%s: no token Secret after --prepare-credentials: %v", sp.Name, err)
		}
	}
}
