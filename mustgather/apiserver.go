package mustgather

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/redact"
)

// Host is the pretend API server URL of a cluster in an archive; requests never leave the process.
func Host(cluster string) string { return "http://must-gather.invalid/" + cluster }

// RoundTripper answers Kubernetes API requests from the archive, so that the real kubectl (and any
// client-go client) reads an archive as if it were a cluster: discovery, get and list with label and
// field selectors, server-side tables, and pod logs. Everything else is refused: the archive is read-only.
func (a *Archive) RoundTripper() http.RoundTripper { return roundTripper{a: a} }

type roundTripper struct{ a *Archive }

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	rec := &response{header: http.Header{}, code: http.StatusOK}
	rt.a.serve(rec, req)
	return &http.Response{
		StatusCode: rec.code, Status: http.StatusText(rec.code), Header: rec.header,
		Body: nopCloser{bytes.NewReader(rec.body.Bytes())}, ContentLength: int64(rec.body.Len()),
		Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

type response struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func (r *response) json(v any) {
	r.header.Set("Content-Type", "application/json")
	_ = json.NewEncoder(&r.body).Encode(v)
}

func (r *response) status(err *apierrors.StatusError) {
	r.code = int(err.ErrStatus.Code)
	st := err.ErrStatus
	st.Kind, st.APIVersion = "Status", "v1"
	r.json(st)
}

func (a *Archive) serve(w *response, req *http.Request) {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	c := a.Clusters[parts[0]]
	if c == nil {
		w.status(apierrors.NewNotFound(schema.GroupResource{Resource: "clusters"}, parts[0]))
		return
	}
	if req.Method != http.MethodGet {
		w.status(apierrors.NewMethodNotSupported(schema.GroupResource{Resource: "must-gather"}, strings.ToLower(req.Method)+" (the must-gather archive is read-only)"))
		return
	}
	if req.URL.Query().Get("watch") == "true" || req.URL.Query().Get("watch") == "1" {
		w.status(apierrors.NewMethodNotSupported(schema.GroupResource{Resource: "must-gather"}, "watch (an archive does not change)"))
		return
	}
	p := parts[1:]
	switch {
	case len(p) == 1 && p[0] == "api":
		w.json(metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}})
	case len(p) == 1 && p[0] == "apis":
		w.json(c.groupList())
	case len(p) == 1 && p[0] == "version":
		w.json(map[string]string{"major": "", "minor": "", "gitVersion": "must-gather", "platform": "archive"})
	case len(p) == 2 && p[0] == "api":
		w.json(c.resourceList("", p[1]))
	case len(p) == 3 && p[0] == "apis":
		w.json(c.resourceList(p[1], p[2]))
	case len(p) >= 3 && p[0] == "api":
		a.serveResource(w, req, c, "", p[2:])
	case len(p) >= 4 && p[0] == "apis":
		a.serveResource(w, req, c, p[1], p[3:])
	default:
		w.status(apierrors.NewNotFound(schema.GroupResource{Resource: "paths"}, req.URL.Path))
	}
}

// serveResource handles [namespaces/<ns>/]<plural>[/<name>[/log]].
func (a *Archive) serveResource(w *response, req *http.Request, c *Cluster, group string, p []string) {
	ns := ""
	if len(p) >= 3 && p[0] == "namespaces" {
		ns, p = p[1], p[2:]
	}
	gr := schema.GroupResource{Group: group, Resource: p[0]}
	switch {
	case len(p) == 1:
		a.list(w, req, c, gr, ns)
		warn(w, c, gr)
	case len(p) == 2:
		o := c.Find(gr, ns, p[1])
		if o == nil {
			w.status(apierrors.NewNotFound(gr, p[1]))
			return
		}
		if rec := c.record(o); rec.err != nil {
			c.note(gr, unreadableNote(c.relPath(o.file), innerError(rec.err)))
			warn(w, c, gr)
			w.status(apierrors.NewInternalError(fmt.Errorf("the must-gather file of %s %s is not valid YAML", gr, p[1])))
			return
		}
		a.write(w, req, c, gr, []*Object{o}, false, "")
	case len(p) == 3 && gr.Resource == "pods" && p[2] == "log":
		a.podLog(w, req, c, ns, p[1])
	default:
		w.status(apierrors.NewNotFound(gr, strings.Join(p, "/")))
	}
}

