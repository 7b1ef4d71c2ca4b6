package e2e

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

var archivePath = regexp.MustCompile(`Wrote (\S+\.tar\.gz)`)

// collect runs the must_gather tool and returns the summary text and the archive path.
func collect(t *testing.T, s *session, args map[string]any) (string, string, int32) {
	t.Helper()
	var progress atomic.Int32
	s.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/progress" {
			progress.Add(1)
		}
	})
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "must_gather", args
	req.Params.Meta = &mcp.Meta{ProgressToken: "mg-1"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := s.CallTool(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	text := res.Content[0].(mcp.TextContent).Text
	_, _ = env.seen.Write([]byte(text))
	if res.IsError {
		t.Fatalf("must_gather failed: %s", text)
	}
	m := archivePath.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no archive path in %s", text)
	}
	return text, m[1], progress.Load()
}

// TestMustGatherWithASpokeDown collects the fleet while spoke3's API server is down: the others are
// collected, spoke3's failure is in the summary and in the archive.
func TestMustGatherWithASpokeDown(t *testing.T) {
	out := t.TempDir()
	s := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-mg", "--must-gather-dir", out, "--cluster-timeout", "5s")
	// Credentials for spoke3 while it is up, so the failure below is the API server's, not provisioning's.
	if text, isErr := callTool(t, s.Client, "kubectl", map[string]any{"cluster": "spoke3", "command": "get ns default"}); isErr {
		t.Fatal(text)
	}
	spoke3 := env.fleet.Spoke("spoke3")
	stopUntilCleanup(t, spoke3.APIServer, "spoke3")
	began := time.Now()
	text, path, progress := collect(t, s, map[string]any{"clusters": "spoke1,spoke2,spoke3"})
	t.Logf("collection: %s in %s\n%s", path, time.Since(began).Round(time.Millisecond), text)
	if !regexp.MustCompile(`(?m)^spoke3: NOT collected: cluster spoke3 cannot be read`).MatchString(text) ||
		!regexp.MustCompile(`(?m)^hub: \d+ objects`).MatchString(text) || !regexp.MustCompile(`(?m)^spoke1: \d+ objects, \d+ log files`).MatchString(text) {
		t.Errorf("summary:\n%s", text)
	}
	if !strings.Contains(text, "3 of 4 cluster(s) collected") {
		t.Errorf("count line missing:\n%s", text)
	}
	if progress < 1 {
		t.Errorf("no progress notification arrived")
	}
	a, err := mustgather.Open(path, mustgather.OpenOptions{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, name := range []string{"hub", "spoke1", "spoke2", "spoke3"} {
		if a.Clusters[name] == nil {
			t.Errorf("cluster %s missing from the archive (has %v)", name, a.Names())
		}
	}
	if !strings.Contains(a.Errors["spoke3"], "cannot be read") {
		t.Errorf("spoke3's error is not recorded in the archive: %q", a.Errors["spoke3"])
	}
	mcs := a.Clusters["hub"].Resources[schema.GroupResource{Group: "cluster.open-cluster-management.io", Resource: "managedclusters"}]
	if mcs == nil || len(mcs.Objects) != len(env.fleet.ManagedClusterNames()) {
		t.Errorf("hub managedclusters in the archive: %+v", mcs)
	}
	if nodes := a.Clusters["spoke1"].Resources[schema.GroupResource{Resource: "nodes"}]; nodes == nil || len(nodes.Objects) != len(env.fleet.Spoke("spoke1").NodeNames()) {
		t.Errorf("spoke1 nodes not collected (the fleet-reader grant should allow it)")
	}
	assertNoTokensIn(t, path)
}

// assertNoTokensIn unpacks nothing: it scans the raw files of an opened copy for every MSA token.
func assertNoTokensIn(t *testing.T, archive string) {
	t.Helper()
	dir := t.TempDir()
	a, err := mustgather.Open(archive, mustgather.OpenOptions{WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	secrets, err := env.fleet.Hub.Kube.CoreV1().Secrets("").List(context.Background(), metav1.ListOptions{
		LabelSelector: "authentication.open-cluster-management.io/is-managed-serviceaccount=true"})
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			f, _ := os.Open(p)
			_, _ = io.Copy(&all, f)
			f.Close()
		}
		return nil
	})
	for _, s := range secrets.Items {
		if tok := string(s.Data["token"]); tok != "" && strings.Contains(all.String(), tok) {
			t.Errorf("the archive holds the token of %s/%s", s.Namespace, s.Name)
		}
	}
	if all.Len() < 10000 {
		t.Errorf("only %d bytes scanned", all.Len())
	}
}

// TestOfflineAnswersMatchLive collects the healthy fleet, serves the archive, and asks both servers the
// same questions about the same objects.
func TestOfflineAnswersMatchLive(t *testing.T) {
	out := t.TempDir()
	live := stdioClient(t, "--kubeconfig", env.hubKubeconfig, "--msa-name", "e2e-mg", "--must-gather-dir", out)
	_, path, _ := collect(t, live, map[string]any{"clusters": "spoke1,spoke2"})
	if os.Getenv("UPDATE_SAMPLE") != "" {
		// The sample a new user opens first: the hub and every spoke, each injected fault in it.
		_, sample, _ := collect(t, live, map[string]any{"clusters": "*"})
		copyFile(t, sample, filepath.Join(fleet.ModuleRoot(), "mustgather", "testdata", "sample-fleet.tar.gz"))
	}
	offline := stdioClient(t, "--must-gather", path)
	// Columns that do not move between the collection and the question.
	stable := func(text string, cols ...string) []string {
		var rows []string
		for _, r := range tableRows(t, text) {
			var cells []string
			for _, c := range cols {
				cells = append(cells, r[c])
			}
			rows = append(rows, strings.Join(cells, "|"))
		}
		return rows
	}
	compare := func(tool string, args map[string]any, cols ...string) {
		t.Helper()
		l, lerr := callTool(t, live.Client, tool, args)
		o, oerr := callTool(t, offline.Client, tool, args)
		if lerr || oerr {
			t.Fatalf("%s %v: live error=%v offline error=%v\nlive:\n%s\noffline:\n%s", tool, args, lerr, oerr, l, o)
		}
		if cols == nil {
			if l != o {
				t.Errorf("%s %v differs:\nlive:\n%s\noffline:\n%s", tool, args, l, o)
			}
			return
		}
		if ls, os := strings.Join(stable(l, cols...), "\n"), strings.Join(stable(o, cols...), "\n"); ls != os {
			t.Errorf("%s %v differs:\nlive:\n%s\noffline:\n%s", tool, args, l, o)
		}
	}
	compare("list_clusters", nil, "NAME", "ACCEPTED", "JOINED", "AVAILABLE", "KUBERNETES VERSION", "CLUSTERSET", "ADDONS")
	compare("kubectl", map[string]any{"cluster": "hub", "command": "get managedclusters"}, "NAME", "HUB ACCEPTED", "MANAGED CLUSTER URLS", "JOINED", "AVAILABLE")
	compare("kubectl", map[string]any{"cluster": "hub", "command": "get managedclusteraddons -A"}, "NAMESPACE", "NAME")
	compare("kubectl", map[string]any{"cluster": "spoke1", "command": "get pods -n open-cluster-management-agent-addon"}, "NAME", "READY", "STATUS", "RESTARTS")
	compare("kubectl", map[string]any{"cluster": "spoke1", "command": "get deploy -n open-cluster-management-agent-addon"}, "NAME", "READY", "UP-TO-DATE", "AVAILABLE")
	compare("kubectl", map[string]any{"cluster": "spoke1", "command": "get nodes"}, "NAME", "STATUS", "ROLES", "VERSION")
	compare("kubectl", map[string]any{"cluster": "spoke1", "command": "get ns -l kubernetes.io/metadata.name=open-cluster-management-agent"}, "NAME", "STATUS")
	compare("kubectl", map[string]any{"cluster": "spoke1", "command": "get deploy -n open-cluster-management-agent-addon -o name"})
	compare("kubectl", map[string]any{"cluster": "spoke1", "command": "get ns --field-selector metadata.name=default -o jsonpath='{.items[*].metadata.name}'"})
	compare("kubectl", map[string]any{"cluster": "spoke1", "command": "get deploy -n open-cluster-management-agent-addon -o 'custom-columns=NAME:.metadata.name,IMAGE:.spec.template.spec.containers[0].image'"})
	compare("kubectl", map[string]any{"cluster": "spoke1,spoke2", "command": "get deploy -n open-cluster-management-agent-addon"}, "CLUSTER", "NAME", "READY")

	text, isErr := callTool(t, offline.Client, "cluster_status", map[string]any{"cluster": "spoke1"})
	if isErr || !strings.Contains(text, "Cluster spoke1: Healthy") || !strings.Contains(text, "From the cluster's own folder in the must-gather") {
		t.Errorf("offline cluster_status:\n%s", text)
	}
	text, isErr = callTool(t, offline.Client, "kubectl", map[string]any{"cluster": "spoke1", "command": "describe deploy -n open-cluster-management-agent-addon managed-serviceaccount-addon-agent"})
	if isErr || !strings.Contains(text, "Replicas:") || !strings.Contains(text, "ScalingReplicaSet") {
		t.Errorf("offline describe:\n%s", text)
	}
	text, _ = callTool(t, offline.Client, "must_gather_summary", nil)
	// The workloads of every namespace are collected: spoke1's injected crash loop and failed Job are there.
	if !strings.Contains(text, "Clusters that are not healthy") || !strings.Contains(text, "Cluster spoke1: 2 failing or pending pod(s)") ||
		!strings.Contains(text, "pod payments/payments-api-") || !strings.Contains(text, "pod reports/nightly-export-") {
		t.Errorf("summary:\n%s", text)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tools, err := offline.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		if tool.Name == "kubectl_write" || tool.Name == "must_gather" {
			t.Errorf("offline mode offers %s", tool.Name)
		}
	}
	text, isErr = callTool(t, offline.Client, "kubectl", map[string]any{"cluster": "spoke1", "command": "auth whoami"})
	if !isErr || !strings.Contains(text, "not available on a must-gather archive") {
		t.Errorf("offline whoami: %v %s", isErr, text)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("sample archive updated: %s", to)
}

// TestREADMEOfflineQuickStart runs the README's first command: the server on the checked-in sample.
func TestREADMEOfflineQuickStart(t *testing.T) {
	sample := filepath.Join(fleet.ModuleRoot(), "mustgather", "testdata", "sample-fleet.tar.gz")
	s := stdioClient(t, "--must-gather", sample)
	text, isErr := callTool(t, s.Client, "list_clusters", nil)
	if isErr || len(tableRows(t, text)) != 4 || !strings.HasPrefix(text, "Fleet: 4 cluster(s)") {
		t.Fatalf("list_clusters on the sample: %v\n%s", isErr, text)
	}
	// A first look finds something to diagnose.
	if text, isErr = callTool(t, s.Client, "diagnose", nil); isErr || !strings.Contains(text, "[warning] pod-crashlooping (cluster spoke1)") {
		t.Errorf("diagnose on the sample: %v\n%s", isErr, text)
	}
	text, isErr = callTool(t, s.Client, "kubectl", map[string]any{"cluster": "spoke2", "command": "get pods -A"})
	if isErr || !strings.Contains(text, "managed-serviceaccount-addon-agent") {
		t.Errorf("kubectl on the sample: %v\n%s", isErr, text)
	}
}
