package diagnose

import (
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	gvrValidatingWebhooks = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"}
	gvrMutatingWebhooks   = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"}
)

// webhook is one admission webhook of either kind, as the analyzer needs it.
type webhook struct {
	config, name, kind string // kind: "validating" or "mutating"
	service            *admissionv1.ServiceReference
	failClosed         bool // failurePolicy Fail (the default): an unreachable webhook refuses the request
}

func (s *snapshot) webhooks() []webhook {
	var out []webhook
	for _, c := range s.validating {
		for _, w := range c.Webhooks {
			out = append(out, webhook{c.Name, w.Name, "validating", w.ClientConfig.Service, failsClosed(w.FailurePolicy)})
		}
	}
	for _, c := range s.mutating {
		for _, w := range c.Webhooks {
			out = append(out, webhook{c.Name, w.Name, "mutating", w.ClientConfig.Service, failsClosed(w.FailurePolicy)})
		}
	}
	return out
}

func failsClosed(p *admissionv1.FailurePolicyType) bool {
	return p == nil || *p == admissionv1.Fail
}

// webhookFindings: admission webhooks that fail closed and whose Service has no ready endpoint, or does
// not exist: the API server refuses every request they match, which shows elsewhere as FailedCreate.
// A webhook reached by URL, or whose Service's endpoints were not read, is unknown: no finding.
func (s *snapshot) webhookFindings() []Finding {
	_, noSlices := s.unread["endpointslices"]
	_, noServices := s.unread["services"]
	if noSlices || noServices {
		return nil
	}
	var out []Finding
	for _, w := range s.webhooks() {
		if w.service == nil || !w.failClosed {
			continue
		}
		ref := w.service.Namespace + "/" + w.service.Name
		why := ""
		switch svc, ready := s.serviceReady(w.service.Namespace, w.service.Name); {
		case !svc:
			why = "its Service " + ref + " does not exist"
		case ready == 0:
			why = "its Service " + ref + " has no ready endpoint"
		default:
			continue
		}
		out = append(out, Finding{ID: "webhook-unavailable", Severity: Critical, Rank: 52, Subject: "cluster " + s.cluster,
			Title:    fmt.Sprintf("Admission webhook %s (%s) cannot be called and fails closed: the API server refuses every request it matches", w.name, w.kind),
			Looked:   []string{fmt.Sprintf("%sWebhookConfiguration %s", strings.ToUpper(w.kind[:1])+w.kind[1:], w.config), "Service " + ref},
			Evidence: []string{why, "failurePolicy Fail"},
			Next: fmt.Sprintf("Bring the webhook's backend back (its pods in namespace %s), or, if it is gone for good, remove the configuration (kubectl_write cluster=%s: delete %swebhookconfiguration %s).",
				w.service.Namespace, s.cluster, w.kind, w.config),
			Verify:  []string{fmt.Sprintf("kubectl cluster=%s: get endpointslices -n %s -l kubernetes.io/service-name=%s", s.cluster, w.service.Namespace, w.service.Name)},
			Runbook: "runbook://ocm/rollout-stuck"})
	}
	return out
}

// serviceReady says whether a Service exists and how many ready endpoints it has.
func (s *snapshot) serviceReady(ns, name string) (bool, int) {
	exists := false
	for i := range s.services {
		exists = exists || (s.services[i].Namespace == ns && s.services[i].Name == name)
	}
	n := 0
	for i := range s.slices {
		if sl := &s.slices[i]; sl.Namespace == ns && sl.Labels["kubernetes.io/service-name"] == name {
			n += readyEndpoints([]*discoveryv1.EndpointSlice{sl})
		}
	}
	return exists, n
}
