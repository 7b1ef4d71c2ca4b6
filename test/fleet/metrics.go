//lint:file-ignore SA1019 the API server's service proxy picks its address from the Service's Endpoints object, not from EndpointSlices

package fleet

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

// Where the metrics stores of the fleet are found, as on an OpenShift cluster with ACM observability:
// every managed cluster's own Prometheus is the Service openshift-monitoring/prometheus-k8s of that
// cluster's API server (port 9090, plain HTTP, reached only through the API server's service proxy), and
// the hub's fleet-wide store is the Thanos querier open-cluster-management-observability/
// observability-thanos-query on the hub (port 9090, plain HTTP), whose series carry the cluster label.
const (
	ClusterMonitoringNamespace = "openshift-monitoring"
	PrometheusService          = "prometheus-k8s"
	PrometheusServicePort      = 9090
	PrometheusPortName         = "web"
	PrometheusPod              = "prometheus-k8s-0"
	ObservabilityNamespace     = "open-cluster-management-observability"
	ThanosQueryService         = "observability-thanos-query"
	ThanosQueryServicePort     = 9090
	ThanosQueryPortName        = "http"
	ThanosQueryPod             = "observability-thanos-query-0"
	// MetricsClusterLabel is the external label each Prometheus adds: the ManagedCluster name.
	MetricsClusterLabel = "cluster"
)

// Alerts of the fleet's rule file (the same on every cluster; the data decides where they fire).
const (
	// AlertWatchdog always fires everywhere (severity none), to show that alerting works.
	AlertWatchdog = "Watchdog"
	// AlertTargetDown fires (severity warning) where a scrape target has been down for 10s: on the
	// cluster MetricsTargetDownCluster names, whose Prometheus scrapes a kube-state-metrics that does
	// not run.
	AlertTargetDown = "TargetDown"
	// AlertPodsPending is pending (for 1h, severity warning) where the scheduler holds pods it cannot
	// place: on the spoke with the Unschedulable fault.
	AlertPodsPending = "KubePodsPending"
	// AlertAPIErrorsHigh fires (severity critical) where over 5% of API requests fail with 5xx for 1m:
	// nowhere in a healthy fleet.
	AlertAPIErrorsHigh = "KubeAPIErrorsHigh"
	// DownTargetJob is the job of the target that is down.
	DownTargetJob = "kube-state-metrics"
)

// PrometheusToken authenticates every Prometheus to its cluster's API server and scheduler (user
// prometheus, allowed only GET on /metrics).
const (
	PrometheusToken = "prometheus-token"
	PrometheusUser  = "prometheus"
)

// The address every metrics process binds, and the pod IP of the Pods that stand for them. The API
// server's service proxy dials an address of the Service's Endpoints whose targetRef is a Pod with that
// IP; the fleet's kwok nodes have the InternalIP 127.0.0.1, so do their host-network pods.
const metricsHost = "127.0.0.1"

// downTargetAddress is where the down target is scraped: port 1, on which nothing listens (a port
// chosen among free ones could be taken by a later listener).
const downTargetAddress = "127.0.0.1:1"

// Prometheus keeps only these API server series (the scrape itself is what costs; the rest would only
// grow the TSDB).
const apiserverKeep = `apiserver_request_total|apiserver_request_duration_seconds_(sum|count)|apiserver_current_inflight_requests|apiserver_storage_objects|etcd_request_duration_seconds_(sum|count)|rest_client_requests_total|process_(cpu_seconds_total|resident_memory_bytes|start_time_seconds)|go_goroutines`

const rulesFile = `groups:
- name: fleet
  rules:
  - alert: Watchdog
    expr: vector(1)
    labels:
      severity: none
    annotations:
      summary: An alert that always fires, to show that the alerting pipeline works.
  - alert: TargetDown
    expr: up == 0
    for: 10s
    labels:
      severity: warning
    annotations:
      summary: 'Target {{ $labels.job }} at {{ $labels.instance }} is down.'
  - alert: KubePodsPending
    expr: sum(scheduler_pending_pods) > 0
    for: 1h
    labels:
      severity: warning
    annotations:
      summary: '{{ $value }} pod(s) wait for the scheduler to place them.'
  - alert: KubeAPIErrorsHigh
    expr: sum(rate(apiserver_request_total{code=~"5.."}[1m])) / sum(rate(apiserver_request_total[1m])) > 0.05
    for: 1m
    labels:
      severity: critical
    annotations:
      summary: 'The API server answers {{ $value | humanizePercentage }} of requests with a 5xx code.'
`

