package diagnose

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// The workload analyzers read a cluster's pods, Services, EndpointSlices, PodDisruptionBudgets,
// Deployments, Jobs, nodes and Warning events once (paginated), then judge them together, so that a
// symptom (a Service without endpoints, a stuck rollout) can point at its cause (the pods that fail).

var (
	gvrServices    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	gvrNodes       = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	gvrEvents      = schema.GroupVersionResource{Version: "v1", Resource: "events"}
	gvrSlices      = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
	gvrPDBs        = schema.GroupVersionResource{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}
	gvrDeployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrJobs        = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
)

// pageSize bounds each list request of the workload snapshot.
const pageSize = 500

// snapshot is what the workload analyzers judge, read once per cluster. unread says, per kind, why it
// could not be read: what depends on it is unknown, never a finding.
type snapshot struct {
	cluster     string
	now         time.Time
	pods        []corev1.Pod
	services    []corev1.Service
	slices      []discoveryv1.EndpointSlice
	pdbs        []policyv1.PodDisruptionBudget
	deployments []appsv1.Deployment
	jobs        []batchv1.Job
	nodes       []corev1.Node
	events      []corev1.Event
	validating  []admissionv1.ValidatingWebhookConfiguration
	mutating    []admissionv1.MutatingWebhookConfiguration
	unread      map[string]string
	// logs returns up to tail lines of a container's log (previous: the run before the current one).
	logs func(ns, pod, container string, previous bool, tail int64) ([]string, error)
}

// workloads runs the workload analyzers on a readable cluster. The OCM agent namespaces are left to
// the agent checks.
func (r *Runner) workloads(ctx context.Context, cluster string, sp *spoke) []Finding {
	s := &snapshot{cluster: cluster, now: r.Now, unread: map[string]string{}}
	s.logs = func(ns, pod, container string, previous bool, tail int64) ([]string, error) {
		return readLog(ctx, sp, ns, pod, container, previous, tail)
	}
	read := func(kind string, gvr schema.GroupVersionResource, opts metav1.ListOptions, into func(map[string]any) error) {
		err := listPages(ctx, sp.dyn, gvr, opts, into)
		if err != nil {
			s.unread[kind] = readError(err)
		}
	}
	read("pods", gvrPods, metav1.ListOptions{}, appendAs(&s.pods))
	read("services", gvrServices, metav1.ListOptions{}, appendAs(&s.services))
	read("endpointslices", gvrSlices, metav1.ListOptions{}, appendAs(&s.slices))
	read("poddisruptionbudgets", gvrPDBs, metav1.ListOptions{}, appendAs(&s.pdbs))
	read("deployments", gvrDeployments, metav1.ListOptions{}, appendAs(&s.deployments))
	read("jobs", gvrJobs, metav1.ListOptions{}, appendAs(&s.jobs))
	read("nodes", gvrNodes, metav1.ListOptions{}, appendAs(&s.nodes))
	read("events", gvrEvents, metav1.ListOptions{FieldSelector: "type=Warning"}, appendAs(&s.events))
	read("validatingwebhookconfigurations", gvrValidatingWebhooks, metav1.ListOptions{}, appendAs(&s.validating))
	read("mutatingwebhookconfigurations", gvrMutatingWebhooks, metav1.ListOptions{}, appendAs(&s.mutating))
	s.pods = withoutAgentNamespaces(s.pods)
	r.check(s.summary())
	return s.analyze()
}

// summary is the check line: what was read, and what could not be.
func (s *snapshot) summary() string {
	line := fmt.Sprintf("%s: workloads (%d pods, %d services, %d PodDisruptionBudgets, %d deployments, %d jobs, %d nodes)",
		s.cluster, len(s.pods), len(s.services), len(s.pdbs), len(s.deployments), len(s.jobs), len(s.nodes))
	if len(s.unread) > 0 {
		kinds := make([]string, 0, len(s.unread))
		for k, why := range s.unread {
			kinds = append(kinds, k+" ("+why+")")
		}
		sort.Strings(kinds)
		line += "; unknown, not readable: " + strings.Join(kinds, ", ")
	}
	return line
}

