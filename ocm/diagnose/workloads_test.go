package diagnose

import (
	"errors"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// pod builds a pod of Deployment name in ns (through a ReplicaSet), running and ready unless mutate
// says otherwise.
func pod(ns, name string, mutate func(*corev1.Pod)) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-7d9f8-abcde", Labels: map[string]string{"app": name, "pod-template-hash": "7d9f8"},
			CreationTimestamp: metav1.NewTime(testNow.Add(-time.Hour)),
			OwnerReferences:   []metav1.OwnerReference{{Kind: "ReplicaSet", Name: name + "-7d9f8", Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{NodeName: "node-0", Containers: []corev1.Container{{Name: name, Image: "registry.example.com/" + name + ":1",
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: name, Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}},
	}
	if mutate != nil {
		mutate(&p)
	}
	return p
}

func notReady(p *corev1.Pod) {
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	p.Status.ContainerStatuses[0].Ready = false
	p.Status.ContainerStatuses[0].State = corev1.ContainerState{}
}

func crashing(reason string, code int32) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		notReady(p)
		cs := &p.Status.ContainerStatuses[0]
		cs.RestartCount = 5
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5m0s"}
		cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}
	}
}

func node(name string, conds ...corev1.NodeCondition) corev1.Node {
	if len(conds) == 0 {
		conds = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	}
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}, Status: corev1.NodeStatus{Conditions: conds}}
}

func slice(ns, svc string, ready ...bool) discoveryv1.EndpointSlice {
	sl := discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svc + "-x", Labels: map[string]string{discoveryv1.LabelServiceName: svc}}}
	for _, r := range ready {
		sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(r)}})
	}
	return sl
}

func svc(ns, name string, selector map[string]string) corev1.Service {
	return corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Selector: selector}}
}

func pdb(ns, name string, expected, healthy, desired, allowed int32) policyv1.PodDisruptionBudget {
	return policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:   policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(desired)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}},
		Status: policyv1.PodDisruptionBudgetStatus{ObservedGeneration: 1, ExpectedPods: expected, CurrentHealthy: healthy, DesiredHealthy: desired, DisruptionsAllowed: allowed}}
}

func logsOf(lines map[string][]string) func(ns, pod, container string, previous bool, tail int64) ([]string, error) {
	return func(ns, pod, container string, previous bool, tail int64) ([]string, error) {
		key := ns + "/" + pod
		if previous {
			key += "/previous"
		}
		if l, ok := lines[key]; ok {
			return l, nil
		}
		return nil, errors.New("the kubelet does not answer")
	}
}

