package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// offlinePods is the number of pods BenchmarkOfflineVersusLive puts on its hub (OFFLINE_BENCH_PODS
// sets another).
func offlinePods() int {
	if n, err := strconv.Atoi(os.Getenv("OFFLINE_BENCH_PODS")); err == nil && n > 0 {
		return n
	}
	return 10_000
}

// BenchmarkOfflineVersusLive: `kubectl get pods -A` over the same N pods (10,000 by default), live
// against a real kube-apiserver (with etcd) that holds them, and offline against a must-gather of them.
// The hub is its own, started for this benchmark without spokes; the pods are created through the
// API (no scheduler or kubelet runs, so they stay Pending) in 20 namespaces, each with the shape of a
// Deployment's pod (two containers, environment, resources, probes). The archive is written
// from the objects the API server returns, in the collector's layout (one file per pod, managedFields
// dropped). Both calls run the in-process kubectl the kubectl tool runs, with the engine's default
// output cap; live, kubectl pages the list (500 a page), as it does by default. Reports both times
// and their ratio (ns/op is their sum).
func BenchmarkOfflineVersusLive(b *testing.B) {
	ctx := context.Background()
	n := offlinePods()
	hub, err := fleet.Start(ctx, fleet.Options{HubOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(hub.Stop)
	createPods(b, hub.Hub, n)
	dir := b.TempDir()
	writePodArchive(b, hub.Hub, dir)
	archive, err := mustgather.Open(dir, mustgather.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(archive.Close)
	if err := archive.Indexed(ctx); err != nil {
		b.Fatal(err)
	}
	offlineCfg, err := mustgather.Connector{Archive: archive}.RESTConfig(ctx, ocm.Target{Hub: true})
	if err != nil {
		b.Fatal(err)
	}
	engine, err := kubectl.NewEngine(kubectl.Options{WorkDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	words, _ := kubectl.Split("get pods -A")
	plan, err := kubectl.Check(words, kubectl.ReadTool, false)
	if err != nil {
		b.Fatal(err)
	}
	run := func(key string, cfg *rest.Config) time.Duration {
		began := time.Now()
		res := engine.Run(ctx, kubectl.Request{Key: key, Config: cfg, Plan: plan, Timeout: 5 * time.Minute})
		if res.Err != nil || !strings.Contains(res.Stdout, "bench-pod-") {
			b.Fatalf("%s: %v %s", key, res.Err, res.Stderr)
		}
		return time.Since(began)
	}
	// Once each first: discovery, connections, the archive's page cache.
	b.Logf("first calls: live %s, offline %s", run("live", hub.Hub.Config), run("offline", offlineCfg))
	// The setup above runs once; the sub-benchmark runs as many times as the benchmark time asks.
	b.Run("get-pods-A", func(b *testing.B) {
		var live, offline time.Duration
		for i := 0; i < b.N; i++ {
			live += run("live", hub.Hub.Config)
			offline += run("offline", offlineCfg)
		}
		b.ReportMetric(float64(live.Microseconds())/1000/float64(b.N), "live-ms/op")
		b.ReportMetric(float64(offline.Microseconds())/1000/float64(b.N), "offline-ms/op")
		b.ReportMetric(float64(offline)/float64(live), "offline/live")
	})
}

// createPods creates n pods on a cluster, 16 at a time.
func createPods(b *testing.B, c *fleet.Cluster, n int) {
	b.Helper()
	ctx := context.Background()
	const namespaces = 20
	for i := 0; i < namespaces; i++ {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-%02d", i)}}
		if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if _, err := c.Kube.CoreV1().Pods(fmt.Sprintf("bench-%02d", i%namespaces)).Create(ctx, benchPod(i), metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// benchPod has the shape of a Deployment's pod.
func benchPod(i int) *corev1.Pod {
	app := fmt.Sprintf("app-%d", i%50)
	res := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
	}
	container := func(name, portName string, port int32) corev1.Container {
		return corev1.Container{
			Name: name, Image: "registry.invalid/" + app + "/" + name + ":1.2.3", Resources: res,
			Ports: []corev1.ContainerPort{{Name: portName, ContainerPort: port}},
			Env: []corev1.EnvVar{{Name: "APP", Value: app}, {Name: "LOG_LEVEL", Value: "info"},
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(port)}}},
			VolumeMounts:   []corev1.VolumeMount{{Name: "config", MountPath: "/etc/" + app}},
		}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:   fmt.Sprintf("bench-pod-%05d", i),
			Labels: map[string]string{"app": app, "pod-template-hash": "5d8f7c9b4"},
			// No owner: the hub's garbage collector would delete pods whose owner does not exist.
			Annotations: map[string]string{"kubectl.kubernetes.io/default-container": "app"},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{container("app", "http", 8080), container("sidecar", "metrics", 9090)},
			Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: app + "-config"}}}}},
		},
	}
}

// writePodArchive writes every pod of a cluster as a must-gather folder of one cluster, "hub".
func writePodArchive(b *testing.B, c *fleet.Cluster, dir string) {
	b.Helper()
	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(dir, "timestamp"), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	opts := metav1.ListOptions{Limit: 500}
	for {
		pods, err := c.Kube.CoreV1().Pods("").List(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			p.ManagedFields = nil
			obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(p)
			if err != nil {
				b.Fatal(err)
			}
			obj["apiVersion"], obj["kind"] = "v1", "Pod"
			data, err := yaml.Marshal(obj)
			if err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(dir, "hub", "namespaces", p.Namespace, "core", "pods", p.Name+".yaml")
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				b.Fatal(err)
			}
		}
		if opts.Continue = pods.Continue; opts.Continue == "" {
			return
		}
	}
}
