package guardrails

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
)

// ClientReader reads budgets, pods and nodes with a clientset.
type ClientReader struct{ Kube kubernetes.Interface }

// Budgets implements Reader.
func (c ClientReader) Budgets(ctx context.Context, namespace string) ([]Budget, error) {
	list, err := c.Kube.PolicyV1().PodDisruptionBudgets(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]Budget, 0, len(list.Items))
	for _, b := range list.Items {
		sel := labels.Nothing()
		if b.Spec.Selector != nil {
			if sel, err = metav1.LabelSelectorAsSelector(b.Spec.Selector); err != nil {
				sel = labels.Nothing()
			}
		}
		spec := "no minAvailable or maxUnavailable"
		switch {
		case b.Spec.MinAvailable != nil:
			spec = "minAvailable " + b.Spec.MinAvailable.String()
		case b.Spec.MaxUnavailable != nil:
			spec = "maxUnavailable " + b.Spec.MaxUnavailable.String()
		}
		out = append(out, Budget{Namespace: b.Namespace, Name: b.Name, Selector: sel, Spec: spec,
			DisruptionsAllowed: int64(b.Status.DisruptionsAllowed), CurrentHealthy: int64(b.Status.CurrentHealthy)})
	}
	return out, nil
}

// Pods implements Reader.
func (c ClientReader) Pods(ctx context.Context, namespace, labelSelector, fieldSelector string) ([]NodePod, error) {
	list, err := c.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: labelSelector, FieldSelector: fieldSelector})
	if err != nil {
		return nil, err
	}
	out := make([]NodePod, 0, len(list.Items))
	for _, p := range list.Items {
		np := NodePod{Pod: Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels}}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
				np.Ready = true
			}
		}
		for _, o := range p.OwnerReferences {
			if o.Controller != nil && *o.Controller && o.Kind == "DaemonSet" {
				np.DaemonSet = true
			}
		}
		_, np.Mirror = p.Annotations[corev1.MirrorPodAnnotationKey]
		np.Done = p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
		out = append(out, np)
	}
	return out, nil
}

// Nodes implements Reader.
func (c ClientReader) Nodes(ctx context.Context, labelSelector string) ([]string, error) {
	list, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: labelSelector})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(list.Items))
	for _, n := range list.Items {
		out = append(out, n.Name)
	}
	return out, nil
}
