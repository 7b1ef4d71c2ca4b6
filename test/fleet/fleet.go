// Package fleet starts a real Open Cluster Management fleet on one machine, without containers: one etcd,
// a kube-apiserver per cluster (hub and spokes, apart by etcd prefix), kube-controller-manager and
// kube-scheduler on every cluster, the OCM hub controllers (registration, placement, add-on manager), the
// managed-serviceaccount add-on, and on every managed cluster the real registration and work agents. The
// hub registers itself as local-cluster, as ACM and MCE hubs do. kwok plays the kubelet on every cluster:
// its nodes are Ready and pods go through their lifecycle (and injected faults) through kwok's stages, and
// their logs are served to the API server through kwok's kubelet endpoint. Every ManagedCluster joins
// through real CSRs and leases. With Options.Metrics every managed cluster also has a real Prometheus
// (scraping its API server, scheduler and kwok, with alert rules) and a Thanos sidecar, and the hub a
// Thanos querier over them all (see metrics.go). Everything binds loopback only; Stop ends every process
// it started.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	addonclient "open-cluster-management.io/api/client/addon/clientset/versioned"
	clusterclient "open-cluster-management.io/api/client/cluster/clientset/versioned"
	workclient "open-cluster-management.io/api/client/work/clientset/versioned"
	clusterv1 "open-cluster-management.io/api/cluster/v1"
)

// Namespaces OCM uses.
const (
	HubNamespace        = "open-cluster-management-hub"
	HubAddonNamespace   = "open-cluster-management-addon"
	AgentNamespace      = "open-cluster-management-agent"
	AgentAddonNamespace = "open-cluster-management-agent-addon"
	MSAAddonName        = "managed-serviceaccount"
	// LocalClusterName is the ManagedCluster the hub registers itself as, labelled local-cluster=true.
	LocalClusterName = "local-cluster"
)

// Options shape a fleet.
type Options struct {
	// Spokes is the number of managed clusters, named spoke1..spokeN (default 2).
	Spokes int
	// HubOnly starts the hub without spokes (benchmarks that register synthetic clusters).
	HubOnly bool
	// Dir holds certificates, kubeconfigs, data and logs (default: a new temporary folder, removed by Stop).
	Dir string
	// BinDir holds the binaries build-binaries.sh builds (default: $FLEET_BIN_DIR, else run the script).
	BinDir string
	// LeaseDurationSeconds, when set, is written into every ManagedCluster so that a stopped agent shows
	// up quickly (OCM's default is 60).
	LeaseDurationSeconds int32
	// WithoutClusterPermissionCRD leaves the ClusterPermission CRD off the hub.
	WithoutClusterPermissionCRD bool
	// WithoutWorkloads leaves the spokes without the sample workloads and their injected faults.
	WithoutWorkloads bool
	// Metrics starts a Prometheus and a Thanos sidecar per managed cluster (local-cluster included) and
	// a Thanos querier on the hub, each reachable through its API server's service proxy (metrics.go).
	Metrics bool
	// Log receives progress lines (optional).
	Log func(format string, args ...any)
}

// Cluster is one API server of the fleet with an admin client.
type Cluster struct {
	Name       string
	URL        string
	Kubeconfig string // admin (system:masters) kubeconfig
	AuditLog   string // the API server's audit log (JSON lines, level Metadata)
	Config     *rest.Config
	Kube       kubernetes.Interface
	Dynamic    dynamic.Interface

	APIServer         *Process
	ControllerManager *Process
	Scheduler         *Process
	Kwok              *Process
	// The ManagedCluster's agents (on the hub, those of local-cluster).
	RegistrationAgent *Process
	WorkAgent         *Process
	MSAAgent          *Process
	// With Options.Metrics: the cluster's Prometheus (its API at PrometheusURL, on loopback) and its
	// Thanos sidecar.
	Prometheus    *Process
	ThanosSidecar *Process
	PrometheusURL string

	kwokPort, schedulerPort int
	metrics                 *metricsStack
}

