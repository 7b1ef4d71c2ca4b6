package fleet

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

// Namespaces of the sample workloads every spoke runs.
const (
	ShopNamespace       = "shop"
	MonitoringNamespace = "monitoring"
)

// WorkloadLabel marks what the fleet deploys for the sample workloads and the injected faults.
const WorkloadLabel = "fleet.ocm.test/workload"

var kwokLogsGVR = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}

// InjectedFault is one faulty workload the fleet runs.
type InjectedFault struct {
	Cluster   string // ManagedCluster name
	Namespace string
	Name      string // the Deployment
	Kind      string // FaultCrashLoop, FaultImagePull, FaultOOMKilled or FaultUnschedulable
}

// FaultUnschedulable is a pod no node fits (a nodeSelector no node has): the real kube-scheduler
// reports it Unschedulable.
const FaultUnschedulable = "Unschedulable"

// Faults lists the faults Start injected (none with WithoutWorkloads).
func (f *Fleet) Faults() []InjectedFault { return append([]InjectedFault(nil), f.faults...) }

// deployWorkloads runs the sample workloads on every spoke, then one fault of each kind, spread over
// the clusters: spoke1 crash-loops, has a PodDisruptionBudget that blocks drains and a failed Job;
// spoke2 cannot pull an image, has a Service without endpoints and a node under memory pressure;
// spoke3 is OOM-killed and has a pod no node fits; the hub (local-cluster) has a rollout a quota
// stops (with fewer spokes they wrap around).
func (f *Fleet) deployWorkloads(ctx context.Context) error {
	errs := make(chan error, len(f.Spokes))
	for _, s := range f.Spokes {
		go func(s *Cluster) { errs <- deploySample(ctx, s) }(s)
	}
	var all []error
	for range f.Spokes {
		all = append(all, <-errs)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}
	spoke := func(i int) string { return f.Spokes[i%len(f.Spokes)].Name }
	faults := []InjectedFault{
		{spoke(0), "payments", "payments-api", FaultCrashLoop},
		{spoke(0), "payments", "ledger", FaultPDBBlocks},
		{spoke(0), "reports", "nightly-export", FaultJobFailed},
		{spoke(1), "inventory", "inventory-sync", FaultImagePull},
		{spoke(1), "inventory", "inventory-db", FaultNoEndpoints},
		{spoke(1), "", f.Spokes[1%len(f.Spokes)].NodeNames()[1], FaultNodePressure},
		{spoke(2), "analytics", "report-builder", FaultOOMKilled},
		{spoke(2), "analytics", "gpu-trainer", FaultUnschedulable},
		{LocalClusterName, "storefront", "checkout", FaultRolloutStuck},
	}
	for _, flt := range faults {
		if err := f.inject(ctx, flt); err != nil {
			return err
		}
		f.faults = append(f.faults, flt)
	}
	return nil
}

func labels(name string) map[string]string {
	return map[string]string{"app": name, WorkloadLabel: name}
}

func deployment(ns, name, image string, replicas int32, mutate func(*corev1.PodSpec)) *appsv1.Deployment {
	spec := corev1.PodSpec{Containers: []corev1.Container{{
		Name: name, Image: image,
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		},
	}}}
	if mutate != nil {
		mutate(&spec)
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels(name)},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels(name)}, Spec: spec},
		},
	}
}

func service(ns, name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels(name)},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	}
}

