package mustgather

import (
	"fmt"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Column helpers: each reads one field, the way the server's printer does.
func strCol(name string, fields ...string) column {
	return column{name: name, typ: "string", cell: func(o map[string]any, _ time.Time) any { return str(o, fields...) }}
}

func noneCol(name string, fields ...string) column {
	return column{name: name, typ: "string", cell: func(o map[string]any, _ time.Time) any { return none(str(o, fields...)) }}
}

// unsetCol prints "<unset>" for an empty value, as the API server does for optional class names.
func unsetCol(name string, fields ...string) column {
	return column{name: name, typ: "string", cell: func(o map[string]any, _ time.Time) any {
		if v := str(o, fields...); v != "" {
			return v
		}
		return "<unset>"
	}}
}

func intCol(name string, fields ...string) column {
	return column{name: name, typ: "integer", cell: func(o map[string]any, _ time.Time) any { return num(o, fields...) }}
}

func cellCol(name, typ string, f func(o map[string]any, now time.Time) any) column {
	return column{name: name, typ: typ, cell: f}
}

func wide(c column) column { c.wide = true; return c }

// createdAtCol is the column of the API server's default table (kinds with no printer of their own).
func createdAtCol() column {
	return column{name: "Created At", typ: "date", cell: func(o map[string]any, _ time.Time) any { return str(o, "metadata", "creationTimestamp") }}
}

// defaultPrinter is the API server's table for kinds with no printer of their own.
var defaultPrinter = printer{nameCol(), createdAtCol()}

func templateContainers(path ...string) (column, column) {
	get := func(o map[string]any, field string) string {
		cs, _, _ := unstructured.NestedSlice(o, append(path, "containers")...)
		var out []string
		for _, c := range cs {
			if m, ok := c.(map[string]any); ok {
				out = append(out, fmt.Sprint(m[field]))
			}
		}
		return strings.Join(out, ",")
	}
	return column{name: "Containers", wide: true, typ: "string", cell: func(o map[string]any, _ time.Time) any { return get(o, "name") }},
		column{name: "Images", wide: true, typ: "string", cell: func(o map[string]any, _ time.Time) any { return get(o, "image") }}
}

// labelSelectorCol formats a metav1.LabelSelector as the server does ("<none>" when empty).
func labelSelectorCol(name string, fields ...string) column {
	return column{name: name, typ: "string", wide: true, cell: func(o map[string]any, _ time.Time) any { return formatSelector(o, fields...) }}
}

func formatSelector(o map[string]any, fields ...string) string {
	m, ok, _ := unstructured.NestedMap(o, fields...)
	if !ok {
		return "<none>"
	}
	var sel metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &sel); err != nil {
		return "<error>"
	}
	return metav1.FormatLabelSelector(&sel)
}

// formatLabels formats a string map as labels.FormatLabels does.
func formatLabels(o map[string]any, fields ...string) string {
	m, _, _ := unstructured.NestedStringMap(o, fields...)
	return none(joinMap(m))
}

func workloadPrinter(cols ...column) printer {
	names, images := templateContainers("spec", "template", "spec")
	return append(append(printer{nameCol()}, cols...), ageCol(), names, images, labelSelectorCol("Selector", "spec", "selector"))
}

