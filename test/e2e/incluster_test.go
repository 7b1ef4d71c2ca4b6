package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// saDir is where a Pod finds its ServiceAccount's token, CA and namespace, the fixed path
// rest.InClusterConfig reads.
const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// inClusterMount is the shell the private mount namespace runs before it execs the server: a tmpfs over
// /run (/var/run links to it) private to this process, so nothing on the host's /run is created or
// hidden from anyone else; the ServiceAccount folder bound at saDir; the pod's emptyDir mounts made.
// $1 is the folder holding token, ca.crt and namespace, $2 a space-separated list of emptyDir mount
// paths; the rest is the command.
const inClusterMount = `set -e
mount -t tmpfs -o mode=0755 mcmcp-run /run
mkdir -p ` + saDir + `
mount --bind -o ro "$1" ` + saDir + `
for d in $2; do mkdir -p "$d"; done
shift 2
exec "$@"`

// startInCluster runs the server binary as deploy's Pod would run: its container's args and env, its
// ServiceAccount's token with the hub's CA and the namespace at saDir, KUBERNETES_SERVICE_HOST/PORT
// naming the hub's API server, no kubeconfig. Its Secret and ConfigMap volumes are written to a folder
// of the test and their paths in the args rewritten to it (a private mount namespace can add mounts,
// but not folders on the host's /etc); emptyDir volumes under /var/run are made in the private /run.
// The listeners move to free loopback ports; extra args follow the Deployment's.
func startInCluster(t *testing.T, deploy *unstructured.Unstructured, extra ...string) *httpServer {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the in-cluster run needs root: it mounts the ServiceAccount folder in a private mount namespace (unshare --mount)")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatal("the in-cluster run needs unshare (Debian package util-linux):", err)
	}
	var pod corev1.PodTemplateSpec
	tmpl, _, _ := unstructured.NestedMap(deploy.Object, "spec", "template")
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, &pod); err != nil || len(pod.Spec.Containers) != 1 {
		t.Fatalf("Deployment %s: want a pod template with one container (%v)", deploy.GetName(), err)
	}
	ctr := pod.Spec.Containers[0]
	ns := deploy.GetNamespace()

	sa := t.TempDir()
	_, _, ca := env.fleet.ServingCert()
	caPEM, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"token":     []byte(serviceAccountToken(t, ns, pod.Spec.ServiceAccountName)),
		"ca.crt":    caPEM,
		"namespace": []byte(ns),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(sa, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	volumes := t.TempDir()
	var emptyDirs []string
	replace := map[string]string{}
	for _, m := range ctr.VolumeMounts {
		v := volumeNamed(pod.Spec.Volumes, m.Name)
		switch {
		case v == nil:
			t.Fatalf("volume mount %s names no volume", m.Name)
		case v.EmptyDir != nil:
			if !strings.HasPrefix(m.MountPath, "/var/run/") && !strings.HasPrefix(m.MountPath, "/run/") {
				t.Fatalf("emptyDir %s at %s: the in-cluster run makes emptyDirs only under /var/run", m.Name, m.MountPath)
			}
			emptyDirs = append(emptyDirs, m.MountPath)
		default:
			dir := filepath.Join(volumes, m.Name)
			writeVolume(t, ns, v, dir)
			replace[m.MountPath] = dir
		}
	}
	args := podArgs(ctr.Args, replace)
	args = append(args, extra...)

	u, err := url.Parse(env.fleet.Hub.URL)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(unshare, append([]string{"--mount", "--propagation", "private", "sh", "-c", inClusterMount, "sh", sa,
		strings.Join(emptyDirs, " "), env.serverBin}, args...)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "KUBERNETES_SERVICE_HOST=" + u.Hostname(), "KUBERNETES_SERVICE_PORT=" + u.Port()}
	for _, e := range ctr.Env {
		cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
	}
	srv := runHTTPServer(t, cmd)
	if want := `"hub":"in-cluster (` + env.fleet.Hub.URL + `)"`; !strings.Contains(srv.logs.String(), want) {
		t.Fatalf("the server did not connect with the in-cluster configuration (want %s in its logs):\n%s", want, srv.logs.String())
	}
	return srv
}

func volumeNamed(vs []corev1.Volume, name string) *corev1.Volume {
	for i := range vs {
		if vs[i].Name == name {
			return &vs[i]
		}
	}
	return nil
}

// writeVolume writes the keys of a Secret or ConfigMap volume, read from the hub, into dir, as the kubelet
// would project them.
func writeVolume(t *testing.T, ns string, v *corev1.Volume, dir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data := map[string][]byte{}
	switch {
	case v.Secret != nil:
		s, err := env.fleet.Hub.Kube.CoreV1().Secrets(ns).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("Secret of volume %s: %v", v.Name, err)
		}
		data = s.Data
	case v.ConfigMap != nil:
		c, err := env.fleet.Hub.Kube.CoreV1().ConfigMaps(ns).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("ConfigMap of volume %s: %v", v.Name, err)
		}
		for k, s := range c.Data {
			data[k] = []byte(s)
		}
	default:
		t.Fatalf("volume %s: the in-cluster run supports emptyDir, secret and configMap volumes", v.Name)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for k, b := range data {
		if err := os.WriteFile(filepath.Join(dir, k), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// podArgs is the container's args with the listeners on free loopback ports (the pod listens on its
// IP) and the paths under the replaced mount paths pointing at the test's copies.
func podArgs(args []string, replace map[string]string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		name, value, _ := strings.Cut(a, "=")
		switch name {
		case "--listen", "--telemetry-listen":
			a = name + "=127.0.0.1:0"
		default:
			for from, to := range replace {
				if strings.HasPrefix(value, from+"/") {
					a = name + "=" + path.Join(to, strings.TrimPrefix(value, from))
				}
			}
		}
		out = append(out, a)
	}
	return out
}

// TestInClusterRun: the read-write overlay applied to the hub for real, and the binary started as its
// Deployment's Pod would be (in-cluster configuration, the ServiceAccount's token at the fixed path,
// the container's args and env) completes every tool path.
func TestInClusterRun(t *testing.T) {
	rw := kustomize(t, "read-write")
	apply(t, pick(rw, "Namespace"), false)
	apply(t, rw, false)
	deploy := liveObject(t, pick(rw, "Deployment")[0])
	srv := startInCluster(t, deploy, "--approval", "none")
	checkToolPaths(t, srv, fmt.Sprintf("in-cluster as %s/%s", deploy.GetNamespace(), "multicluster-mcp-server"))
}
