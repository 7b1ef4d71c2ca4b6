package auth

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// readerRules complete the aggregated view/edit roles with what a fleet engineer must read and they
// leave out: nodes, cluster-scoped namespaces and events, leases, RBAC objects, metrics, admission
// webhooks and the OCM agent's own objects on the spoke. Read verbs only, and never Secrets: read-only mode stays read-only.
func readerRules() []rbacv1.PolicyRule {
	read := []string{"get", "list", "watch"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"nodes", "namespaces", "events", "persistentvolumes"}, Verbs: read},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: read},
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "rolebindings", "clusterroles", "clusterrolebindings"}, Verbs: read},
		{APIGroups: []string{"metrics.k8s.io"}, Resources: []string{"pods", "nodes"}, Verbs: read},
		{APIGroups: []string{"cluster.open-cluster-management.io"}, Resources: []string{"clusterclaims", "clusterproperties"}, Verbs: read},
		{APIGroups: []string{"work.open-cluster-management.io"}, Resources: []string{"appliedmanifestworks"}, Verbs: read},
		{APIGroups: []string{"operator.open-cluster-management.io"}, Resources: []string{"klusterlets"}, Verbs: read},
		// Admission webhooks decide what workloads may create: a failing one explains a FailedCreate.
		{APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}, Verbs: read},
	}
}

// metricsRule lets the server read the cluster's own Prometheus through the API server's service proxy:
// get (GET requests only) on services/proxy of the one service name the proxy URL carries
// ("http:prometheus-k8s:9090"), which the API server authorizes as the resource name. It is a rule of
// the ClusterRole, so it holds in any namespace for a service of exactly that name and port: a
// namespaced Role would do for one namespace, but a grant that carries a Role into a namespace the
// spoke lacks (openshift-monitoring on a plain Kubernetes cluster) fails to apply as a whole, and with
// it every other right the server has there.
func metricsRule(proxyName string) (rbacv1.PolicyRule, bool) {
	if proxyName == "" {
		return rbacv1.PolicyRule{}, false
	}
	return rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services/proxy"}, ResourceNames: []string{proxyName}, Verbs: []string{"get"}}, true
}

// writerRules are what the server may change on a spoke in read-write mode: what the aggregated edit
// role allows for workloads, plus cordon and taint on nodes, and evictions for drain. Left out on
// purpose: ServiceAccount tokens (serviceaccounts/token) and impersonation (edit has both), pod exec,
// attach and port-forward, and every RBAC write, so that nothing granted here can mint a credential
// or widen anyone's rights; the API server's escalation check then refuses RBAC changes outright.
// Reads come from the view binding, which every mode has.
func writerRules() []rbacv1.PolicyRule {
	all := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods", "configmaps", "endpoints", "persistentvolumeclaims", "replicationcontrollers",
			"replicationcontrollers/scale", "services", "secrets", "serviceaccounts", "limitranges", "resourcequotas"}, Verbs: all},
		{APIGroups: []string{""}, Resources: []string{"pods/eviction"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch", "patch", "update"}},
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "watch", "create", "patch", "update"}},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "deployments/scale", "deployments/rollback", "replicasets",
			"replicasets/scale", "statefulsets", "statefulsets/scale", "daemonsets", "controllerrevisions"}, Verbs: all},
		{APIGroups: []string{"autoscaling"}, Resources: []string{"horizontalpodautoscalers"}, Verbs: all},
		{APIGroups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}, Verbs: all},
		{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: all},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses", "networkpolicies"}, Verbs: all},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: all},
		{APIGroups: []string{"scheduling.k8s.io"}, Resources: []string{"priorityclasses"}, Verbs: []string{"get", "list", "watch", "create"}},
	}
}

// spokeRules are the rules of the server's own ClusterRole on the spoke: the reader rules, and in
// read-write mode with no configured role the writer rules.
func (p *Provider) spokeRules() []rbacv1.PolicyRule {
	rules := readerRules()
	if r, ok := metricsRule(p.opts.MetricsProxyName); ok {
		rules = append(rules, r)
	}
	if !p.opts.ReadOnly && p.opts.ClusterRole == "" {
		rules = append(rules, writerRules()...)
	}
	return rules
}

// readerRoleName is the ClusterRole holding readerRules on the spoke. It is the grant's name, because the
// ClusterPermission controller names the ClusterRole of spec.clusterRole after its ClusterPermission.
func (p *Provider) readerRoleName() string { return p.GrantName() }

func (p *Provider) readerBindingName() string { return p.opts.MSAName + ":fleet-reader" }

// grantObjects are the RBAC objects the ManifestWork grant carries to the spoke.
func (p *Provider) grantObjects(addonNS string) []any {
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: addonNS, Name: p.opts.MSAName}}
	labels := map[string]string{ManagedByLabel: managedByValue}
	return []any{
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: p.bindingName(), Labels: labels},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: p.opts.Role()},
			Subjects:   subject,
		},
		&rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: p.readerRoleName(), Labels: labels},
			Rules:      p.spokeRules(),
		},
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: p.readerBindingName(), Labels: labels},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: p.readerRoleName()},
			Subjects:   subject,
		},
	}
}
