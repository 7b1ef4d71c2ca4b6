package kubectl

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// A preview runs the command with --dry-run=server behind a recorder: every request that would change
// something must carry dryRun (else it is refused, so a preview never changes anything), and for each
// one the recorder reads the object first (before) and keeps the API server's dry-run answer (after).

// Change is one object a command would change.
type Change struct {
	// Path is the object's API path (a subresource such as scale stays in it).
	Path string
	// Before is the object as read before the change; nil when it does not exist.
	Before map[string]any
	// After is the object as the API server would leave it; nil when it would be removed.
	After map[string]any
	// Version is Before's resourceVersion ("" when Before is nil).
	Version string
	// Fingerprint is a digest of Before without its status and write noise ("" when Before is nil):
	// it changes when the object's content does, not when a controller updates its status.
	Fingerprint string
}

// recording is one preview's changes, in the order first seen.
type recording struct {
	mu      sync.Mutex
	order   []string
	changes map[string]*Change
	// humanize turns Secret placeholders into "<elided: N bytes>" (nil: values are shown).
	humanize func(string) string
}

func newRecording() *recording { return &recording{changes: map[string]*Change{}} }

func (r *recording) wrap(next http.RoundTripper) http.RoundTripper {
	return &recorder{next: next, rec: r}
}

// list returns the changes in order.
func (r *recording) list() []Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Change, 0, len(r.order))
	for _, p := range r.order {
		out = append(out, *r.changes[p])
	}
	return out
}

type recorder struct {
	next http.RoundTripper
	rec  *recording
}

// maxRecordBody bounds the objects the recorder reads.
const maxRecordBody = 8 << 20

func (rt *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return rt.next.RoundTrip(req)
	}
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	if !isDryRun(req, body) {
		return nil, &RefusedError{Method: req.Method, Path: req.URL.Path, Why: "a preview sends no change (this request has no server dry run)"}
	}
	target, removes := targetOf(req, body)
	var before map[string]any
	if target != "" {
		before, err = rt.read(req, target)
		if err != nil {
			return nil, err
		}
	}
	resp, err := rt.next.RoundTrip(req)
	if err != nil || resp.StatusCode >= 300 || target == "" {
		return resp, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRecordBody+1))
	resp.Body.Close()
	if err != nil || len(data) > maxRecordBody {
		return nil, fmt.Errorf("the dry-run answer for %s could not be read", target)
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	var after map[string]any
	if !removes {
		if json.Unmarshal(data, &after) != nil || after["kind"] == "Status" {
			after = nil
		}
	}
	rt.rec.add(target, before, after)
	return resp, nil
}

func (r *recording) add(path string, before, after map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, seen := r.changes[path]
	if !seen {
		c = &Change{Path: path, Before: before}
		if before != nil {
			c.Version, c.Fingerprint = resourceVersion(before), fingerprint(before)
		}
		r.changes[path] = c
		r.order = append(r.order, path)
	}
	c.After = after
}

// isDryRun says whether the API server will only pretend: dryRun=All in the query, or for a delete and
// an eviction (whose options travel in the body) in their DeleteOptions. A patch's body is the patch, so
// only its query counts.
func isDryRun(req *http.Request, body []byte) bool {
	for _, v := range req.URL.Query()["dryRun"] {
		if v == "All" {
			return true
		}
	}
	var opts struct {
		DryRun        []string `json:"dryRun"`
		DeleteOptions *struct {
			DryRun []string `json:"dryRun"`
		} `json:"deleteOptions"`
	}
	ri := parseAPIPath(req.URL.Path)
	eviction := req.Method == http.MethodPost && ri.subresource == "eviction"
	if (req.Method != http.MethodDelete && !eviction) || json.Unmarshal(body, &opts) != nil {
		return false
	}
	dry := opts.DryRun
	if eviction {
		if opts.DeleteOptions == nil {
			return false
		}
		dry = opts.DeleteOptions.DryRun
	}
	for _, v := range dry {
		if v == "All" {
			return true
		}
	}
	return false
}

// readBody reads a request's body and puts it back for the transport.
func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, maxRecordBody+1))
	req.Body.Close()
	if err != nil || len(data) > maxRecordBody {
		return nil, fmt.Errorf("the request body could not be read")
	}
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return data, nil
}

// targetOf is the path of the object a request changes, and whether it removes it. An eviction removes
// its pod; a create names its object in the body (a generated name has no before: "").
func targetOf(req *http.Request, body []byte) (string, bool) {
	path := strings.TrimSuffix(req.URL.Path, "/")
	ri := parseAPIPath(path)
	switch {
	case ri.subresource == "eviction":
		return strings.TrimSuffix(path, "/eviction"), true
	case req.Method == http.MethodDelete:
		return path, true
	case req.Method == http.MethodPost && ri.name == "":
		var obj struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if json.Unmarshal(body, &obj) != nil || obj.Metadata.Name == "" {
			return "", false
		}
		return path + "/" + obj.Metadata.Name, false
	}
	return path, false
}

// read GETs an object with the request's own headers (credentials, impersonation); nil when absent.
func (rt *recorder) read(req *http.Request, path string) (map[string]any, error) {
	get := req.Clone(req.Context())
	get.Method, get.Body, get.GetBody, get.ContentLength = http.MethodGet, nil, nil, 0
	u := *req.URL
	u.Path, u.RawPath, u.RawQuery = path, "", ""
	get.URL = &u
	get.Header.Del("Content-Type")
	resp, err := rt.next.RoundTrip(get)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRecordBody+1))
	if err != nil || len(data) > maxRecordBody {
		return nil, fmt.Errorf("%s could not be read for the preview", path)
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s could not be read for the preview: %s", path, strings.TrimSpace(statusMessage(data, resp.Status)))
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("%s could not be read for the preview: %v", path, err)
	}
	return obj, nil
}

func statusMessage(data []byte, fallback string) string {
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &st) == nil && st.Message != "" {
		return st.Message
	}
	return fallback
}

// fingerprint digests an object's content: everything but status and the fields every write changes.
func fingerprint(obj map[string]any) string {
	cp := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "status" {
			cp[k] = v
		}
	}
	sum := sha256.Sum256([]byte(cleanYAML(cp)))
	return hex.EncodeToString(sum[:16])
}

func resourceVersion(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	rv, _ := md["resourceVersion"].(string)
	return rv
}