// builtinPrinters mirror the columns kube-apiserver serves (pkg/printers/internalversion), wide ones
// (priority 1) included: kubectl shows those with -o wide.
var builtinPrinters = map[schema.GroupResource]printer{
	{Resource: "pods"}: {nameCol(),
		cellCol("Ready", "string", podReady),
		cellCol("Status", "string", podStatus),
		cellCol("Restarts", "string", podRestarts),
		ageCol(),
		wide(noneCol("IP", "status", "podIP")),
		wide(noneCol("Node", "spec", "nodeName")),
		wide(noneCol("Nominated Node", "status", "nominatedNodeName")),
		wide(cellCol("Readiness Gates", "string", readinessGates)),
	},
	{Group: "apps", Resource: "deployments"}: workloadPrinter(
		cellCol("Ready", "string", func(o map[string]any, _ time.Time) any {
			return fmt.Sprintf("%d/%d", num(o, "status", "readyReplicas"), num(o, "spec", "replicas"))
		}),
		column{name: "Up-to-date", typ: "string", cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "updatedReplicas") }},
		column{name: "Available", typ: "string", cell: func(o map[string]any, _ time.Time) any { return num(o, "status", "availableReplicas") }}),
	{Group: "apps", Resource: "replicasets"}: workloadPrinter(
		intCol("Desired", "spec", "replicas"), intCol("Current", "status", "replicas"), intCol("Ready", "status", "readyReplicas")),
	{Resource: "replicationcontrollers"}:      rcPrinter(),
	{Group: "apps", Resource: "statefulsets"}: statefulSetPrinter(),
	{Group: "apps", Resource: "daemonsets"}:   daemonSetPrinter(),
	{Group: "batch", Resource: "jobs"}:        jobPrinter(),
	{Group: "batch", Resource: "cronjobs"}:    cronJobPrinter(),
	{Resource: "services"}: {nameCol(),
		strCol("Type", "spec", "type"),
		cellCol("Cluster-IP", "string", func(o map[string]any, _ time.Time) any {
			ips, _, _ := unstructured.NestedStringSlice(o, "spec", "clusterIPs")
			if len(ips) > 0 {
				return ips[0]
			}
			return "<none>"
		}),
		cellCol("External-IP", "string", serviceExternalIP),
		cellCol("Port(s)", "string", servicePorts),
		ageCol(),
		wide(cellCol("Selector", "string", func(o map[string]any, _ time.Time) any { return formatLabels(o, "spec", "selector") })),
	},
	{Group: "networking.k8s.io", Resource: "ingresses"}: {nameCol(),
		cellCol("Class", "string", func(o map[string]any, _ time.Time) any {
			return first(str(o, "spec", "ingressClassName"), "<none>")
		}),
		cellCol("Hosts", "string", ingressHosts),
		cellCol("Address", "string", func(o map[string]any, _ time.Time) any {
			return loadBalancerAddresses(o, "status", "loadBalancer", "ingress")
		}),
		cellCol("Ports", "string", func(o map[string]any, _ time.Time) any {
			if sliceLen(o, "spec", "tls") > 0 {
				return "80, 443"
			}
			return "80"
		}),
		ageCol()},
	{Group: "networking.k8s.io", Resource: "ingressclasses"}: {nameCol(), strCol("Controller", "spec", "controller"),
		cellCol("Parameters", "string", func(o map[string]any, _ time.Time) any {
			if str(o, "spec", "parameters", "kind") == "" {
				return "<none>"
			}
			g := str(o, "spec", "parameters", "apiGroup")
			k := str(o, "spec", "parameters", "kind")
			if g != "" {
				k += "." + g
			}
			return k + "/" + str(o, "spec", "parameters", "name")
		}), ageCol()},
	{Group: "networking.k8s.io", Resource: "networkpolicies"}: {nameCol(),
		cellCol("Pod-Selector", "string", func(o map[string]any, _ time.Time) any { return formatSelector(o, "spec", "podSelector") }), ageCol()},
	{Resource: "endpoints"}: {nameCol(), cellCol("Endpoints", "string", endpointsCell), ageCol()},
	{Group: "discovery.k8s.io", Resource: "endpointslices"}: {nameCol(),
		strCol("AddressType", "addressType"), cellCol("Ports", "string", sliceTargetPorts), cellCol("Endpoints", "string", sliceEndpoints), ageCol()},
	{Resource: "namespaces"}: {nameCol(), strCol("Status", "status", "phase"), ageCol()},
	{Resource: "nodes"}: {nameCol(),
		cellCol("Status", "string", nodeStatus),
		cellCol("Roles", "string", nodeRoles),
		ageCol(),
		strCol("Version", "status", "nodeInfo", "kubeletVersion"),
		wide(cellCol("Internal-IP", "string", nodeAddress("InternalIP"))),
		wide(cellCol("External-IP", "string", nodeAddress("ExternalIP"))),
		wide(cellCol("OS-Image", "string", func(o map[string]any, _ time.Time) any {
			return first(str(o, "status", "nodeInfo", "osImage"), "<unknown>")
		})),
		wide(cellCol("Kernel-Version", "string", func(o map[string]any, _ time.Time) any {
			k := first(str(o, "status", "nodeInfo", "kernelVersion"), "<unknown>")
			if arch := str(o, "status", "nodeInfo", "architecture"); arch != "" {
				k += " (" + arch + ")"
			}
			return k
		})),
		wide(cellCol("Container-Runtime", "string", func(o map[string]any, _ time.Time) any {
			return first(str(o, "status", "nodeInfo", "containerRuntimeVersion"), "<unknown>")
		})),
	},
	{Resource: "events"}:                         eventPrinter(),
	{Group: "events.k8s.io", Resource: "events"}: eventPrinter(),
	{Resource: "configmaps"}: {nameCol(),
		column{name: "Data", typ: "string", cell: func(o map[string]any, _ time.Time) any { return mapLen(o, "data") + mapLen(o, "binaryData") }},
		ageCol()},
	{Resource: "secrets"}: {nameCol(), strCol("Type", "type"),
		column{name: "Data", typ: "string", cell: func(o map[string]any, _ time.Time) any { return mapLen(o, "data") }},
		ageCol()},
	{Resource: "serviceaccounts"}: {nameCol(), ageCol()},
	{Resource: "persistentvolumes"}: {nameCol(),
		cellCol("Capacity", "string", func(o map[string]any, _ time.Time) any { return str(o, "spec", "capacity", "storage") }),
		cellCol("Access Modes", "string", accessModes("spec", "accessModes")),
		strCol("Reclaim Policy", "spec", "persistentVolumeReclaimPolicy"),
		strCol("Status", "status", "phase"),
		cellCol("Claim", "string", func(o map[string]any, _ time.Time) any {
			if n := str(o, "spec", "claimRef", "name"); n != "" {
				return str(o, "spec", "claimRef", "namespace") + "/" + n
			}
			return ""
		}),
		strCol("StorageClass", "spec", "storageClassName"),
		unsetCol("VolumeAttributesClass", "spec", "volumeAttributesClassName"),
		strCol("Reason", "status", "reason"),
		ageCol(),
		wide(cellCol("VolumeMode", "string", volumeMode)),
	},
	{Resource: "persistentvolumeclaims"}: {nameCol(),
		strCol("Status", "status", "phase"),
		strCol("Volume", "spec", "volumeName"),
		cellCol("Capacity", "string", func(o map[string]any, _ time.Time) any {
			if str(o, "spec", "volumeName") == "" {
				return ""
			}
			return str(o, "status", "capacity", "storage")
		}),
		cellCol("Access Modes", "string", func(o map[string]any, now time.Time) any {
			if str(o, "spec", "volumeName") == "" {
				return ""
			}
			return accessModes("status", "accessModes")(o, now)
		}),
		strCol("StorageClass", "spec", "storageClassName"),
		unsetCol("VolumeAttributesClass", "status", "currentVolumeAttributesClassName"),
		ageCol(),
		wide(cellCol("VolumeMode", "string", volumeMode)),
	},
	{Group: "storage.k8s.io", Resource: "storageclasses"}: {
		cellCol("Name", "string", func(o map[string]any, _ time.Time) any {
			name := str(o, "metadata", "name")
			if a := str(o, "metadata", "annotations", "storageclass.kubernetes.io/is-default-class"); a == "true" {
				name += " (default)"
			}
			return name
		}),
		strCol("Provisioner", "provisioner"),
		cellCol("ReclaimPolicy", "string", func(o map[string]any, _ time.Time) any { return first(str(o, "reclaimPolicy"), "Delete") }),
		cellCol("VolumeBindingMode", "string", func(o map[string]any, _ time.Time) any { return first(str(o, "volumeBindingMode"), "Immediate") }),
		cellCol("AllowVolumeExpansion", "string", func(o map[string]any, _ time.Time) any { return first(str(o, "allowVolumeExpansion"), "false") }),
		ageCol()},
	{Group: "coordination.k8s.io", Resource: "leases"}: {nameCol(), strCol("Holder", "spec", "holderIdentity"), ageCol()},
	{Group: "policy", Resource: "poddisruptionbudgets"}: {nameCol(),
		cellCol("Min Available", "string", func(o map[string]any, _ time.Time) any { return first(str(o, "spec", "minAvailable"), "N/A") }),
		cellCol("Max Unavailable", "string", func(o map[string]any, _ time.Time) any { return first(str(o, "spec", "maxUnavailable"), "N/A") }),
		intCol("Allowed Disruptions", "status", "disruptionsAllowed"),
		ageCol()},
	{Group: "autoscaling", Resource: "horizontalpodautoscalers"}: {nameCol(),
		cellCol("Reference", "string", func(o map[string]any, _ time.Time) any {
			return str(o, "spec", "scaleTargetRef", "kind") + "/" + str(o, "spec", "scaleTargetRef", "name")
		}),
		cellCol("Targets", "string", hpaTargets),
		cellCol("MinPods", "string", func(o map[string]any, _ time.Time) any {
			if n := num(o, "spec", "minReplicas"); n > 0 {
				return fmt.Sprint(n)
			}
			return "<unset>"
		}),
		cellCol("MaxPods", "string", func(o map[string]any, _ time.Time) any { return num(o, "spec", "maxReplicas") }),
		cellCol("Replicas", "string", func(o map[string]any, _ time.Time) any { return num(o, "status", "currentReplicas") }),
		ageCol()},
	{Group: "rbac.authorization.k8s.io", Resource: "rolebindings"}:        bindingPrinter(),
	{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}: bindingPrinter(),
	{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}: {nameCol(), ageCol(),
		strCol("SignerName", "spec", "signerName"),
		strCol("Requestor", "spec", "username"),
		cellCol("RequestedDuration", "string", func(o map[string]any, _ time.Time) any {
			if s := num(o, "spec", "expirationSeconds"); s > 0 {
				return duration.HumanDuration(time.Duration(s) * time.Second)
			}
			return "<none>"
		}),
		cellCol("Condition", "string", csrCondition)},
	{Group: "scheduling.k8s.io", Resource: "priorityclasses"}: {nameCol(),
		intCol("Value", "value"),
		column{name: "Global-Default", typ: "boolean", cell: func(o map[string]any, _ time.Time) any {
			b, _, _ := unstructured.NestedBool(o, "globalDefault")
			return b
		}},
		ageCol(),
		cellCol("PreemptionPolicy", "string", func(o map[string]any, _ time.Time) any {
			return first(str(o, "preemptionPolicy"), "PreemptLowerPriority")
		})},
	{Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"}: {nameCol(),
		cellCol("Webhooks", "integer", func(o map[string]any, _ time.Time) any { return sliceLen(o, "webhooks") }), ageCol()},
	{Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations"}: {nameCol(),
		cellCol("Webhooks", "integer", func(o map[string]any, _ time.Time) any { return sliceLen(o, "webhooks") }), ageCol()},
	{Group: "apiregistration.k8s.io", Resource: "apiservices"}: {nameCol(),
		cellCol("Service", "string", func(o map[string]any, _ time.Time) any {
			if n := str(o, "spec", "service", "name"); n != "" {
				return str(o, "spec", "service", "namespace") + "/" + n
			}
			return "Local"
		}),
		cellCol("Available", "string", apiServiceAvailable),
		ageCol()},
	{Resource: "resourcequotas"}:                       {nameCol(), cellCol("Request", "string", quotaUsage("request")), cellCol("Limit", "string", quotaUsage("limit")), ageCol()},
	{Group: "apps", Resource: "controllerrevisions"}:   {nameCol(), cellCol("Controller", "string", controllerRef), intCol("Revision", "revision"), ageCol()},
	{Group: "node.k8s.io", Resource: "runtimeclasses"}: {nameCol(), strCol("Handler", "handler"), ageCol()},
	{Resource: "podtemplates"}:                         podTemplatePrinter(),
	{Group: "storage.k8s.io", Resource: "csinodes"}:    {nameCol(), cellCol("Drivers", "integer", func(o map[string]any, _ time.Time) any { return sliceLen(o, "spec", "drivers") }), ageCol()},
	{Group: "storage.k8s.io", Resource: "volumeattachments"}: {nameCol(), strCol("Attacher", "spec", "attacher"), strCol("PV", "spec", "source", "persistentVolumeName"), strCol("Node", "spec", "nodeName"),
		column{name: "Attached", typ: "boolean", cell: func(o map[string]any, _ time.Time) any {
			b, _, _ := unstructured.NestedBool(o, "status", "attached")
			return b
		}}, ageCol()},
	{Group: "flowcontrol.apiserver.k8s.io", Resource: "flowschemas"}: {nameCol(), strCol("PriorityLevel", "spec", "priorityLevelConfiguration", "name"),
		intCol("MatchingPrecedence", "spec", "matchingPrecedence"),
		cellCol("DistinguisherMethod", "string", func(o map[string]any, _ time.Time) any {
			return first(str(o, "spec", "distinguisherMethod", "type"), "*")
		}),
		ageCol(), cellCol("MissingPL", "string", flowSchemaMissingPL)},
	{Group: "networking.k8s.io", Resource: "servicecidrs"}: {nameCol(), cellCol("CIDRs", "string", func(o map[string]any, _ time.Time) any {
		c, _, _ := unstructured.NestedStringSlice(o, "spec", "cidrs")
		return strings.Join(c, ",")
	}), ageCol()},
	{Group: "networking.k8s.io", Resource: "ipaddresses"}: {nameCol(), cellCol("ParentRef", "string", func(o map[string]any, _ time.Time) any {
		g := str(o, "spec", "parentRef", "group")
		r := str(o, "spec", "parentRef", "resource")
		if g != "" {
			r += "." + g
		}
		return r + "/" + str(o, "spec", "parentRef", "namespace") + "/" + str(o, "spec", "parentRef", "name")
	}), ageCol()},
}

