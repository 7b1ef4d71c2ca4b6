package mustgather

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/utils/lru"
	"sigs.k8s.io/yaml"
)

// Resource is one kind of object found for a cluster.
type Resource struct {
	GVR        schema.GroupVersionResource
	Kind       string
	Namespaced bool
	Objects    []*Object // sorted by namespace, then name
	// byLabel indexes objects by "key=value", in Objects order, for equality selectors.
	byLabel map[string][]*Object

	printerOnce sync.Once
	printer     printer
}

// InNamespace returns the objects of one namespace ("" for all), in Objects order.
func (r *Resource) InNamespace(ns string) []*Object {
	if ns == "" {
		return r.Objects
	}
	lo := sort.Search(len(r.Objects), func(i int) bool { return r.Objects[i].Namespace >= ns })
	hi := sort.Search(len(r.Objects), func(i int) bool { return r.Objects[i].Namespace > ns })
	return r.Objects[lo:hi]
}

// Candidates returns the objects that can match a label selector: for a selector with an equality
// requirement, the smallest indexed set; otherwise every object. The caller still applies the selector.
func (r *Resource) Candidates(sel labels.Selector) []*Object {
	reqs, _ := sel.Requirements()
	best := r.Objects
	for _, req := range reqs {
		if req.Operator() != selection.Equals && req.Operator() != selection.DoubleEquals {
			continue
		}
		for v := range req.Values() {
			if set := r.byLabel[req.Key()+"="+v]; len(set) < len(best) {
				best = set
			}
			if len(best) == 0 {
				return nil
			}
		}
	}
	return best
}

func (r *Resource) indexLabels() {
	r.byLabel = map[string][]*Object{}
	for _, o := range r.Objects {
		for k, v := range o.Labels {
			r.byLabel[k+"="+v] = append(r.byLabel[k+"="+v], o)
		}
	}
}

// Object is an indexed object. What label selectors need is read when the archive is opened; then
// the object's file is decoded once (see record.go), by the index builder or by the first query that
// needs it, and answers come from that record. Parsed objects are kept in a bounded cache.
type Object struct {
	Namespace, Name string
	Labels          map[string]string
	file            string
	index           int  // position in a List file, -1 for a file of its own
	secret          bool // read from the secrets resource

	grp     *fileGroup
	rec     *record // set once grp is decoded
	rowOnce sync.Once
	row     *tableRow
}

// Cluster is everything an archive holds about one cluster.
type Cluster struct {
	Name string
	Dirs []string // cluster roots merged into this cluster
	// Resources by group and plural ("core" is "").
	Resources map[schema.GroupResource]*Resource
	// Logs by namespace/pod/container.
	Logs map[string]*ContainerLogs

	cache *lru.Cache // *Object -> *unstructured.Unstructured
	spill *spill     // the decoded objects, as JSON
	// now is the archive's reference time, for the ages in rows; rowsReady says it is set, so that
	// decoding a file renders its rows too.
	now       time.Time
	rowsReady bool
	// skipped notes the files left out, by resource: found unreadable when indexed, or when served.
	skipped   map[schema.GroupResource][]string
	skippedMu sync.Mutex
}

// maxNotes bounds the notes kept per resource; the rest are counted.
const maxNotes = 20

// Skipped lists the files of the cluster left out as unreadable, so far.
func (c *Cluster) Skipped() []string {
	c.skippedMu.Lock()
	defer c.skippedMu.Unlock()
	var out []string
	for _, notes := range c.skipped {
		out = append(out, notes...)
	}
	sort.Strings(out)
	return out
}

// notes returns the notes about one resource.
func (c *Cluster) notes(gr schema.GroupResource) []string {
	c.skippedMu.Lock()
	defer c.skippedMu.Unlock()
	return append([]string(nil), c.skipped[gr]...)
}

// note records that a file of a resource was left out; each file once.
func (c *Cluster) note(gr schema.GroupResource, text string) {
	c.skippedMu.Lock()
	defer c.skippedMu.Unlock()
	if c.skipped == nil {
		c.skipped = map[schema.GroupResource][]string{}
	}
	for _, n := range c.skipped[gr] {
		if n == text {
			return
		}
	}
	if len(c.skipped[gr]) < maxNotes {
		c.skipped[gr] = append(c.skipped[gr], text)
	}
}

// parsedCacheSize bounds the parsed objects kept in memory per cluster.
const parsedCacheSize = 4096

// ContainerLogs are the log files of one container.
type ContainerLogs struct {
	Current, Previous string // file paths, empty when absent
}

func logKey(ns, pod, container string) string { return ns + "/" + pod + "/" + container }

