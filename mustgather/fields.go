package mustgather

import (
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// selectableField is a field, beyond metadata.name and metadata.namespace, that field selectors may
// name, with its value computed as the API server computes it: a boolean or a count the object leaves
// out reads as "false" or "0", and some fields are named after others (a Job's status.successful is
// its status.succeeded).
type selectableField struct {
	name  string
	value func(obj map[string]any) string
}

// stringField is a field read at its own path.
func stringField(name string) selectableField {
	path := strings.Split(name, ".")
	return selectableField{name: name, value: func(obj map[string]any) string { return str(obj, path...) }}
}

// boolField is a boolean field, false when absent.
func boolField(name string) selectableField {
	path := strings.Split(name, ".")
	return selectableField{name: name, value: func(obj map[string]any) string {
		v, _ := nestedField(obj, path...).(bool)
		return strconv.FormatBool(v)
	}}
}

// countField is an integer field read at path, 0 when absent.
func countField(name, path string) selectableField {
	p := strings.Split(path, ".")
	return selectableField{name: name, value: func(obj map[string]any) string { return strconv.FormatInt(num(obj, p...), 10) }}
}

// indexedFields are the fields whose values the index keeps, by resource: those the API server
// supports in field selectors. Selectors on other fields read the objects.
var indexedFields = map[schema.GroupResource][]selectableField{
	{Resource: "pods"}: {stringField("spec.nodeName"), stringField("spec.restartPolicy"), stringField("spec.schedulerName"),
		stringField("spec.serviceAccountName"), boolField("spec.hostNetwork"), stringField("status.phase"),
		{name: "status.podIP", value: podIP}, stringField("status.nominatedNodeName")},
	{Resource: "events"}: {stringField("involvedObject.kind"), stringField("involvedObject.namespace"), stringField("involvedObject.name"),
		stringField("involvedObject.uid"), stringField("involvedObject.apiVersion"), stringField("involvedObject.resourceVersion"),
		stringField("involvedObject.fieldPath"), stringField("reason"), stringField("reportingComponent"),
		{name: "source", value: selectedEventSource}, stringField("type")},
	{Group: "events.k8s.io", Resource: "events"}: {stringField("regarding.kind"), stringField("regarding.namespace"),
		stringField("regarding.name"), stringField("regarding.uid"), stringField("reason"), stringField("type")},
	{Resource: "secrets"}:                    {stringField("type")},
	{Resource: "namespaces"}:                 {stringField("status.phase")},
	{Resource: "nodes"}:                      {boolField("spec.unschedulable")},
	{Resource: "replicationcontrollers"}:     {countField("status.replicas", "status.replicas")},
	{Group: "apps", Resource: "replicasets"}: {countField("status.replicas", "status.replicas")},
	{Group: "batch", Resource: "jobs"}:       {countField("status.successful", "status.succeeded")},
	{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}: {stringField("spec.signerName")},
}

// podIP is a pod's first IP, as the API server selects it.
func podIP(obj map[string]any) string {
	if ips, _ := nestedField(obj, "status", "podIPs").([]any); len(ips) > 0 {
		if m, _ := ips[0].(map[string]any); m != nil {
			if ip, _ := m["ip"].(string); ip != "" {
				return ip
			}
		}
	}
	return str(obj, "status", "podIP")
}

// selectedEventSource is an event's source component, or its reporting controller when it names none.
func selectedEventSource(obj map[string]any) string {
	if s := str(obj, "source", "component"); s != "" {
		return s
	}
	return str(obj, "reportingComponent")
}

// fieldValue is the value of a field a selector names, as the API server computes it: from the index
// when it keeps the field, else read from the object at the field's path.
func fieldValue(gr schema.GroupResource, obj map[string]any, name string) string {
	for _, f := range indexedFields[gr] {
		if f.name == name {
			return f.value(obj)
		}
	}
	return str(obj, strings.Split(name, ".")...)
}

// nestedField is the value at a path of an object, nil when absent.
func nestedField(obj map[string]any, path ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(obj, path...)
	return v
}
