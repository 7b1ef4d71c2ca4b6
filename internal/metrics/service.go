package metrics

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// ServiceRef names a Kubernetes Service port that serves the Prometheus HTTP API, reached through the
// API server's service proxy.
type ServiceRef struct {
	Scheme    string // http or https
	Namespace string
	Name      string
	Port      string // a number or a port name
}

// ParseServiceRef reads "[scheme:]namespace/name:port" (scheme http when left out). An empty string is
// the zero ServiceRef: the source is switched off.
func ParseServiceRef(s string) (ServiceRef, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return ServiceRef{}, nil
	}
	bad := func(why string) (ServiceRef, error) {
		return ServiceRef{}, fmt.Errorf("%q is not [scheme:]namespace/name:port (e.g. http:openshift-monitoring/prometheus-k8s:9090): %s", s, why)
	}
	r := ServiceRef{Scheme: "http"}
	rest := s
	if scheme, after, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") {
		r.Scheme, rest = scheme, after
	}
	if r.Scheme != "http" && r.Scheme != "https" {
		return bad("the scheme is http or https")
	}
	ns, nameport, ok := strings.Cut(rest, "/")
	if !ok {
		return bad("no namespace/")
	}
	name, port, ok := strings.Cut(nameport, ":")
	if !ok || port == "" {
		return bad("no :port")
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return bad("namespace: " + errs[0])
	}
	if errs := validation.IsDNS1035Label(name); len(errs) > 0 {
		return bad("service name: " + errs[0])
	}
	if n, err := strconv.Atoi(port); err == nil {
		if n < 1 || n > 65535 {
			return bad("port out of range")
		}
	} else if errs := validation.IsValidPortName(port); len(errs) > 0 {
		return bad("port: " + errs[0])
	}
	r.Namespace, r.Name, r.Port = ns, name, port
	return r, nil
}

// IsZero says the source is switched off.
func (r ServiceRef) IsZero() bool { return r.Name == "" }

// String is the setting's form, scheme included.
func (r ServiceRef) String() string {
	if r.IsZero() {
		return ""
	}
	return r.Scheme + ":" + r.Namespace + "/" + r.Name + ":" + r.Port
}

// ProxyName is the Service's name as the proxy URL carries it, "scheme:name:port": the API server
// authorizes the request as get on services/proxy with this resource name.
func (r ServiceRef) ProxyName() string { return r.Scheme + ":" + r.Name + ":" + r.Port }

// ProxyURL is the base URL of the Prometheus API behind the service proxy of the API server at host.
func (r ServiceRef) ProxyURL(host string) string {
	return strings.TrimSuffix(host, "/") + "/api/v1/namespaces/" + url.PathEscape(r.Namespace) + "/services/" +
		url.PathEscape(r.ProxyName()) + "/proxy"
}