// Log returns a container's log files.
func (c *Cluster) Log(ns, pod, container string) (*ContainerLogs, bool) {
	l, ok := c.Logs[logKey(ns, pod, container)]
	return l, ok
}

// relPath is a file's path below its cluster root, for notes: never a path of the server's machine.
func (c *Cluster) relPath(file string) string {
	for _, d := range c.Dirs {
		if rel, err := filepath.Rel(d, file); err == nil && within(d, file) {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.Base(file)
}

// nameKinds gives a kind and version to the resources the archive names only by folder (an empty List
// file, or only unreadable files): the built-in kind, else the archive's CRD, else one guessed from
// the plural.
func (c *Cluster) nameKinds() {
	for gr, r := range c.Resources {
		if r.Kind != "" && r.GVR.Version != "" {
			continue
		}
		if b := builtinFor(gr); b != nil {
			r.GVR.Version, r.Kind = first(r.GVR.Version, b.gvr.Version), first(r.Kind, b.kind)
			continue
		}
		if crd, _ := c.Get(grCRDs, "", gr.Resource+"."+gr.Group); crd != nil {
			kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
			r.Kind = first(r.Kind, kind)
			r.GVR.Version = first(r.GVR.Version, crdStorageVersion(crd))
		}
		r.Kind = first(r.Kind, guessKind(gr.Resource))
		r.GVR.Version = first(r.GVR.Version, "v1")
	}
}

// crdStorageVersion is the version a CRD stores (the one an archive's objects are written in).
func crdStorageVersion(crd *unstructured.Unstructured) string {
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	name := ""
	for _, v := range versions {
		vm, _ := v.(map[string]any)
		if n, _ := vm["name"].(string); n != "" && (name == "" || vm["storage"] == true) {
			name = n
		}
	}
	return name
}

// guessKind makes a kind of a plural: "widgets" is Widget, "policies" is Policy.
func guessKind(plural string) string {
	s := plural
	switch {
	case strings.HasSuffix(s, "ies"):
		s = strings.TrimSuffix(s, "ies") + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "xes"):
		s = strings.TrimSuffix(s, "es")
	default:
		s = strings.TrimSuffix(s, "s")
	}
	if s == "" {
		return plural
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Find returns the index entry of one object, or nil.
func (c *Cluster) Find(gr schema.GroupResource, ns, name string) *Object {
	r := c.Resources[gr]
	if r == nil {
		return nil
	}
	i := sort.Search(len(r.Objects), func(i int) bool {
		o := r.Objects[i]
		return o.Namespace > ns || (o.Namespace == ns && o.Name >= name)
	})
	if i < len(r.Objects) && r.Objects[i].Namespace == ns && r.Objects[i].Name == name {
		return r.Objects[i]
	}
	return nil
}

// Get returns one object, or nil when the archive does not hold it.
func (c *Cluster) Get(gr schema.GroupResource, ns, name string) (*unstructured.Unstructured, error) {
	o := c.Find(gr, ns, name)
	if o == nil {
		return nil, nil
	}
	return c.Load(o)
}

// Load returns an object, decoded from the index (from the cache when it was read recently). Every
// credential it holds was elided when its file was decoded, whatever made the archive: nothing read
// from an archive holds one.
func (c *Cluster) Load(o *Object) (*unstructured.Unstructured, error) {
	if v, ok := c.cache.Get(o); ok {
		return v.(*unstructured.Unstructured), nil
	}
	data, _, err := c.raw(o)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", o.file, err)
	}
	u := &unstructured.Unstructured{Object: m}
	c.cache.Add(o, u)
	return u, nil
}

// loadAll parses objects with a worker per CPU, keeping their order.
func (c *Cluster) loadAll(objs []*Object) ([]*unstructured.Unstructured, error) {
	out, errs := c.loadEach(objs)
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// loadEach parses objects with a worker per CPU, keeping their order, with an error per object.
func (c *Cluster) loadEach(objs []*Object) ([]*unstructured.Unstructured, []error) {
	out := make([]*unstructured.Unstructured, len(objs))
	errs := make([]error, len(objs))
	workers := min(runtime.GOMAXPROCS(0), len(objs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i], errs[i] = c.Load(objs[i])
			}
		}()
	}
	for i := range objs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out, errs
}

// All parses every object of a resource.
func (c *Cluster) All(gr schema.GroupResource) ([]*unstructured.Unstructured, error) {
	r := c.Resources[gr]
	if r == nil {
		return nil, nil
	}
	return c.loadAll(r.Objects)
}

// fileRef is an object file waiting to be parsed, with what its path says.
type fileRef struct {
	path       string
	rel        string // below the cluster root, for notes
	group      string // "" for core
	resource   string
	namespaced bool
}

// scanner walks one cluster root and collects object files and log files.
type scanner struct {
	lim   Limits
	files int
	bytes int64
	refs  []fileRef
	logs  map[string]*ContainerLogs
}

// scanRoot classifies every file below a cluster root by its path.
func (s *scanner) scanRoot(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return checkDirLink(root, p)
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return &HostileArchiveError{Entry: p, Reason: "is a device, FIFO or other special file"}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		s.files++
		s.bytes += info.Size()
		if s.files > s.lim.MaxFiles {
			return &HostileArchiveError{Reason: fmt.Sprintf("holds more than %d files (raise --must-gather-max-files to accept it)", s.lim.MaxFiles)}
		}
		if s.bytes > s.lim.MaxBytes {
			return &HostileArchiveError{Reason: fmt.Sprintf("holds more than %d bytes (raise --must-gather-max-bytes to accept it)", s.lim.MaxBytes)}
		}
		rel, _ := filepath.Rel(root, p)
		s.classify(p, strings.Split(filepath.ToSlash(rel), "/"))
		return nil
	})
}

