package mustgather

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/lru"
)

// Archive is an opened must-gather: one Cluster per cluster it holds.
type Archive struct {
	Path     string // as given
	Clusters map[string]*Cluster
	// Errors are the collection errors recorded in the archive, by cluster.
	Errors map[string]string
	// CollectedAt is when the archive was made, when it says.
	CollectedAt time.Time
	// Files and Bytes count what was indexed.
	Files int
	Bytes int64

	workDir string // private unpack folder, removed by Close
	limits  Limits
	ix      *indexer
	refTime time.Time // ReferenceTime, once the archive is indexed
}

// OpenOptions configure Open.
type OpenOptions struct {
	Limits Limits
	// WorkDir is where archives are unpacked (a private folder is made inside; default: the system temp).
	WorkDir string
	// waitObjects overrides syncIndexObjects (-1: never wait), for tests.
	waitObjects int
}

// Open reads a must-gather folder or .tar.gz archive.
func Open(path string, o OpenOptions) (*Archive, error) {
	if o.Limits.MaxBytes == 0 {
		o.Limits.MaxBytes = defaultLimits.MaxBytes
	}
	if o.Limits.MaxFiles == 0 {
		o.Limits.MaxFiles = defaultLimits.MaxFiles
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("must-gather %s: %w", path, err)
	}
	a := &Archive{Path: path, Clusters: map[string]*Cluster{}, Errors: map[string]string{}, limits: o.Limits}
	root := path
	if !info.IsDir() {
		if a.workDir, err = os.MkdirTemp(o.WorkDir, "must-gather-"); err != nil {
			return nil, err
		}
		if err := unpack(path, a.workDir, o.Limits); err != nil {
			a.Close()
			return nil, err
		}
		root = a.workDir
	}
	a.startIndex(o)
	if err := a.index(root, o.Limits); err != nil {
		a.Close()
		return nil, err
	}
	if len(a.Clusters) == 0 {
		a.Close()
		return nil, fmt.Errorf("%s holds no must-gather data: no cluster-scoped-resources/ or namespaces/ folder was found", path)
	}
	a.decodeAll(o)
	return a, nil
}

// ReferenceTime is "now" for this archive: when it was collected, or, when it does not say, the newest
// lease renewal it holds (so that ages and lease staleness read as they did at collection time).
func (a *Archive) ReferenceTime() time.Time {
	if !a.CollectedAt.IsZero() {
		return a.CollectedAt
	}
	if !a.refTime.IsZero() {
		return a.refTime
	}
	var newest time.Time
	for _, c := range a.Clusters {
		leases, _ := c.All(grLeases)
		for _, o := range leases {
			if t, err := time.Parse(time.RFC3339Nano, str(o.Object, "spec", "renewTime")); err == nil && t.After(newest) {
				newest = t
			}
		}
	}
	if newest.IsZero() {
		return time.Now()
	}
	return newest
}

// Close stops the index builder and removes the index and the unpacked copy, if any.
func (a *Archive) Close() {
	a.closeIndex()
	if a.workDir != "" {
		_ = os.RemoveAll(a.workDir)
	}
}

// Names returns the cluster names, sorted, the hub first.
func (a *Archive) Names() []string {
	names := make([]string, 0, len(a.Clusters))
	for n := range a.Clusters {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == HubName) != (names[j] == HubName) {
			return names[i] == HubName
		}
		return names[i] < names[j]
	})
	return names
}

// HubName names the hub's folder in archives the server writes.
const HubName = "hub"

// clusterGroup is the cluster roots that belong to one cluster.
type clusterGroup struct {
	name  string // from the folder layout; "" to derive from content
	roots []string
}