// deploySample creates the sample workloads of a spoke and waits until they are up: a frontend
// (Deployment of 2, Service, PodDisruptionBudget), a backend with a volume (Deployment, Service,
// PersistentVolumeClaim bound to a PersistentVolume), a worker scaled to zero under a
// HorizontalPodAutoscaler, a finished Job, and a node-exporter DaemonSet.
func deploySample(ctx context.Context, c *Cluster) error {
	k := c.Kube
	if err := ensureNamespaces(ctx, k, ShopNamespace, MonitoringNamespace); err != nil {
		return err
	}
	create := func(err error) error {
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: c.Name + "-backend-data", Labels: labels("backend")},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:         corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: "fleet-local",
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/fleet/backend-data"}},
		},
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "backend-data", Namespace: ShopNamespace, Labels: labels("backend")},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: ptr.To("fleet-local"),
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	frontend := deployment(ShopNamespace, "frontend", "quay.io/fleet-samples/frontend:1.4.2", 2, nil)
	backend := deployment(ShopNamespace, "backend", "quay.io/fleet-samples/backend:2.3.0", 1, func(s *corev1.PodSpec) {
		s.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "backend-data"}}}}
		s.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	})
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "frontend", Namespace: ShopNamespace, Labels: labels("frontend")},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}}},
	}
	// The fleet has no metrics API, so an HPA on a running Deployment would record a warning event every
	// 15 seconds; this one autoscales a worker scaled to zero, which the HPA controller leaves alone
	// (ScalingActive=False, ScalingDisabled), as a paused queue worker is.
	worker := deployment(ShopNamespace, "order-worker", "quay.io/fleet-samples/backend:2.3.0", 0, nil)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "order-worker", Namespace: ShopNamespace, Labels: labels("order-worker")},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "order-worker"},
			MinReplicas:    ptr.To[int32](1), MaxReplicas: 5,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](70)}}}},
		},
	}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "db-migrate", Namespace: ShopNamespace, Labels: labels("db-migrate")},
		Spec: batchv1.JobSpec{BackoffLimit: ptr.To[int32](2), Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{WorkloadLabel: "db-migrate"}},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
				Name: "migrate", Image: "quay.io/fleet-samples/backend:2.3.0", Args: []string{"migrate", "--to=latest"}}}}}},
	}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "node-exporter", Namespace: MonitoringNamespace, Labels: labels("node-exporter")},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "node-exporter"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels("node-exporter")}, Spec: corev1.PodSpec{
				Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
				Containers: []corev1.Container{{Name: "node-exporter", Image: "quay.io/prometheus/node-exporter:v1.9.1",
					Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100}}}}}},
		},
	}
	steps := []error{
		create2(k.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})),
		create2(k.CoreV1().PersistentVolumeClaims(ShopNamespace).Create(ctx, pvc, metav1.CreateOptions{})),
		create2(k.AppsV1().Deployments(ShopNamespace).Create(ctx, frontend, metav1.CreateOptions{})),
		create2(k.CoreV1().Services(ShopNamespace).Create(ctx, service(ShopNamespace, "frontend"), metav1.CreateOptions{})),
		create2(k.PolicyV1().PodDisruptionBudgets(ShopNamespace).Create(ctx, pdb, metav1.CreateOptions{})),
		create2(k.AppsV1().Deployments(ShopNamespace).Create(ctx, worker, metav1.CreateOptions{})),
		create2(k.AutoscalingV2().HorizontalPodAutoscalers(ShopNamespace).Create(ctx, hpa, metav1.CreateOptions{})),
		create2(k.AppsV1().Deployments(ShopNamespace).Create(ctx, backend, metav1.CreateOptions{})),
		create2(k.CoreV1().Services(ShopNamespace).Create(ctx, service(ShopNamespace, "backend"), metav1.CreateOptions{})),
		create2(k.BatchV1().Jobs(ShopNamespace).Create(ctx, job, metav1.CreateOptions{})),
		create2(k.AppsV1().DaemonSets(MonitoringNamespace).Create(ctx, ds, metav1.CreateOptions{})),
	}
	for _, err := range steps {
		if err := create(err); err != nil {
			return fmt.Errorf("%s: sample workloads: %w", c.Name, err)
		}
	}
	return poll(ctx, c.Name+": sample workloads up", 2*time.Minute, func(ctx context.Context) (string, bool) {
		for _, name := range []string{"frontend", "backend"} {
			d, err := k.AppsV1().Deployments(ShopNamespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil || d.Status.ReadyReplicas != *d.Spec.Replicas {
				return "deployment " + name + " not ready", false
			}
		}
		d, err := k.AppsV1().DaemonSets(MonitoringNamespace).Get(ctx, "node-exporter", metav1.GetOptions{})
		if err != nil || d.Status.DesiredNumberScheduled != nodesPerCluster || d.Status.NumberReady != nodesPerCluster {
			return "daemonset node-exporter not ready", false
		}
		j, err := k.BatchV1().Jobs(ShopNamespace).Get(ctx, "db-migrate", metav1.GetOptions{})
		if err != nil || j.Status.Succeeded != 1 {
			return "job db-migrate not complete", false
		}
		eps, err := k.DiscoveryV1().EndpointSlices(ShopNamespace).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=frontend"})
		if err != nil || len(eps.Items) == 0 || len(eps.Items[0].Endpoints) != 2 {
			return "service frontend has no endpoints", false
		}
		return "", true
	})
}