// Fleet is a running hub and its spokes.
type Fleet struct {
	Dir    string
	Hub    *Cluster
	Spokes []*Cluster
	// HubCluster, HubAddon and HubWork are admin clients for the hub's OCM APIs.
	HubCluster clusterclient.Interface
	HubAddon   addonclient.Interface
	HubWork    workclient.Interface
	// StartDuration is how long Start took.
	StartDuration time.Duration
	// With Options.Metrics: the hub's Thanos querier over every cluster's sidecar (its API at
	// ThanosQueryURL, on loopback).
	ThanosQuery    *Process
	ThanosQueryURL string

	opts     Options
	ownDir   bool
	pki      *pki
	bins     string
	logDir   string
	etcd     *Process
	etcdURL  string
	kwokLogs string // the log files kwok serves
	faults   []InjectedFault
	hubProcs []*Process
	mu       sync.Mutex
	stopped  bool
	cancel   context.CancelFunc // stops in-process controllers
}

// ServerKubeconfig writes (once) and returns a hub kubeconfig for the MCP server under test, with an
// identity of its own (user mcp-server, cluster-admin) so the audit log tells its requests apart.
func (f *Fleet) ServerKubeconfig() (string, error) {
	path := filepath.Join(f.Dir, "hub-mcp-server.kubeconfig")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	return path, writeKubeconfig(path, "hub", f.Hub.URL, f.pki.caCert, ServerToken, "", "")
}

// ServingCert returns the API servers' certificate and key (SANs 127.0.0.1 and localhost) and the CA
// that signed it, for tests that serve TLS themselves.
func (f *Fleet) ServingCert() (cert, key, ca string) {
	return f.pki.servingCert, f.pki.servingKey, f.pki.caCert
}

