package fleet

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// kwokModule is the kwok release whose controller build-binaries.sh builds and whose Logs CRD the fleet
// installs.
const kwokModule = "sigs.k8s.io/kwok@v0.8.0"

// Pod annotations that select a fault stage of the fleet's kwok configuration (kwok/stages.yaml).
// FaultAnnotation names the fault; RestartsAnnotation sets the restart count a crashing container
// reports (default 5).
const (
	FaultAnnotation    = "fleet.ocm.test/fault"
	RestartsAnnotation = "fleet.ocm.test/restarts"
)

// Faults kwok plays for pods annotated with FaultAnnotation.
const (
	FaultCrashLoop = "CrashLoopBackOff"
	FaultImagePull = "ImagePullBackOff"
	FaultOOMKilled = "OOMKilled"
)

// kwokNodeAnnotation marks the nodes kwok manages.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

//go:embed kwok/stages.yaml
var kwokStages string

func locateKwokCRDs(ctx context.Context) ([]string, error) {
	dir, err := moduleDir(ctx, kwokModule)
	if err != nil {
		return nil, err
	}
	f := filepath.Join(dir, "kustomize", "crd", "bases", "kwok.x-k8s.io_logs.yaml")
	if _, err := os.Stat(f); err != nil {
		return nil, fmt.Errorf("kwok CRD missing: %w", err)
	}
	return []string{f}, nil
}

// defaultLog is what every pod's container prints, in the CRI log format the kubelet serves.
const defaultLog = `2026-01-01T00:00:00.000000000Z stdout F level=info msg="starting" version=1.4.2
2026-01-01T00:00:00.100000000Z stdout F level=info msg="configuration loaded" source=/etc/app/config.yaml
2026-01-01T00:00:00.200000000Z stdout F level=info msg="listening" addr=0.0.0.0:8080
2026-01-01T00:00:01.000000000Z stderr F level=warn msg="slow request" path=/api/orders duration=1.2s
2026-01-01T00:00:02.000000000Z stdout F level=info msg="ready"
`

// Logs of the faulty containers (the run before the current one, which is what --previous shows).
const (
	crashLog = `2026-01-01T00:00:00.000000000Z stdout F level=info msg="starting" version=2.0.0
2026-01-01T00:00:00.100000000Z stdout F level=info msg="connecting to database" host=orders-db:5432
2026-01-01T00:00:05.100000000Z stderr F level=error msg="database connection failed" err="dial tcp 10.0.0.42:5432: connect: connection refused"
2026-01-01T00:00:05.200000000Z stderr F panic: database unavailable: dial tcp 10.0.0.42:5432: connect: connection refused
2026-01-01T00:00:05.200000000Z stderr F goroutine 1 [running]:
2026-01-01T00:00:05.200000000Z stderr F main.main()
`
	oomLog = `2026-01-01T00:00:00.000000000Z stdout F level=info msg="starting" version=3.1.0
2026-01-01T00:00:00.100000000Z stdout F level=info msg="loading cache" entries=25000000
2026-01-01T00:00:20.000000000Z stdout F level=info msg="cache warm-up" progress=61%
`
)

// Log files the fault helpers point kwok's Logs objects at.
const (
	crashLogFile = "crash.log"
	oomLogFile   = "oom.log"
	// missingLogFile is never written: a container that never started has no log to read.
	missingLogFile = "never-started.log"
)

// writeKwokConfig writes the kwok configuration and the log files it names into dir.
func writeKwokConfig(dir string) (string, error) {
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o700); err != nil {
		return "", err
	}
	files := map[string]string{
		"default.log": defaultLog, "default-previous.log": defaultLog,
		crashLogFile: crashLog, oomLogFile: oomLog, exportLogFile: exportLog,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(logs, name), []byte(content), 0o600); err != nil {
			return "", err
		}
	}
	cfg := filepath.Join(dir, "kwok.yaml")
	return cfg, os.WriteFile(cfg, []byte(strings.ReplaceAll(kwokStages, "LOGS_DIR", logs)), 0o600)
}

// nodesPerCluster is how many kwok nodes each cluster has.
const nodesPerCluster = 2

