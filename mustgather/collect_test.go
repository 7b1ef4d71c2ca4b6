package mustgather

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// collectedAt is the collection time of the test collections: the archive is must-gather-<stamp>.
var collectedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const testArchiveRoot = "must-gather-20260102-030405"

// agentNS is the spoke agent namespace, collected in full.
const agentNS = "open-cluster-management-agent"

// hostileSpoke serves a spoke whose API returns names that climb out of the collector's folder, or
// that are no Kubernetes names at all, next to benign objects. The climbing names are counted so that,
// written unchecked, they land just beside the collector's output folder, inside the test's temp folder.
func hostileSpoke() *fakeAPI {
	pod := func(ns, name string, init []string, containers ...string) map[string]any {
		var cs, ics []any
		for _, c := range containers {
			cs = append(cs, map[string]any{"name": c, "image": "registry.example/agent:1"})
		}
		for _, c := range init {
			ics = append(ics, map[string]any{"name": c, "image": "registry.example/agent:1"})
		}
		spec := map[string]any{"containers": cs}
		if ics != nil {
			spec["initContainers"] = ics
		}
		return obj("v1", "Pod", ns, name, map[string]any{"spec": spec})
	}
	warning := map[string]any{"type": "Warning", "reason": "BackOff", "message": "back-off restarting"}
	return &fakeAPI{
		resources: []fakeResource{
			{gvrNamespaces, "Namespace", false},
			{gvrNodes, "Node", false},
			{gvrEvents, "Event", true},
			{gvrPods, "Pod", true},
			{gvrConfigMaps, "ConfigMap", true},
			{gvrRoles, "Role", true},
			// Resource and group names that are no Kubernetes names.
			{schema.GroupVersionResource{Version: "v1", Resource: ".."}, "Climb", true},
			{schema.GroupVersionResource{Version: "v1", Resource: "Evil_Things"}, "EvilThing", true},
			{schema.GroupVersionResource{Group: "Evil_Group", Version: "v1", Resource: "widgets"}, "Widget", true},
		},
		objects: map[schema.GroupResource][]map[string]any{
			gvrNamespaces.GroupResource(): {
				obj("v1", "Namespace", "", agentNS, nil),
				obj("v1", "Namespace", "", "../../../../../../../escaped-ns", nil),
				obj("v1", "Namespace", "", "../../x", nil),
				obj("v1", "Namespace", "", "/etc/x", nil),
				obj("v1", "Namespace", "", "a/b", nil),
				obj("v1", "Namespace", "", "", nil),
				obj("v1", "Namespace", "", ".", nil),
				obj("v1", "Namespace", "", "..", nil),
				obj("v1", "Namespace", "", "nul\x00byte", nil),
			},
			gvrNodes.GroupResource(): {obj("v1", "Node", "", "node1", nil)},
			gvrEvents.GroupResource(): {
				obj("v1", "Event", agentNS, "ev1", warning),
				obj("v1", "Event", "../../../../../escaped-evns", "ev-climbs", warning),
				obj("v1", "Event", ".", "ev-dot", warning),
			},
			gvrConfigMaps.GroupResource(): {
				obj("v1", "ConfigMap", agentNS, "cm1", nil),
				obj("v1", "ConfigMap", agentNS, "../../../../../../../../escaped-cm", nil),
				obj("v1", "ConfigMap", agentNS, "a\\b", nil),
				obj("v1", "ConfigMap", agentNS, strings.Repeat("n", 251), nil),
			},
			gvrRoles.GroupResource(): {
				// RBAC names may hold ':' (a path-segment name): collected.
				obj("rbac.authorization.k8s.io/v1", "Role", agentNS, "system:controller:bootstrap-signer", nil),
			},
			gvrPods.GroupResource(): {
				pod(agentNS, "agent-1", []string{"/etc/x"}, "agent", "../c"),
				pod(agentNS, "../../../../../../../escaped-pod", nil, "c"),
			},
			{Resource: ".."}:                           {obj("v1", "Climb", agentNS, "climber", nil)},
			{Resource: "Evil_Things"}:                  {obj("v1", "EvilThing", agentNS, "thing", nil)},
			{Group: "Evil_Group", Resource: "widgets"}: {obj("Evil_Group/v1", "Widget", agentNS, "widget", nil)},
		},
		log: "2026-01-02T03:00:00Z agent started\n",
	}
}

