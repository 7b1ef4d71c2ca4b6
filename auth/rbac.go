package auth

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// readerRules complete the aggregated view/edit roles with what a fleet engineer must read and they
// leave out: nodes, cluster-scoped namespaces and events, leases, RBAC objects, metrics and the OCM
// agent's own objects on the spoke. Read verbs only, and never Secrets: read-only mode stays read-only.
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
	}
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
			Rules:      readerRules(),
		},
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: p.readerBindingName(), Labels: labels},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: p.readerRoleName()},
			Subjects:   subject,
		},
	}
}