func (a *Archive) list(w *response, req *http.Request, c *Cluster, gr schema.GroupResource, ns string) {
	q := req.URL.Query()
	lsel, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		w.status(apierrors.NewBadRequest(err.Error()))
		return
	}
	fsel, err := fields.ParseSelector(q.Get("fieldSelector"))
	if err != nil {
		w.status(apierrors.NewBadRequest(err.Error()))
		return
	}
	page, err := parsePage(q, listQuery(a.Path, c.Name, gr, ns, lsel, fsel))
	if err != nil {
		w.status(apierrors.NewBadRequest(err.Error()))
		return
	}
	var items []*Object
	var last *Object
	if r := c.Resources[gr]; r != nil {
		items, last = c.selectObjects(gr, r, ns, lsel, fsel, page)
	} else if !c.knows(gr) {
		w.status(apierrors.NewNotFound(gr, ""))
		return
	}
	cont := ""
	if last != nil {
		cont = page.token(last)
	}
	a.write(w, req, c, gr, items, true, cont)
}

// innerError is what an error says without the file path it is wrapped in (a path of the server).
func innerError(err error) string {
	if inner := errors.Unwrap(err); inner != nil {
		return inner.Error()
	}
	return err.Error()
}

// warn adds the notes about a resource to an answer as Warning headers, which clients show the way
// kubectl shows the API server's warnings ("Warning: ...").
func warn(w *response, c *Cluster, gr schema.GroupResource) {
	for _, n := range c.notes(gr) {
		w.header.Add("Warning", `299 - "`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(n)+`"`)
	}
}

// matchFields evaluates a field selector against an object's fields (metadata.name, spec.nodeName,
// involvedObject.uid, ...), valued the way the API server values the fields it selects on.
func matchFields(gr schema.GroupResource, o map[string]any, sel fields.Selector) bool {
	for _, r := range sel.Requirements() {
		v := fieldValue(gr, o, r.Field)
		switch r.Operator {
		case "=", "==":
			if v != r.Value {
				return false
			}
		case "!=":
			if v == r.Value {
				return false
			}
		}
	}
	return true
}

// write answers with a table when the client asks for one (kubectl get), else with objects; a list
// page that is not the last carries the continue token of the next.
func (a *Archive) write(w *response, req *http.Request, c *Cluster, gr schema.GroupResource, items []*Object, isList bool, cont string) {
	var err error
	if strings.Contains(req.Header.Get("Accept"), "as=Table") {
		err = c.writeTable(&w.body, gr, items, req.URL.Query().Get("includeObject"), cont)
	} else {
		err = c.writeObjects(&w.body, gr, items, isList, cont)
	}
	if err != nil {
		w.body.Reset()
		if errors.Is(err, errElidedAnswer) {
			w.status(apierrors.NewBadRequest(err.Error()))
			return
		}
		w.status(apierrors.NewInternalError(errors.New(innerError(err))))
		return
	}
	w.header.Set("Content-Type", "application/json")
}

func (a *Archive) podLog(w *response, req *http.Request, c *Cluster, ns, pod string) {
	q := req.URL.Query()
	container := q.Get("container")
	if container == "" {
		obj, _ := c.Get(schema.GroupResource{Resource: "pods"}, ns, pod)
		if obj == nil {
			w.status(apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, pod))
			return
		}
		names := containerNames(obj.Object)
		if len(names) != 1 {
			w.status(apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod, names)))
			return
		}
		container = names[0]
	}
	logs, ok := c.Log(ns, pod, container)
	file := ""
	if ok {
		file = logs.Current
		if q.Get("previous") == "true" {
			file = logs.Previous
		}
	}
	if file == "" {
		which := "current"
		if q.Get("previous") == "true" {
			which = "previous"
		}
		w.status(apierrors.NewNotFound(schema.GroupResource{Resource: "pods/log"}, fmt.Sprintf("%s/%s (%s log of container %s is not in the must-gather)", ns, pod, which, container)))
		return
	}
	limit := int64(maxServedLog)
	if a.limits.MaxBytes > 0 {
		limit = min(limit, a.limits.MaxBytes)
	}
	data, cut, err := readTail(file, limit)
	if err != nil {
		w.status(apierrors.NewInternalError(err))
		return
	}
	out := data
	if s := q.Get("sinceSeconds"); s != "" {
		if secs, err := strconv.ParseInt(s, 10, 64); err == nil && secs >= 0 {
			out = since(out, time.Duration(min(secs, math.MaxInt64/int64(time.Second)))*time.Second)
		}
	}
	if s := q.Get("tailLines"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			out = tail(out, n)
		}
	}
	whole := len(out) == len(data)
	if q.Get("timestamps") != "true" {
		out = withoutStamps(out) // the collector asks for timestamps; the kubelet adds them only when asked
	}
	w.header.Set("Content-Type", "text/plain")
	var note string
	if cut > 0 && whole {
		note = fmt.Sprintf("... (the first %d bytes of this log are not served: an answer holds at most its last %d bytes; read the file in the must-gather for the rest, or ask for fewer lines)\n", cut, limit)
	}
	// The answer is the window read, not a copy of it, unless a note or a final newline is added.
	body := out
	if note != "" || (len(out) > 0 && out[len(out)-1] != '\n') {
		body = append(append(make([]byte, 0, len(note)+len(out)+1), note...), out...)
		if len(out) > 0 && out[len(out)-1] != '\n' {
			body = append(body, '\n')
		}
	}
	w.body = *bytes.NewBuffer(body)
}

