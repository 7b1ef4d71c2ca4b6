package fleet

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Faults made of objects the real controllers judge, beside the pod faults kwok plays.
const (
	// FaultJobFailed: a Job (backoffLimit 0) whose pod exits 2 after logging why; the job controller
	// marks it Failed, BackoffLimitExceeded.
	FaultJobFailed = "JobFailed"
	// FaultNoEndpoints: a Service whose selector (app=<name>) matches no pod, beside the running
	// Deployment it should serve, renamed <name>-primary (app=<name>-primary); the EndpointSlice
	// controller leaves the Service's slice empty.
	FaultNoEndpoints = "NoEndpoints"
	// FaultPDBBlocks: a Deployment of 2 and a PodDisruptionBudget with minAvailable 2; the disruption
	// controller allows no disruption though both pods are healthy.
	FaultPDBBlocks = "PDBBlocksDisruption"
	// FaultRolloutStuck: a Deployment of 2 in a namespace whose ResourceQuota allows one pod; the
	// ReplicaSet controller cannot create the second and the Deployment reports ReplicaFailure.
	FaultRolloutStuck = "RolloutStuck"
	// FaultNodePressure: a node (Name) kwok reports under MemoryPressure.
	FaultNodePressure = "MemoryPressure"
)

// exportLog is what the failing Job's container prints before it exits.
const exportLog = `2026-01-01T00:00:00.000000000Z stdout F level=info msg="exporting orders" since=2025-12-31
2026-01-01T00:00:03.000000000Z stderr F level=error msg="upload failed" bucket=s3://fleet-exports/orders err="AccessDenied: role fleet-export may not write to the bucket"
2026-01-01T00:00:03.100000000Z stderr F fatal: export incomplete: 0 of 18250 rows uploaded
`

const exportLogFile = "export.log"

// injectObjects creates the objects of an object fault and waits until the controllers show it.
func (f *Fleet) injectObjects(ctx context.Context, c *Cluster, flt InjectedFault) error {
	if flt.Kind == FaultNodePressure {
		return f.pressNode(ctx, c, flt.Name)
	}
	if err := ensureNamespaces(ctx, c.Kube, flt.Namespace); err != nil {
		return err
	}
	k, ns, name := c.Kube, flt.Namespace, flt.Name
	var steps []error
	var shows func(context.Context) (string, bool)
	switch flt.Kind {
	case FaultJobFailed:
		job := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels(name)},
			Spec: batchv1.JobSpec{BackoffLimit: ptr.To[int32](0), Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{WorkloadLabel: name}, Annotations: map[string]string{FaultAnnotation: FaultJobFailed}},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
					Name: "export", Image: "quay.io/fleet-samples/exporter:1.2.0", Args: []string{"export", "--bucket=s3://fleet-exports/orders"}}}}}},
		}
		steps = append(steps, create2(k.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{})))
		shows = func(ctx context.Context) (string, bool) {
			j, err := k.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err.Error(), false
			}
			for _, cond := range j.Status.Conditions {
				if cond.Type == batchv1.JobFailed && cond.Status == corev1.ConditionTrue {
					return "", true
				}
			}
			return fmt.Sprintf("job %d failed, no Failed condition", j.Status.Failed), false
		}
	case FaultNoEndpoints:
		backend := deployment(ns, name+"-primary", "quay.io/fleet-samples/"+name+":5.7.0", 1, nil)
		steps = append(steps, create2(k.AppsV1().Deployments(ns).Create(ctx, backend, metav1.CreateOptions{})),
			create2(k.CoreV1().Services(ns).Create(ctx, service(ns, name), metav1.CreateOptions{})))
		shows = func(ctx context.Context) (string, bool) {
			l, err := k.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + name})
			if err != nil || len(l.Items) == 0 {
				return "no EndpointSlice yet", false
			}
			return "", len(l.Items[0].Endpoints) == 0
		}
	case FaultPDBBlocks:
		d := deployment(ns, name, "quay.io/fleet-samples/"+name+":4.0.1", 2, nil)
		pdb := &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels(name)},
			Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(2)),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}},
		}
		steps = append(steps, create2(k.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})),
			create2(k.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, pdb, metav1.CreateOptions{})))
		shows = func(ctx context.Context) (string, bool) {
			b, err := k.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err.Error(), false
			}
			st := b.Status
			return fmt.Sprintf("pdb status %+v", st), st.ObservedGeneration > 0 && st.ExpectedPods == 2 && st.CurrentHealthy == 2 && st.DisruptionsAllowed == 0
		}
	case FaultRolloutStuck:
		quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: ns + "-pods", Namespace: ns, Labels: labels(name)},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}}}
		if err := create2(k.CoreV1().ResourceQuotas(ns).Create(ctx, quota, metav1.CreateOptions{})); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%s: fault %s: %w", flt.Cluster, flt.Kind, err)
		}
		// The quota must be counted before pods meet it, or admission refuses every pod.
		err := poll(ctx, c.Name+": quota "+quota.Name+" counted", time.Minute, func(ctx context.Context) (string, bool) {
			q, err := k.CoreV1().ResourceQuotas(ns).Get(ctx, quota.Name, metav1.GetOptions{})
			if err != nil {
				return err.Error(), false
			}
			_, ok := q.Status.Hard[corev1.ResourcePods]
			return "no status yet", ok
		})
		if err != nil {
			return err
		}
		d := deployment(ns, name, "quay.io/fleet-samples/"+name+":1.8.0", 2, nil)
		steps = append(steps, create2(k.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})))
		shows = func(ctx context.Context) (string, bool) {
			got, err := k.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err.Error(), false
			}
			for _, cond := range got.Status.Conditions {
				if cond.Type == "ReplicaFailure" && cond.Status == corev1.ConditionTrue {
					return "", got.Status.ReadyReplicas == 1
				}
			}
			return fmt.Sprintf("%d ready, no ReplicaFailure", got.Status.ReadyReplicas), false
		}
	default:
		return fmt.Errorf("unknown fault %q", flt.Kind)
	}
	for _, err := range steps {
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%s: fault %s: %w", flt.Cluster, flt.Kind, err)
		}
	}
	if err := poll(ctx, fmt.Sprintf("%s: %s/%s shows %s", flt.Cluster, ns, name, flt.Kind), 2*time.Minute, shows); err != nil {
		return err
	}
	if flt.Kind == FaultJobFailed {
		return f.serveJobLogs(ctx, c, flt)
	}
	return nil
}

// serveJobLogs points kwok at the failing Job's log for its pod.
func (f *Fleet) serveJobLogs(ctx context.Context, c *Cluster, flt InjectedFault) error {
	pods, err := c.Kube.CoreV1().Pods(flt.Namespace).List(ctx, metav1.ListOptions{LabelSelector: WorkloadLabel + "=" + flt.Name})
	if err != nil {
		return err
	}
	return f.serveFaultLogs(ctx, c, flt, pods.Items)
}

// pressNode annotates a node so that kwok reports it under MemoryPressure, and waits until it does.
func (f *Fleet) pressNode(ctx context.Context, c *Cluster, node string) error {
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, FaultAnnotation, FaultNodePressure)
	if _, err := c.Kube.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("%s: node %s: %w", c.Name, node, err)
	}
	return poll(ctx, fmt.Sprintf("%s: node %s under memory pressure", c.Name, node), time.Minute, func(ctx context.Context) (string, bool) {
		n, err := c.Kube.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err.Error(), false
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeMemoryPressure {
				return string(cond.Status), cond.Status == corev1.ConditionTrue
			}
		}
		return "no MemoryPressure condition", false
	})
}