func rcPrinter() printer {
	names, images := templateContainers("spec", "template", "spec")
	return printer{nameCol(), intCol("Desired", "spec", "replicas"), intCol("Current", "status", "replicas"), intCol("Ready", "status", "readyReplicas"), ageCol(),
		names, images, wide(cellCol("Selector", "string", func(o map[string]any, _ time.Time) any { return formatLabels(o, "spec", "selector") }))}
}

func podTemplatePrinter() printer {
	get := func(field string) func(o map[string]any, _ time.Time) any {
		return func(o map[string]any, _ time.Time) any {
			cs, _, _ := unstructured.NestedSlice(o, "template", "spec", "containers")
			var out []string
			for _, c := range cs {
				if m, ok := c.(map[string]any); ok {
					out = append(out, fmt.Sprint(m[field]))
				}
			}
			return strings.Join(out, ",")
		}
	}
	return printer{nameCol(), cellCol("Containers", "string", get("name")), cellCol("Images", "string", get("image")),
		cellCol("Pod Labels", "string", func(o map[string]any, _ time.Time) any { return formatLabels(o, "template", "metadata", "labels") })}
}

func statefulSetPrinter() printer {
	names, images := templateContainers("spec", "template", "spec")
	return printer{nameCol(),
		cellCol("Ready", "string", func(o map[string]any, _ time.Time) any {
			return fmt.Sprintf("%d/%d", num(o, "status", "readyReplicas"), num(o, "spec", "replicas"))
		}),
		ageCol(), names, images}
}