// maxServedLog bounds what one answer reads of a log file (its end is served): a log is only bounded
// by the archive's size, and an answer is held in memory.
const maxServedLog = 8 << 20

// readTail reads the last limit bytes of a file, from the start of a line, and reports how many bytes
// before them it left out.
func readTail(path string, limit int64) ([]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	off := max(st.Size()-limit, 0)
	buf := make([]byte, st.Size()-off)
	n, err := io.ReadFull(io.NewSectionReader(f, off, int64(len(buf))), buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, 0, err
	}
	buf = buf[:n]
	if off > 0 {
		// The window starts inside a line: leave that line out too.
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf, off = buf[i+1:], off+int64(i)+1
		} else {
			buf, off = nil, off+int64(len(buf))
		}
	}
	return buf, off, nil
}

// tail keeps the last n lines of a log.
func tail(data []byte, n int) []byte {
	if n == 0 {
		return nil
	}
	end := len(data)
	if end > 0 && data[end-1] == '\n' {
		end--
	}
	for {
		i := bytes.LastIndexByte(data[:end], '\n')
		if i < 0 {
			return data
		}
		if n--; n == 0 {
			return data[i+1:]
		}
		end = i
	}
}

// withoutStamps removes the RFC3339 timestamp that starts each line, where one does, in place.
func withoutStamps(data []byte) []byte {
	w := 0
	for rest := data; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i+1], rest[i+1:]
		} else {
			rest = nil
		}
		if _, ok := stamp(line); ok {
			if i := bytes.IndexByte(line, ' '); i >= 0 {
				line = line[i+1:]
			}
		}
		w += copy(data[w:], line) // the kept part never overtakes what is still to read
	}
	return data[:w]
}

// stamp reads the RFC3339 timestamp that starts an inspect log line.
func stamp(line []byte) (time.Time, bool) {
	const longest = len("2006-01-02T15:04:05.999999999-07:00")
	f := line
	if i := bytes.IndexByte(line[:min(len(line), longest+1)], ' '); i >= 0 {
		f = line[:i]
	}
	if len(f) > longest {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(f))
	return t, err == nil
}

// since keeps the lines within d of the last timestamped line (inspect logs carry RFC3339 timestamps).
func since(data []byte, d time.Duration) []byte {
	var last time.Time
	rest := bytes.TrimSuffix(data, []byte("\n"))
	for {
		i := bytes.LastIndexByte(rest, '\n')
		if t, ok := stamp(rest[i+1:]); ok {
			last = t
			break
		}
		if i < 0 {
			break
		}
		rest = rest[:i]
	}
	if last.IsZero() {
		return data
	}
	for off := 0; off < len(data); {
		line, next := data[off:], len(data)
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i], off+i+1
		}
		if t, ok := stamp(line); ok && !t.Before(last.Add(-d)) {
			return data[off:]
		}
		off = next
	}
	return nil
}

func containerNames(pod map[string]any) []string {
	cs, _, _ := unstructured.NestedSlice(pod, "spec", "containers")
	var out []string
	for _, c := range cs {
		if m, ok := c.(map[string]any); ok {
			out = append(out, fmt.Sprint(m["name"]))
		}
	}
	return out
}

// Discovery --------------------------------------------------------------------------------------

func (c *Cluster) knows(gr schema.GroupResource) bool {
	return c.resource(gr) != nil
}