// metricsStack is one cluster's Prometheus and Thanos sidecar.
type metricsStack struct {
	promPort, grpcPort, httpPort int
	dataDir                      string
}

// MetricsTargetDownCluster is the ManagedCluster whose Prometheus scrapes a target that is down (the second
// spoke, or the only one), or "" without Options.Metrics.
func (f *Fleet) MetricsTargetDownCluster() string {
	if !f.opts.Metrics || len(f.Spokes) == 0 {
		return ""
	}
	return f.Spokes[1%len(f.Spokes)].ManagedClusterName()
}

// startMetrics writes each managed cluster's Prometheus configuration, starts its Prometheus and Thanos
// sidecar and the hub's Thanos querier over them, and creates the Pods, Services and Endpoints through
// which the API servers proxy to them. It does not wait for them: waitMetrics does, at the end of Start.
func (f *Fleet) startMetrics(ctx context.Context) error {
	if err := f.checkMetricsBinaries(); err != nil {
		return err
	}
	var endpoints []string
	for _, c := range f.Managed() {
		if err := f.startClusterStack(c); err != nil {
			return err
		}
		endpoints = append(endpoints, "- address: "+loopback(c.metrics.grpcPort))
	}
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	f.ThanosQueryURL = "http://" + loopback(ports[0])
	f.ThanosQuery = newProcess("hub-thanos-query", filepath.Join(f.bins, "thanos"), f.logDir,
		"query", "--http-address="+loopback(ports[0]), "--grpc-address="+loopback(ports[1]),
		"--endpoint.sd-config=endpoints:\n"+strings.Join(endpoints, "\n"), "--log.level=warn")
	f.ThanosQuery.env = []string{"GOMEMLIMIT=96MiB"}
	if err := f.ThanosQuery.Start(); err != nil {
		return err
	}
	f.hubProcs = append(f.hubProcs, f.ThanosQuery)
	for _, c := range f.Managed() {
		if err := f.exposeMetrics(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func (f *Fleet) checkMetricsBinaries() error {
	for _, b := range []string{"prometheus", "thanos"} {
		if _, err := os.Stat(filepath.Join(f.bins, b)); err != nil {
			return fmt.Errorf("fleet binary %s missing in %s (run test/fleet/build-binaries.sh): %w", b, f.bins, err)
		}
	}
	return nil
}

// startClusterStack writes the cluster's Prometheus configuration and starts its Prometheus and Thanos
// sidecar.
func (f *Fleet) startClusterStack(c *Cluster) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	st := &metricsStack{promPort: ports[0], grpcPort: ports[1], httpPort: ports[2],
		dataDir: filepath.Join(f.Dir, "metrics", c.Name, "data")}
	c.metrics = st
	if err := f.writePrometheusConfig(c); err != nil {
		return err
	}
	dir := filepath.Join(f.Dir, "metrics", c.Name)
	c.PrometheusURL = "http://" + loopback(st.promPort)
	c.Prometheus = newProcess(c.Name+"-prometheus", filepath.Join(f.bins, "prometheus"), f.logDir,
		"--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+st.dataDir,
		"--web.listen-address="+loopback(st.promPort), "--storage.tsdb.retention.time=2h",
		// Blocks stay local (the sidecar uploads nothing), so compaction may run as usual.
		"--log.level=warn")
	c.Prometheus.env = []string{"GOMEMLIMIT=96MiB"}
	c.ThanosSidecar = newProcess(c.Name+"-thanos-sidecar", filepath.Join(f.bins, "thanos"), f.logDir,
		"sidecar", "--prometheus.url="+c.PrometheusURL, "--tsdb.path="+st.dataDir,
		"--grpc-address="+loopback(st.grpcPort), "--http-address="+loopback(st.httpPort),
		"--prometheus.ready_timeout=5m", "--log.level=warn")
	c.ThanosSidecar.env = []string{"GOMEMLIMIT=64MiB"}
	for _, p := range []*Process{c.Prometheus, c.ThanosSidecar} {
		if err := p.Start(); err != nil {
			return err
		}
	}
	return nil
}

// StartClusterMetrics gives one managed cluster of a fleet started without Options.Metrics the
// Prometheus and Thanos sidecar Options.Metrics would (the same configuration: it scrapes the cluster's
// API server, scheduler and kwok), reachable as openshift-monitoring/prometheus-k8s:9090 through the
// cluster's API server service proxy, and waits until it answers there. The fleet stops them with the
// rest. There is no Thanos querier over it.
func (f *Fleet) StartClusterMetrics(ctx context.Context, c *Cluster) error {
	if c == f.Hub {
		return errors.New("StartClusterMetrics is for spokes: the hub's metrics come with Options.Metrics")
	}
	if c.Prometheus != nil {
		return nil
	}
	if err := f.checkMetricsBinaries(); err != nil {
		return err
	}
	if err := f.startClusterStack(c); err != nil {
		return err
	}
	if err := f.exposeMetrics(ctx, c); err != nil {
		return err
	}
	return f.waitClusterPrometheus(ctx, c)
}

// Binary is the path of one of the fleet's binaries (those build-binaries.sh builds, e.g. prometheus).
func (f *Fleet) Binary(name string) string { return filepath.Join(f.bins, name) }

func (f *Fleet) writePrometheusConfig(c *Cluster) error {
	dir := filepath.Join(f.Dir, "metrics", c.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return err
	}
	token := filepath.Join(dir, "token")
	rules := filepath.Join(dir, "rules.yml")
	var b strings.Builder
	fmt.Fprintf(&b, `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
  external_labels:
    %s: %s
rule_files:
- %s
scrape_configs:
- job_name: apiserver
  scrape_interval: 2s
  scrape_timeout: 2s
  scheme: https
  tls_config:
    ca_file: %s
  authorization:
    credentials_file: %s
  static_configs:
  - targets: ['%s']
  metric_relabel_configs:
  - source_labels: [__name__]
    regex: '%s'
    action: keep
- job_name: kube-scheduler
  scheme: https
  tls_config:
    # The scheduler serves a self-signed certificate it makes at start.
    insecure_skip_verify: true
  authorization:
    credentials_file: %s
  static_configs:
  - targets: ['%s']
  metric_relabel_configs:
  - source_labels: [__name__]
    regex: 'scheduler_.*|up'
    action: keep
- job_name: kwok
  static_configs:
  - targets: ['%s']
`, MetricsClusterLabel, c.ManagedClusterName(), rules, f.pki.caCert, token, u.Host, apiserverKeep,
		token, loopback(c.schedulerPort), loopback(c.kwokPort))
	if c.ManagedClusterName() == f.MetricsTargetDownCluster() {
		fmt.Fprintf(&b, `# kube-state-metrics is configured here but does not run: its target is down.
- job_name: %s
  static_configs:
  - targets: ['%s']
`, DownTargetJob, downTargetAddress)
	}
	return writeFiles(map[string][]byte{
		filepath.Join(dir, "prometheus.yml"): []byte(b.String()),
		rules:                                []byte(rulesFile),
		token:                                []byte(PrometheusToken),
	})
}

// grantMetricsReader lets the prometheus user read /metrics on a cluster (its API server and, through
// delegated authorization, its scheduler).
func grantMetricsReader(ctx context.Context, c *Cluster) error {
	rbac := c.Kube.RbacV1()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "fleet:metrics-reader"},
		Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}
	if _, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "fleet:metrics-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: PrometheusUser}}}
	if _, err := rbac.ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	return nil
}