// TestCollectHostileNames drives the collector against a spoke that answers with hostile names: nothing
// may be written outside the collection, the hostile objects are reported as skipped (with why), and the
// benign ones are collected.
func TestCollectHostileNames(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	cfg := hostileSpoke().start(t)
	sum, err := Collect(context.Background(), CollectOptions{
		Targets: []Target{
			{Name: "spoke1", Config: cfg},
			{Name: "../../../escaped-cluster", Config: cfg},
		},
		OutDir: out,
		Now:    func() time.Time { return collectedAt },
	})
	if err != nil {
		t.Fatal(err)
	}

	// Nothing beside the archive: the climbing names would land in parent or in out.
	archive := filepath.Join(out, testArchiveRoot+".tar.gz")
	err = filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != parent && p != out && p != archive {
			t.Errorf("written outside the collection: %s", strings.TrimPrefix(p, parent))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The archive holds the benign objects, each where the layout puts it, and nothing else.
	spoke := testArchiveRoot + "/spoke1/"
	want := []string{
		testArchiveRoot + "/timestamp",
		spoke + "collection-errors.txt",
		spoke + "cluster-scoped-resources/core/namespaces/" + agentNS + ".yaml",
		spoke + "cluster-scoped-resources/core/nodes/node1.yaml",
		spoke + "namespaces/" + agentNS + "/core/configmaps/cm1.yaml",
		spoke + "namespaces/" + agentNS + "/core/events/ev1.yaml",
		spoke + "namespaces/" + agentNS + "/core/pods/agent-1.yaml",
		spoke + "namespaces/" + agentNS + "/pods/agent-1/agent/agent/logs/current.log",
		spoke + "namespaces/" + agentNS + "/rbac.authorization.k8s.io/roles/system:controller:bootstrap-signer.yaml",
	}
	sort.Strings(want)
	files := archiveFiles(t, archive)
	if strings.Join(files, "\n") != strings.Join(want, "\n") {
		t.Errorf("the archive holds\n  %s\nwant\n  %s", strings.Join(files, "\n  "), strings.Join(want, "\n  "))
	}

	var spoke1, escaped *ClusterResult
	for i := range sum.Clusters {
		switch sum.Clusters[i].Name {
		case "spoke1":
			spoke1 = &sum.Clusters[i]
		case "../../../escaped-cluster":
			escaped = &sum.Clusters[i]
		}
	}
	if spoke1 == nil || escaped == nil {
		t.Fatalf("clusters in the summary: %+v", sum.Clusters)
	}
	if !strings.Contains(escaped.Error, "not a valid cluster name") {
		t.Errorf("the cluster with a climbing name: error %q, want it refused as not a valid cluster name", escaped.Error)
	}
	if spoke1.Error != "" || spoke1.Objects != 7 || spoke1.Logs != 1 {
		t.Errorf("spoke1: error %q, %d objects, %d logs; want 7 objects (a namespace, a node, a configmap, an event twice, a pod, a role) and 1 log", spoke1.Error, spoke1.Objects, spoke1.Logs)
	}
	skipped := strings.Join(spoke1.Skipped, "\n")
	tests := []struct {
		name string
		want string // in one entry of the skipped list
	}{
		{"namespace climbing out", `namespaces "../../../../../../../escaped-ns": not written: the name may not contain '/'`},
		{"namespace climbing in", `namespaces "../../x": not written`},
		{"absolute namespace name", `namespaces "/etc/x": not written`},
		{"namespace with a slash", `namespaces "a/b": not written`},
		{"empty namespace name", `namespaces "": not written: the name is empty`},
		{"namespace named dot", `namespaces ".": not written: the name may not be '.'`},
		{"namespace named dot-dot", `namespaces "..": not written: the name may not be '..'`},
		{"namespace with a NUL byte", `namespaces "nul\x00byte": not written: the name may not contain control characters`},
		{"event in a climbing namespace", `events "ev-climbs" in "../../../../../escaped-evns": not written: the namespace`},
		{"event in namespace dot", `events "ev-dot" in ".": not written: the namespace`},
		{"configmap climbing out", `configmaps "../../../../../../../../escaped-cm" in "` + agentNS + `": not written`},
		{"configmap with a backslash", `configmaps "a\\b" in "` + agentNS + `": not written: the name may not contain a backslash`},
		{"configmap name too long for a file", `configmaps "` + strings.Repeat("n", 251) + `" in "` + agentNS + `": not written: the name is longer than`},
		{"pod climbing out", `pods "../../../../../../../escaped-pod" in "` + agentNS + `": not written`},
		{"logs of a pod climbing out", `logs of pod "../../../../../../../escaped-pod" in "` + agentNS + `": not collected`},
		{"container climbing", `logs of container "../c" of pod "agent-1" in "` + agentNS + `": not collected: the container name`},
		{"absolute init container", `logs of container "/etc/x" of pod "agent-1" in "` + agentNS + `": not collected: the container name`},
		{"resource named dot-dot", `resource ".." of the core group: not collected: the resource name`},
		{"resource with capitals", `resource "Evil_Things" of the core group: not collected: the resource name`},
		{"group that is no DNS name", `resource "widgets" of group "Evil_Group": not collected: the group name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(skipped, tc.want) {
				t.Errorf("no skipped entry says %q; skipped:\n%s", tc.want, skipped)
			}
		})
	}
}

// archiveFiles lists the regular files of a .tar.gz, sorted.
func archiveFiles(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var files []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			files = append(files, hdr.Name)
		}
	}
	sort.Strings(files)
	return files
}

// TestCollectAfterTheDeadline: a collection whose context has ended starts no cluster: each is recorded
// as not collected, in the summary and in its folder, and the archive is still written.
func TestCollectAfterTheDeadline(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	cfg := hostileSpoke().start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	var progress []string
	sum, err := Collect(ctx, CollectOptions{
		Targets:  []Target{{Name: "spoke1", Config: cfg}, {Name: "spoke2", Config: cfg}},
		OutDir:   out,
		Now:      func() time.Time { return collectedAt },
		Progress: func(done, total int, msg string) { progress = append(progress, msg) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sum.Clusters {
		if !strings.Contains(r.Error, "not collected: the collection ended before this cluster's turn") || r.Objects != 0 {
			t.Errorf("%s: %+v", r.Name, r)
		}
	}
	if len(progress) != 2 {
		t.Errorf("progress heard %d clusters: %q", len(progress), progress)
	}
	files := archiveFiles(t, filepath.Join(out, testArchiveRoot+".tar.gz"))
	want := []string{testArchiveRoot + "/spoke1/collection-errors.txt", testArchiveRoot + "/spoke2/collection-errors.txt", testArchiveRoot + "/timestamp"}
	if strings.Join(files, "\n") != strings.Join(want, "\n") {
		t.Errorf("the archive holds %q; want %q", files, want)
	}
}
