package kubectl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kubectl get reads every page of a list before it prints a line, so the output cap alone does not
// shorten what a get over a large cluster fetches. pageCut ends the paging instead: once the pages
// received hold more than the caller's output can show, it answers the next list response as the last
// page (its continue token removed), and kubectl prints what it has. Where the estimate of what the
// rows print to was too high and the output did not reach the cap, the engine runs the command again
// without the cut, so an answer is never shorter than the cap without saying so.

// What one list item prints to, for outputs that do not come as tables.
const (
	minNameLine   = 2   // -o name: "<kind>/<name>\n" is at least the name and two bytes
	minObjectText = 100 // -o yaml and -o json: apiVersion, kind and metadata at the least
	// -o yaml and -o json print an object without its managedFields; the text is taken to be at least
	// this share of the object's compact JSON (a YAML of Kubernetes objects is about as long as it).
	objectTextShare = 0.5
)

// itemText is how an output format's item is estimated.
type itemText struct {
	least  int  // bytes beside the name
	object bool // a share of the object's JSON, less its managedFields, when that is more
}

// pageCutFormats are the output formats whose text is a prefix of the whole list's text when the list
// ends early, with how their items are estimated (tables are estimated from their cells). Sorted
// output, templates and custom columns are left out: a shorter list changes them.
var pageCutFormats = map[string]itemText{"": {}, "wide": {}, "name": {least: minNameLine},
	"yaml": {least: minObjectText, object: true}, "json": {least: minObjectText, object: true}}

// canCutPages says whether the plan is a get whose output stays a prefix of the full answer when its
// lists end early.
func canCutPages(p *Plan) bool {
	if p == nil || p.Verb != "get" {
		return false
	}
	for _, f := range []string{"sort-by", "watch", "watch-only", "raw"} {
		if _, set := p.Flags[f]; set {
			return false
		}
	}
	_, ok := pageCutFormats[p.Flags["output"]]
	return ok
}

// pageCut counts, per call, a lower bound of the bytes the rows received will print to, and ends the
// paging once it reaches need.
type pageCut struct {
	next http.RoundTripper
	need int
	item itemText

	mu      sync.Mutex
	printed int
	cut     bool
	unread  int64
}

func newPageCut(p *Plan, need int) *pageCut {
	return &pageCut{need: need, item: pageCutFormats[p.Flags["output"]]}
}

func (c *pageCut) wrap(rt http.RoundTripper) http.RoundTripper {
	c.next = rt
	return c
}

// result says whether paging was ended early and how many objects the cluster said were left (0 when
// it did not say).
func (c *pageCut) result() (cut bool, unread int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cut, c.unread
}

func (c *pageCut) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || resp.StatusCode != http.StatusOK || req.URL.Query().Get("limit") == "" {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body = c.page(body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// continueKey starts a list's continue token when it has one.
const continueKey = `"continue":"`

// listPage is what the estimate reads of a list response: a Table's printed columns and cells, or a
// list's item names.
type listPage struct {
	Kind     string          `json:"kind"`
	Metadata metav1.ListMeta `json:"metadata"`
	Columns  []struct {
		Priority int32 `json:"priority"`
	} `json:"columnDefinitions"`
	Rows []struct {
		Cells []any `json:"cells"`
	} `json:"rows"`
	Items []json.RawMessage `json:"items"`
}

// itemMeta is what the estimate reads of a list item.
type itemMeta struct {
	Metadata struct {
		Name          string          `json:"name"`
		ManagedFields json.RawMessage `json:"managedFields"`
	} `json:"metadata"`
}

// page adds what a response's rows print to and, once enough was received, returns it as the last page.
// A body that is not a list is passed on as it came.
func (c *pageCut) page(body []byte) []byte {
	if !bytes.Contains(body, []byte(continueKey)) {
		// The last page (an empty token is left out): nothing to end, and no need to read it.
		return body
	}
	var p listPage
	if json.Unmarshal(body, &p) != nil {
		return body
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.printed += c.estimate(&p)
	if p.Metadata.Continue == "" || c.printed < c.need {
		return body
	}
	cut, ok := lastPage(body)
	if !ok {
		return body
	}
	c.cut = true
	if n := p.Metadata.RemainingItemCount; n != nil {
		c.unread += *n
	}
	return cut
}

// estimate is what the page prints to at the least: a table row its always-shown cells and the spaces
// between them, a list item its name and the format's least, or for whole objects a share of their
// JSON (an estimate, not a bound: the engine runs the command again whole when it was too high).
func (c *pageCut) estimate(p *listPage) int {
	n := 0
	if p.Kind == "Table" {
		for _, r := range p.Rows {
			shown := 0
			for i, cell := range r.Cells {
				if i < len(p.Columns) && p.Columns[i].Priority != 0 {
					continue
				}
				n += cellWidth(cell)
				shown++
			}
			n += 3*max(shown-1, 0) + 1
		}
		return n
	}
	for _, raw := range p.Items {
		var it itemMeta
		if json.Unmarshal(raw, &it) != nil {
			continue
		}
		least := len(it.Metadata.Name) + c.item.least
		if c.item.object {
			least = max(least, int(float64(len(raw)-len(it.Metadata.ManagedFields))*objectTextShare))
		}
		n += least
	}
	return n
}

// cellWidth is the least a table cell prints to.
func cellWidth(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case float64:
		return len(strconv.FormatFloat(v, 'f', -1, 64))
	case bool:
		return len(strconv.FormatBool(v))
	case nil:
		return 0
	default:
		return len(fmt.Sprint(v))
	}
}

// lastPage rewrites a list response's metadata without its continue token and remaining count, leaving
// every other byte as the server sent it.
func lastPage(body []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		if key != "metadata" {
			continue
		}
		end := int(dec.InputOffset())
		start := end - len(raw)
		if start < 0 || !bytes.Equal(body[start:end], raw) {
			return nil, false
		}
		var meta metav1.ListMeta
		if json.Unmarshal(raw, &meta) != nil {
			return nil, false
		}
		meta.Continue, meta.RemainingItemCount = "", nil
		repl, err := json.Marshal(meta)
		if err != nil {
			return nil, false
		}
		out := make([]byte, 0, len(body)-len(raw)+len(repl))
		out = append(append(append(out, body[:start]...), repl...), body[end:]...)
		return out, true
	}
	return nil, false
}