// checkDirLink refuses links in a folder given as is when they point outside it; links inside are skipped.
func checkDirLink(root, p string) error {
	target, err := filepath.EvalSymlinks(p)
	if err != nil || !within(root, target) {
		dest, _ := os.Readlink(p)
		return &HostileArchiveError{Entry: p, Reason: fmt.Sprintf("is a link to %q, outside the must-gather folder", dest)}
	}
	return nil
}

func isObjectFile(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".json")
}

func trimExt(name string) string {
	return strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, ".yaml"), ".yml"), ".json")
}

func groupDir(g string) string {
	if g == "core" {
		return ""
	}
	return g
}

func (s *scanner) classify(p string, parts []string) {
	n := len(parts)
	rel := strings.Join(parts, "/")
	ref := func(group, resource string, namespaced bool) {
		s.refs = append(s.refs, fileRef{path: p, rel: rel, group: group, resource: resource, namespaced: namespaced})
	}
	switch {
	case parts[0] == "cluster-scoped-resources" && n == 3 && isObjectFile(parts[2]):
		ref(groupDir(parts[1]), trimExt(parts[2]), false)
	case parts[0] == "cluster-scoped-resources" && n == 4 && isObjectFile(parts[3]):
		ref(groupDir(parts[1]), parts[2], false)
	case parts[0] != "namespaces" || n < 3:
	case n == 3 && isObjectFile(parts[2]) && trimExt(parts[2]) == parts[1]:
		ref("", "namespaces", false)
	case parts[2] == "pods" && n == 5 && isObjectFile(parts[4]) && trimExt(parts[4]) == parts[3]:
		ref("", "pods", true)
	case parts[2] == "pods" && n >= 6 && strings.HasSuffix(parts[n-1], ".log"):
		s.addLog(parts[1], parts[3], parts[4], p, parts[n-1])
	case parts[2] == "pods":
	case n == 4 && isObjectFile(parts[3]):
		ref(groupDir(parts[2]), trimExt(parts[3]), true)
	case n == 5 && isObjectFile(parts[4]):
		ref(groupDir(parts[2]), parts[3], true)
	}
}

// addLog records namespaces/<ns>/pods/<pod>/<container>/<container>/logs/current.log (inspect) and
// namespaces/<ns>/pods/<pod>/<container>/current.log (kubectl-gather).
func (s *scanner) addLog(ns, pod, container, p, file string) {
	k := logKey(ns, pod, container)
	l := s.logs[k]
	if l == nil {
		l = &ContainerLogs{}
		s.logs[k] = l
	}
	switch file {
	case "current.log":
		l.Current = p
	case "previous.log", "previous.insecure.log":
		l.Previous = p
	}
}