// exposeMetrics creates, on the cluster's API server, the objects through which its service proxy
// reaches the cluster's Prometheus (and on the hub also the Thanos querier): a host-network Pod on a
// kwok node (kwok runs it and reports the node's IP, 127.0.0.1, as its pod IP), a Service without
// selector and an Endpoints object naming that Pod.
func (f *Fleet) exposeMetrics(ctx context.Context, c *Cluster) error {
	if err := grantMetricsReader(ctx, c); err != nil {
		return err
	}
	st := c.metrics
	err := f.exposeService(ctx, c, ClusterMonitoringNamespace, PrometheusService, PrometheusPod, PrometheusPortName,
		PrometheusServicePort, st.promPort, map[string]string{"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "k8s"},
		[]corev1.Container{
			{Name: "prometheus", Image: "quay.io/prometheus/prometheus:v3.16.0", Ports: []corev1.ContainerPort{
				{Name: PrometheusPortName, ContainerPort: int32(st.promPort), HostPort: int32(st.promPort)}}},
			{Name: "thanos-sidecar", Image: "quay.io/thanos/thanos:v0.42.4", Ports: []corev1.ContainerPort{
				{Name: "grpc", ContainerPort: int32(st.grpcPort), HostPort: int32(st.grpcPort)},
				{Name: "http", ContainerPort: int32(st.httpPort), HostPort: int32(st.httpPort)}}},
		})
	if err != nil || c != f.Hub {
		return err
	}
	q, err := url.Parse(f.ThanosQueryURL)
	if err != nil {
		return err
	}
	qport, _ := strconv.Atoi(q.Port())
	return f.exposeService(ctx, c, ObservabilityNamespace, ThanosQueryService, ThanosQueryPod, ThanosQueryPortName,
		ThanosQueryServicePort, qport, map[string]string{"app.kubernetes.io/name": "thanos-query", "app.kubernetes.io/instance": "observability"},
		[]corev1.Container{{Name: "thanos-query", Image: "quay.io/thanos/thanos:v0.42.4", Ports: []corev1.ContainerPort{
			{Name: ThanosQueryPortName, ContainerPort: int32(qport), HostPort: int32(qport)}}}})
}

func (f *Fleet) exposeService(ctx context.Context, c *Cluster, ns, name, podName, portName string, port, targetPort int,
	podLabels map[string]string, containers []corev1.Container) error {
	if err := ensureNamespaces(ctx, c.Kube, ns); err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	core := c.Kube.CoreV1()
	node := c.NodeNames()[0]
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: ns, Labels: podLabels},
		Spec: corev1.PodSpec{NodeName: node, HostNetwork: true, Containers: containers,
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}}},
	}
	if _, err := core.Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("%s: pod %s/%s: %w", c.Name, ns, podName, err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: podLabels},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: portName, Port: int32(port),
			Protocol: corev1.ProtocolTCP}}},
	}
	if _, err := core.Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("%s: service %s/%s: %w", c.Name, ns, name, err)
	}
	// The Endpoints name the Pod once kwok runs it with its IP (the service proxy checks both).
	var running *corev1.Pod
	err := poll(ctx, fmt.Sprintf("%s: pod %s/%s running with IP %s", c.Name, ns, podName, metricsHost), time.Minute,
		func(ctx context.Context) (string, bool) {
			p, err := core.Pods(ns).Get(ctx, podName, metav1.GetOptions{})
			if err != nil {
				return err.Error(), false
			}
			if p.Status.Phase != corev1.PodRunning || p.Status.PodIP != metricsHost {
				return fmt.Sprintf("phase %s, IP %q", p.Status.Phase, p.Status.PodIP), false
			}
			running = p
			return "", true
		})
	if err != nil {
		return err
	}
	// A controller owns the Pod, as a StatefulSet or Deployment owns a real one: a drain evicts it like
	// any managed pod instead of refusing the node. The ReplicaSet adopts the running Pod (its labels
	// match) once the cluster's controller manager runs, and, with one replica, creates no other.
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: podLabels},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: podLabels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels}, Spec: pod.Spec}},
	}
	if _, err := c.Kube.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("%s: replicaset %s/%s: %w", c.Name, ns, name, err)
	}
	return f.writeEndpoints(ctx, c, &corev1.Endpoints{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Endpoints"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{
			// No EndpointSlice: the mirroring controller would refuse the address anyway.
			"endpointslice.kubernetes.io/skip-mirror": "true"}},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: metricsHost, NodeName: &node, TargetRef: &corev1.ObjectReference{
				Kind: "Pod", Namespace: ns, Name: podName, UID: running.UID}}},
			Ports: []corev1.EndpointPort{{Name: portName, Port: int32(targetPort), Protocol: corev1.ProtocolTCP}},
		}},
	})
}