// analyze judges the snapshot: causes first (nodes, then pods, then objects that fail on their own),
// then the symptoms that point at them.
func (s *snapshot) analyze() []Finding {
	var out []Finding
	out = append(out, s.nodeFindings()...)
	hooks := s.webhookFindings()
	out = append(out, hooks...)
	pods, failing := s.podFindings()
	out = append(out, pods...)
	out = append(out, s.jobFindings()...)
	out = append(out, s.rolloutFindings(failing, len(hooks) > 0)...)
	out = append(out, s.serviceFindings()...)
	out = append(out, s.pdbFindings()...)
	return out
}

func withoutAgentNamespaces(pods []corev1.Pod) []corev1.Pod {
	out := pods[:0]
	for _, p := range pods {
		if p.Namespace != agentNS && p.Namespace != agentAddonNS {
			out = append(out, p)
		}
	}
	return out
}

// listPages lists every object of a resource in all namespaces, a page at a time.
func listPages(ctx context.Context, c dynamic.Interface, gvr schema.GroupVersionResource, opts metav1.ListOptions, each func(map[string]any) error) error {
	opts.Limit = pageSize
	for {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		l, err := c.Resource(gvr).List(cctx, opts)
		cancel()
		if apierrors.IsNotFound(err) {
			return nil // the API is not served here: nothing of the kind exists
		}
		if err != nil {
			return err
		}
		for i := range l.Items {
			if err := each(l.Items[i].Object); err != nil {
				return err
			}
		}
		if opts.Continue = l.GetContinue(); opts.Continue == "" {
			return nil
		}
	}
}

// appendAs decodes each object into a T and appends it.
func appendAs[T any](into *[]T) func(map[string]any) error {
	return func(o map[string]any) error {
		var v T
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o, &v); err != nil {
			return fmt.Errorf("an object does not decode: %w", err)
		}
		*into = append(*into, v)
		return nil
	}
}

func readError(err error) string {
	if apierrors.IsForbidden(err) {
		return "forbidden to the role the server holds"
	}
	return err.Error()
}

// readLog reads the last lines of a container's log; an archive serves the logs it collected.
func readLog(ctx context.Context, sp *spoke, ns, pod, container string, previous bool, tail int64) ([]string, error) {
	if sp.kube == nil {
		return nil, fmt.Errorf("no client for logs")
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	limit := int64(64 << 10)
	raw, err := sp.kube.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, Previous: previous, TailLines: &tail, LimitBytes: &limit}).DoRaw(cctx)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// owner names the workload a pod belongs to: its Deployment (through the ReplicaSet and the
// pod-template-hash label), StatefulSet, DaemonSet, Job, or the pod itself.
func owner(p *corev1.Pod) (kind, name string) {
	for _, ref := range p.OwnerReferences {
		if ref.Controller == nil || !*ref.Controller {
			continue
		}
		if ref.Kind == "ReplicaSet" {
			if h := p.Labels["pod-template-hash"]; h != "" && strings.HasSuffix(ref.Name, "-"+h) {
				return "Deployment", strings.TrimSuffix(ref.Name, "-"+h)
			}
		}
		return ref.Kind, ref.Name
	}
	return "Pod", p.Name
}

// warningsFor are the Warning events about one object, newest first.
func (s *snapshot) warningsFor(kind, ns, name string) []corev1.Event {
	var out []corev1.Event
	for _, e := range s.events {
		if e.Namespace == ns && e.InvolvedObject.Kind == kind && e.InvolvedObject.Name == name {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return ocm.EventTime(&out[i]).After(ocm.EventTime(&out[j])) })
	return out
}

func eventLine(e *corev1.Event, now time.Time) string {
	n := max(e.Count, 1)
	return fmt.Sprintf("event %s (%dx, last %s): %s", e.Reason, n, ago(ocm.EventTime(e), now), e.Message)
}
