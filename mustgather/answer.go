package mustgather

import (
	"bytes"
	"encoding/json"
	"runtime"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Answers are written from the index: tables from the rows it keeps, objects from the JSON it keeps,
// spliced into the answer without being decoded, except those holding elided Secret values, which
// are rebuilt (see encodeElided).

// selectObjects returns the objects of a resource in a namespace ("" for all) that match the
// selectors, in order, within a page (see paging.go): at most its limit, after its token, with the
// last object served when more may match. Files not decoded yet are decoded first, a batch at a time
// in parallel; those that do not parse are left out and noted. A page reads only as far as it needs:
// the label index, the namespace range and the token narrow the objects, and a limited page stops at
// the first match past its limit.
func (c *Cluster) selectObjects(gr schema.GroupResource, r *Resource, ns string, lsel labels.Selector, fsel fields.Selector, p pageRequest) (items []*Object, last *Object) {
	cands := r.Candidates(lsel)
	if inNS := r.InNamespace(ns); len(inNS) < len(cands) {
		cands = inNS
	}
	cands = cands[p.from(cands):]
	batch := len(cands)
	if p.limit > 0 {
		batch = max(p.limit+1, minBatch)
	}
	var out []*Object
	for len(cands) > 0 {
		var matched []*Object
		for len(cands) > 0 && len(matched) < batch {
			o := cands[0]
			cands = cands[1:]
			if (ns == "" || o.Namespace == ns) && lsel.Matches(labels.Set(o.Labels)) {
				matched = append(matched, o)
			}
		}
		c.decodeEach(matched)
		for _, o := range matched {
			if !c.matches(gr, o, fsel) {
				continue
			}
			if p.limit > 0 && len(out) == p.limit {
				return out, out[len(out)-1] // one more matches: the page ends here
			}
			out = append(out, o)
		}
		if p.limit > 0 {
			batch = max(p.limit+1-len(out), minBatch)
		}
	}
	return out, nil
}

// minBatch is the fewest objects a limited page decodes at a time.
const minBatch = 64

// matches applies a field selector to a decoded object; an object whose file does not parse matches
// nothing, and is noted (as a warning of the answer).
func (c *Cluster) matches(gr schema.GroupResource, o *Object, fsel fields.Selector) bool {
	rec := c.record(o)
	ok := rec.err == nil
	if ok && !fsel.Empty() {
		var err error
		if ok, err = c.fieldsMatch(gr, o, rec, fsel); err != nil {
			rec = &record{err: err}
		}
	}
	if rec.err != nil {
		c.note(gr, unreadableNote(c.relPath(o.file), innerError(rec.err)))
		return false
	}
	return ok
}

// decodeEach decodes the files of objects with a worker per CPU; those decoded already cost nothing.
func (c *Cluster) decodeEach(objs []*Object) {
	workers := min(runtime.GOMAXPROCS(0), len(objs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(objs); i = int(next.Add(1) - 1) {
				c.record(objs[i])
			}
		}()
	}
	wg.Wait()
}

// tableHead opens a table answer; its list metadata, columns and rows follow.
const tableHead = `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":`

// listMeta is the metadata of a list or table answer: the archive's one resource version, and the
// continue token of the next page when there is one.
func listMeta(cont string) []byte {
	if cont == "" {
		return []byte(`{"resourceVersion":"1"}`)
	}
	data, _ := json.Marshal(map[string]string{"resourceVersion": "1", "continue": cont})
	return data
}

// writeTable renders rows like the API server: each row carries its object's metadata
// (includeObject=Metadata, the default), the whole object (Object) or nothing (None).
func (c *Cluster) writeTable(buf *bytes.Buffer, gr schema.GroupResource, items []*Object, include, cont string) error {
	defs, err := json.Marshal(c.printerOf(gr).definitions())
	if err != nil {
		return err
	}
	buf.Grow(len(tableHead) + len(defs) + len(items)*512)
	buf.WriteString(tableHead)
	buf.Write(listMeta(cont))
	buf.WriteString(`,"columnDefinitions":`)
	buf.Write(defs)
	if len(items) == 0 {
		buf.WriteString(`,"rows":null}` + "\n")
		return nil
	}
	buf.WriteString(`,"rows":[`)
	for i, o := range items {
		row, err := c.rowOf(gr, o)
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"cells":`)
		buf.Write(row.cells)
		switch include {
		case "Object":
			raw, _, err := c.raw(o)
			if err != nil {
				return err
			}
			buf.WriteString(`,"object":`)
			buf.Write(raw)
		case "None":
			buf.WriteString(`,"object":null`)
		default:
			buf.WriteString(`,"object":{"apiVersion":"meta.k8s.io/v1","kind":"PartialObjectMetadata","metadata":`)
			buf.Write(row.meta)
			buf.WriteByte('}')
		}
		buf.WriteByte('}')
	}
	buf.WriteString("]}\n")
	return nil
}

// writeObjects writes objects as the API serves them: one object, or a List of them. Elided Secret
// values are rebuilt, within the bounds of encodeElided. The other objects are copied from the spill
// file straight into the answer, which is sized once: a list of every pod costs the answer's bytes.
func (c *Cluster) writeObjects(buf *bytes.Buffer, gr schema.GroupResource, items []*Object, isList bool, cont string) error {
	var elided []*unstructured.Unstructured
	rebuilt := map[*Object][]byte{}
	size := 0
	for _, o := range items {
		rec := c.record(o)
		if rec.err != nil {
			return rec.err
		}
		size += rec.ref.n + 1
		if rec.elided {
			u, err := c.Load(o)
			if err != nil {
				return err
			}
			elided = append(elided, u)
			rebuilt[o] = nil
		}
	}
	if len(elided) > 0 {
		objs, err := encodeElided(elided, gr == grSecrets)
		if err != nil {
			return err
		}
		j := 0
		for _, o := range items {
			if _, ok := rebuilt[o]; !ok {
				continue
			}
			raw, err := json.Marshal(objs[j].Object)
			if err != nil {
				return err
			}
			rebuilt[o], size, j = raw, size+len(raw), j+1
		}
	}
	object := func(o *Object) error {
		if raw, ok := rebuilt[o]; ok {
			buf.Write(raw)
			return nil
		}
		raw, _, err := c.raw(o)
		buf.Write(raw)
		return err
	}
	if !isList {
		if err := object(items[0]); err != nil {
			return err
		}
		buf.WriteByte('\n')
		return nil
	}
	r := c.resource(gr)
	head, err := json.Marshal(map[string]string{"apiVersion": r.GVR.GroupVersion().String(), "kind": r.Kind + "List"})
	if err != nil {
		return err
	}
	buf.Grow(size + len(head) + 64)
	buf.Write(head[:len(head)-1])
	buf.WriteString(`,"metadata":`)
	buf.Write(listMeta(cont))
	buf.WriteString(`,"items":[`)
	for i, o := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := object(o); err != nil {
			return err
		}
	}
	buf.WriteString("]}\n")
	return nil
}