func daemonSetPrinter() printer {
	names, images := templateContainers("spec", "template", "spec")
	return printer{nameCol(),
		intCol("Desired", "status", "desiredNumberScheduled"), intCol("Current", "status", "currentNumberScheduled"),
		intCol("Ready", "status", "numberReady"), intCol("Up-to-date", "status", "updatedNumberScheduled"),
		intCol("Available", "status", "numberAvailable"),
		cellCol("Node Selector", "string", func(o map[string]any, _ time.Time) any {
			return formatLabels(o, "spec", "template", "spec", "nodeSelector")
		}),
		ageCol(), names, images, labelSelectorCol("Selector", "spec", "selector")}
}

func jobPrinter() printer {
	names, images := templateContainers("spec", "template", "spec")
	return printer{nameCol(), cellCol("Status", "string", jobStatus), cellCol("Completions", "string", jobCompletions),
		cellCol("Duration", "string", jobDuration), ageCol(), names, images, labelSelectorCol("Selector", "spec", "selector")}
}

func cronJobPrinter() printer {
	names, images := templateContainers("spec", "jobTemplate", "spec", "template", "spec")
	return printer{nameCol(), strCol("Schedule", "spec", "schedule"),
		cellCol("Timezone", "string", func(o map[string]any, _ time.Time) any { return first(str(o, "spec", "timeZone"), "<none>") }),
		cellCol("Suspend", "boolean", func(o map[string]any, _ time.Time) any { return first(str(o, "spec", "suspend"), "<unset>") }),
		cellCol("Active", "integer", func(o map[string]any, _ time.Time) any { return sliceLen(o, "status", "active") }),
		cellCol("Last Schedule", "string", func(o map[string]any, now time.Time) any {
			if t := str(o, "status", "lastScheduleTime"); t != "" {
				return age(t, now)
			}
			return "<none>"
		}),
		ageCol(), names, images, labelSelectorCol("Selector", "spec", "jobTemplate", "spec", "selector")}
}