func TestWorkloadAnalyzers(t *testing.T) {
	healthy := func(s *snapshot) {
		s.pods = []corev1.Pod{pod("shop", "frontend", nil), pod("shop", "frontend", func(p *corev1.Pod) { p.Name += "2" })}
		s.services = []corev1.Service{svc("shop", "frontend", map[string]string{"app": "frontend"}), svc("default", "kubernetes", nil)}
		s.slices = []discoveryv1.EndpointSlice{slice("shop", "frontend", true, true)}
		s.pdbs = []policyv1.PodDisruptionBudget{pdb("shop", "frontend", 2, 2, 1, 1)}
		s.nodes = []corev1.Node{node("node-0"), node("node-1")}
		done := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db-migrate"},
			Status: batchv1.JobStatus{Succeeded: 1, Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}}
		s.jobs = []batchv1.Job{done}
	}
	tests := []struct {
		name  string
		setup func(*snapshot)
		// "id|severity|text": a finding with the text in its title or evidence; there are as many findings
		// as distinct "id|severity" ("id#2" marks a second finding of an id).
		want []string
	}{
		{"healthy workloads, no false alarm", healthy, nil},
		{"crash loop with the log line that explains it", func(s *snapshot) {
			s.pods = []corev1.Pod{pod("payments", "payments-api", crashing("Error", 1))}
			s.logs = logsOf(map[string][]string{"payments/payments-api-7d9f8-abcde/previous": {"level=info msg=starting", "panic: database unavailable: connection refused", "goroutine 1 [running]:"}})
		}, []string{"pod-crashlooping|warning|Deployment payments/payments-api: 1 of 1 pod(s) crash-looping: container payments-api exits with code 1 (Error)",
			"pod-crashlooping|warning|log (previous run): panic: database unavailable"}},
		{"OOMKilled with the limit", func(s *snapshot) {
			s.pods = []corev1.Pod{pod("analytics", "report-builder", crashing("OOMKilled", 137))}
			s.logs = logsOf(map[string][]string{"analytics/report-builder-7d9f8-abcde/previous": {"loading cache", "cache warm-up progress=61%"}})
		}, []string{"pod-oomkilled|warning|memory limit 256Mi", "pod-oomkilled|warning|log (previous run): cache warm-up progress=61%"}},
		{"a running container killed for memory an hour ago or less still is a finding; one long ago is not", func(s *snapshot) {
			flapping := func(reason string, code, restarts int32, ago time.Duration) func(*corev1.Pod) {
				return func(p *corev1.Pod) {
					cs := &p.Status.ContainerStatuses[0]
					cs.RestartCount = restarts
					cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, FinishedAt: metav1.NewTime(testNow.Add(-ago))}
				}
			}
			s.pods = []corev1.Pod{
				pod("cache", "redis", flapping("OOMKilled", 137, 1, 10*time.Minute)),
				pod("cache", "memcached", flapping("OOMKilled", 137, 1, 3*time.Hour)),
				pod("web", "api", flapping("Error", 1, 7, 5*time.Minute)),
				pod("web", "once", flapping("Error", 1, 1, 5*time.Minute)),
			}
			s.logs = logsOf(map[string][]string{"cache/redis-7d9f8-abcde": {"OOM command not allowed"}, "web/api-7d9f8-abcde": {"error: upstream timeout"}})
		}, []string{"pod-oomkilled|warning|Deployment cache/redis: 1 of 1 pod(s) killed", "pod-crashlooping|warning|Deployment web/api: 1 of 1 pod(s) crash-looping",
			"pod-crashlooping|warning|log (current run): error: upstream timeout"}},
		{"image pull with the image and the pull error", func(s *snapshot) {
			s.pods = []corev1.Pod{pod("inventory", "inventory-sync", func(p *corev1.Pod) {
				notReady(p)
				p.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "Back-off pulling image"}
			})}
			s.events = []corev1.Event{{ObjectMeta: metav1.ObjectMeta{Namespace: "inventory"}, Type: "Warning", Reason: "Failed", Count: 3, LastTimestamp: metav1.NewTime(testNow),
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "inventory-sync-7d9f8-abcde"}, Message: "Failed to pull image: manifest unknown"}}
		}, []string{"pod-image-pull|warning|image registry.example.com/inventory-sync:1", "pod-image-pull|warning|manifest unknown"}},
		{"unschedulable with the scheduler's reason and the selector no node has", func(s *snapshot) {
			healthy(s)
			s.pods = append(s.pods, pod("analytics", "gpu-trainer", func(p *corev1.Pod) {
				p.Spec.NodeName, p.Status.Phase, p.Status.ContainerStatuses = "", corev1.PodPending, nil
				p.Spec.NodeSelector = map[string]string{"accelerator": "a100"}
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
					Message: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."}}
			}))
		}, []string{"pod-unschedulable|warning|didn't match Pod's node affinity/selector", "pod-unschedulable|warning|nodeSelector accelerator=a100: 0 of 2 node(s) carry it"}},
		{"service selecting no pod is a cause; one whose pods fail is a symptom", func(s *snapshot) {
			s.pods = []corev1.Pod{pod("inventory", "inventory-database", nil), pod("shop", "cart", crashing("Error", 2))}
			s.services = []corev1.Service{svc("inventory", "inventory-db", map[string]string{"app": "inventory-db"}), svc("shop", "cart", map[string]string{"app": "cart"})}
			s.slices = []discoveryv1.EndpointSlice{slice("inventory", "inventory-db"), slice("shop", "cart", false)}
		}, []string{"pod-crashlooping|warning|logs of container cart: unknown, could not be read",
			"service-no-endpoints|warning|pods there carry app=inventory-database",
			"service-no-endpoints|info|Service shop/cart has no ready endpoint: 1 of its 1 pod(s) are not ready"}},
		{"a service without any EndpointSlice is unknown, not a finding", func(s *snapshot) {
			s.services = []corev1.Service{svc("shop", "orders", map[string]string{"app": "orders"})}
		}, nil},
		{"PDB blocking healthy pods is a cause; one short of healthy pods is a symptom", func(s *snapshot) {
			s.pdbs = []policyv1.PodDisruptionBudget{pdb("payments", "ledger", 2, 2, 2, 0), pdb("shop", "cart", 2, 1, 1, 0)}
		}, []string{"pdb-blocks-disruption|warning|allows no disruption though all its 2 pod(s) are healthy", "pdb-blocks-disruption|info|only 1 of 2 pod(s) are healthy"}},
		{"rollout refused by a quota; a rollout whose pods crash is a symptom", func(s *snapshot) {
			s.pods = []corev1.Pod{pod("shop", "cart", crashing("Error", 2))}
			s.logs = logsOf(map[string][]string{"shop/cart-7d9f8-abcde/previous": {"fatal: config missing"}})
			s.deployments = []appsv1.Deployment{
				{ObjectMeta: metav1.ObjectMeta{Namespace: "storefront", Name: "checkout"}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3)},
					Status: appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate",
						Message: `pods "checkout-1" is forbidden: exceeded quota: storefront-pods, requested: pods=1, used: pods=1, limited: pods=1`}}}},
				{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cart"},
					Status: appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded"}}}},
			}
		}, []string{"pod-crashlooping|warning|fatal: config missing",
			"rollout-stuck|warning|Deployment storefront/checkout cannot create its pods: FailedCreate",
			"rollout-stuck#2|warning|does not progress because its pods fail (a symptom: see pod-crashlooping)"}},
		{"failed job with its pod's logs; a failure a newer run superseded is none", func(s *snapshot) {
			cron := []metav1.OwnerReference{{Kind: "CronJob", Name: "nightly", Controller: ptr.To(true)}}
			failed := batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}
			s.jobs = []batchv1.Job{
				{ObjectMeta: metav1.ObjectMeta{Namespace: "reports", Name: "export"}, Status: batchv1.JobStatus{Failed: 2, Conditions: []batchv1.JobCondition{failed}}},
				{ObjectMeta: metav1.ObjectMeta{Namespace: "reports", Name: "nightly-1", OwnerReferences: cron, CreationTimestamp: metav1.NewTime(testNow.Add(-2 * time.Hour))},
					Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{failed}}},
				{ObjectMeta: metav1.ObjectMeta{Namespace: "reports", Name: "nightly-2", OwnerReferences: cron, CreationTimestamp: metav1.NewTime(testNow.Add(-time.Hour))},
					Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}},
			}
			p := pod("reports", "export", func(p *corev1.Pod) {
				p.Name, p.OwnerReferences = "export-q1", []metav1.OwnerReference{{Kind: "Job", Name: "export", Controller: ptr.To(true)}}
				p.Status.Phase = corev1.PodFailed
				p.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error"}}
			})
			s.pods = []corev1.Pod{p}
			s.logs = logsOf(map[string][]string{"reports/export-q1": {"error: bucket s3://exports not found"}})
		}, []string{"job-failed|warning|Job reports/export failed (BackoffLimitExceeded)", "job-failed|warning|log (current run): error: bucket s3://exports not found"}},
		{"node not ready and node under memory pressure", func(s *snapshot) {
			s.nodes = []corev1.Node{
				node("node-0", corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status."}),
				node("node-1", corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue},
					corev1.NodeCondition{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionTrue, Reason: "KubeletHasInsufficientMemory"}),
			}
		}, []string{"node-not-ready|critical|Kubelet stopped posting node status", "node-pressure|warning|Node node-1 reports MemoryPressure"}},
		{"a webhook that fails closed with no backend is the cause of the rollout it refuses", func(s *snapshot) {
			fail, ignore := admissionv1.Fail, admissionv1.Ignore
			hook := func(name, svc string, p *admissionv1.FailurePolicyType) admissionv1.ValidatingWebhook {
				return admissionv1.ValidatingWebhook{Name: name, FailurePolicy: p,
					ClientConfig: admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Namespace: "policy", Name: svc}}}
			}
			s.validating = []admissionv1.ValidatingWebhookConfiguration{{ObjectMeta: metav1.ObjectMeta{Name: "policy-engine"},
				Webhooks: []admissionv1.ValidatingWebhook{hook("validate.policy.example.com", "policy-webhook", &fail), hook("audit.policy.example.com", "gone", &ignore)}}}
			s.services = []corev1.Service{svc("policy", "policy-webhook", map[string]string{"app": "policy"})}
			s.slices = []discoveryv1.EndpointSlice{slice("policy", "policy-webhook")}
			s.deployments = []appsv1.Deployment{{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cart"},
				Status: appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate",
					Message: `Internal error occurred: failed calling webhook "validate.policy.example.com": no endpoints available for service "policy-webhook"`}}}}}
		}, []string{"webhook-unavailable|critical|its Service policy/policy-webhook has no ready endpoint",
			"rollout-stuck|warning|cannot create its pods because an admission webhook cannot be called (a symptom: see webhook-unavailable)",
			"service-no-endpoints|warning|selector app=policy matches none"}},
		{"what could not be read is unknown", func(s *snapshot) {
			s.unread["endpointslices"] = "forbidden to the role the server holds"
			s.services = []corev1.Service{svc("shop", "orders", map[string]string{"app": "orders"})}
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &snapshot{cluster: "spoke1", now: testNow, unread: map[string]string{}, logs: logsOf(nil)}
			tc.setup(s)
			got := s.analyze()
			if n := len(uniqueIDs(tc.want)); len(got) != n {
				t.Fatalf("got %d finding(s), want %d:\n%s", len(got), n, render(got))
			}
			for _, w := range tc.want {
				parts := strings.SplitN(w, "|", 3)
				id, _, _ := strings.Cut(parts[0], "#")
				if !anyFinding(got, id, parts[1], parts[2]) {
					t.Errorf("no %s finding (%s) saying %q:\n%s", parts[0], parts[1], parts[2], render(got))
				}
			}
			for _, f := range got {
				if f.Runbook == "" || len(f.Verify) == 0 || f.Next == "" || len(f.Evidence) == 0 {
					t.Errorf("%s lacks runbook, verify, next or evidence: %+v", f.ID, f)
				}
			}
		})
	}
}

// uniqueIDs counts the findings a want list describes: one per id and severity.
func uniqueIDs(want []string) map[string]bool {
	out := map[string]bool{}
	for _, w := range want {
		parts := strings.SplitN(w, "|", 3)
		out[parts[0]+"|"+parts[1]] = true
	}
	return out
}

func anyFinding(fs []Finding, id, severity, text string) bool {
	for _, f := range fs {
		if f.ID == id && f.Severity.String() == severity && strings.Contains(f.Title+"\n"+strings.Join(f.Evidence, "\n"), text) {
			return true
		}
	}
	return false
}

func render(fs []Finding) string {
	rep := &Report{Findings: fs}
	return rep.Render()
}
