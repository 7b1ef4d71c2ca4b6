package mustgather

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
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

// builtinPrinters mirror the columns kube-apiserver serves for common kinds (pkg/printers/internalversion).
var builtinPrinters = map[schema.GroupResource]printer{
	{Resource: "pods"}: {nameCol(),
		{name: "Ready", typ: "string", cell: podReady},
		{name: "Status", typ: "string", cell: podStatus},
		{name: "Restarts", typ: "string", cell: podRestarts},
		ageCol(),
		{name: "IP", wide: true, typ: "string", cell: func(o map[string]any, _ time.Time) any { return none(str(o, "status", "podIP")) }},
		{name: "Node", wide: true, typ: "string", cell: func(o map[string]any, _ time.Time) any { return none(str(o, "spec", "nodeName")) }},
		{name: "Nominated Node", wide: true, typ: "string", cell: func(o map[string]any, _ time.Time) any { return none(str(o, "status", "nominatedNodeName")) }},
		{name: "Readiness Gates", wide: true, typ: "string", cell: func(map[string]any, time.Time) any { return "<none>" }},
	},
	{Group: "apps", Resource: "deployments"}: {nameCol(),
		{name: "Ready", typ: "string", cell: func(o map[string]any, _ time.Time) any {
			return fmt.Sprintf("%d/%d", num(o, "status", "readyReplicas"), num(o, "spec", "replicas"))
		}},
		{name: "Up-to-date", typ: "integer", cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "updatedReplicas") }},
		{name: "Available", typ: "integer", cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "availableReplicas") }},
		ageCol(), containersCol(), imagesCol(), selectorCol()},
	{Group: "apps", Resource: "replicasets"}: {nameCol(),
		{name: "Desired", typ: "integer", cell: func(o map[string]any, _ time.Time) any { return num(o, "spec", "replicas") }},
		{name: "Current", typ: "integer", cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "replicas") }},
		{name: "Ready", typ: "integer", cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "readyReplicas") }},
		ageCol(), containersCol(), imagesCol(), selectorCol()},
	{Group: "apps", Resource: "statefulsets"}: {nameCol(),
		{name: "Ready", typ: "string", cell: func(o map[string]any, _ time.Time) any {
			return fmt.Sprintf("%d/%d", num(o, "status", "readyReplicas"), num(o, "spec", "replicas"))
		}},
		ageCol(), containersCol(), imagesCol()},
	{Group: "apps", Resource: "daemonsets"}: {nameCol(),
		{name: "Desired", typ: "integer", cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "desiredNumberScheduled") }},
		{name: "Current", typ: "integer", cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "currentNumberScheduled") }},
		{name: "Ready", typ: "integer", cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "numberReady") }},
		{name: "Up-to-date", typ: "integer", cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "updatedNumberScheduled") }},
		{name: "Available", typ: "integer", cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "numberAvailable") }},
		ageCol(), containersCol(), imagesCol(), selectorCol()},
	{Resource: "services"}: {nameCol(),
		{name: "Type", typ: "string", cell: func(o map[string]any, _ time.Time) any { return str(o, "spec", "type") }},
		{name: "Cluster-IP", typ: "string", cell: func(o map[string]any, _ time.Time) any { return none(str(o, "spec", "clusterIP")) }},
		{name: "External-IP", typ: "string", cell: func(map[string]any, time.Time) any { return "<none>" }},
		{name: "Port(s)", typ: "string", cell: servicePorts},
		ageCol(), selectorCol()},
	{Resource: "namespaces"}: {nameCol(),
		{name: "Status", typ: "string", cell: func(o map[string]any, _ time.Time) any { return str(o, "status", "phase") }},
		ageCol()},
	{Resource: "nodes"}: {nameCol(),
		{name: "Status", typ: "string", cell: nodeStatus},
		{name: "Roles", typ: "string", cell: nodeRoles},
		ageCol(),
		{name: "Version", typ: "string", cell: func(o map[string]any, _ time.Time) any { return str(o, "status", "nodeInfo", "kubeletVersion") }}},
	{Resource: "events"}: {
		{name: "Last Seen", typ: "string", cell: func(o map[string]any, now time.Time) any {
			return age(first(str(o, "lastTimestamp"), str(o, "eventTime"), str(o, "metadata", "creationTimestamp")), now)
		}},
		{name: "Type", typ: "string", cell: func(o map[string]any, _ time.Time) any { return str(o, "type") }},
		{name: "Reason", typ: "string", cell: func(o map[string]any, _ time.Time) any { return str(o, "reason") }},
		{name: "Object", typ: "string", cell: func(o map[string]any, _ time.Time) any {
			return strings.ToLower(str(o, "involvedObject", "kind")) + "/" + str(o, "involvedObject", "name")
		}},
		{name: "Message", typ: "string", cell: func(o map[string]any, _ time.Time) any { return str(o, "message") }}},
	{Resource: "configmaps"}: {nameCol(),
		{name: "Data", typ: "integer", cell: func(o map[string]any, _ time.Time) any { return mapLen(o, "data") + mapLen(o, "binaryData") }},
		ageCol()},
	{Resource: "secrets"}: {nameCol(),
		{name: "Type", typ: "string", cell: func(o map[string]any, _ time.Time) any { return str(o, "type") }},
		{name: "Data", typ: "integer", cell: func(o map[string]any, _ time.Time) any { return mapLen(o, "data") }},
		ageCol()},
	{Resource: "serviceaccounts"}: {nameCol(),
		{name: "Secrets", typ: "integer", cell: func(o map[string]any, _ time.Time) any { return sliceLen(o, "secrets") }},
		ageCol()},
	{Group: "batch", Resource: "jobs"}: {nameCol(),
		{name: "Status", typ: "string", cell: jobStatus},
		{name: "Completions", typ: "string", cell: func(o map[string]any, _ time.Time) any {
			return fmt.Sprintf("%d/%d", num(o, "status", "succeeded"), max(num(o, "spec", "completions"), 1))
		}},
		ageCol()},
	{Group: "coordination.k8s.io", Resource: "leases"}: {nameCol(),
		{name: "Holder", typ: "string", cell: func(o map[string]any, _ time.Time) any { return str(o, "spec", "holderIdentity") }},
		ageCol()},
}

