package mustgather

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/util/jsonpath"
)

// column is one table column: its definition and how to compute a cell.
type column struct {
	name     string
	wide     bool // shown with -o wide only
	typ      string
	cell     func(o map[string]any, now time.Time) any
	jsonPath string // CRD printer columns
}

// printer is the table layout of one resource, as the API server would serve it.
type printer []column

func nameCol() column {
	return column{name: "Name", typ: "string", cell: func(o map[string]any, _ time.Time) any { return str(o, "metadata", "name") }}
}

func ageCol() column {
	return column{name: "Age", typ: "string", cell: func(o map[string]any, now time.Time) any { return age(str(o, "metadata", "creationTimestamp"), now) }}
}

// crdPrinter builds a printer from a CRD's additionalPrinterColumns for the given version, as the
// API server does: Name, then the columns (Age alone when the CRD gives none). Dates are served as
// ages from the collection time, so that they read as they did then.
func crdPrinter(crd *unstructured.Unstructured, version string) printer {
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		vm, _ := v.(map[string]any)
		if vm["name"] != version {
			continue
		}
		cols, ok, _ := unstructured.NestedSlice(vm, "additionalPrinterColumns")
		if !ok {
			cols, _, _ = unstructured.NestedSlice(crd.Object, "spec", "additionalPrinterColumns")
		}
		if len(cols) == 0 {
			return printer{nameCol(), ageCol()}
		}
		p := printer{nameCol()}
		for _, c := range cols {
			cm, _ := c.(map[string]any)
			name, _ := cm["name"].(string)
			path, _ := cm["jsonPath"].(string)
			typ, _ := cm["type"].(string)
			prio := num(cm, "priority")
			if typ == "date" {
				p = append(p, column{name: name, typ: "string", wide: prio > 0, cell: dateCell(path)})
				continue
			}
			p = append(p, column{name: name, typ: typ, wide: prio > 0, jsonPath: path})
		}
		return p
	}
	return printer{nameCol(), ageCol()}
}

// dateCell renders a date column as an age, or <unknown> when the field is absent or no date.
func dateCell(path string) func(o map[string]any, now time.Time) any {
	return func(o map[string]any, now time.Time) any {
		v := evalJSONPath(o, path)
		s, _ := v.(string)
		if s == "" {
			return "<unknown>"
		}
		return age(s, now)
	}
}

// row computes a table row.
func (p printer) row(o map[string]any, now time.Time) []any {
	cells := make([]any, len(p))
	for i, c := range p {
		if c.jsonPath != "" {
			cells[i] = evalJSONPath(o, c.jsonPath)
			continue
		}
		cells[i] = c.cell(o, now)
	}
	return cells
}

func (p printer) definitions() []metav1.TableColumnDefinition {
	defs := make([]metav1.TableColumnDefinition, len(p))
	for i, c := range p {
		defs[i] = metav1.TableColumnDefinition{Name: c.name, Type: c.typ}
		if c.name == "Name" {
			defs[i].Format = "name"
		}
		if c.wide {
			defs[i].Priority = 1
		}
	}
	return defs
}

func evalJSONPath(o map[string]any, path string) any {
	jp := jsonpath.New("col").AllowMissingKeys(true)
	if err := jp.Parse("{" + path + "}"); err != nil {
		return ""
	}
	results, err := jp.FindResults(o)
	if err != nil || len(results) == 0 || len(results[0]) == 0 {
		return ""
	}
	var parts []string
	for _, r := range results[0] {
		parts = append(parts, fmt.Sprint(r.Interface()))
	}
	return strings.Join(parts, ",")
}

func str(o map[string]any, fields ...string) string {
	v, _, _ := unstructured.NestedFieldNoCopy(o, fields...)
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

func num(o map[string]any, fields ...string) int64 {
	v, _, _ := unstructured.NestedFieldNoCopy(o, fields...)
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case int:
		return int64(x)
	}
	return 0
}

func mapLen(o map[string]any, fields ...string) int64 {
	m, _, _ := unstructured.NestedMap(o, fields...)
	return int64(len(m))
}

func sliceLen(o map[string]any, fields ...string) int64 {
	s, _, _ := unstructured.NestedSlice(o, fields...)
	return int64(len(s))
}

func none(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func age(ts string, now time.Time) string {
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return "<unknown>"
		}
	}
	return duration.HumanDuration(now.Sub(t))
}

func joinMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}
