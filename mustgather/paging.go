package mustgather

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Lists are paged the way the API server pages them: a request with limit=N gets at most N objects
// and, when more may match, a continue token that names the last object served; the next request
// with that token gets the objects after it. An archive does not change, so a token never expires,
// and every page of one list is cut from the same sorted index: following the tokens serves every
// object once. A token says which list it belongs to (cluster, resource, namespace, selectors), and
// a request for another list with it is refused.

// pageRequest is one list request's window: at most limit objects (0: every one), after the object
// a continue token named (none: from the first).
type pageRequest struct {
	limit int
	after *objectKey
	query string // digest of the list asked for, that the tokens of its pages carry
}

// objectKey is an object's place in a resource's sorted objects.
type objectKey struct{ namespace, name string }

// less orders keys the way Resource.Objects is sorted.
func (k objectKey) less(o *Object) bool {
	return k.namespace < o.Namespace || (k.namespace == o.Namespace && k.name < o.Name)
}

// continueToken is what a continue token holds, base64url-encoded JSON.
type continueToken struct {
	Version   int    `json:"v"`
	Query     string `json:"q"`
	Namespace string `json:"ns,omitempty"`
	Name      string `json:"n"`
}

// tokenVersion is the version of the tokens this server hands out.
const tokenVersion = 1

// errContinue marks a continue token that cannot be used for the request it came with.
var errContinue = errors.New("the continue token")

// listQuery is the digest of what a list request selects: tokens of one list are refused by another.
func listQuery(archive, cluster string, gr schema.GroupResource, ns string, lsel labels.Selector, fsel fields.Selector) string {
	h := sha256.New()
	for _, part := range []string{archive, cluster, gr.Group, gr.Resource, ns, lsel.String(), fsel.String()} {
		h.Write([]byte(strconv.Itoa(len(part))))
		h.Write([]byte{':'})
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// parsePage reads limit and continue of a list request for the list query names.
func parsePage(q url.Values, query string) (pageRequest, error) {
	p := pageRequest{query: query}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return p, fmt.Errorf("limit %q is not a number", s)
		}
		if n > 0 {
			p.limit = int(min(n, 1<<31))
		}
	}
	tok := q.Get("continue")
	if tok == "" {
		return p, nil
	}
	data, err := base64.RawURLEncoding.DecodeString(tok)
	var t continueToken
	if err == nil {
		err = json.Unmarshal(data, &t)
	}
	switch {
	case err != nil || t.Version != tokenVersion || t.Name == "":
		return p, fmt.Errorf("%w is not valid: it was not made by this server; list again without it", errContinue)
	case t.Query != query:
		return p, fmt.Errorf("%w was made for another list (another cluster, resource, namespace, label or field selector): "+
			"ask for the next page with the same list as the first, or list again without it", errContinue)
	}
	p.after = &objectKey{namespace: t.Namespace, name: t.Name}
	return p, nil
}

// token is the continue token of a page that ends with o.
func (p pageRequest) token(o *Object) string {
	data, _ := json.Marshal(continueToken{Version: tokenVersion, Query: p.query, Namespace: o.Namespace, Name: o.Name})
	return base64.RawURLEncoding.EncodeToString(data)
}

// from is the position of the first object of objs (in Resource.Objects order) after the page's token.
func (p pageRequest) from(objs []*Object) int {
	if p.after == nil {
		return 0
	}
	return sort.Search(len(objs), func(i int) bool { return p.after.less(objs[i]) })
}