// resource returns what the archive holds of gr, or an empty entry for a built-in kind it lacks.
func (c *Cluster) resource(gr schema.GroupResource) *Resource {
	if r := c.Resources[gr]; r != nil {
		return r
	}
	if b := builtinFor(gr); b != nil {
		return &Resource{GVR: b.gvr, Kind: b.kind, Namespaced: b.namespaced}
	}
	return nil
}

// all returns every resource: the archive's and the built-in ones it lacks.
func (c *Cluster) all() []*Resource {
	var out []*Resource
	for _, r := range c.Resources {
		out = append(out, r)
	}
	for i := range builtinResources {
		b := &builtinResources[i]
		if c.Resources[b.gvr.GroupResource()] == nil {
			out = append(out, &Resource{GVR: b.gvr, Kind: b.kind, Namespaced: b.namespaced})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GVR.String() < out[j].GVR.String() })
	return out
}

func (c *Cluster) groupList() *metav1.APIGroupList {
	versions := map[string]map[string]bool{}
	for _, r := range c.all() {
		if r.GVR.Group == "" {
			continue
		}
		if versions[r.GVR.Group] == nil {
			versions[r.GVR.Group] = map[string]bool{}
		}
		versions[r.GVR.Group][r.GVR.Version] = true
	}
	l := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	groups := make([]string, 0, len(versions))
	for g := range versions {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		grp := metav1.APIGroup{Name: g}
		for v := range versions[g] {
			gv := metav1.GroupVersionForDiscovery{GroupVersion: g + "/" + v, Version: v}
			grp.Versions = append(grp.Versions, gv)
		}
		sort.Slice(grp.Versions, func(i, j int) bool { return grp.Versions[i].Version < grp.Versions[j].Version })
		grp.PreferredVersion = grp.Versions[0]
		l.Groups = append(l.Groups, grp)
	}
	return l
}

func (c *Cluster) resourceList(group, version string) *metav1.APIResourceList {
	gv := schema.GroupVersion{Group: group, Version: version}
	l := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
	for _, r := range c.all() {
		if r.GVR.GroupVersion() != gv {
			continue
		}
		l.APIResources = append(l.APIResources, metav1.APIResource{
			Name: r.GVR.Resource, SingularName: strings.ToLower(r.Kind), Namespaced: r.Namespaced, Kind: r.Kind,
			Verbs: metav1.Verbs{"get", "list"}, ShortNames: c.shortNames(r), Categories: c.categories(r),
		})
		if r.GVR.Resource == "pods" {
			l.APIResources = append(l.APIResources, metav1.APIResource{Name: "pods/log", Namespaced: true, Kind: "Pod", Verbs: metav1.Verbs{"get"}})
		}
	}
	return l
}

func (c *Cluster) shortNames(r *Resource) []string {
	if b := builtinFor(r.GVR.GroupResource()); b != nil {
		return b.short
	}
	crd, _ := c.Get(grCRDs, "", r.GVR.Resource+"."+r.GVR.Group)
	if crd != nil {
		s, _, _ := unstructured.NestedStringSlice(crd.Object, "spec", "names", "shortNames")
		return s
	}
	if k := knownKindFor(r.GVR.GroupResource()); k != nil {
		return k.short
	}
	return nil
}

// categories are the groups of kinds a resource belongs to ("all", "api-extensions"), as the server
// publishes them: kubectl expands `get all` with them.
func (c *Cluster) categories(r *Resource) []string {
	if b := builtinFor(r.GVR.GroupResource()); b != nil {
		return b.categories
	}
	crd, _ := c.Get(grCRDs, "", r.GVR.Resource+"."+r.GVR.Group)
	if crd != nil {
		s, _, _ := unstructured.NestedStringSlice(crd.Object, "spec", "names", "categories")
		return s
	}
	return nil
}

var grCRDs = schema.GroupResource{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}

// Bounds of the Secret values the offline server rebuilds from their lengths.
const (
	// maxElidedValue is the most bytes one value is served as: Kubernetes refuses Secrets larger than
	// 1 MiB, so a longer claim is false.
	maxElidedValue = 1 << 20
	// maxElidedAnswer bounds the bytes one answer rebuilds, whatever number of Secrets it holds.
	maxElidedAnswer = 32 << 20
)