// Spoke returns the spoke with that name, or nil.
func (f *Fleet) Spoke(name string) *Cluster {
	for _, s := range f.Spokes {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Cluster returns the cluster a ManagedCluster name (or "hub") stands for: local-cluster and "hub" are
// the hub, spokeN the spoke; nil when there is none.
func (f *Fleet) Cluster(name string) *Cluster {
	if name == "hub" || name == LocalClusterName {
		return f.Hub
	}
	return f.Spoke(name)
}

// ManagedClusterName is the name the cluster is registered under on the hub.
func (c *Cluster) ManagedClusterName() string {
	if c.Name == "hub" {
		return LocalClusterName
	}
	return c.Name
}

// Managed lists the clusters registered on the hub: the hub itself (local-cluster), then the spokes.
func (f *Fleet) Managed() []*Cluster {
	if f.Hub == nil {
		return nil
	}
	if f.opts.HubOnly {
		return nil
	}
	return append([]*Cluster{f.Hub}, f.Spokes...)
}

// ManagedClusterNames lists the names of the clusters registered on the hub, local-cluster first.
func (f *Fleet) ManagedClusterNames() []string {
	var out []string
	for _, c := range f.Managed() {
		out = append(out, c.ManagedClusterName())
	}
	return out
}

// Processes lists every process of the fleet, running or not.
func (f *Fleet) Processes() []*Process {
	procs := []*Process{f.etcd}
	procs = append(procs, f.hubProcs...)
	for _, c := range append([]*Cluster{f.Hub}, f.Spokes...) {
		if c == nil { // a fleet that failed to start may have no hub yet
			continue
		}
		for _, p := range []*Process{c.APIServer, c.ControllerManager, c.Scheduler, c.Kwok, c.RegistrationAgent, c.WorkAgent, c.MSAAgent, c.Prometheus, c.ThanosSidecar} {
			if p != nil {
				procs = append(procs, p)
			}
		}
	}
	return procs
}

// RSS is the fleet's total resident memory in bytes.
func (f *Fleet) RSS() int64 {
	var total int64
	for _, p := range f.Processes() {
		total += p.RSS()
	}
	return total
}

// LogDir holds one log file per process.
func (f *Fleet) LogDir() string { return f.logDir }

func (f *Fleet) logf(format string, args ...any) {
	if f.opts.Log != nil {
		f.opts.Log(format, args...)
	}
}

// Start brings up a fleet and waits until every spoke is Joined and Available and the
// managed-serviceaccount add-on is available on it. On error everything started is stopped.
func Start(ctx context.Context, o Options) (f *Fleet, err error) {
	began := time.Now()
	if o.Spokes <= 0 && !o.HubOnly {
		o.Spokes = 2
	}
	if o.HubOnly {
		o.Spokes = 0
	}
	f = &Fleet{opts: o, Dir: o.Dir}
	if f.Dir == "" {
		if f.Dir, err = os.MkdirTemp("", "ocm-fleet-"); err != nil {
			return nil, err
		}
		f.ownDir = true
	} else if err = os.RemoveAll(filepath.Join(f.Dir, "etcd")); err != nil { // a fleet always starts empty
		return nil, err
	}
	// The returns below set f to nil on failure: stop what was started through a copy.
	started := f
	defer func() {
		if err != nil {
			started.Stop()
		}
	}()
	if f.bins, err = binDir(ctx, o.BinDir); err != nil {
		return nil, err
	}
	f.logDir = filepath.Join(f.Dir, "logs")
	for _, d := range []string{f.logDir, filepath.Join(f.Dir, "audit")} {
		if err = os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	if f.pki, err = newPKI(filepath.Join(f.Dir, "pki")); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	crds, err := locateCRDs(ctx, !o.WithoutClusterPermissionCRD)
	if err != nil {
		return nil, err
	}
	msaAgent, err := buildMSAAgent(ctx, f.Dir)
	if err != nil {
		return nil, err
	}
	kwokCRDs, err := locateKwokCRDs(ctx)
	if err != nil {
		return nil, err
	}
	if err = f.startEtcd(ctx); err != nil {
		return nil, err
	}
	if err = f.startAPIServers(ctx); err != nil {
		return nil, err
	}
	f.logf("API servers ready after %s", time.Since(began).Round(time.Millisecond))
	if err = f.setUpHub(ctx, crds.hub); err != nil {
		return nil, err
	}
	if err = f.startKubelets(ctx, kwokCRDs); err != nil {
		return nil, err
	}
	if o.Metrics && !o.HubOnly {
		if err = f.startMetrics(ctx); err != nil {
			return nil, err
		}
		f.logf("metrics stores started after %s", time.Since(began).Round(time.Millisecond))
	}
	if err = f.setUpSpokes(ctx, crds.spoke); err != nil {
		return nil, err
	}
	if err = f.waitJoined(ctx); err != nil {
		return nil, err
	}
	f.logf("clusters joined after %s", time.Since(began).Round(time.Millisecond))
	if err = f.enableMSA(ctx, msaAgent); err != nil {
		return nil, err
	}
	if !o.WithoutWorkloads && len(f.Spokes) > 0 {
		if err = f.deployWorkloads(ctx); err != nil {
			return nil, err
		}
		f.logf("workloads running after %s", time.Since(began).Round(time.Millisecond))
	}
	if o.Metrics && !o.HubOnly {
		if err = f.waitMetrics(ctx); err != nil {
			return nil, err
		}
		procs, rss := f.metricsProcesses()
		f.logf("metrics stores answering after %s (%d processes, RSS %d MiB)", time.Since(began).Round(time.Millisecond), len(procs), rss>>20)
	}
	var bg context.Context
	bg, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go f.clusterPermissionController(bg)
	f.StartDuration = time.Since(began)
	f.logf("fleet ready after %s", f.StartDuration.Round(time.Millisecond))
	return f, nil
}

// Stop ends every process the fleet started (agents first, etcd last) and removes a temporary Dir.
func (f *Fleet) Stop() {
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return
	}
	f.stopped = true
	f.mu.Unlock()
	if f.cancel != nil {
		f.cancel()
	}
	procs := f.Processes()
	// Reverse start order; etcd (first) ends last. Agents and controllers stop in parallel.
	var wg sync.WaitGroup
	for i := len(procs) - 1; i >= 1; i-- {
		if procs[i] == nil {
			continue
		}
		wg.Add(1)
		go func(p *Process) { defer wg.Done(); p.Stop(10 * time.Second) }(procs[i])
	}
	wg.Wait()
	if f.etcd != nil {
		f.etcd.Stop(10 * time.Second)
	}
	if f.ownDir && os.Getenv("FLEET_KEEP_DIR") == "" {
		_ = os.RemoveAll(f.Dir)
	}
}

func (f *Fleet) startEtcd(ctx context.Context) error {
	var ports [3]int
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return err
		}
		ports[i] = p
	}
	client := "http://" + loopback(ports[0])
	peer := "http://" + loopback(ports[1])
	f.etcd = newProcess("etcd", filepath.Join(f.bins, "etcd"), f.logDir,
		"--name=fleet", "--data-dir="+filepath.Join(f.Dir, "etcd"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=fleet="+peer, "--listen-metrics-urls=http://"+loopback(ports[2]),
		"--unsafe-no-fsync", "--quota-backend-bytes=4294967296", "--log-level=warn")
	if err := f.etcd.Start(); err != nil {
		return err
	}
	f.etcdURL = client
	return waitHTTP(ctx, f.etcd, client+"/health", 30*time.Second)
}

func (f *Fleet) startAPIServers(ctx context.Context) error {
	names := []string{"hub"}
	for i := 1; i <= f.opts.Spokes; i++ {
		names = append(names, fmt.Sprintf("spoke%d", i))
	}
	clusters := make([]*Cluster, len(names))
	for i, name := range names {
		c, err := f.newCluster(name)
		if err != nil {
			return err
		}
		clusters[i] = c
	}
	f.Hub, f.Spokes = clusters[0], clusters[1:]
	errs := make(chan error, len(clusters))
	for _, c := range clusters {
		go func(c *Cluster) { errs <- f.waitReady(ctx, c) }(c)
	}
	var all []error
	for range clusters {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

func (f *Fleet) newCluster(name string) (*Cluster, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Name: name, URL: httpsURL(port), Kubeconfig: filepath.Join(f.Dir, name+".kubeconfig"),
		AuditLog: filepath.Join(f.Dir, "audit", name+".log")}
	if err := writeKubeconfig(c.Kubeconfig, name, c.URL, f.pki.caCert, "", f.pki.adminCert, f.pki.adminKey); err != nil {
		return nil, err
	}
	p := f.pki
	c.APIServer = newProcess(name+"-apiserver", filepath.Join(f.bins, "kube-apiserver"), f.logDir,
		"--etcd-servers="+f.etcdURL, "--etcd-prefix=/"+name,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
		"--tls-cert-file="+p.servingCert, "--tls-private-key-file="+p.servingKey,
		"--client-ca-file="+p.caCert, "--token-auth-file="+p.tokens,
		"--service-account-issuer=https://"+name+".fleet-lab.invalid",
		"--service-account-key-file="+p.saPublicKey, "--service-account-signing-key-file="+p.saPrivateKey,
		"--authorization-mode=Node,RBAC", "--service-cluster-ip-range=10.0.0.0/24", "--allow-privileged=true",
		// Pod logs come from kwok's kubelet endpoint, at the node's InternalIP, with the fleet's certificate.
		"--kubelet-preferred-address-types=InternalIP", "--kubelet-certificate-authority="+p.caCert,
		"--kubelet-client-certificate="+p.adminCert, "--kubelet-client-key="+p.adminKey,
		"--disable-admission-plugins=ServiceAccount", "--profiling=false", "--enable-priority-and-fairness=false",
		"--audit-policy-file="+p.auditPolicy, "--audit-log-path="+c.AuditLog, "--audit-log-mode=blocking", "--audit-log-maxbackup=1")
	c.APIServer.env = []string{"GOMEMLIMIT=256MiB"}
	if err := c.APIServer.Start(); err != nil {
		return nil, err
	}
	if c.Config, err = restConfigFrom(c.Kubeconfig); err != nil {
		return nil, err
	}
	if c.Kube, err = kubernetes.NewForConfig(c.Config); err != nil {
		return nil, err
	}
	if c.Dynamic, err = dynamic.NewForConfig(c.Config); err != nil {
		return nil, err
	}
	return c, nil
}

// waitReady polls /readyz until the API server answers ok.
func (f *Fleet) waitReady(ctx context.Context, c *Cluster) error {
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		if c.APIServer.Exited() {
			return false, errExited
		}
		body, err := c.Kube.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && strings.TrimSpace(string(body)) == "ok", nil
	})
	if err != nil {
		return fmt.Errorf("%s API server not ready: %w\n%s", c.Name, err, c.APIServer.Tail(2000))
	}
	return nil
}

