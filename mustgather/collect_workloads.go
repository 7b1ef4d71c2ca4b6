package mustgather

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// workloadResources are collected from every cluster in every namespace, so that workload faults can
// be diagnosed offline: what runs, what serves it, what protects and scales it, what it stores, and
// the webhooks that admit it.
// ConfigMaps and Secrets are not among them: they are collected only in the namespaces collected in
// full.
var workloadResources = []schema.GroupVersionResource{
	{Version: "v1", Resource: "pods"},
	{Version: "v1", Resource: "services"},
	{Version: "v1", Resource: "endpoints"},
	{Version: "v1", Resource: "persistentvolumeclaims"},
	{Version: "v1", Resource: "persistentvolumes"},
	{Version: "v1", Resource: "resourcequotas"},
	{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"},
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "apps", Version: "v1", Resource: "replicasets"},
	{Group: "apps", Version: "v1", Resource: "statefulsets"},
	{Group: "apps", Version: "v1", Resource: "daemonsets"},
	{Group: "batch", Version: "v1", Resource: "jobs"},
	{Group: "batch", Version: "v1", Resource: "cronjobs"},
	{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
	{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
	{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
	{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"},
	// Admission webhooks refuse or change what workloads create: a failing one explains FailedCreate.
	{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"},
	{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"},
}

// maxProblemPodLogs bounds the pods outside the namespaces collected in full whose logs are kept.
const maxProblemPodLogs = 100

// collectWorkloads writes the workload objects of every namespace but those collected in full (they
// are written with everything else of theirs), and the logs of the pods there that fail or restarted.
func (c *clusterCollector) collectWorkloads(ctx context.Context, full []string) {
	inFull := make(map[string]bool, len(full))
	for _, ns := range full {
		inFull[ns] = true
	}
	var problems []*corev1.Pod
	more := 0
	for _, gvr := range workloadResources {
		pods := gvr.Group == "" && gvr.Resource == "pods"
		c.collect(ctx, gvr.Resource, gvr, "", metav1.ListOptions{}, func(o *unstructured.Unstructured) bool {
			if inFull[o.GetNamespace()] {
				return false
			}
			if pods {
				if p := problemPod(o); p != nil {
					if len(problems) < maxProblemPodLogs {
						problems = append(problems, p)
					} else {
						more++
					}
				}
			}
			return true
		})
	}
	for _, p := range problems {
		c.collectLogs(ctx, p)
	}
	if more > 0 {
		c.res.Skipped = append(c.res.Skipped, fmt.Sprintf("logs of %d more failing pod(s): not collected, the collector keeps the logs of %d failing pods per cluster outside the namespaces collected in full", more, maxProblemPodLogs))
	}
}

// problemPod returns the pod when it fails or any of its containers restarted: its logs say why.
func problemPod(o *unstructured.Unstructured) *corev1.Pod {
	var p corev1.Pod
	if runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &p) != nil || p.Spec.NodeName == "" {
		return nil // an unscheduled pod has no log
	}
	_, bad := ocm.InspectPod(&p)
	for _, cs := range p.Status.ContainerStatuses {
		bad = bad || cs.RestartCount > 0
	}
	if !bad {
		return nil
	}
	return &p
}