// indexAll reads what filtering needs from every object file, with a worker per CPU. With the seen
// objects of other clusters, it indexes at most maxObjects (the archive's file limit): List files
// hold any number of objects, and each costs memory for as long as the archive is open. Files that
// do not parse are left out and noted, by resource.
func indexAll(refs []fileRef, maxObjects, seen int) (map[schema.GroupResource]*Resource, map[schema.GroupResource][]string, error) {
	type indexed struct {
		ref fileRef
		fi  fileIndex
		err error
	}
	jobs := make(chan fileRef)
	results := make(chan indexed)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ref := range jobs {
				fi, err := indexFile(ref.path)
				results <- indexed{ref, fi, err}
			}
		}()
	}
	go func() {
		for _, r := range refs {
			jobs <- r
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	out := map[schema.GroupResource]*Resource{}
	skipped := map[schema.GroupResource][]string{}
	ensure := func(gr schema.GroupResource, apiVersion, kind string, namespaced bool) *Resource {
		r := out[gr]
		if r == nil {
			gv, _ := schema.ParseGroupVersion(apiVersion)
			r = &Resource{GVR: gr.WithVersion(gv.Version), Kind: kind, Namespaced: namespaced}
			out[gr] = r
		}
		return r
	}
	var firstErr error
	for p := range results {
		if p.err == nil && seen+len(p.fi.metas) > maxObjects {
			p.err = &HostileArchiveError{Reason: fmt.Sprintf("holds more than %d objects (raise --must-gather-max-files to accept it)", maxObjects)}
		}
		if p.err != nil {
			if firstErr == nil {
				firstErr = p.err
			}
			continue
		}
		gr := schema.GroupResource{Group: p.ref.group, Resource: p.ref.resource}
		switch {
		case p.fi.unreadable:
			skipped[gr] = append(skipped[gr], unreadableNote(p.ref.rel, p.fi.why))
			ensure(gr, "", "", p.ref.namespaced)
			continue
		case p.fi.isList:
			ensure(gr, p.fi.listAPIVersion, strings.TrimSuffix(p.fi.listKind, "List"), p.ref.namespaced)
		}
		seen += len(p.fi.metas)
		grp := &fileGroup{path: p.ref.path, gr: gr, secret: gr == grSecrets}
		for _, m := range p.fi.metas {
			r := ensure(gr, m.apiVersion, m.kind, p.ref.namespaced)
			if r.Kind == "" {
				gv, _ := schema.ParseGroupVersion(m.apiVersion)
				r.GVR.Version, r.Kind = gv.Version, m.kind
			}
			o := &Object{Namespace: m.namespace, Name: m.name, Labels: m.labels, file: p.ref.path, index: m.index,
				secret: gr == grSecrets, grp: grp}
			grp.objs = append(grp.objs, o)
			r.Objects = append(r.Objects, o)
		}
	}
	for _, r := range out {
		sortObjects(r.Objects)
		r.Objects = dedupe(r.Objects)
		r.indexLabels()
	}
	for gr := range skipped {
		sort.Strings(skipped[gr])
	}
	return out, skipped, firstErr
}

// maxNoteLength bounds what a note quotes of a parse error: the error may quote the file.
const maxNoteLength = 300

func unreadableNote(rel, why string) string {
	why = strings.Join(strings.Fields(why), " ")
	if len(why) > maxNoteLength {
		why = why[:maxNoteLength] + "..."
	}
	return strings.ToValidUTF8(fmt.Sprintf("the must-gather file %s is not valid YAML and was skipped (%s)", rel, why), "?")
}

func parseBytes(path string, data []byte) ([]*unstructured.Unstructured, error) {
	objs, err := parseObjects(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return objs, nil
}

// parseObjects reads the objects of one file: one object, or the items of a List.
func parseObjects(data []byte) ([]*unstructured.Unstructured, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return objectsOf(m)
}

// objectsOf returns the objects of one parsed file: one object, or the items of a List.
func objectsOf(m map[string]any) ([]*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{Object: m}
	if !u.IsList() {
		if u.GetKind() == "" || u.GetName() == "" {
			return nil, nil // not a Kubernetes object: skip
		}
		return []*unstructured.Unstructured{u}, nil
	}
	var out []*unstructured.Unstructured
	err := u.EachListItem(func(o kruntime.Object) error {
		if item, ok := o.(*unstructured.Unstructured); ok && item.GetName() != "" {
			if item.GetKind() == "" {
				item.SetKind(strings.TrimSuffix(u.GetKind(), "List"))
			}
			if item.GetAPIVersion() == "" {
				item.SetAPIVersion(u.GetAPIVersion())
			}
			out = append(out, item)
		}
		return nil
	})
	return out, err
}

func sortObjects(objs []*Object) {
	sort.SliceStable(objs, func(i, j int) bool {
		if objs[i].Namespace != objs[j].Namespace {
			return objs[i].Namespace < objs[j].Namespace
		}
		return objs[i].Name < objs[j].Name
	})
}

// dedupe keeps one object per namespace/name: an archive may hold both the list file and the object file.
func dedupe(objs []*Object) []*Object {
	out := objs[:0]
	for i, o := range objs {
		if i > 0 && o.Namespace == objs[i-1].Namespace && o.Name == objs[i-1].Name {
			continue
		}
		out = append(out, o)
	}
	return out
}

// grSecrets is the core secrets resource.
var grSecrets = schema.GroupResource{Resource: "secrets"}

// collectionErrorsFile records, in a cluster's folder, what the collector could not gather.
const collectionErrorsFile = "collection-errors.txt"

func nestedString(obj map[string]any, fields ...string) (string, bool, error) {
	return unstructured.NestedString(obj, fields...)
}