func (a *Archive) index(root string, lim Limits) error {
	groups, err := findClusters(root)
	if err != nil {
		return err
	}
	s := &scanner{lim: lim}
	objects := 0 // indexed so far, in every cluster
	for _, g := range groups {
		s.refs, s.logs = nil, map[string]*ContainerLogs{}
		for _, r := range g.roots {
			if err := s.scanRoot(r); err != nil {
				return err
			}
		}
		res, skipped, err := indexAll(s.refs, lim.MaxFiles, objects)
		if err != nil {
			return err
		}
		for _, r := range res {
			objects += len(r.Objects)
		}
		c := &Cluster{Name: g.name, Dirs: g.roots, Resources: res, Logs: s.logs, cache: lru.New(parsedCacheSize), skipped: skipped, spill: a.ix.spill}
		c.nameKinds()
		if c.Name == "" {
			c.Name = deriveName(c, g.roots[0], root, archiveName(a.Path))
		}
		if _, dup := a.Clusters[c.Name]; dup {
			c.Name = c.Name + "-" + filepath.Base(g.roots[0])
		}
		a.Clusters[c.Name] = c
		for _, r := range g.roots {
			if text, ok := readErrors(filepath.Join(r, collectionErrorsFile)); ok {
				a.Errors[c.Name] = text
			}
		}
	}
	a.Files, a.Bytes = s.files, s.bytes
	a.CollectedAt = readTimestamp(root)
	return nil
}

// findClusters finds every folder that holds cluster-scoped-resources/ or namespaces/ and groups the
// ones that describe the same cluster (the image folders of one must-gather.local.*).
func findClusters(root string) ([]clusterGroup, error) {
	byKey := map[string]*clusterGroup{}
	var order []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if depth(root, p) > 5 {
			return fs.SkipDir
		}
		if !isClusterRoot(p) {
			return nil
		}
		key, name := clusterIdentity(root, p)
		g := byKey[key]
		if g == nil {
			g = &clusterGroup{name: name}
			byKey[key] = g
			order = append(order, key)
		}
		g.roots = append(g.roots, p)
		return fs.SkipDir
	})
	out := make([]clusterGroup, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out, err
}

func depth(root, p string) int {
	rel, _ := filepath.Rel(root, p)
	if rel == "." {
		return 0
	}
	return strings.Count(filepath.ToSlash(rel), "/") + 1
}

func isClusterRoot(p string) bool {
	for _, sub := range []string{"cluster-scoped-resources", "namespaces"} {
		if st, err := os.Lstat(filepath.Join(p, sub)); err == nil && st.IsDir() {
			return true
		}
	}
	// A cluster the collector could not read at all leaves only its error.
	st, err := os.Lstat(filepath.Join(p, collectionErrorsFile))
	return err == nil && st.Mode().IsRegular()
}

// clusterIdentity says which cluster a root belongs to, and its name when the layout tells it.
//   - <root>/<cluster>/ (the server's own archives, multi-cluster bundles): the folder name;
//   - must-gather.local.*/<image>/: every image folder of one must-gather is one cluster, named from
//     the folder above must-gather.local.* when there is one, else from the content;
//   - the archive root itself (a bare inspect): named from the content.
func clusterIdentity(root, p string) (key, name string) {
	if p == root {
		return p, ""
	}
	parent := filepath.Dir(p)
	if isMustGatherDir(filepath.Base(parent)) {
		if grand := filepath.Dir(parent); grand != root && grand != filepath.Dir(root) {
			return parent, filepath.Base(grand)
		}
		return parent, ""
	}
	if isMustGatherDir(filepath.Base(p)) || isImageDir(filepath.Base(p)) {
		return p, ""
	}
	return p, filepath.Base(p)
}

func isMustGatherDir(name string) bool {
	return strings.HasPrefix(name, "must-gather.local.") || strings.HasPrefix(name, "inspect.local.")
}

func isImageDir(name string) bool {
	return strings.Contains(name, "-sha256-") || strings.HasPrefix(name, "quay") || strings.HasPrefix(name, "registry")
}