// controllerManager runs kube-controller-manager: it signs CSRs (OCM registration needs that), fills the
// aggregated view/edit/admin ClusterRoles, creates default ServiceAccounts and finishes namespace deletion.
func (f *Fleet) controllerManager(c *Cluster) *Process {
	p := f.pki
	return newProcess(c.Name+"-controller-manager", filepath.Join(f.bins, "kube-controller-manager"), f.logDir,
		"--kubeconfig="+c.Kubeconfig, "--secure-port=0", "--leader-elect=false",
		"--controllers=*,-nodeipam,-nodelifecycle,-attachdetach,-persistentvolume-expander,-cloud-node-lifecycle,-ttl,-bootstrapsigner,-tokencleaner",
		"--service-account-private-key-file="+p.saPrivateKey, "--root-ca-file="+p.caCert,
		"--cluster-signing-cert-file="+p.caCert, "--cluster-signing-key-file="+p.caKey,
		"--use-service-account-credentials=false")
}

func (f *Fleet) setUpHub(ctx context.Context, crds []string) error {
	hub := f.Hub
	if err := installCRDs(ctx, hub.Dynamic, crds); err != nil {
		return fmt.Errorf("hub CRDs: %w", err)
	}
	if err := ensureNamespaces(ctx, hub.Kube, HubNamespace, HubAddonNamespace); err != nil {
		return err
	}
	var err error
	if f.HubCluster, err = clusterclient.NewForConfig(hub.Config); err != nil {
		return err
	}
	if f.HubAddon, err = addonclient.NewForConfig(hub.Config); err != nil {
		return err
	}
	if f.HubWork, err = workclient.NewForConfig(hub.Config); err != nil {
		return err
	}
	hub.ControllerManager = f.controllerManager(hub)
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	ocm := filepath.Join(f.bins, "registration")
	registration := newProcess("hub-registration-controller", ocm, f.logDir,
		"controller", "--kubeconfig="+hub.Kubeconfig, "--namespace="+HubNamespace, "--disable-leader-election",
		"--listen="+loopback(ports[0]), "--auto-approved-csr-users=admin",
		"--feature-gates=ManagedClusterAutoApproval=true")
	placement := newProcess("hub-placement-controller", filepath.Join(f.bins, "placement"), f.logDir,
		"controller", "--kubeconfig="+hub.Kubeconfig, "--namespace="+HubNamespace, "--disable-leader-election",
		"--listen="+loopback(ports[1]))
	addonManager := newProcess("hub-addon-manager", filepath.Join(f.bins, "addon"), f.logDir,
		"manager", "--kubeconfig="+hub.Kubeconfig, "--namespace="+HubNamespace, "--disable-leader-election",
		"--listen="+loopback(ports[2]))
	msaManager := newProcess("hub-msa-manager", filepath.Join(f.bins, "msa"), f.logDir,
		"manager", "--kubeconfig="+hub.Kubeconfig, "--metrics-bind-address=0", "--health-probe-bind-address=0")
	msaManager.env = []string{"NAMESPACE=" + HubAddonNamespace}
	f.hubProcs = []*Process{registration, placement, addonManager, msaManager}
	for _, p := range append([]*Process{hub.ControllerManager}, f.hubProcs...) {
		if err := p.Start(); err != nil {
			return err
		}
	}
	if err := f.createMSAClusterManagementAddOn(ctx); err != nil {
		return err
	}
	if f.opts.HubOnly {
		return nil
	}
	return f.createLocalCluster(ctx)
}