// NodeNames are the nodes of a cluster: <cluster>-node-1, <cluster>-node-2.
func (c *Cluster) NodeNames() []string {
	out := make([]string, nodesPerCluster)
	for i := range out {
		out[i] = fmt.Sprintf("%s-node-%d", c.Name, i+1)
	}
	return out
}

// startKubelets gives every cluster its kwok nodes, a kube-scheduler and a kwok controller, and waits
// until the nodes are Ready.
func (f *Fleet) startKubelets(ctx context.Context, crds []string) error {
	if f.opts.HubOnly {
		return nil
	}
	cfg, err := writeKwokConfig(filepath.Join(f.Dir, "kwok"))
	if err != nil {
		return err
	}
	f.kwokLogs = filepath.Join(f.Dir, "kwok", "logs")
	clusters := append([]*Cluster{f.Hub}, f.Spokes...)
	for _, c := range clusters {
		if err := installCRDs(ctx, c.Dynamic, crds); err != nil {
			return fmt.Errorf("%s kwok CRDs: %w", c.Name, err)
		}
		for _, n := range c.NodeNames() {
			if err := registerNode(ctx, c, n); err != nil {
				return err
			}
		}
		ports, err := freePorts(2)
		if err != nil {
			return err
		}
		c.kwokPort, c.schedulerPort = ports[0], ports[1]
		c.Scheduler = newProcess(c.Name+"-scheduler", filepath.Join(f.bins, "kube-scheduler"), f.logDir,
			"--kubeconfig="+c.Kubeconfig, "--authentication-kubeconfig="+c.Kubeconfig,
			"--authorization-kubeconfig="+c.Kubeconfig, "--leader-elect=false",
			"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", ports[1]),
			"--cert-dir="+filepath.Join(f.Dir, "scheduler-certs", c.Name))
		c.Scheduler.env = []string{"GOMEMLIMIT=64MiB"}
		// The kwok server is the nodes' kubelet endpoint: the API server reaches it at the node's
		// InternalIP and port for logs, with the fleet's serving certificate.
		c.Kwok = newProcess(c.Name+"-kwok", filepath.Join(f.bins, "kwok"), f.logDir,
			"--kubeconfig="+c.Kubeconfig, "--config="+cfg,
			"--manage-nodes-with-annotation-selector="+kwokNodeAnnotation+"=fake",
			"--node-ip=127.0.0.1", fmt.Sprintf("--node-port=%d", ports[0]),
			"--server-address="+loopback(ports[0]), "--cidr=10.244.0.0/16",
			"--tls-cert-file="+f.pki.servingCert, "--tls-private-key-file="+f.pki.servingKey,
			"--enable-crds=Logs")
		c.Kwok.env = []string{"GOMEMLIMIT=64MiB"}
		for _, p := range []*Process{c.Scheduler, c.Kwok} {
			if err := p.Start(); err != nil {
				return err
			}
		}
	}
	for _, c := range clusters {
		err := waitNodesReady(ctx, c)
		// kwok v0.8.0 sometimes dies at start with "concurrent map writes": its CEL type registry
		// (github.com/wzshiming/easycel) fills a shared map from two goroutines. That is kwok's own race,
		// not the fleet's: such a kwok is started once more, and any other exit still fails the start.
		if errors.Is(err, errExited) && strings.Contains(c.Kwok.Tail(20000), "fatal error: concurrent map writes") {
			f.logf("%s: kwok crashed at start (its CEL registry's data race); starting it again", c.Name)
			if err = c.Kwok.StartAgain(); err == nil {
				err = waitNodesReady(ctx, c)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func waitNodesReady(ctx context.Context, c *Cluster) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if c.Kwok.Exited() {
			return false, errExited
		}
		nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		var notReady []string
		for _, n := range nodes.Items {
			ready := false
			for _, cond := range n.Status.Conditions {
				ready = ready || cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue
			}
			if !ready {
				notReady = append(notReady, n.Name)
			}
		}
		last = "not ready: " + strings.Join(notReady, ", ")
		return len(nodes.Items) == nodesPerCluster && len(notReady) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%s: nodes never became Ready (%s): %w\n%s", c.Name, last, err, c.Kwok.Tail(3000))
	}
	return nil
}
