package diagnose

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	clusterv1 "open-cluster-management.io/api/cluster/v1"

	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// agentCredentials reads the registration agent's hub kubeconfig and bootstrap kubeconfig Secrets on the
// spoke: existence always; certificate expiry and server URL when the role may read them. It returns a
// finding when they are wrong, or when they could not be checked.
func (r *Runner) agentCredentials(ctx context.Context, t ocm.Target, sp *spoke) []Finding {
	r.check(t.Name + ": the agent's hub kubeconfig and bootstrap kubeconfig Secrets")
	hubHosts := r.hubHosts(ctx)
	var problems, notes []string
	unreadable := false
	// An archive may not hold the namespace's Secrets at all: then a missing one is not evidence.
	secretsCollected := true
	if r.Offline {
		held, err := r.list(ctx, sp.dyn, gvrSecrets, agentNS, "")
		secretsCollected = err == nil && len(held) > 0
	}
	for _, name := range []string{hubKubeconfigSecret, bootstrapKubeconfigSecret} {
		sec, err := r.get(ctx, sp.dyn, gvrSecrets, agentNS, name)
		switch {
		case sec == nil && err == nil && !secretsCollected:
			unreadable = true
			notes = append(notes, fmt.Sprintf("Secret %s/%s: unknown, the archive holds no Secret of %s (not collected)", agentNS, name, agentNS))
			continue
		case apierrors.IsForbidden(err):
			unreadable = true
			notes = append(notes, fmt.Sprintf("Secret %s/%s: the role the server holds on the spoke may not read Secrets, so existence, certificate expiry and server URL cannot be checked", agentNS, name))
			continue
		case err != nil:
			notes = append(notes, fmt.Sprintf("Secret %s/%s cannot be read: %v", agentNS, name, err))
			continue
		case sec == nil:
			problems = append(problems, fmt.Sprintf("Secret %s/%s does not exist on the spoke", agentNS, name))
			continue
		}
		problems = append(problems, r.inspectKubeconfigSecret(sec, hubHosts)...)
	}
	if len(problems) == 0 && !unreadable {
		return nil
	}
	f := Finding{ID: "agent-hub-credentials-invalid", Severity: Critical, Rank: 85, Subject: "cluster " + t.Name,
		Title:    "The spoke answers but its agent's hub credentials are invalid, so it cannot renew its lease",
		Looked:   []string{"Secret " + agentNS + "/" + hubKubeconfigSecret, "Secret " + agentNS + "/" + bootstrapKubeconfigSecret},
		Evidence: append(problems, notes...),
		Next: fmt.Sprintf("Give the agent a valid bootstrap kubeconfig (clusteradm get token on the hub; kubectl_write cluster=%s: apply the new %s Secret) "+
			"and delete %s so it bootstraps again; then restart the agent. ", t.Name, bootstrapKubeconfigSecret, hubKubeconfigSecret) + protectedAgentNS,
		Verify:  []string{fmt.Sprintf("kubectl cluster=hub: get csr -l open-cluster-management.io/cluster-name=%s", t.Name), fmt.Sprintf("kubectl cluster=hub: get lease managed-cluster-lease -n %s", t.Name)},
		Runbook: "runbook://ocm/agent-hub-credentials-invalid"}
	if len(problems) == 0 {
		f.ID, f.Rank = "agent-hub-credentials-unchecked", 70
		f.Title = "The spoke answers but the lease is stale: the agent is down, cut off, or its hub credentials are invalid (the Secrets cannot be read to tell)"
		f.Evidence = append(f.Evidence, r.agentPodEvidence(ctx, sp)...)
	}
	return []Finding{f}
}

