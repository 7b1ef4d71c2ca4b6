package mustgather

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// knownPrinters are the columns `oc` shows for common OpenShift kinds, used when the archive does not
// hold their CRDs (Routes are served by the OpenShift API server and have none).
var knownPrinters = map[schema.GroupResource]printer{
	{Group: "route.openshift.io", Resource: "routes"}: {nameCol(),
		cellCol("Host/Port", "string", routeHost),
		strCol("Path", "spec", "path"),
		cellCol("Services", "string", routeServices),
		cellCol("Port", "string", func(o map[string]any, _ time.Time) any { return first(str(o, "spec", "port", "targetPort"), "<all>") }),
		cellCol("Termination", "string", func(o map[string]any, _ time.Time) any {
			t := str(o, "spec", "tls", "termination")
			if p := str(o, "spec", "tls", "insecureEdgeTerminationPolicy"); t != "" && p != "" {
				t += "/" + p
			}
			return t
		}),
		cellCol("Wildcard", "string", func(o map[string]any, _ time.Time) any { return first(str(o, "spec", "wildcardPolicy"), "None") }),
	},
	{Group: "config.openshift.io", Resource: "clusteroperators"}: {nameCol(),
		cellCol("Version", "string", func(o map[string]any, _ time.Time) any {
			for _, v := range items(o, "status", "versions") {
				if str(v, "name") == "operator" {
					return str(v, "version")
				}
			}
			return ""
		}),
		cellCol("Available", "string", condStatus("Available")),
		cellCol("Progressing", "string", condStatus("Progressing")),
		cellCol("Degraded", "string", condStatus("Degraded")),
		cellCol("Since", "string", condSince("Available")),
		cellCol("Message", "string", func(o map[string]any, _ time.Time) any {
			for _, t := range []string{"Degraded", "Progressing", "Available"} {
				for _, c := range statuses(o, "conditions") {
					if c["type"] == t && str(c, "message") != "" && (t != "Available" || c["status"] != "True") && (t == "Available" || c["status"] == "True") {
						return str(c, "message")
					}
				}
			}
			return ""
		}),
	},
	{Group: "config.openshift.io", Resource: "clusterversions"}: {nameCol(),
		cellCol("Version", "string", func(o map[string]any, _ time.Time) any {
			for _, h := range items(o, "status", "history") {
				if str(h, "state") == "Completed" {
					return str(h, "version")
				}
			}
			return ""
		}),
		cellCol("Available", "string", condStatus("Available")),
		cellCol("Progressing", "string", condStatus("Progressing")),
		cellCol("Since", "string", condSince("Progressing")),
		cellCol("Status", "string", func(o map[string]any, _ time.Time) any {
			for _, c := range statuses(o, "conditions") {
				if c["type"] == "Progressing" {
					return str(c, "message")
				}
			}
			return ""
		}),
	},
	{Group: "machine.openshift.io", Resource: "machines"}: {nameCol(),
		strCol("Phase", "status", "phase"),
		cellCol("Type", "string", labelCell("machine.openshift.io/instance-type")),
		cellCol("Region", "string", labelCell("machine.openshift.io/region")),
		cellCol("Zone", "string", labelCell("machine.openshift.io/zone")),
		ageCol(),
		wide(strCol("Node", "status", "nodeRef", "name")),
		wide(strCol("ProviderID", "spec", "providerID")),
		wide(strCol("State", "metadata", "annotations", "machine.openshift.io/instance-state")),
	},
	{Group: "machine.openshift.io", Resource: "machinesets"}: {nameCol(),
		intCol("Desired", "spec", "replicas"), intCol("Current", "status", "replicas"),
		intCol("Ready", "status", "readyReplicas"), intCol("Available", "status", "availableReplicas"), ageCol()},
	{Group: "config.openshift.io", Resource: "infrastructures"}: {nameCol(), ageCol()},
}

func condStatus(t string) func(o map[string]any, _ time.Time) any {
	return func(o map[string]any, _ time.Time) any {
		for _, c := range statuses(o, "conditions") {
			if c["type"] == t {
				return str(c, "status")
			}
		}
		return ""
	}
}

func condSince(t string) func(o map[string]any, now time.Time) any {
	return func(o map[string]any, now time.Time) any {
		for _, c := range statuses(o, "conditions") {
			if c["type"] == t {
				return age(str(c, "lastTransitionTime"), now)
			}
		}
		return ""
	}
}

func labelCell(key string) func(o map[string]any, _ time.Time) any {
	return func(o map[string]any, _ time.Time) any { return str(o, "metadata", "labels", key) }
}

func routeHost(o map[string]any, _ time.Time) any {
	host := str(o, "spec", "host")
	admitted := false
	for _, in := range items(o, "status", "ingress") {
		for _, c := range items(in, "conditions") {
			if str(c, "type") == "Admitted" && str(c, "status") == "True" {
				admitted = true
			}
		}
	}
	if n := len(items(o, "status", "ingress")); n > 0 && !admitted && host != "" {
		return host + " ... " + fmt.Sprint(n) + " rejected"
	}
	return host
}

func routeServices(o map[string]any, _ time.Time) any {
	parts := []string{str(o, "spec", "to", "name")}
	for _, b := range items(o, "spec", "alternateBackends") {
		parts = append(parts, str(b, "name"))
	}
	return strings.Join(parts, ",")
}
