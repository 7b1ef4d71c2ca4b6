package mustgather

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	name, link string
	typ        byte
	body       string
}

func writeArchive(t *testing.T, entries []entry) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	if _, err := gz.Write(tarOf(t, entries)); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.tar.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tarOf writes entries as an uncompressed tar stream, headers as given (hostile ones included).
func tarOf(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o600, Size: int64(len(e.body))}
		if e.typ == tar.TypeDir || e.typ == tar.TypeSymlink || e.typ == tar.TypeLink || e.typ == tar.TypeChar || e.typ == tar.TypeFifo {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const nsYAML = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n"

func TestHostileArchives(t *testing.T) {
	ok := entry{name: "mg/hub/namespaces/default/default.yaml", typ: tar.TypeReg, body: nsYAML}
	big := strings.Repeat("x", 2048)
	tests := []struct {
		name    string
		entries []entry
		limits  Limits
		reason  string
	}{
		{"absolute path", []entry{ok, {name: "/etc/cron.d/evil", typ: tar.TypeReg, body: "x"}}, Limits{}, "absolute path"},
		{"dot-dot", []entry{ok, {name: "mg/../../evil", typ: tar.TypeReg, body: "x"}}, Limits{}, "'..'"},
		{"symlink out", []entry{ok, {name: "mg/hub/link", link: "/etc/passwd", typ: tar.TypeSymlink}}, Limits{}, "outside the archive"},
		{"relative symlink out", []entry{ok, {name: "mg/hub/link", link: "../../../etc", typ: tar.TypeSymlink}}, Limits{}, "outside the archive"},
		{"hard link out", []entry{ok, {name: "mg/hub/hard", link: "../outside", typ: tar.TypeLink}}, Limits{}, "outside the archive"},
		{"device", []entry{ok, {name: "mg/hub/dev", typ: tar.TypeChar}}, Limits{}, "device"},
		{"fifo", []entry{ok, {name: "mg/hub/fifo", typ: tar.TypeFifo}}, Limits{}, "device"},
		{"too many files", []entry{ok, ok2("a"), ok2("b"), ok2("c")}, Limits{MaxFiles: 3, MaxBytes: 1 << 20}, "more than 3 entries"},
		{"too large", []entry{ok, {name: "mg/hub/big.log", typ: tar.TypeReg, body: big}}, Limits{MaxFiles: 10, MaxBytes: 1024}, "past 1024 bytes"},
		{"duplicate entry", []entry{ok, ok}, Limits{}, "appears twice"},
		{"file where a folder should be", []entry{{name: "mg/hub", typ: tar.TypeReg, body: "x"}, ok}, Limits{}, "collides with another entry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			archive := writeArchive(t, tc.entries)
			work := t.TempDir()
			a, err := Open(archive, OpenOptions{Limits: tc.limits, WorkDir: work})
			var hostile *HostileArchiveError
			if !errors.As(err, &hostile) || !strings.Contains(err.Error(), tc.reason) {
				if a != nil {
					a.Close()
				}
				t.Fatalf("err = %v, want a refusal mentioning %q", err, tc.reason)
			}
			if strings.Contains(err.Error(), work) {
				t.Errorf("the refusal shows the server's private work folder: %v", err)
			}
			// Nothing was left behind: the private unpack folder is gone, nothing was written beside it.
			left, _ := os.ReadDir(work)
			if len(left) != 0 {
				t.Errorf("left behind in the work folder: %v", left)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(archive), "evil")); err == nil {
				t.Error("an entry was written outside the work folder")
			}
		})
	}
}

func ok2(n string) entry {
	return entry{name: "mg/hub/namespaces/ns" + n + "/ns" + n + ".yaml", typ: tar.TypeReg, body: strings.Replace(nsYAML, "default", "ns"+n, 1)}
}

func TestHostileFolder(t *testing.T) {
	dir := t.TempDir()
	ns := filepath.Join(dir, "hub", "namespaces", "default")
	if err := os.MkdirAll(ns, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ns, "default.yaml"), []byte(nsYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(ns, "core")); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, OpenOptions{})
	var hostile *HostileArchiveError
	if !errors.As(err, &hostile) || !strings.Contains(err.Error(), "outside the must-gather folder") {
		t.Fatalf("err = %v", err)
	}
}

func TestNotAMustGather(t *testing.T) {
	archive := writeArchive(t, []entry{{name: "README", typ: tar.TypeReg, body: "hello"}})
	_, err := Open(archive, OpenOptions{WorkDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "holds no must-gather data") {
		t.Fatalf("err = %v", err)
	}
}