func eventPrinter() printer {
	return printer{
		cellCol("Last Seen", "string", eventLastSeen),
		cellCol("Type", "string", func(o map[string]any, _ time.Time) any { return str(o, "type") }),
		cellCol("Reason", "string", func(o map[string]any, _ time.Time) any { return str(o, "reason") }),
		cellCol("Object", "string", func(o map[string]any, _ time.Time) any {
			kind := strings.ToLower(first(str(o, "involvedObject", "kind"), str(o, "regarding", "kind")))
			if n := first(str(o, "involvedObject", "name"), str(o, "regarding", "name")); n != "" {
				return kind + "/" + n
			}
			return kind
		}),
		wide(cellCol("Subobject", "string", func(o map[string]any, _ time.Time) any {
			return first(str(o, "involvedObject", "fieldPath"), str(o, "regarding", "fieldPath"))
		})),
		wide(cellCol("Source", "string", eventSource)),
		cellCol("Message", "string", func(o map[string]any, _ time.Time) any {
			return strings.TrimSpace(first(str(o, "message"), str(o, "note")))
		}),
		wide(cellCol("First Seen", "string", eventFirstSeen)),
		wide(cellCol("Count", "string", func(o map[string]any, _ time.Time) any {
			if n := num(o, "series", "count"); n > 0 {
				return n
			}
			if n := num(o, "count"); n > 0 {
				return n
			}
			return int64(1)
		})),
		func() column { c := wide(nameCol()); return c }(),
	}
}

