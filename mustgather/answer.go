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
// selectors, in order. Files not decoded yet are decoded first, in parallel; those that do not parse
// are left out and noted.
func (c *Cluster) selectObjects(gr schema.GroupResource, r *Resource, ns string, lsel labels.Selector, fsel fields.Selector) []*Object {
	cands := r.Candidates(lsel)
	if inNS := r.InNamespace(ns); len(inNS) < len(cands) {
		cands = inNS
	}
	var matched []*Object
	for _, o := range cands {
		if (ns == "" || o.Namespace == ns) && lsel.Matches(labels.Set(o.Labels)) {
			matched = append(matched, o)
		}
	}
	c.decodeEach(matched)
	out := matched[:0]
	for _, o := range matched {
		rec := c.record(o)
		ok := rec.err == nil
		if ok && !fsel.Empty() {
			var err error
			if ok, err = c.fieldsMatch(gr, o, rec, fsel); err != nil {
				rec = &record{err: err}
			}
		}
		if rec.err != nil {
			// A file that does not parse is left out of the answer, and said (as a warning).
			c.note(gr, unreadableNote(c.relPath(o.file), innerError(rec.err)))
			continue
		}
		if ok {
			out = append(out, o)
		}
	}
	return out
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

// tableHead opens a table answer; rows and tableEnd follow.
const tableHead = `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"1"},"columnDefinitions":`

// writeTable renders rows like the API server: each row carries its object's metadata
// (includeObject=Metadata, the default), the whole object (Object) or nothing (None).
func (c *Cluster) writeTable(buf *bytes.Buffer, gr schema.GroupResource, items []*Object, include string) error {
	defs, err := json.Marshal(c.printerOf(gr).definitions())
	if err != nil {
		return err
	}
	buf.Grow(len(tableHead) + len(defs) + len(items)*512)
	buf.WriteString(tableHead)
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
// values are rebuilt, within the bounds of encodeElided.
func (c *Cluster) writeObjects(buf *bytes.Buffer, gr schema.GroupResource, items []*Object, isList bool) error {
	raws := make([][]byte, len(items))
	var elided []*unstructured.Unstructured
	var at []int
	size := 0
	for i, o := range items {
		raw, rec, err := c.raw(o)
		if err != nil {
			return err
		}
		raws[i], size = raw, size+len(raw)
		if rec.elided {
			u, err := c.Load(o)
			if err != nil {
				return err
			}
			elided, at = append(elided, u), append(at, i)
		}
	}
	if len(elided) > 0 {
		rebuilt, err := encodeElided(elided, gr == grSecrets)
		if err != nil {
			return err
		}
		for j, u := range rebuilt {
			raw, err := json.Marshal(u.Object)
			if err != nil {
				return err
			}
			raws[at[j]] = raw
		}
	}
	if !isList {
		buf.Write(raws[0])
		buf.WriteByte('\n')
		return nil
	}
	r := c.resource(gr)
	head, err := json.Marshal(map[string]string{"apiVersion": r.GVR.GroupVersion().String(), "kind": r.Kind + "List"})
	if err != nil {
		return err
	}
	buf.Grow(size + len(items) + len(head) + 64)
	buf.Write(head[:len(head)-1])
	buf.WriteString(`,"metadata":{"resourceVersion":"1"},"items":[`)
	for i, raw := range raws {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(raw)
	}
	buf.WriteString("]}\n")
	return nil
}
