package mustgather

import (
	"archive/tar"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// tarFolder packs a fixture folder (below prefix in the archive) into entries.
func tarFolder(t *testing.T, dir, prefix string) []entry {
	t.Helper()
	var out []entry
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		body, err := os.ReadFile(p)
		out = append(out, entry{name: prefix + filepath.ToSlash(rel), typ: tar.TypeReg, body: string(body)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPlainMustGather opens a plain OpenShift must-gather (no OCM object at all) as a folder and as
// archives: it is one cluster, named from the folder or the archive, never from the private unpack
// folder or the generic must-gather.local.* name.
func TestPlainMustGather(t *testing.T) {
	fixture := filepath.Join("testdata", "ocp-plain")
	inner := filepath.Join(fixture, "must-gather.local.4242")
	image := filepath.Join(inner, "quay-io-openshift-release-dev-ocp-v4-0-art-dev-sha256-9f8e7d6c5b4a")
	tests := []struct {
		name, path string
		want       string
	}{
		{"the folder holding must-gather.local.*", fixture, "ocp-plain"},
		{"must-gather.local.* given itself", inner, "must-gather.local.4242"},
		{"an archive of must-gather.local.*", writeArchiveAs(t, tarFolder(t, inner, "must-gather.local.4242/"), "acme-prod.tar.gz"), "acme-prod"},
		{"an xz archive of the image folder alone", writeArchiveAs(t, tarFolder(t, image, ""), "inspect-eu1.tar.xz"), "inspect-eu1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Open(tc.path, OpenOptions{WorkDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if got := a.Names(); !reflect.DeepEqual(got, []string{tc.want}) {
				t.Fatalf("clusters %v, want [%s]", got, tc.want)
			}
			src, err := a.Source()
			if err != nil {
				t.Fatal(err)
			}
			if len(src.Clusters) != 0 || !reflect.DeepEqual(src.Unregistered, []string{tc.want}) {
				t.Errorf("hub view: %d ManagedClusters, unregistered %v", len(src.Clusters), src.Unregistered)
			}
			if !strings.Contains(tc.name, "image folder alone") {
				if want := time.Date(2026, 11, 30, 10, 1, 2, 123456789, time.UTC); !a.CollectedAt.Equal(want) {
					t.Errorf("collected at %v, want %v", a.CollectedAt, want)
				}
			}
		})
	}
}