func bindingPrinter() printer {
	subjects := func(kind string) func(o map[string]any, _ time.Time) any {
		return func(o map[string]any, _ time.Time) any {
			ss, _, _ := unstructured.NestedSlice(o, "subjects")
			var out []string
			for _, s := range ss {
				m, _ := s.(map[string]any)
				if str(m, "kind") != kind {
					continue
				}
				if kind == "ServiceAccount" {
					out = append(out, str(m, "namespace")+"/"+str(m, "name"))
				} else {
					out = append(out, str(m, "name"))
				}
			}
			return strings.Join(out, ", ")
		}
	}
	return printer{nameCol(),
		cellCol("Role", "string", func(o map[string]any, _ time.Time) any {
			return str(o, "roleRef", "kind") + "/" + str(o, "roleRef", "name")
		}),
		ageCol(),
		wide(cellCol("Users", "string", subjects("User"))),
		wide(cellCol("Groups", "string", subjects("Group"))),
		wide(cellCol("ServiceAccounts", "string", subjects("ServiceAccount")))}
}

// printerFor returns the table layout of a resource: the built-in one, the archive's CRD columns,
// a known OpenShift kind's, or the API server's default.
func (c *Cluster) printerFor(gr schema.GroupResource) printer {
	if p, ok := builtinPrinters[gr]; ok {
		return p
	}
	if builtinFor(gr) != nil {
		return defaultPrinter
	}
	if crd, _ := c.Get(grCRDs, "", gr.Resource+"."+gr.Group); crd != nil {
		return crdPrinter(crd, c.resource(gr).GVR.Version)
	}
	if p, ok := knownPrinters[gr]; ok {
		return p
	}
	return printer{nameCol(), ageCol()}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