func containersCol() column {
	return column{name: "Containers", wide: true, typ: "string", cell: func(o map[string]any, _ time.Time) any {
		return strings.Join(containerFields(o, "name"), ",")
	}}
}

func imagesCol() column {
	return column{name: "Images", wide: true, typ: "string", cell: func(o map[string]any, _ time.Time) any {
		return strings.Join(containerFields(o, "image"), ",")
	}}
}

func selectorCol() column {
	return column{name: "Selector", wide: true, typ: "string", cell: func(o map[string]any, _ time.Time) any {
		sel, ok, _ := unstructured.NestedStringMap(o, "spec", "selector", "matchLabels")
		if !ok {
			sel, _, _ = unstructured.NestedStringMap(o, "spec", "selector")
		}
		return none(joinMap(sel))
	}}
}

// crdPrinter builds a printer from a CRD's additionalPrinterColumns for the given version.
func crdPrinter(crd *unstructured.Unstructured, version string) printer {
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		vm, _ := v.(map[string]any)
		if vm["name"] != version {
			continue
		}
		cols, _, _ := unstructured.NestedSlice(vm, "additionalPrinterColumns")
		p := printer{nameCol()}
		hasAge := false
		for _, c := range cols {
			cm, _ := c.(map[string]any)
			name, _ := cm["name"].(string)
			path, _ := cm["jsonPath"].(string)
			typ, _ := cm["type"].(string)
			prio, _ := cm["priority"].(int64)
			if path == ".metadata.creationTimestamp" {
				hasAge = true
				p = append(p, column{name: name, typ: "string", wide: prio > 0, cell: ageCol().cell})
				continue
			}
			p = append(p, column{name: name, typ: typ, wide: prio > 0, jsonPath: path})
		}
		if !hasAge {
			p = append(p, ageCol())
		}
		return p
	}
	return printer{nameCol(), ageCol()}
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

func containerFields(o map[string]any, field string) []string {
	cs, _, _ := unstructured.NestedSlice(o, "spec", "template", "spec", "containers")
	var out []string
	for _, c := range cs {
		if m, ok := c.(map[string]any); ok {
			out = append(out, fmt.Sprint(m[field]))
		}
	}
	return out
}