// writeEndpoints stores an Endpoints object with a loopback address. The API server refuses to create
// one ("may not be in the loopback range"), though its service proxy dials such an address like any
// other once it is stored; everything in the fleet listens on loopback only, so the object is written
// into the cluster's etcd prefix directly (as JSON, which the API server reads beside protobuf), then
// read back through the API.
func (f *Fleet) writeEndpoints(ctx context.Context, c *Cluster, ep *corev1.Endpoints) error {
	ep.UID = uuid.NewUUID()
	ep.CreationTimestamp = metav1.Now()
	value, err := json.Marshal(ep)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("/%s/services/endpoints/%s/%s", c.Name, ep.Namespace, ep.Name)
	body, _ := json.Marshal(map[string]string{
		"key": base64.StdEncoding.EncodeToString([]byte(key)), "value": base64.StdEncoding.EncodeToString(value)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.etcdURL+"/v3/kv/put", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: writing Endpoints %s/%s to etcd: %w", c.Name, ep.Namespace, ep.Name, err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: writing Endpoints %s/%s to etcd: %s: %s", c.Name, ep.Namespace, ep.Name, resp.Status, msg)
	}
	return poll(ctx, fmt.Sprintf("%s: Endpoints %s/%s readable", c.Name, ep.Namespace, ep.Name), 30*time.Second,
		func(ctx context.Context) (string, bool) {
			got, err := c.Kube.CoreV1().Endpoints(ep.Namespace).Get(ctx, ep.Name, metav1.GetOptions{})
			if err != nil {
				return err.Error(), false
			}
			return "", len(got.Subsets) == 1 && got.UID == ep.UID
		})
}

