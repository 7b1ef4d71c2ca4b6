package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ocm-fleet/multicluster-mcp-server/test/fleet"
)

const chartName = "multicluster-mcp-server"

func deploymentArgs(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	d := objectNamed(t, objs, "Deployment", chartName)
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	var out []string
	for _, a := range containers[0].(map[string]any)["args"].([]any) {
		out = append(out, a.(string))
	}
	return out
}

// field reads a nested field of the named object as JSON-like data, failing when it is absent.
func field(t *testing.T, objs []*unstructured.Unstructured, kind, name string, path ...string) any {
	t.Helper()
	v, ok, err := unstructured.NestedFieldNoCopy(objectNamed(t, objs, kind, name).Object, path...)
	if !ok || err != nil {
		t.Fatalf("%s %s has no %v (%v)", kind, name, path, err)
	}
	return normalize(v)
}

func hasArgs(t *testing.T, objs []*unstructured.Unstructured, want ...string) {
	t.Helper()
	args := deploymentArgs(t, objs)
	for _, w := range want {
		if !slices.Contains(args, w) {
			t.Errorf("the Deployment's args %v lack %s", args, w)
		}
	}
}

func hasJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	if !strings.Contains(jsonText(got), want) {
		t.Errorf("%s is %s; want %s in it", what, jsonText(got), want)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// optionalValues: each optional value renders the objects, flags and mounts it stands for.
func optionalValues(t *testing.T, h *helmCLI) {
	cases := []struct {
		name  string
		sets  []string
		check func(t *testing.T, objs []*unstructured.Unstructured)
	}{
		{"tls", []string{"tls.secretName=mcp-tls"}, func(t *testing.T, objs []*unstructured.Unstructured) {
			hasArgs(t, objs, "--tls-cert=/etc/multicluster-mcp-server/tls/tls.crt", "--tls-key=/etc/multicluster-mcp-server/tls/tls.key")
			spec := field(t, objs, "Deployment", chartName, "spec", "template", "spec")
			hasJSON(t, "the pod spec", spec, `{"name":"tls","secret":{"secretName":"mcp-tls"}}`)
			hasJSON(t, "the pod spec", spec, `"scheme":"HTTPS"`)
		}},
		{"cluster proxy with a ConfigMap CA", []string{"clusterProxy.url=https://proxy.example:9092", "clusterProxy.ca.configMap=proxy-ca"},
			func(t *testing.T, objs []*unstructured.Unstructured) {
				hasArgs(t, objs, "--cluster-proxy-url=https://proxy.example:9092", "--cluster-proxy-ca-file=/etc/multicluster-mcp-server/cluster-proxy-ca/ca.crt")
				hasJSON(t, "the pod spec", field(t, objs, "Deployment", chartName, "spec", "template", "spec", "volumes"), `"configMap":{"name":"proxy-ca"}`)
			}},
		{"cluster proxy with a Secret CA", []string{"clusterProxy.url=https://proxy.example:9092", "clusterProxy.ca.secret=proxy-ca", "clusterProxy.ca.key=ca.pem"},
			func(t *testing.T, objs []*unstructured.Unstructured) {
				hasArgs(t, objs, "--cluster-proxy-ca-file=/etc/multicluster-mcp-server/cluster-proxy-ca/ca.pem")
				hasJSON(t, "the pod spec", field(t, objs, "Deployment", chartName, "spec", "template", "spec", "volumes"), `"secret":{"secretName":"proxy-ca"}`)
			}},
		{"replicas share a generated session key", []string{"replicas=2"}, func(t *testing.T, objs []*unstructured.Unstructured) {
			hasArgs(t, objs, "--session-key-file=/etc/multicluster-mcp-server/session-key/session-key")
			key, _ := base64.StdEncoding.DecodeString(field(t, objs, "Secret", chartName+"-session-key", "data", "session-key").(string))
			if len(key) < 32 {
				t.Errorf("the session key has %d bytes; the server needs at least 32", len(key))
			}
			hasJSON(t, "replicas", field(t, objs, "Deployment", chartName, "spec", "replicas"), "2")
		}},
		{"replicas with an existing session key", []string{"replicas=2", "sessionKey.existingSecret=mcp-session"}, func(t *testing.T, objs []*unstructured.Unstructured) {
			if len(pick(objs, "Secret")) != 0 {
				t.Error("the chart renders a session key Secret beside the existing one")
			}
			hasJSON(t, "the volumes", field(t, objs, "Deployment", chartName, "spec", "template", "spec", "volumes"), `"secretName":"mcp-session"`)
		}},
		{"network policy", []string{"networkPolicy.enabled=true", "networkPolicy.from[0].namespaceSelector.matchLabels.team=ai"}, func(t *testing.T, objs []*unstructured.Unstructured) {
			hasJSON(t, "the policy types", field(t, objs, "NetworkPolicy", chartName, "spec", "policyTypes"), `["Ingress"]`)
			ingress := field(t, objs, "NetworkPolicy", chartName, "spec", "ingress")
			want := `[{"from":[{"namespaceSelector":{"matchLabels":{"team":"ai"}}}],"ports":[{"port":"http","protocol":"TCP"}]},` +
				`{"from":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}}}],"ports":[{"port":"telemetry","protocol":"TCP"}]}]`
			if jsonText(ingress) != want {
				t.Errorf("the ingress rules are %s; want %s", jsonText(ingress), want)
			}
		}},
		{"service monitor", []string{"serviceMonitor.enabled=true", "serviceMonitor.labels.release=prom"}, func(t *testing.T, objs []*unstructured.Unstructured) {
			hasJSON(t, "the endpoints", field(t, objs, "ServiceMonitor", chartName, "spec", "endpoints"), `"path":"/metrics","port":"telemetry"`)
			hasJSON(t, "the labels", field(t, objs, "ServiceMonitor", chartName, "metadata", "labels"), `"release":"prom"`)
			hasJSON(t, "the Service ports", field(t, objs, "Service", chartName, "spec", "ports"), `{"name":"telemetry","port":9464,"targetPort":"telemetry"}`)
		}},
		{"telemetry off", []string{"telemetry.enabled=false"}, func(t *testing.T, objs []*unstructured.Unstructured) {
			if strings.Contains(jsonText(objectNamed(t, objs, "Deployment", chartName).Object), "telemetry") {
				t.Error("telemetry is off, yet the Deployment has its flag or port")
			}
		}},
		{"resources and extra args", []string{"resources.limits.memory=1Gi", "extraArgs={--approval=destructive,--memory-limit=800Mi}"}, func(t *testing.T, objs []*unstructured.Unstructured) {
			args := deploymentArgs(t, objs)
			if !slices.Equal(args[len(args)-2:], []string{"--approval=destructive", "--memory-limit=800Mi"}) {
				t.Errorf("the args %v do not end with the extra args", args)
			}
			hasJSON(t, "the resources", field(t, objs, "Deployment", chartName, "spec", "template", "spec", "containers"), `"limits":{"cpu":"1","memory":"1Gi"}`)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.check(t, h.template(t, c.sets...)) })
	}
}

// installChart installs the chart with the optional objects on (two replicas, NetworkPolicy,
// ServiceMonitor) into the hub, runs the server as its Deployment's Pod would run (its telemetry
// listener and shared session key included), and uninstalls it.
func installChart(t *testing.T, h *helmCLI) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	crd, err := fleet.ServiceMonitorCRD(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.InstallCRDFile(ctx, env.fleet.Hub.Dynamic, crd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := fleet.DeleteCRD(context.Background(), env.fleet.Hub.Dynamic, "servicemonitors.monitoring.coreos.com"); err != nil {
			t.Errorf("removing the ServiceMonitor CRD: %v", err)
		}
	})
	// --take-ownership: the kustomize tests of this package apply objects of the same names (the
	// chart keeps the manifests' names), whichever test runs first.
	if out, err := h.run(t, "install", "mcmcp", chartDir(), "--namespace", chartNamespace, "--create-namespace", "--take-ownership",
		"--set", "mode=read-write,replicas=2,networkPolicy.enabled=true,serviceMonitor.enabled=true"); err != nil {
		t.Fatalf("helm install: %v", err)
	} else if !strings.Contains(out, "STATUS: deployed") {
		t.Fatalf("helm install did not deploy:\n%s", out)
	}
	manifest, err := h.run(t, "get", "manifest", "mcmcp", "--namespace", chartNamespace)
	if err != nil {
		t.Fatal(err)
	}
	installed := decodeObjects(t, manifest)
	var kinds []string
	for _, o := range installed {
		live := liveObject(t, o)
		if live.GetAnnotations()["meta.helm.sh/release-name"] != "mcmcp" {
			t.Errorf("%s %s on the hub is not the release's: annotations %v", o.GetKind(), o.GetName(), live.GetAnnotations())
		}
		kinds = append(kinds, o.GetKind())
	}
	slices.Sort(kinds)
	want := []string{"ClusterRole", "ClusterRoleBinding", "Deployment", "NetworkPolicy", "Secret", "Service", "ServiceAccount", "ServiceMonitor"}
	if !slices.Equal(kinds, want) {
		t.Errorf("the release holds %v; want %v", kinds, want)
	}

	t.Run("its ServiceAccount runs the server in-cluster through every tool path", func(t *testing.T) {
		srv := startInCluster(t, liveObject(t, objectNamed(t, installed, "Deployment", chartName)), "--approval", "none")
		checkToolPaths(t, srv, "in-cluster as the chart's ServiceAccount")
		if err := srv.stop(); err != nil {
			t.Errorf("the server did not stop cleanly: %v\n%s", err, srv.logs.String())
		}
	})

	if _, err := h.run(t, "uninstall", "mcmcp", "--namespace", chartNamespace); err != nil {
		t.Fatalf("helm uninstall: %v", err)
	}
	for _, o := range installed {
		waitGone(t, o)
	}
}
