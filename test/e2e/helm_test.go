package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

// helmCLI runs the Helm client the fleet builds, against the hub's admin kubeconfig, with its own
// cache, config and data folders.
type helmCLI struct {
	bin, home string
}

func newHelm(t *testing.T) *helmCLI {
	t.Helper()
	bin := env.fleet.Binary("helm")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("helm is missing from the fleet binaries (run test/fleet/build-binaries.sh): %v", err)
	}
	return &helmCLI{bin: bin, home: t.TempDir()}
}

// run runs helm with args and returns its output, or an error holding what it printed.
func (h *helmCLI) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, append(args, "--kubeconfig", env.fleet.Hub.Kubeconfig)...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(h.home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(h.home, "config"), "HELM_DATA_HOME="+filepath.Join(h.home, "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), errors.New(err.Error() + ": " + stdout.String() + stderr.String())
	}
	return stdout.String(), nil
}

func chartDir() string {
	return filepath.Join(fleet.ModuleRoot(), "manifests", "helm", "multicluster-mcp-server")
}

// chartNamespace is the namespace the chart is installed in, the kustomize manifests' own.
const chartNamespace = "multicluster-mcp-server"

// template renders the chart with the values set (--set syntax each).
func (h *helmCLI) template(t *testing.T, sets ...string) []*unstructured.Unstructured {
	t.Helper()
	args := []string{"template", "mcmcp", chartDir(), "--namespace", chartNamespace}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out, err := h.run(t, args...)
	if err != nil {
		t.Fatalf("helm template %v: %v", sets, err)
	}
	return decodeObjects(t, out)
}

func decodeObjects(t *testing.T, manifest string) []*unstructured.Unstructured {
	t.Helper()
	dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("decoding rendered objects: %v", err)
		}
		if m != nil {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

// TestHelmChart: the chart lints with every optional value and its schema refuses bad ones; each mode
// renders what the kustomize overlay of that mode holds (see assertEquivalent); installed into the hub
// with the admin kubeconfig, its objects exist, its ServiceAccount runs the server in-cluster through
// every tool path, and helm uninstall removes them.
func TestHelmChart(t *testing.T) {
	h := newHelm(t)
	t.Run("lint and schema", func(t *testing.T) { lintChart(t, h) })
	t.Run("each mode renders its overlay", func(t *testing.T) {
		modes := []struct {
			overlay string
			sets    []string
		}{
			{"read-only", nil},
			{"read-write", []string{"mode=read-write"}},
			{"read-write-manifestwork-grant", []string{"mode=read-write", "manifestWorkGrant=true"}},
			{"read-write-addon", []string{"mode=read-write", "addon.enabled=true"}},
		}
		for _, m := range modes {
			t.Run(m.overlay, func(t *testing.T) {
				// The overlays have no telemetry listener; with it (the default), the chart adds its flag (its
				// ports: "optional values render").
				off := h.template(t, append(m.sets, "telemetry.enabled=false")...)
				assertEquivalent(t, kustomize(t, m.overlay), off)
				want := append(deploymentArgs(t, off), "--telemetry-listen=0.0.0.0:9464")
				if got := deploymentArgs(t, h.template(t, m.sets...)); !slices.Equal(got, want) {
					t.Errorf("with telemetry the args are %v; want %v", got, want)
				}
			})
		}
	})
	t.Run("optional values render", func(t *testing.T) { optionalValues(t, h) })
	t.Run("install, run and uninstall", func(t *testing.T) { installChart(t, h) })
}

// lintChart: helm lint --strict passes with the defaults and with each optional value; the schema refuses
// bad values at lint and template time, naming the value.
func lintChart(t *testing.T, h *helmCLI) {
	cases := []struct {
		name string
		sets []string
		want string // empty: accepted; else part of the error
	}{
		{"defaults", nil, ""},
		{"read-write", []string{"mode=read-write"}, ""},
		{"manifestwork grant", []string{"mode=read-write", "manifestWorkGrant=true"}, ""},
		{"add-on", []string{"mode=read-write", "addon.enabled=true", "addon.clusterSet=prod"}, ""},
		{"replicas with a generated session key", []string{"replicas=3"}, ""},
		{"replicas with an existing session key", []string{"replicas=2", "sessionKey.existingSecret=mcp-session"}, ""},
		{"tls", []string{"tls.secretName=mcp-tls"}, ""},
		{"cluster proxy, CA in a ConfigMap", []string{"clusterProxy.url=https://proxy.example:9092", "clusterProxy.ca.configMap=proxy-ca"}, ""},
		{"cluster proxy, CA in a Secret", []string{"clusterProxy.url=https://proxy.example:9092", "clusterProxy.ca.secret=proxy-ca", "clusterProxy.ca.key=ca.pem"}, ""},
		{"telemetry off", []string{"telemetry.enabled=false"}, ""},
		{"network policy", []string{"networkPolicy.enabled=true", "networkPolicy.from[0].podSelector.matchLabels.app=gateway"}, ""},
		{"service monitor", []string{"serviceMonitor.enabled=true", "serviceMonitor.labels.release=prom"}, ""},
		{"resources and extra args", []string{"resources.limits.memory=1Gi", "extraArgs={--approval=destructive}"}, ""},
		{"unknown mode", []string{"mode=admin"}, "at '/mode': value must be one of 'read-only', 'read-write'"},
		{"no replicas", []string{"replicas=0"}, "at '/replicas': minimum: got 0, want 1"},
		{"add-on selecting every cluster", []string{"addon.enabled=true", "addon.clusterSelector=null"}, "at '/addon': missing property 'clusterSelector'"},
		{"misspelt value", []string{"networkPolicy.enable=true"}, "additional properties 'enable' not allowed"},
		{"plain HTTP cluster proxy", []string{"clusterProxy.url=http://proxy:9092"}, "at '/clusterProxy/url'"},
		{"extra arg that is no flag", []string{"extraArgs={approval}"}, "at '/extraArgs/0'"},
		{"service monitor without telemetry", []string{"serviceMonitor.enabled=true", "telemetry.enabled=false"}, "at '/telemetry/enabled': value must be true"},
		{"two CA sources", []string{"clusterProxy.url=https://p:1", "clusterProxy.ca.configMap=a", "clusterProxy.ca.secret=b"}, "at '/clusterProxy/ca/secret': maxLength"},
		{"a CA without a cluster proxy", []string{"clusterProxy.ca.secret=b"}, "at '/clusterProxy/url': minLength"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, cmd := range [][]string{{"lint", "--strict", chartDir()}, {"template", "mcmcp", chartDir()}} {
				for _, s := range c.sets {
					cmd = append(cmd, "--set", s)
				}
				_, err := h.run(t, cmd...)
				switch {
				case c.want == "" && err != nil:
					t.Errorf("helm %s refused %v: %v", cmd[0], c.sets, err)
				case c.want != "" && err == nil:
					t.Errorf("helm %s accepted %v; want an error with %q", cmd[0], c.sets, c.want)
				case c.want != "" && !strings.Contains(err.Error(), c.want):
					t.Errorf("helm %s refused %v with %v; want %q in it", cmd[0], c.sets, err, c.want)
				}
			}
		})
	}
}

