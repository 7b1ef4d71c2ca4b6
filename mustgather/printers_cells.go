package mustgather

import (
	"fmt"
	"net"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/duration"
)

func items(o map[string]any, fields ...string) []map[string]any {
	s, _, _ := unstructured.NestedSlice(o, fields...)
	out := make([]map[string]any, 0, len(s))
	for _, x := range s {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func readinessGates(o map[string]any, _ time.Time) any {
	gates := items(o, "spec", "readinessGates")
	if len(gates) == 0 {
		return "<none>"
	}
	ready := 0
	for _, g := range gates {
		for _, c := range statuses(o, "conditions") {
			if c["type"] == g["conditionType"] && c["status"] == "True" {
				ready++
			}
		}
	}
	return fmt.Sprintf("%d/%d", ready, len(gates))
}

func loadBalancerAddresses(o map[string]any, fields ...string) string {
	var out []string
	for _, in := range items(o, fields...) {
		if ip := str(in, "ip"); ip != "" {
			out = append(out, ip)
		} else if h := str(in, "hostname"); h != "" {
			out = append(out, h)
		}
	}
	return strings.Join(out, ",")
}

func serviceExternalIP(o map[string]any, _ time.Time) any {
	ext, _, _ := unstructured.NestedStringSlice(o, "spec", "externalIPs")
	switch str(o, "spec", "type") {
	case "ClusterIP", "NodePort", "":
		if len(ext) > 0 {
			return strings.Join(ext, ",")
		}
		return "<none>"
	case "LoadBalancer":
		lb := loadBalancerAddresses(o, "status", "loadBalancer", "ingress")
		if len(ext) > 0 {
			var all []string
			if lb != "" {
				all = strings.Split(lb, ",")
			}
			return strings.Join(append(all, ext...), ",")
		}
		if lb != "" {
			return lb
		}
		return "<pending>"
	case "ExternalName":
		return str(o, "spec", "externalName")
	}
	return "<unknown>"
}

func ingressHosts(o map[string]any, _ time.Time) any {
	rules := items(o, "spec", "rules")
	var list []string
	for _, r := range rules {
		if len(list) == 3 {
			return fmt.Sprintf("%s + %d more...", strings.Join(list, ","), len(rules)-3)
		}
		if h := str(r, "host"); h != "" {
			list = append(list, h)
		}
	}
	if len(list) == 0 {
		return "*"
	}
	return strings.Join(list, ",")
}

// endpointsCell lists the first three addresses with their ports, as the server does.
func endpointsCell(o map[string]any, _ time.Time) any {
	subsets := items(o, "subsets")
	if len(subsets) == 0 {
		return "<none>"
	}
	var list []string
	count, more := 0, false
	for _, ss := range subsets {
		addrs := items(ss, "addresses")
		ports := items(ss, "ports")
		if len(ports) == 0 {
			count += len(addrs)
			for _, a := range addrs {
				if len(list) == 3 {
					more = true
					break
				}
				list = append(list, str(a, "ip"))
			}
			continue
		}
		for _, p := range ports {
			count += len(addrs)
			for _, a := range addrs {
				if len(list) == 3 {
					more = true
					break
				}
				list = append(list, net.JoinHostPort(str(a, "ip"), fmt.Sprint(num(p, "port"))))
			}
		}
	}
	if more {
		return fmt.Sprintf("%s + %d more...", strings.Join(list, ","), count-3)
	}
	return strings.Join(list, ",")
}

func sliceTargetPorts(o map[string]any, _ time.Time) any {
	ports := items(o, "ports")
	if len(ports) == 0 {
		return "<unset>"
	}
	var list []string
	for i, p := range ports {
		if i == 3 {
			return fmt.Sprintf("%s + %d more...", strings.Join(list, ","), len(ports)-3)
		}
		if _, ok := p["port"]; ok {
			list = append(list, fmt.Sprint(num(p, "port")))
		} else {
			list = append(list, "<unset>")
		}
	}
	return strings.Join(list, ",")
}

func sliceEndpoints(o map[string]any, _ time.Time) any {
	eps := items(o, "endpoints")
	if len(eps) == 0 {
		return "<unset>"
	}
	var list []string
	count, more := 0, false
	for _, e := range eps {
		addrs, _, _ := unstructured.NestedStringSlice(e, "addresses")
		count += len(addrs)
		for _, a := range addrs {
			if len(list) == 3 {
				more = true
				break
			}
			list = append(list, a)
		}
	}
	if more {
		return fmt.Sprintf("%s + %d more...", strings.Join(list, ","), count-3)
	}
	return strings.Join(list, ",")
}

func nodeAddress(kind string) func(o map[string]any, _ time.Time) any {
	return func(o map[string]any, _ time.Time) any {
		for _, a := range items(o, "status", "addresses") {
			if str(a, "type") == kind {
				return str(a, "address")
			}
		}
		return "<none>"
	}
}

func eventFirstSeen(o map[string]any, now time.Time) any {
	if t := str(o, "firstTimestamp"); t != "" {
		return age(t, now)
	}
	if t := str(o, "eventTime"); t != "" {
		return age(t, now)
	}
	return "<unknown>"
}

func eventLastSeen(o map[string]any, now time.Time) any {
	if t := str(o, "series", "lastObservedTime"); t != "" {
		return age(t, now)
	}
	if t := str(o, "lastTimestamp"); t != "" {
		return age(t, now)
	}
	return eventFirstSeen(o, now)
}

func eventSource(o map[string]any, _ time.Time) any {
	component := first(str(o, "source", "component"), str(o, "reportingController"), str(o, "reportingComponent"))
	instance := first(str(o, "source", "host"), str(o, "reportingInstance"))
	if instance == "" {
		return component
	}
	return component + ", " + instance
}

func accessModes(fields ...string) func(o map[string]any, _ time.Time) any {
	short := map[string]string{"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
	return func(o map[string]any, _ time.Time) any {
		modes, _, _ := unstructured.NestedStringSlice(o, fields...)
		var out []string
		seen := map[string]bool{}
		for _, want := range []string{"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"} {
			for _, m := range modes {
				if m == want && !seen[m] {
					seen[m] = true
					out = append(out, short[m])
				}
			}
		}
		return strings.Join(out, ",")
	}
}

func volumeMode(o map[string]any, _ time.Time) any {
	return first(str(o, "spec", "volumeMode"), "<unset>")
}

func hpaTargets(o map[string]any, _ time.Time) any {
	specs := items(o, "spec", "metrics")
	if len(specs) == 0 {
		return "<none>"
	}
	current := items(o, "status", "currentMetrics")
	var list []string
	for i, s := range specs {
		if i == 2 {
			return fmt.Sprintf("%s + %d more...", strings.Join(list, ", "), len(specs)-2)
		}
		if str(s, "type") == "Resource" {
			name := str(s, "resource", "name")
			cur := "<unknown>"
			if i < len(current) {
				if u := str(current[i], "resource", "current", "averageUtilization"); u != "" {
					cur = u + "%"
				}
			}
			if t := str(s, "resource", "target", "averageUtilization"); t != "" {
				list = append(list, fmt.Sprintf("%s: %s/%s%%", name, cur, t))
				continue
			}
			list = append(list, fmt.Sprintf("%s: %s/%s", name, cur, str(s, "resource", "target", "averageValue")))
			continue
		}
		list = append(list, "<unknown>")
	}
	return strings.Join(list, ", ")
}

func csrCondition(o map[string]any, _ time.Time) any {
	var approved, denied, failed bool
	for _, c := range statuses(o, "conditions") {
		if c["status"] == "False" {
			continue
		}
		switch c["type"] {
		case "Approved":
			approved = true
		case "Denied":
			denied = true
		case "Failed":
			failed = true
		}
	}
	var parts []string
	switch {
	case denied:
		parts = append(parts, "Denied")
	case approved:
		parts = append(parts, "Approved")
	default:
		parts = append(parts, "Pending")
	}
	if failed {
		parts = append(parts, "Failed")
	}
	if str(o, "status", "certificate") != "" {
		parts = append(parts, "Issued")
	}
	return strings.Join(parts, ",")
}

func apiServiceAvailable(o map[string]any, _ time.Time) any {
	for _, c := range statuses(o, "conditions") {
		if c["type"] != "Available" {
			continue
		}
		if c["status"] == "True" {
			return "True"
		}
		return fmt.Sprintf("%s (%s)", c["status"], c["reason"])
	}
	return "Unknown"
}

func quotaUsage(prefix string) func(o map[string]any, _ time.Time) any {
	return func(o map[string]any, _ time.Time) any {
		hard, _, _ := unstructured.NestedMap(o, "status", "hard")
		used, _, _ := unstructured.NestedMap(o, "status", "used")
		var parts []string
		for _, k := range sortedKeys(hard) {
			isLimit := strings.HasPrefix(k, "limits.")
			if (prefix == "limit") != isLimit {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s: %v/%v", k, used[k], hard[k]))
		}
		return strings.Join(parts, ", ")
	}
}

func controllerRef(o map[string]any, _ time.Time) any {
	for _, r := range items(o, "metadata", "ownerReferences") {
		if c, _ := r["controller"].(bool); c {
			gv := str(r, "apiVersion")
			group := ""
			if i := strings.Index(gv, "/"); i >= 0 {
				group = gv[:i]
			}
			kind := strings.ToLower(str(r, "kind"))
			if group != "" {
				kind += "." + group
			}
			return kind + "/" + str(r, "name")
		}
	}
	return "<none>"
}

func flowSchemaMissingPL(o map[string]any, _ time.Time) any {
	for _, c := range statuses(o, "conditions") {
		if c["type"] == "Dangling" {
			return c["status"]
		}
	}
	return "?"
}

func jobCompletions(o map[string]any, _ time.Time) any {
	if _, ok, _ := unstructured.NestedFieldNoCopy(o, "spec", "completions"); ok {
		return fmt.Sprintf("%d/%d", num(o, "status", "succeeded"), num(o, "spec", "completions"))
	}
	if p := num(o, "spec", "parallelism"); p > 1 {
		return fmt.Sprintf("%d/1 of %d", num(o, "status", "succeeded"), p)
	}
	return fmt.Sprintf("%d/1", num(o, "status", "succeeded"))
}

func jobDuration(o map[string]any, now time.Time) any {
	start, err := time.Parse(time.RFC3339, str(o, "status", "startTime"))
	if err != nil {
		return ""
	}
	end, err := time.Parse(time.RFC3339, str(o, "status", "completionTime"))
	if err != nil {
		end = now
	}
	return duration.HumanDuration(end.Sub(start))
}