func create2[T any](_ T, err error) error { return err }

// InjectCrashLoop runs a Deployment name in ns on the cluster whose container crashes on start: its pod
// is Running but not ready, the container waits in CrashLoopBackOff after restarts (last exit code 1),
// and its logs, current and --previous, end in a panic.
func (f *Fleet) InjectCrashLoop(ctx context.Context, cluster, ns, name string) error {
	return f.inject(ctx, InjectedFault{cluster, ns, name, FaultCrashLoop})
}

// InjectImagePullBackOff runs a Deployment whose image cannot be pulled: its pod stays Pending with the
// container waiting in ImagePullBackOff, and it has no logs.
func (f *Fleet) InjectImagePullBackOff(ctx context.Context, cluster, ns, name string) error {
	return f.inject(ctx, InjectedFault{cluster, ns, name, FaultImagePull})
}

// InjectOOMKilled runs a Deployment whose container is killed for exceeding its memory limit: last
// state terminated with reason OOMKilled and exit code 137, now in CrashLoopBackOff.
func (f *Fleet) InjectOOMKilled(ctx context.Context, cluster, ns, name string) error {
	return f.inject(ctx, InjectedFault{cluster, ns, name, FaultOOMKilled})
}

// InjectUnschedulable runs a Deployment whose pod no node fits (it selects a node label none has): the
// kube-scheduler leaves it Pending with PodScheduled=False, reason Unschedulable, and a FailedScheduling
// event.
func (f *Fleet) InjectUnschedulable(ctx context.Context, cluster, ns, name string) error {
	return f.inject(ctx, InjectedFault{cluster, ns, name, FaultUnschedulable})
}

func (f *Fleet) inject(ctx context.Context, flt InjectedFault) error {
	c := f.Cluster(flt.Cluster)
	if c == nil {
		return fmt.Errorf("no cluster %q in the fleet", flt.Cluster)
	}
	if c.Kwok == nil {
		return fmt.Errorf("%s runs no kwok: the fleet was started without nodes", flt.Cluster)
	}
	switch flt.Kind {
	case FaultJobFailed, FaultNoEndpoints, FaultPDBBlocks, FaultRolloutStuck, FaultNodePressure:
		return f.injectObjects(ctx, c, flt)
	}
	if err := ensureNamespaces(ctx, c.Kube, flt.Namespace); err != nil {
		return err
	}
	var d *appsv1.Deployment
	switch flt.Kind {
	case FaultCrashLoop:
		d = deployment(flt.Namespace, flt.Name, "quay.io/fleet-samples/"+flt.Name+":2.0.0", 1, nil)
	case FaultOOMKilled:
		d = deployment(flt.Namespace, flt.Name, "quay.io/fleet-samples/"+flt.Name+":3.1.0", 1, nil)
	case FaultImagePull:
		d = deployment(flt.Namespace, flt.Name, "registry.example.com/"+flt.Namespace+"/"+flt.Name+":9.9.9-missing", 1, nil)
	case FaultUnschedulable:
		d = deployment(flt.Namespace, flt.Name, "quay.io/fleet-samples/"+flt.Name+":1.0.0", 1, func(s *corev1.PodSpec) {
			s.NodeSelector = map[string]string{"fleet.ocm.test/accelerator": "nvidia-a100"}
		})
	default:
		return fmt.Errorf("unknown fault %q", flt.Kind)
	}
	if flt.Kind != FaultUnschedulable {
		d.Spec.Template.Annotations = map[string]string{FaultAnnotation: flt.Kind}
	}
	if _, err := c.Kube.AppsV1().Deployments(flt.Namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("%s: fault %s: %w", flt.Cluster, flt.Kind, err)
	}
	var pods []corev1.Pod
	err := poll(ctx, fmt.Sprintf("%s: %s/%s shows %s", flt.Cluster, flt.Namespace, flt.Name, flt.Kind), 2*time.Minute, func(ctx context.Context) (string, bool) {
		l, err := c.Kube.CoreV1().Pods(flt.Namespace).List(ctx, metav1.ListOptions{LabelSelector: WorkloadLabel + "=" + flt.Name})
		if err != nil || len(l.Items) == 0 {
			return "no pod", false
		}
		pods = l.Items
		for _, p := range l.Items {
			if got := podFault(&p); got != flt.Kind {
				return fmt.Sprintf("pod %s shows %q", p.Name, got), false
			}
		}
		return "", true
	})
	if err != nil {
		return err
	}
	return f.serveFaultLogs(ctx, c, flt, pods)
}

