package mustgather

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"sigs.k8s.io/yaml"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/redact"
)

// The index decodes every object once, file by file: a file's objects are parsed together, their
// credentials elided, and each object is kept as compact JSON in the archive's spill file, with what
// answers need without the whole object: the values of the fields selectors name, whether it holds
// elided Secret values, and its table row. A query then reads no YAML: lists filter on the index,
// tables are spliced from the rows, whole objects are spliced from the spill file.

// fileGroup is the objects of one file: they are decoded together, once.
type fileGroup struct {
	path   string
	gr     schema.GroupResource
	secret bool // read from the secrets resource
	objs   []*Object
	once   sync.Once
}

// record is what the index keeps of one decoded object.
type record struct {
	err    error // the file does not parse, or no longer holds the object
	ref    spillRef
	elided bool     // holds elided Secret values, which answers rebuild
	fields []string // values of indexedFields[gr], by position
}

// tableRow is an object's row, encoded: its cells and its metadata (for rows that carry it).
type tableRow struct {
	cells, meta []byte
	big         bool // larger than maxKeptRow: made again from the object when served
	err         error
}

// maxKeptRow bounds the bytes of a row the index keeps (objects with large annotations): larger
// rows are made again from the object when served, so that the index costs little per object.
const maxKeptRow = 4 << 10

// record returns the index entry of an object, decoding its file first if no query has yet.
func (c *Cluster) record(o *Object) *record {
	if o.grp == nil {
		return &record{err: fmt.Errorf("%s: %w", o.file, errors.New("not indexed"))}
	}
	o.grp.once.Do(func() { c.decode(o.grp) })
	return o.rec
}

// decode parses one file and indexes its objects.
func (c *Cluster) decode(g *fileGroup) {
	fail := func(err error) {
		for _, o := range g.objs {
			o.rec = &record{err: err}
		}
	}
	data, err := os.ReadFile(g.path)
	if err != nil {
		fail(err)
		return
	}
	objs, whole, err := parseForIndex(g.path, data)
	if err != nil {
		fail(err)
		return
	}
	if g.secret || redact.MayHold(data) {
		for _, obj := range objs {
			elideObject(obj.Object, g.secret)
		}
		whole = nil
	}
	selectable := indexedFields[g.gr]
	for _, o := range g.objs {
		obj := pick(objs, o.index)
		if obj == nil {
			o.rec = &record{err: fmt.Errorf("%s: %w", g.path, fmt.Errorf("no longer holds %s/%s", o.Namespace, o.Name))}
			continue
		}
		raw := whole
		if raw == nil {
			raw, err = json.Marshal(obj.Object)
		}
		if err != nil {
			o.rec = &record{err: fmt.Errorf("%s: %w", g.path, err)}
			continue
		}
		rec := &record{ref: c.spill.put(raw)}
		var total int64
		rec.elided = sumElided(obj.Object, &total)
		if len(selectable) > 0 {
			rec.fields = make([]string, len(selectable))
			for i, f := range selectable {
				rec.fields[i] = f.value(obj.Object)
			}
		}
		o.rec = rec
		if c.rowsReady {
			o.rowOnce.Do(func() { o.row = c.makeRow(g.gr, obj.Object) })
		}
	}
}

// parseJSONWay parses a file as sigs.k8s.io/yaml does (YAML to JSON, then JSON), with the JSON of
// the file when it holds one object. Any error is parseBytes's own.
func parseJSONWay(path string, data []byte) ([]*unstructured.Unstructured, []byte, error) {
	j, err := yaml.YAMLToJSON(data)
	var m map[string]any
	if err == nil && len(bytes.TrimSpace(data)) > 0 {
		err = json.Unmarshal(j, &m)
	}
	if err != nil || m == nil {
		objs, err := parseBytes(path, data)
		return objs, nil, err
	}
	return fromMap(path, m, j)
}

// pick is the object at index of a file's objects (-1: the file's one object).
func pick(objs []*unstructured.Unstructured, index int) *unstructured.Unstructured {
	switch {
	case index < 0 && len(objs) > 0:
		return objs[len(objs)-1]
	case index >= 0 && index < len(objs):
		return objs[index]
	}
	return nil
}

// makeRow renders an object's row with its resource's printer, at the archive's reference time.
func (c *Cluster) makeRow(gr schema.GroupResource, obj map[string]any) *tableRow {
	cells, err := json.Marshal(c.printerOf(gr).row(obj, c.now))
	if err != nil {
		return &tableRow{err: err}
	}
	md, _ := obj["metadata"].(map[string]any)
	meta, err := json.Marshal(md)
	if err != nil {
		return &tableRow{err: err}
	}
	if len(cells)+len(meta) > maxKeptRow {
		return &tableRow{big: true}
	}
	return &tableRow{cells: cells, meta: meta}
}

// rowOf returns an object's row: the index's, or made from the object when the index keeps none.
func (c *Cluster) rowOf(gr schema.GroupResource, o *Object) (*tableRow, error) {
	if rec := c.record(o); rec.err != nil {
		return nil, rec.err
	}
	o.rowOnce.Do(func() {
		obj, err := c.Load(o)
		if err != nil {
			o.row = &tableRow{err: err}
			return
		}
		o.row = c.makeRow(gr, obj.Object)
	})
	if !o.row.big {
		return o.row, o.row.err
	}
	obj, err := c.Load(o)
	if err != nil {
		return nil, err
	}
	cells, err := json.Marshal(c.printerOf(gr).row(obj.Object, c.now))
	if err != nil {
		return nil, err
	}
	md, _ := obj.Object["metadata"].(map[string]any)
	meta, err := json.Marshal(md)
	return &tableRow{cells: cells, meta: meta}, err
}

// printerOf is the printer of a resource, made once.
func (c *Cluster) printerOf(gr schema.GroupResource) printer {
	r := c.Resources[gr]
	if r == nil {
		return c.printerFor(gr)
	}
	r.printerOnce.Do(func() { r.printer = c.printerFor(gr) })
	return r.printer
}

// raw returns an object's JSON, as the index keeps it (credentials elided).
func (c *Cluster) raw(o *Object) ([]byte, *record, error) {
	rec := c.record(o)
	if rec.err != nil {
		return nil, rec, rec.err
	}
	data, err := c.spill.get(rec.ref)
	return data, rec, err
}

// fieldsMatch evaluates a field selector on the index; a field the index does not keep is read from
// the object.
func (c *Cluster) fieldsMatch(gr schema.GroupResource, o *Object, rec *record, sel fields.Selector) (bool, error) {
	selectable := indexedFields[gr]
	for _, r := range sel.Requirements() {
		v, ok := "", false
		switch r.Field {
		case "metadata.name":
			v, ok = o.Name, true
		case "metadata.namespace":
			v, ok = o.Namespace, true
		default:
			for i, f := range selectable {
				if f.name == r.Field {
					v, ok = rec.fields[i], true
					break
				}
			}
		}
		if !ok {
			obj, err := c.Load(o)
			if err != nil {
				return false, err
			}
			return matchFields(gr, obj.Object, sel), nil
		}
		switch r.Operator {
		case "=", "==":
			if v != r.Value {
				return false, nil
			}
		case "!=":
			if v == r.Value {
				return false, nil
			}
		}
	}
	return true, nil
}