// deriveName names a cluster from what it holds: "hub" when it has ManagedClusters, else its "name" or
// "id.k8s.io" ClusterClaim, else its folder; a folder that names nothing (the archive's root, a
// must-gather.local.* or an image folder right below it) gives way to the name of the archive.
func deriveName(c *Cluster, dir, root, archive string) string {
	if r := c.Resources[schema.GroupResource{Group: "cluster.open-cluster-management.io", Resource: "managedclusters"}]; r != nil && len(r.Objects) > 0 {
		return HubName
	}
	for _, want := range []string{"name", "id.k8s.io"} {
		claim, _ := c.Get(schema.GroupResource{Group: "cluster.open-cluster-management.io", Resource: "clusterclaims"}, "", want)
		if claim != nil {
			if v, _, _ := nestedString(claim.Object, "spec", "value"); v != "" {
				return v
			}
		}
	}
	if dir != root && isImageDir(filepath.Base(dir)) {
		dir = filepath.Dir(dir)
	}
	if archive != "" && (dir == root || (isMustGatherDir(filepath.Base(dir)) && filepath.Dir(dir) == root)) {
		return archive
	}
	return filepath.Base(dir)
}

// archiveName is the name of the folder or archive given, without its extensions.
func archiveName(path string) string {
	base := filepath.Base(filepath.Clean(path))
	for _, ext := range []string{".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar"} {
		if strings.HasSuffix(base, ext) && len(base) > len(ext) {
			return strings.TrimSuffix(base, ext)
		}
	}
	return base
}

// maxErrorsBytes bounds what is read of a cluster's collection errors: they are kept in memory and
// quoted in answers.
const maxErrorsBytes = 64 << 10

// readErrors reads a collection errors file, up to maxErrorsBytes (cut at a line, with how much more
// the file holds).
func readErrors(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxErrorsBytes+1))
	if err != nil {
		return "", false
	}
	if len(data) <= maxErrorsBytes {
		return strings.TrimSpace(string(data)), true
	}
	data = data[:maxErrorsBytes]
	if i := bytes.LastIndexByte(data, '\n'); i > 0 {
		data = data[:i]
	}
	more := int64(-1)
	if st, err := f.Stat(); err == nil {
		more = st.Size() - int64(len(data))
	}
	return fmt.Sprintf("%s\n... (%d more bytes in %s in the must-gather)", strings.TrimSpace(string(data)), more, collectionErrorsFile), true
}

// maxTimestampBytes bounds what is read of a timestamp file: a few times one is plenty.
const maxTimestampBytes = 4 << 10

func readTimestamp(root string) time.Time {
	var found time.Time
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || found.After(time.Time{}) {
			return fs.SkipDir
		}
		if d.IsDir() && depth(root, p) > 2 {
			return fs.SkipDir
		}
		if !d.IsDir() && d.Name() == "timestamp" {
			data, _ := readHead(p, maxTimestampBytes)
			for _, line := range strings.Split(string(data), "\n") {
				if t, ok := parseTimestamp(line); ok && t.After(found) {
					found = t
					continue
				}
				for _, f := range strings.Fields(line) { // several RFC 3339 stamps on one line
					if t, err := time.Parse(time.RFC3339Nano, f); err == nil && t.After(found) {
						found = t
					}
				}
			}
		}
		return nil
	})
	return found
}

// timestampLayouts are the forms timestamp files take: Go's time.Time.String (what oc writes, once
// the monotonic reading is cut off), RFC 3339, and date(1) in the C locale.
var timestampLayouts = []string{
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02 15:04:05.999999999 -0700",
	time.RFC3339Nano,
	time.UnixDate,
	time.RFC1123Z,
	time.RFC1123,
	time.ANSIC,
}

// parseTimestamp reads one line of a timestamp file.
func parseTimestamp(line string) (time.Time, bool) {
	line = strings.TrimSpace(line)
	if i := strings.Index(line, " m="); i >= 0 { // time.Now().String(): "... +0000 UTC m=+0.382910061"
		line = strings.TrimSpace(line[:i])
	}
	if line == "" {
		return time.Time{}, false
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, line); err == nil {
			return t, true
		}
	}
	// date +%s: seconds since the epoch, within a plausible span (2001 to 2286).
	if n, err := strconv.ParseInt(line, 10, 64); err == nil && n >= 1e9 && n < 1e10 {
		return time.Unix(n, 0).UTC(), true
	}
	return time.Time{}, false
}

// readHead reads at most limit bytes from the start of a file.
func readHead(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}