// encodeElided turns the "<N> bytes long" values of archived Secrets, and of the Secrets other objects
// embed, back into values of N bytes (base64 in data, as the API serves them), so that clients that
// decode Secrets (describe) read them, and so that the kubectl engine elides them again as it does
// live, with their lengths. fromSecrets says the items are Secrets (list items carry no kind).
//
// The lengths come from the archive: each is capped at what a Secret may hold, and an answer that
// would rebuild more than maxElidedAnswer bytes is refused, before any is made when the lengths show
// it. Items that hold no elided value are served as they are, without a copy.
func encodeElided(items []*unstructured.Unstructured, fromSecrets bool) ([]*unstructured.Unstructured, error) {
	var total int64
	holds := make([]bool, len(items))
	for i, o := range items {
		holds[i] = sumElided(o.Object, &total)
		if total > maxElidedAnswer {
			return nil, errElidedAnswer
		}
	}
	opts := redact.Options{SecretContext: fromSecrets, Keep: func(k string) bool { return publicKeys[k] }}
	out := make([]*unstructured.Unstructured, len(items))
	count := &starValues{budget: maxElidedAnswer, dryRun: true}
	vals := &starValues{budget: maxElidedAnswer}
	for i, o := range items {
		out[i] = o
		if !holds[i] {
			continue
		}
		c := o.DeepCopy() // the loaded object is shared by every answer: never change it
		// First count exactly (values inside last-applied copies included), changing nothing, so that
		// an answer too large is refused before it is made; then rebuild.
		redact.Doc(c.Object, count, opts)
		if count.exceeded {
			return nil, errElidedAnswer
		}
		redact.Doc(c.Object, vals, opts)
		if vals.exceeded {
			return nil, errElidedAnswer
		}
		out[i] = c
	}
	return out, nil
}

// errElidedAnswer refuses an answer whose Secret values would take too much to rebuild.
var errElidedAnswer = fmt.Errorf("the Secrets in the objects asked for hold more than %d bytes of values (as the must-gather records their lengths), more than one answer may rebuild: narrow the query (one object by name, one namespace, or a label selector)", maxElidedAnswer)

// sumElided adds to total the bytes every elided value below v would be rebuilt as, each capped, and
// reports whether there is any. Elided values quoted inside longer text (last-applied copies) count
// too. It allocates nothing, so that most answers too large are refused at no cost; the exact count
// comes after.
func sumElided(v any, total *int64) bool {
	found := false
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			found = sumElided(c, total) || found
		}
	case []any:
		for _, c := range x {
			found = sumElided(c, total) || found
		}
	case string:
		if n, ok := parseElided(x); ok {
			*total += min(n, maxElidedValue)
			return true
		}
		return sumQuotedElided(x, total)
	}
	return found
}

// sumQuotedElided adds the elided values that text quotes ("N bytes long" after a quote), as a
// last-applied copy holds them.
func sumQuotedElided(text string, total *int64) bool {
	found := false
	for rest := text; ; {
		i := strings.Index(rest, elidedSuffix+`"`)
		if i < 0 {
			return found
		}
		j := i
		for j > 0 && rest[j-1] >= '0' && rest[j-1] <= '9' {
			j--
		}
		if j < i && j > 0 && rest[j-1] == '"' {
			if n, ok := parseElided(rest[j : i+len(elidedSuffix)]); ok {
				*total += min(n, maxElidedValue)
				found = true
			}
		}
		rest = rest[i+len(elidedSuffix):]
	}
}

// starValues rebuilds elided Secret values as runs of '*', within a budget of bytes for one answer;
// on a dry run it only counts, keeping each value as it is.
type starValues struct {
	budget   int64
	exceeded bool
	dryRun   bool
}

// length is the number of bytes a value is rebuilt as: its elided length, or (never expected: the
// archive's objects are elided when read) the length of what it holds.
func (v *starValues) length(s string, decoded bool) int {
	n, ok := parseElided(s)
	if !ok {
		n = int64(len(s))
		if decoded {
			n = int64(redact.DecodedLen(s))
		}
	}
	n = min(n, maxElidedValue)
	if n > v.budget {
		v.exceeded = true
		return 0
	}
	v.budget -= n
	return int(n)
}

func (v *starValues) Data(_, s string) string {
	if n := v.length(s, true); !v.dryRun {
		return starsBase64(n)
	}
	return s
}

func (v *starValues) StringData(_, s string) string {
	if n := v.length(s, false); !v.dryRun {
		return strings.Repeat("*", n)
	}
	return s
}

// starsBase64 is the base64 encoding of n '*' bytes, made without the n bytes themselves.
func starsBase64(n int) string {
	rest := [...]string{"", "Kg==", "Kio="}[n%3]
	return strings.Repeat("Kioq", n/3) + rest
}
