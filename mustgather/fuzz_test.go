package mustgather

import (
	"archive/tar"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FuzzUnpack feeds arbitrary tar streams to the unpacker. Whatever the input, it may not panic, may
// write nothing outside its destination, and may leave nothing there but folders and regular files (links
// are never materialised). `go test` runs the seeds; `go test -fuzz FuzzUnpack -fuzzminimizetime 2s ./mustgather`
// searches on (each run touches the disk, so the default minute of minimising is slow).
func FuzzUnpack(f *testing.F) {
	ok := entry{name: "mg/hub/namespaces/default/default.yaml", typ: tar.TypeReg, body: nsYAML}
	for _, entries := range [][]entry{
		{ok},
		{{name: "mg/", typ: tar.TypeDir}, ok, ok2("a")},
		{ok, {name: "/etc/evil", typ: tar.TypeReg, body: "x"}},
		{ok, {name: "mg/../../evil", typ: tar.TypeReg, body: "x"}},
		{ok, {name: "mg/hub/link", link: "../../../etc", typ: tar.TypeSymlink}},
		{{name: "mg/hub/link", link: "inside", typ: tar.TypeSymlink}, {name: "mg/hub/link/x", typ: tar.TypeReg, body: "x"}},
		{ok, {name: "mg/hub/hard", link: "../outside", typ: tar.TypeLink}},
		{ok, {name: "mg/hub/dev", typ: tar.TypeChar}},
		{ok, ok},
		{{name: "mg/a", typ: tar.TypeReg, body: "x"}, {name: "mg/a/b", typ: tar.TypeReg, body: "y"}},
	} {
		f.Add(tarOf(f, entries))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		archive := filepath.Join(root, "in.tar")
		if err := os.WriteFile(archive, data, 0o600); err != nil {
			t.Fatal(err)
		}
		dest := filepath.Join(root, "work", "dest")
		if err := os.MkdirAll(dest, 0o700); err != nil {
			t.Fatal(err)
		}
		_ = unpack(archive, dest, Limits{MaxFiles: 64, MaxBytes: 1 << 20})
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch {
			case p == root || p == archive || p == filepath.Dir(dest):
			case !within(dest, p):
				t.Errorf("written outside the destination: %s", p)
			case !d.Type().IsRegular() && !d.IsDir():
				t.Errorf("a special file or link was created: %s (%v)", p, d.Type())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