// waitMetrics waits until every Prometheus answers through its cluster's service proxy and the hub's
// Thanos querier, through the hub's service proxy, holds series of every managed cluster.
func (f *Fleet) waitMetrics(ctx context.Context) error {
	for _, c := range f.Managed() {
		for _, p := range []*Process{c.Prometheus, c.ThanosSidecar} {
			if p.Exited() {
				return fmt.Errorf("%s exited:\n%s", p.Name, p.Tail(3000))
			}
		}
		if err := f.waitClusterPrometheus(ctx, c); err != nil {
			return err
		}
	}
	want := len(f.Managed())
	var last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if f.ThanosQuery.Exited() {
			return false, errExited
		}
		res, err := f.PromQuery(ctx, f.Hub, ObservabilityNamespace, ThanosQueryService, ThanosQueryServicePort,
			`count by (`+MetricsClusterLabel+`) (up{job="apiserver"})`)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = fmt.Sprintf("series of %d of %d clusters", len(res), want)
		return len(res) == want, nil
	})
	if err != nil {
		return fmt.Errorf("the hub's Thanos querier never held every cluster (%s): %w\n%s", last, err, f.ThanosQuery.Tail(2000))
	}
	return nil
}

// waitClusterPrometheus waits until the cluster's Prometheus answers through its service proxy.
func (f *Fleet) waitClusterPrometheus(ctx context.Context, c *Cluster) error {
	if err := waitHTTP(ctx, c.Prometheus, c.PrometheusURL+"/-/ready", 2*time.Minute); err != nil {
		return err
	}
	var last string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		res, err := f.PromQuery(ctx, c, ClusterMonitoringNamespace, PrometheusService, PrometheusServicePort, `up{job="apiserver"}`)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = fmt.Sprintf("%d series", len(res))
		return len(res) == 1, nil
	})
	if err != nil {
		return fmt.Errorf("%s: Prometheus not answering through the service proxy (%s): %w\n%s", c.Name, last, err, c.Prometheus.Tail(2000))
	}
	return nil
}

// metricsProcesses lists the metrics processes (every Prometheus and sidecar, the querier) and their
// resident memory in bytes.
func (f *Fleet) metricsProcesses() ([]*Process, int64) {
	var procs []*Process
	var rss int64
	for _, c := range f.Managed() {
		procs = append(procs, c.Prometheus, c.ThanosSidecar)
	}
	procs = append(procs, f.ThanosQuery)
	for _, p := range procs {
		rss += p.RSS()
	}
	return procs, rss
}

// PromSample is one series of an instant query's answer.
type PromSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// PromQuery runs an instant PromQL query against a Prometheus API behind a Service of the cluster, through
// that cluster's API server service proxy (as the fleet's admin), and returns the vector it answers.
func (f *Fleet) PromQuery(ctx context.Context, c *Cluster, ns, service string, port int, query string) ([]PromSample, error) {
	body, err := c.ServiceProxyGet(ctx, ns, service, port, "api/v1/query", url.Values{"query": {query}})
	if err != nil {
		return nil, err
	}
	var res struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     []PromSample `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, fmt.Errorf("%s: %w: %.200s", query, err, body)
	}
	if res.Status != "success" {
		return nil, fmt.Errorf("%s: %s", query, res.Error)
	}
	if res.Data.ResultType != "vector" {
		return nil, fmt.Errorf("%s: a %s, not a vector", query, res.Data.ResultType)
	}
	return res.Data.Result, nil
}

// ServiceProxyGet sends GET path (with query parameters) to the Service's port (plain HTTP) through the
// cluster's API server service proxy, as the fleet's admin.
func (c *Cluster) ServiceProxyGet(ctx context.Context, ns, service string, port int, path string, params url.Values) ([]byte, error) {
	req := c.Kube.CoreV1().RESTClient().Get().Namespace(ns).Resource("services").
		Name(fmt.Sprintf("http:%s:%d", service, port)).SubResource("proxy").Suffix(path)
	for k, vs := range params {
		for _, v := range vs {
			req = req.Param(k, v)
		}
	}
	body, err := req.DoRaw(ctx)
	if err != nil {
		var status apierrors.APIStatus
		if errors.As(err, &status) && len(body) > 0 {
			return nil, fmt.Errorf("%w: %.300s", err, body)
		}
		return nil, err
	}
	return body, nil
}
