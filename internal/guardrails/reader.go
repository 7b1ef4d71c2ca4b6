package guardrails

import (
	"context"
	"fmt"

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
		np := NodePod{Pod: podOf(&p)}
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

func podOf(p *corev1.Pod) Pod {
	out := Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
			out.Ready = true
		}
	}
	return out
}

// Owned implements Reader for the resources of the cascade table.
func (c ClientReader) Owned(ctx context.Context, namespace, resource string) ([]Owned, error) {
	opts := metav1.ListOptions{}
	var out []Owned
	add := func(md metav1.ObjectMeta, pod *Pod) {
		o := Owned{Resource: resource, Namespace: md.Namespace, Name: md.Name, UID: string(md.UID), Pod: pod}
		for _, ref := range md.OwnerReferences {
			o.Owners = append(o.Owners, string(ref.UID))
		}
		out = append(out, o)
	}
	switch resource {
	case "pods":
		list, err := c.Kube.CoreV1().Pods(namespace).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			pod := podOf(&list.Items[i])
			add(list.Items[i].ObjectMeta, &pod)
		}
	case "replicasets.apps":
		list, err := c.Kube.AppsV1().ReplicaSets(namespace).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, o := range list.Items {
			add(o.ObjectMeta, nil)
		}
	case "jobs.batch":
		list, err := c.Kube.BatchV1().Jobs(namespace).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, o := range list.Items {
			add(o.ObjectMeta, nil)
		}
	default:
		return nil, fmt.Errorf("the cascade does not follow %s", resource)
	}
	return out, nil
}