// podFault names the fault a pod shows, as its status says.
func podFault(p *corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			if w.Reason == FaultCrashLoop && cs.LastTerminationState.Terminated != nil && cs.LastTerminationState.Terminated.Reason == FaultOOMKilled {
				return FaultOOMKilled
			}
			return w.Reason
		}
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse {
			return cond.Reason
		}
	}
	return string(p.Status.Phase)
}

// serveFaultLogs points kwok at the fault's logs for each pod: a Logs object named like the pod.
func (f *Fleet) serveFaultLogs(ctx context.Context, c *Cluster, flt InjectedFault, pods []corev1.Pod) error {
	var file string
	switch flt.Kind {
	case FaultCrashLoop:
		file = crashLogFile
	case FaultOOMKilled:
		file = oomLogFile
	case FaultImagePull:
		file = missingLogFile
	case FaultJobFailed:
		file = exportLogFile
	default:
		return nil // an unscheduled pod has no node, so the API server asks no kubelet
	}
	path := filepath.Join(f.kwokLogs, file)
	for _, p := range pods {
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
			"metadata": map[string]any{"name": p.Name, "namespace": p.Namespace, "labels": map[string]any{WorkloadLabel: flt.Name}},
			"spec":     map[string]any{"logs": []any{map[string]any{"logsFile": path, "previousLogsFile": path}}},
		}}
		if _, err := c.Dynamic.Resource(kwokLogsGVR).Namespace(p.Namespace).Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%s: logs of %s/%s: %w", c.Name, p.Namespace, p.Name, err)
		}
	}
	return nil
}

// RemoveFault deletes a workload an Inject helper created, and waits until its pods are gone.
func (f *Fleet) RemoveFault(ctx context.Context, cluster, ns, name string) error {
	c := f.Cluster(cluster)
	if c == nil {
		return fmt.Errorf("no cluster %q in the fleet", cluster)
	}
	err := c.Kube.AppsV1().Deployments(ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	sel := metav1.ListOptions{LabelSelector: WorkloadLabel + "=" + name}
	if err := c.Dynamic.Resource(kwokLogsGVR).Namespace(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, sel); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return poll(ctx, fmt.Sprintf("%s: pods of %s/%s gone", cluster, ns, name), 2*time.Minute, func(ctx context.Context) (string, bool) {
		l, err := c.Kube.CoreV1().Pods(ns).List(ctx, sel)
		if err != nil {
			return err.Error(), false
		}
		return fmt.Sprintf("%d pod(s) left", len(l.Items)), len(l.Items) == 0
	})
}

// poll checks cond until it holds or timeout passes; the error carries cond's last word.
func poll(ctx context.Context, what string, timeout time.Duration, cond func(context.Context) (string, bool)) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var ok bool
		last, ok = cond(ctx)
		return ok, nil
	})
	if err != nil {
		return fmt.Errorf("%s: never happened (last: %s): %w", what, last, err)
	}
	return nil
}
