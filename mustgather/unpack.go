package mustgather

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ulikunitz/xz"
)

// Limits bound what an archive may hold.
type Limits struct {
	MaxBytes int64 // total uncompressed size
	MaxFiles int   // number of entries
}

// DefaultLimits suit a fleet must-gather: large, but not unbounded.
var defaultLimits = Limits{MaxBytes: 8 << 30, MaxFiles: 1_000_000}

// DefaultLimits returns the default archive limits.
func DefaultLimits() Limits { return defaultLimits }

// HostileArchiveError says why an archive was refused.
type HostileArchiveError struct {
	Entry  string
	Reason string
}

func (e *HostileArchiveError) Error() string {
	if e.Entry == "" {
		return "refusing the archive: " + e.Reason
	}
	return fmt.Sprintf("refusing the archive: entry %q %s", e.Entry, e.Reason)
}

// unpack extracts a tar archive (plain, gzip or xz compressed) into dest, which must be an empty
// private folder. Nothing is written outside dest; the first hostile entry stops the extraction. The
// compression is read from the file's first bytes, whatever its name says.
func unpack(archive, dest string, lim Limits) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, _ := br.Peek(512)
	var r io.Reader = br
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s is not a gzip archive: %w", filepath.Base(archive), err)
		}
		defer gz.Close()
		r = gz
	case bytes.HasPrefix(magic, xzMagic):
		xr, err := xz.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s is not an xz archive: %w", filepath.Base(archive), err)
		}
		r = xr
	case !isTar(magic):
		return fmt.Errorf("%s is not a must-gather archive: a must-gather is a folder, or a .tar, .tar.gz, .tgz or .tar.xz archive of one", filepath.Base(archive))
	}
	tr := tar.NewReader(r)
	var total int64
	files := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", archive, err)
		}
		files++
		if files > lim.MaxFiles {
			return &HostileArchiveError{Reason: fmt.Sprintf("holds more than %d entries (raise --must-gather-max-files to accept it)", lim.MaxFiles)}
		}
		target, err := safeTarget(dest, hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := mkdirEntry(target, hdr.Name); err != nil {
				return err
			}
		case tar.TypeReg:
			if hdr.Size < 0 || total+hdr.Size > lim.MaxBytes {
				return &HostileArchiveError{Entry: hdr.Name, Reason: fmt.Sprintf("takes the archive past %d bytes unpacked (raise --must-gather-max-bytes to accept it)", lim.MaxBytes)}
			}
			n, err := writeFile(target, hdr.Name, tr, lim.MaxBytes-total)
			total += n
			if err != nil {
				return err
			}
		case tar.TypeSymlink, tar.TypeLink:
			if err := checkLink(dest, target, hdr); err != nil {
				return err
			}
			// Links are not materialised: a link inside the tree adds nothing the reader needs.
		case tar.TypeXGlobalHeader, tar.TypeXHeader:
		default:
			return &HostileArchiveError{Entry: hdr.Name, Reason: fmt.Sprintf("is a device, FIFO or other special file (type %q)", hdr.Typeflag)}
		}
	}
}

// Magic numbers of the compressed formats accepted.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	xzMagic   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
)

// isTar reports whether a block starts a tar stream: "ustar" at offset 257 (POSIX and GNU tar), or
// an old-style header whose checksum field holds octal digits.
func isTar(block []byte) bool {
	if len(block) < 512 {
		return false
	}
	if bytes.Equal(block[257:262], []byte("ustar")) {
		return true
	}
	sum := bytes.TrimRight(bytes.TrimSpace(block[148:156]), "\x00 ")
	if len(sum) == 0 {
		return false
	}
	for _, c := range sum {
		if c < '0' || c > '7' {
			return false
		}
	}
	return true
}

// safeTarget maps an entry name into dest, refusing absolute paths and "..".
func safeTarget(dest, name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || filepath.IsAbs(name) {
		return "", &HostileArchiveError{Entry: name, Reason: "has an absolute path"}
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", &HostileArchiveError{Entry: name, Reason: "climbs out of the archive with '..'"}
		}
	}
	clean := path.Clean(name)
	target := filepath.Join(dest, filepath.FromSlash(clean))
	if !within(dest, target) {
		return "", &HostileArchiveError{Entry: name, Reason: "leaves the archive"}
	}
	return target, nil
}

// checkLink refuses a link whose target leaves the tree.
func checkLink(dest, at string, hdr *tar.Header) error {
	linkTarget := hdr.Linkname
	var resolved string
	if hdr.Typeflag == tar.TypeLink || !filepath.IsAbs(linkTarget) {
		base := dest
		if hdr.Typeflag == tar.TypeSymlink {
			base = filepath.Dir(at)
		}
		resolved = filepath.Join(base, filepath.FromSlash(linkTarget))
	} else {
		resolved = linkTarget
	}
	if filepath.IsAbs(linkTarget) || !within(dest, resolved) {
		return &HostileArchiveError{Entry: hdr.Name, Reason: fmt.Sprintf("is a link to %q, outside the archive", linkTarget)}
	}
	return nil
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

// mkdirEntry makes the folder an entry needs; it fails only when an earlier entry put a file in the way.
func mkdirEntry(dir, name string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &HostileArchiveError{Entry: name, Reason: "collides with another entry (a file stands where a folder should be)"}
	}
	return nil
}

// writeFile writes one entry, named name in the archive, to target.
func writeFile(target, name string, r io.Reader, budget int64) (int64, error) {
	if err := mkdirEntry(filepath.Dir(target), name); err != nil {
		return 0, err
	}
	// O_EXCL: an entry may not overwrite another, nor follow something already there.
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, &HostileArchiveError{Entry: name, Reason: "appears twice or collides with another entry"}
	}
	defer f.Close()
	n, err := io.Copy(f, io.LimitReader(r, budget+1))
	if err != nil {
		return n, err
	}
	if n > budget {
		return n, &HostileArchiveError{Entry: name, Reason: "is larger than its header says, past the size limit"}
	}
	return n, nil
}