// The chart's objects and the overlay's are equivalent when:
//   - the same kinds, names and namespaces, the overlay's Namespace aside (helm install --create-namespace
//     makes it; a chart does not own its release namespace);
//   - every object carries the app.kubernetes.io/name label (the chart adds Helm's own labels);
//   - ClusterRoles have the same rules, ClusterRoleBindings the same roleRef and subjects, the
//     ServiceAccount the same token mount;
//   - the Deployment's spec is the same (replicas, selector, pod security, the container's image, args in
//     order, env, ports, probes, resources, security context and mounts, the volumes) except the pod
//     template's labels (Helm's beside the selector's, which is the same) and the image pull policy the
//     chart sets;
//   - the Service's spec is the same, and so are the add-on's Placement's and ManagedClusterSetBinding's.
func assertEquivalent(t *testing.T, overlay, chart []*unstructured.Unstructured) {
	t.Helper()
	key := func(o *unstructured.Unstructured) string {
		return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
	}
	want := map[string]*unstructured.Unstructured{}
	for _, o := range overlay {
		if o.GetKind() != "Namespace" {
			want[key(o)] = o
		}
	}
	got := map[string]*unstructured.Unstructured{}
	for _, o := range chart {
		got[key(o)] = o
		if o.GetLabels()["app.kubernetes.io/name"] != "multicluster-mcp-server" {
			t.Errorf("%s lacks the app.kubernetes.io/name label", key(o))
		}
	}
	if !slices.Equal(sortedKeys(want), sortedKeys(got)) {
		t.Fatalf("the chart renders %v; the overlay holds %v", sortedKeys(got), sortedKeys(want))
	}
	for k, w := range want {
		g := got[k]
		var fields [][]string
		switch w.GetKind() {
		case "ClusterRole":
			fields = [][]string{{"rules"}}
		case "ClusterRoleBinding":
			fields = [][]string{{"roleRef"}, {"subjects"}}
		case "ServiceAccount":
			fields = [][]string{{"automountServiceAccountToken"}}
		case "Service", "Placement", "ManagedClusterSetBinding":
			fields = [][]string{{"spec"}}
		case "Deployment":
			w, g = deploymentForComparison(t, w), deploymentForComparison(t, g)
			fields = [][]string{{"spec"}}
		}
		for _, f := range fields {
			wv, _, _ := unstructured.NestedFieldNoCopy(w.Object, f...)
			gv, _, _ := unstructured.NestedFieldNoCopy(g.Object, f...)
			if !reflect.DeepEqual(normalize(wv), normalize(gv)) {
				wj, _ := json.MarshalIndent(wv, "", " ")
				gj, _ := json.MarshalIndent(gv, "", " ")
				t.Errorf("%s %v differs:\nthe overlay's: %s\nthe chart's: %s", k, f, wj, gj)
			}
		}
	}
}

// deploymentForComparison drops what the equivalence leaves out.
func deploymentForComparison(t *testing.T, d *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	d = d.DeepCopy()
	unstructured.RemoveNestedField(d.Object, "spec", "template", "metadata", "labels")
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		delete(c.(map[string]any), "imagePullPolicy")
	}
	if err := unstructured.SetNestedSlice(d.Object, containers, "spec", "template", "spec", "containers"); err != nil {
		t.Fatal(err)
	}
	return d
}

// normalize makes numbers and nested values compare by their JSON form (YAML decodes 1 as int64,
// kustomize as float64).
func normalize(v any) any {
	raw, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

func sortedKeys(m map[string]*unstructured.Unstructured) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// objectNamed returns the rendered object of that kind and name, failing when there is none.
func objectNamed(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s among the rendered objects", kind, name)
	return nil
}

// waitGone waits until the hub no longer holds o.
func waitGone(t *testing.T, o *unstructured.Unstructured) {
	t.Helper()
	res := hubResource(t, o)
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := res.Get(ctx, o.GetName(), metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Errorf("%s %s/%s is still on the hub after helm uninstall", o.GetKind(), o.GetNamespace(), o.GetName())
	}
}