// inspectKubeconfigSecret checks a kubeconfig Secret: its server against the hub, its client
// certificate's validity, a token's presence.
func (r *Runner) inspectKubeconfigSecret(sec *unstructured.Unstructured, hubHosts []string) []string {
	where := fmt.Sprintf("Secret %s/%s", sec.GetNamespace(), sec.GetName())
	data, _, _ := unstructured.NestedStringMap(sec.Object, "data")
	decode := func(k string) ([]byte, bool) {
		v, ok := data[k]
		if !ok {
			return nil, false
		}
		b, _ := base64.StdEncoding.DecodeString(v)
		return b, true
	}
	var out []string
	kc, ok := decode("kubeconfig")
	if !ok {
		return []string{where + " has no kubeconfig key"}
	}
	var server, auth string
	if elided(kc) {
		// A must-gather keeps only the server URL of a kubeconfig, as an annotation.
		server, auth = sec.GetAnnotations()[mustgather.KubeconfigServerAnnotation], "unknown"
	} else {
		cfg, err := clientcmd.Load(kc)
		if err != nil {
			return []string{fmt.Sprintf("%s: the kubeconfig does not parse: %v", where, err)}
		}
		if c := cfg.Contexts[cfg.CurrentContext]; c != nil {
			if cl := cfg.Clusters[c.Cluster]; cl != nil {
				server = cl.Server
			}
			if ai := cfg.AuthInfos[c.AuthInfo]; ai != nil {
				switch {
				case ai.Token != "" || ai.TokenFile != "":
					auth = "token"
				case len(ai.ClientCertificateData) > 0 || ai.ClientCertificate != "":
					auth = "certificate"
				}
			}
		}
	}
	if len(hubHosts) > 0 && server != "" && !sameURL(server, hubHosts) {
		out = append(out, fmt.Sprintf("%s points at %s, but the hub is published as %s", where, server, strings.Join(hubHosts, " or ")))
	}
	if crt, ok := decode("tls.crt"); ok && !elided(crt) {
		block, _ := pem.Decode(crt)
		if block == nil {
			out = append(out, where+": tls.crt is not a PEM certificate")
		} else if cert, err := x509.ParseCertificate(block.Bytes); err != nil {
			out = append(out, fmt.Sprintf("%s: tls.crt does not parse: %v", where, err))
		} else if r.Now.After(cert.NotAfter) {
			out = append(out, fmt.Sprintf("%s: the client certificate (CN=%s) expired at %s", where, cert.Subject.CommonName, cert.NotAfter.UTC().Format("2006-01-02T15:04:05Z")))
		} else if r.Now.Before(cert.NotBefore) {
			out = append(out, fmt.Sprintf("%s: the client certificate is not valid before %s", where, cert.NotBefore.UTC().Format("2006-01-02T15:04:05Z")))
		}
	} else if auth == "" && sec.GetName() == hubKubeconfigSecret {
		out = append(out, where+" holds no client certificate and no token")
	}
	return out
}

// hubHosts are the URLs the hub is known by to its agents: the one the server itself uses, unless that
// is an in-cluster address (a server running as the hub Deployment talks to the kubernetes Service,
// which agents never use); the server of the kube-public/cluster-info kubeconfig that bootstrapping
// publishes; and the API URLs the hub's own registration (local-cluster) publishes. Empty when none is
// known: then the comparison is not made, for an address that cannot be checked is no evidence.
// They are read once per diagnosis, however many clusters' agents are checked.
func (r *Runner) hubHosts(ctx context.Context) []string {
	r.hubURLsOnce.Do(func() { r.hubURLs = r.readHubHosts(ctx) })
	return r.hubURLs
}

func (r *Runner) readHubHosts(ctx context.Context) []string {
	if r.Offline {
		return nil
	}
	var hosts []string
	add := func(h string) {
		if h != "" && !sameURL(h, hosts) {
			hosts = append(hosts, strings.TrimSuffix(h, "/"))
		}
	}
	if cfg, err := r.Configs.RESTConfig(ctx, ocm.Target{Name: ocm.HubName, Hub: true}); err == nil && !inClusterURL(cfg.Host) {
		add(cfg.Host)
	}
	if cm, err := r.get(ctx, r.hub, gvrConfigMaps, "kube-public", "cluster-info"); err == nil && cm != nil {
		raw, _, _ := unstructured.NestedString(cm.Object, "data", "kubeconfig")
		if cfg, err := clientcmd.Load([]byte(raw)); err == nil {
			for _, c := range cfg.Clusters {
				add(c.Server)
			}
		}
	}
	if local, err := r.Source.ManagedClusters(ctx, labels.SelectorFromSet(labels.Set{"local-cluster": "true"})); err == nil {
		for _, mc := range local {
			for _, cc := range mc.Spec.ManagedClusterClientConfigs {
				add(cc.URL)
			}
		}
	}
	return hosts
}