// createLocalCluster creates the hub's own ManagedCluster the way MCE does before the hub's klusterlet
// registers it: labelled local-cluster=true and accepted.
func (f *Fleet) createLocalCluster(ctx context.Context) error {
	mc := &clusterv1.ManagedCluster{
		ObjectMeta: metav1.ObjectMeta{Name: LocalClusterName, Labels: map[string]string{
			"local-cluster": "true", "cloud": "auto-detect", "vendor": "auto-detect",
		}},
		Spec: clusterv1.ManagedClusterSpec{HubAcceptsClient: true},
	}
	if _, err := f.HubCluster.ClusterV1().ManagedClusters().Create(ctx, mc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating ManagedCluster %s: %w", LocalClusterName, err)
	}
	return nil
}

func (f *Fleet) setUpSpokes(ctx context.Context, crds []string) error {
	bootstrap := filepath.Join(f.Dir, "bootstrap.kubeconfig")
	if err := writeKubeconfig(bootstrap, "hub", f.Hub.URL, f.pki.caCert, AdminToken, "", ""); err != nil {
		return err
	}
	bootstrapData, err := os.ReadFile(bootstrap)
	if err != nil {
		return err
	}
	for _, s := range f.Managed() {
		if err := installCRDs(ctx, s.Dynamic, crds); err != nil {
			return fmt.Errorf("%s CRDs: %w", s.Name, err)
		}
		if err := ensureNamespaces(ctx, s.Kube, AgentNamespace, AgentAddonNamespace); err != nil {
			return err
		}
		if err := mirrorBootstrapSecret(ctx, s, bootstrapData); err != nil {
			return err
		}
		ports, err := freePorts(2)
		if err != nil {
			return err
		}
		hubKubeconfigDir := filepath.Join(f.Dir, s.Name+"-hub-kubeconfig")
		// A stale hub kubeconfig makes the agent skip bootstrap and stay Forbidden.
		if err := os.RemoveAll(hubKubeconfigDir); err != nil {
			return err
		}
		if s != f.Hub {
			s.ControllerManager = f.controllerManager(s)
		}
		s.RegistrationAgent = newProcess(s.Name+"-registration-agent", filepath.Join(f.bins, "registration"), f.logDir,
			"agent", "--cluster-name="+s.ManagedClusterName(), "--bootstrap-kubeconfig="+bootstrap,
			"--hub-kubeconfig-dir="+hubKubeconfigDir, "--kubeconfig="+s.Kubeconfig,
			"--namespace="+AgentNamespace, "--disable-leader-election", "--listen="+loopback(ports[0]),
			"--spoke-external-server-urls="+s.URL, "--cluster-healthcheck-period=10s")
		s.WorkAgent = newProcess(s.Name+"-work-agent", filepath.Join(f.bins, "work"), f.logDir,
			"agent", "--spoke-cluster-name="+s.ManagedClusterName(),
			"--hub-kubeconfig="+filepath.Join(hubKubeconfigDir, "kubeconfig"),
			"--workload-source-config="+filepath.Join(hubKubeconfigDir, "kubeconfig"),
			"--kubeconfig="+s.Kubeconfig, "--namespace="+AgentNamespace, "--disable-leader-election",
			"--listen="+loopback(ports[1]), "--agent-id="+s.ManagedClusterName()+"-work")
		for _, p := range []*Process{s.ControllerManager, s.RegistrationAgent} {
			if p == f.Hub.ControllerManager && s == f.Hub {
				continue // started with the hub
			}
			if err := p.Start(); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitJoined waits until every ManagedCluster (local-cluster and the spokes) is accepted, joined and
// available, then starts the work agents (they need the hub kubeconfig the registration agent writes).
func (f *Fleet) waitJoined(ctx context.Context) error {
	for _, s := range f.Managed() {
		if err := f.WaitClusterCondition(ctx, s.ManagedClusterName(), clusterv1.ManagedClusterConditionAvailable, metav1.ConditionTrue, 2*time.Minute); err != nil {
			return fmt.Errorf("%w\n%s", err, s.RegistrationAgent.Tail(3000))
		}
		if f.opts.LeaseDurationSeconds > 0 {
			if err := f.setLeaseDuration(ctx, s.ManagedClusterName(), f.opts.LeaseDurationSeconds); err != nil {
				return err
			}
		}
		if err := s.WorkAgent.Start(); err != nil {
			return err
		}
	}
	return nil
}

func (f *Fleet) setLeaseDuration(ctx context.Context, name string, seconds int32) error {
	patch := fmt.Sprintf(`{"spec":{"leaseDurationSeconds":%d}}`, seconds)
	_, err := f.HubCluster.ClusterV1().ManagedClusters().Patch(ctx, name, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{})
	return err
}

// WaitClusterCondition waits until the ManagedCluster's condition has the wanted status.
func (f *Fleet) WaitClusterCondition(ctx context.Context, name, condType string, want metav1.ConditionStatus, timeout time.Duration) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		mc, err := f.HubCluster.ClusterV1().ManagedClusters().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		c := meta.FindStatusCondition(mc.Status.Conditions, condType)
		if c == nil {
			last = "condition absent"
			return false, nil
		}
		last = fmt.Sprintf("%s (%s: %s)", c.Status, c.Reason, c.Message)
		return c.Status == want, nil
	})
	if err != nil {
		return fmt.Errorf("ManagedCluster %s: %s never became %s (last: %s): %w", name, condType, want, last, err)
	}
	return nil
}

func freePorts(n int) ([]int, error) {
	out := make([]int, n)
	for i := range out {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}
