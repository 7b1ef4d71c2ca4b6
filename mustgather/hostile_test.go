package mustgather

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
)

type entry struct {
	name, link string
	typ        byte
	body       string
}

func writeArchive(t *testing.T, entries []entry) string {
	t.Helper()
	return writeArchiveAs(t, entries, "a.tar.gz")
}

// writeArchiveAs writes entries as a tar stream compressed as the file name says (.tar.gz, .tgz,
// .tar.xz or .tar).
func writeArchiveAs(t *testing.T, entries []entry, name string) string {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch {
	case strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".tgz"):
		w = gzip.NewWriter(&buf)
	case strings.HasSuffix(name, ".xz") || strings.HasSuffix(name, ".txz"):
		xw, err := xz.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w = xw
	default:
		w = nopWriteCloser{&buf}
	}
	if _, err := w.Write(tarOf(t, entries)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

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
		for _, format := range []string{"a.tar.gz", "a.tar.xz", "a.tar"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				archive := writeArchiveAs(t, tc.entries, format)
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

// TestArchiveFormats opens the same must-gather as a plain tar, a gzip and an xz archive, whatever
// the file is named: the format is read from the first bytes.
func TestArchiveFormats(t *testing.T) {
	entries := []entry{
		{name: "must-gather.local.1/quay-io-openshift-release-dev-ocp-v4-0-art-dev-sha256-ab12/namespaces/default/default.yaml", typ: tar.TypeReg, body: nsYAML},
		{name: "must-gather.local.1/timestamp", typ: tar.TypeReg, body: "2026-11-30 10:01:02.123456789 +0000 UTC m=+0.382910061\n"},
	}
	for _, name := range []string{"mg.tar", "mg.tar.gz", "mg.tgz", "mg.tar.xz", "mg.txz"} {
		t.Run(name, func(t *testing.T) {
			a, err := Open(writeArchiveAs(t, entries, name), OpenOptions{WorkDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if len(a.Clusters) != 1 || a.CollectedAt.IsZero() {
				t.Errorf("clusters %v, collected at %v", a.Names(), a.CollectedAt)
			}
		})
	}
	t.Run("zip is refused with what is accepted", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "mg.zip")
		if err := os.WriteFile(path, []byte("PK\x03\x04 not a tar"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path, OpenOptions{WorkDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), ".tar.xz") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestNotAMustGather(t *testing.T) {
	archive := writeArchive(t, []entry{{name: "README", typ: tar.TypeReg, body: "hello"}})
	_, err := Open(archive, OpenOptions{WorkDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "holds no must-gather data") {
		t.Fatalf("err = %v", err)
	}
}