// inClusterURL reports the addresses a pod reaches its own API server by.
func inClusterURL(host string) bool {
	u, err := url.Parse(host)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "kubernetes" || strings.HasPrefix(h, "kubernetes.default") {
		return true
	}
	if svc := os.Getenv("KUBERNETES_SERVICE_HOST"); svc != "" && h == svc {
		return true
	}
	return false
}

func sameURL(u string, among []string) bool {
	for _, h := range among {
		if strings.EqualFold(strings.TrimSuffix(u, "/"), strings.TrimSuffix(h, "/")) {
			return true
		}
	}
	return false
}

// addOnsOf checks each add-on enabled on the cluster.
func (r *Runner) addOnsOf(ctx context.Context, mc *clusterv1.ManagedCluster) ([]Finding, error) {
	addons, err := r.Source.AddOns(ctx, mc.Name)
	if err != nil {
		return nil, err
	}
	r.check(fmt.Sprintf("%s: %d add-on(s)", mc.Name, len(addons)))
	clusterDown := !ocm.IsAvailable(mc)
	var out []Finding
	for _, a := range addons {
		if ocm.AddOnHealthy(a) {
			continue
		}
		f := Finding{ID: "addon-unavailable", Severity: Warning, Rank: 30, Subject: fmt.Sprintf("add-on %s on cluster %s", a.Name, mc.Name),
			Title:   "The add-on is not available",
			Looked:  []string{fmt.Sprintf("ManagedClusterAddOn %s/%s", mc.Name, a.Name)},
			Verify:  []string{fmt.Sprintf("kubectl cluster=hub: get managedclusteraddon %s -n %s -o yaml", a.Name, mc.Name)},
			Runbook: "runbook://ocm/addon-unavailable"}
		if clusterDown {
			f.Rank, f.Title = 5, "The add-on is not available, because the cluster is not (a symptom, not a cause)"
		}
		for i := range a.Status.Conditions {
			c := a.Status.Conditions[i]
			if c.Type == "Available" || c.Type == "Degraded" || c.Status == metav1.ConditionFalse {
				f.Evidence = append(f.Evidence, condLine(&c, r.Now))
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// failedWorks reports ManifestWorks that did not apply or are not available.
func (r *Runner) failedWorks(ctx context.Context, cluster string) ([]Finding, error) {
	works, err := r.manifestWorks(ctx, cluster)
	if err != nil {
		return nil, err
	}
	r.check(fmt.Sprintf("%s: %d ManifestWork(s)", cluster, len(works)))
	var out []Finding
	for _, w := range works {
		if why := ocm.WorkFailure(w); why != "" {
			out = append(out, Finding{ID: "manifestwork-failed", Severity: Warning, Rank: 35, Subject: "cluster " + cluster,
				Title: fmt.Sprintf("ManifestWork %s failed", w.Name), Looked: []string{fmt.Sprintf("ManifestWork %s/%s", cluster, w.Name)},
				Evidence: []string{why}, Runbook: "runbook://ocm/manifestwork-failed",
				Verify: []string{fmt.Sprintf("kubectl cluster=hub: get manifestwork %s -n %s -o yaml", w.Name, cluster)}})
		}
	}
	return out, nil
}

// credentials checks the ManagedServiceAccounts in the cluster's namespace and the add-on behind them.
func (r *Runner) credentials(ctx context.Context, cluster string) ([]Finding, error) {
	r.check(cluster + ": ManagedServiceAccounts and the managed-serviceaccount add-on")
	msas, err := r.list(ctx, r.hub, gvrMSA, cluster, "")
	if err != nil {
		return nil, err
	}
	addons, err := r.Source.AddOns(ctx, cluster)
	if err != nil {
		return nil, err
	}
	enabled := false
	for _, a := range addons {
		enabled = enabled || a.Name == "managed-serviceaccount"
	}
	var waiting []string
	for i := range msas {
		m := &msas[i]
		if c := findCondition(conditions(m), "TokenReported"); c == nil || c.Status != metav1.ConditionTrue {
			state := "no TokenReported condition"
			if c != nil {
				state = fmt.Sprintf("TokenReported=%s (%s: %s)", c.Status, c.Reason, c.Message)
			}
			secret := "no token Secret"
			if s, _ := r.get(ctx, r.hub, gvrSecrets, cluster, m.GetName()); s != nil {
				secret = "token Secret present"
			}
			waiting = append(waiting, fmt.Sprintf("ManagedServiceAccount %s/%s created %s: %s, %s", cluster, m.GetName(), ago(m.GetCreationTimestamp().Time, r.Now), state, secret))
		}
	}
	if len(waiting) == 0 {
		return nil, nil
	}
	f := Finding{ID: "serviceaccount-token-missing", Severity: Warning, Rank: 50, Subject: "cluster " + cluster,
		Title: "ManagedServiceAccounts have no token", Looked: []string{"ManagedServiceAccounts in namespace " + cluster, "ManagedClusterAddOn managed-serviceaccount"},
		Evidence: waiting, Runbook: "runbook://ocm/serviceaccount-token-missing",
		Verify: []string{fmt.Sprintf("kubectl cluster=hub: get managedserviceaccounts -n %s -o yaml", cluster)}}
	if !enabled {
		f.ID, f.Severity, f.Rank = "msa-addon-not-enabled", Critical, 70
		f.Title = "The managed-serviceaccount add-on is not enabled on the cluster, so no ManagedServiceAccount there can get a token"
		f.Evidence = append([]string{"no ManagedClusterAddOn managed-serviceaccount in namespace " + cluster}, f.Evidence...)
		f.Next = fmt.Sprintf("Enable it: clusteradm addon enable --names managed-serviceaccount --clusters %s, or kubectl_write cluster=hub: apply a ManagedClusterAddOn named managed-serviceaccount in namespace %s.", cluster, cluster)
	} else {
		f.Next = fmt.Sprintf("Check the add-on's agent on the spoke: kubectl cluster=%s: get pods -n %s.", cluster, agentAddonNS)
	}
	return []Finding{f}, nil
}

// agentWorkloads reports failing pods in the OCM agent namespaces.
func (r *Runner) agentWorkloads(ctx context.Context, cluster string, sp *spoke) []Finding {
	r.check(cluster + ": pods in " + agentNS + " and " + agentAddonNS)
	return r.failingAgentPods(ctx, cluster, sp, agentNS, agentAddonNS)
}

// failingAgentPods reports the failing pods in the namespaces; pods that cannot be read are no finding.
func (r *Runner) failingAgentPods(ctx context.Context, cluster string, sp *spoke, namespaces ...string) []Finding {
	var out []Finding
	for _, ns := range namespaces {
		pods, err := r.list(ctx, sp.dyn, gvrPods, ns, "")
		if err != nil {
			continue
		}
		for i := range pods {
			var pod corev1.Pod
			if runtime.DefaultUnstructuredConverter.FromUnstructured(pods[i].Object, &pod) != nil {
				continue
			}
			pp, bad := ocm.InspectPod(&pod)
			if !bad || !pp.Failing {
				continue
			}
			out = append(out, Finding{ID: "agent-pod-failing", Severity: Warning, Rank: 65, Subject: "cluster " + cluster,
				Title:    fmt.Sprintf("OCM agent pod %s/%s is failing: %s", ns, pod.Name, pp.Reason),
				Looked:   []string{fmt.Sprintf("Pod %s/%s", ns, pod.Name)},
				Evidence: []string{fmt.Sprintf("%s, %d restart(s): %s", pp.Reason, pp.Restarts, pp.Message)},
				Verify:   []string{fmt.Sprintf("kubectl cluster=%s: logs -n %s %s --previous --tail=100", cluster, ns, pod.Name)}})
		}
	}
	return out
}

// elided reports a value an archive replaced: empty, or the archive API's run of '*'.
func elided(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	for _, c := range b {
		if c != '*' {
			return false
		}
	}
	return true
}
