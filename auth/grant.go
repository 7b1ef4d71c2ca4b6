package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	workv1 "open-cluster-management.io/api/work/v1"
)

// ClusterPermissionGVR is the ClusterPermission resource; no Go module on the proxy ships its types,
// so it is handled as unstructured.
var ClusterPermissionGVR = schema.GroupVersionResource{Group: "rbac.open-cluster-management.io", Version: "v1alpha1", Resource: "clusterpermissions"}

// Condition the ClusterPermission controller sets once its ManifestWork is applied.
const cpAppliedCondition = "AppliedRBACManifestWork"

// grant is the hub object that carries the spoke RBAC for our ServiceAccount.
type grant struct {
	kind string // "ClusterPermission" or "ManifestWork"
	name string
}

func (g grant) String() string { return g.kind + " " + g.name }

// GrantKind says which mechanism the hub offers: ClusterPermission when its CRD is served, else ManifestWork.
func (p *Provider) GrantKind(ctx context.Context) (string, error) {
	list, err := p.hub.Kube.Discovery().ServerResourcesForGroupVersion(ClusterPermissionGVR.GroupVersion().String())
	if err != nil {
		if apierrors.IsNotFound(err) {
			return "ManifestWork", nil
		}
		return "", p.hub.Explain(err, "the ClusterPermission API")
	}
	for _, r := range list.APIResources {
		if r.Name == ClusterPermissionGVR.Resource {
			return "ClusterPermission", nil
		}
	}
	return "ManifestWork", nil
}

// GrantName is the name of the grant object in each cluster namespace.
func (p *Provider) GrantName() string { return p.opts.MSAName }

func (p *Provider) ensureGrant(ctx context.Context, cluster, addonNS string) (grant, error) {
	kind, err := p.GrantKind(ctx)
	if err != nil {
		return grant{}, err
	}
	g := grant{kind: kind, name: p.GrantName()}
	if kind == "ClusterPermission" {
		return g, p.ensureClusterPermission(ctx, cluster)
	}
	if !p.opts.ManifestWorkGrant {
		return g, fmt.Errorf("the hub serves no ClusterPermission API (rbac.open-cluster-management.io/v1alpha1), so the server cannot grant "+
			"itself RBAC on cluster %s. Install the cluster-permission controller on the hub, or start the server with --manifestwork-grant "+
			"(and give it create on manifestworks: manifests/components/manifestwork-grant)", cluster)
	}
	return g, p.ensureManifestWork(ctx, cluster, addonNS)
}

// ClusterPermissionSpec is the spec the server writes: the configured role bound to the
// ManagedServiceAccount (the controller rewrites the subject to the spoke ServiceAccount), plus the
// fleet-reader ClusterRole (spec.clusterRole) and its binding.
func (p *Provider) ClusterPermissionSpec() map[string]any {
	subject := map[string]any{"apiGroup": "authentication.open-cluster-management.io", "kind": "ManagedServiceAccount", "name": p.opts.MSAName}
	rules := make([]any, 0, len(p.spokeRules()))
	for _, r := range p.spokeRules() {
		rule := map[string]any{"apiGroups": toAny(r.APIGroups), "resources": toAny(r.Resources), "verbs": toAny(r.Verbs)}
		if len(r.ResourceNames) > 0 {
			rule["resourceNames"] = toAny(r.ResourceNames)
		}
		rules = append(rules, rule)
	}
	return map[string]any{
		"clusterRole": map[string]any{"rules": rules},
		"clusterRoleBindings": []any{
			map[string]any{
				"name":    p.bindingName(),
				"roleRef": map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": p.opts.Role()},
				"subject": subject,
			},
			map[string]any{
				"name":    p.readerBindingName(),
				"roleRef": map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": p.readerRoleName()},
				"subject": subject,
			},
		},
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (p *Provider) ensureClusterPermission(ctx context.Context, cluster string) error {
	res := p.dyn.Resource(ClusterPermissionGVR).Namespace(cluster)
	want := p.ClusterPermissionSpec()
	cur, err := res.Get(ctx, p.GrantName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": ClusterPermissionGVR.GroupVersion().String(), "kind": "ClusterPermission",
			"metadata": map[string]any{"name": p.GrantName(), "namespace": cluster, "labels": map[string]any{ManagedByLabel: managedByValue}},
			"spec":     want,
		}}
		if _, err := res.Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating ClusterPermission %s/%s on the hub: %w", cluster, p.GrantName(), err)
		}
		return nil
	}
	if err != nil {
		return p.hub.Explain(err, "clusterpermissions.rbac.open-cluster-management.io")
	}
	if reflect.DeepEqual(cur.Object["spec"], want) {
		return nil
	}
	cur.Object["spec"] = want
	if _, err := res.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating ClusterPermission %s/%s on the hub: %w", cluster, p.GrantName(), err)
	}
	return nil
}

// GrantManifestWork is the ManifestWork the server writes for a cluster when ClusterPermission is not
// available: one ClusterRoleBinding of the configured role to the add-on namespace's ServiceAccount.
func (p *Provider) GrantManifestWork(cluster, addonNS string) (*workv1.ManifestWork, error) {
	var manifests []workv1.Manifest
	for _, obj := range p.grantObjects(addonNS) {
		raw, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		manifests = append(manifests, workv1.Manifest{RawExtension: runtime.RawExtension{Raw: raw}})
	}
	return &workv1.ManifestWork{
		ObjectMeta: metav1.ObjectMeta{Name: p.GrantName(), Namespace: cluster, Labels: map[string]string{ManagedByLabel: managedByValue}},
		Spec:       workv1.ManifestWorkSpec{Workload: workv1.ManifestsTemplate{Manifests: manifests}},
	}, nil
}

func (p *Provider) ensureManifestWork(ctx context.Context, cluster, addonNS string) error {
	want, err := p.GrantManifestWork(cluster, addonNS)
	if err != nil {
		return err
	}
	works := p.work.WorkV1().ManifestWorks(cluster)
	cur, err := works.Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if _, err := works.Create(ctx, want, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating ManifestWork %s/%s on the hub: %w", cluster, want.Name, err)
		}
		return nil
	}
	if err != nil {
		return p.hub.Explain(err, "manifestworks.work.open-cluster-management.io")
	}
	if sameManifests(cur.Spec.Workload.Manifests, want.Spec.Workload.Manifests) {
		return nil
	}
	cur.Spec.Workload = want.Spec.Workload
	if _, err := works.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating ManifestWork %s/%s on the hub: %w", cluster, want.Name, err)
	}
	return nil
}

func sameManifests(a, b []workv1.Manifest) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		var x, y any
		if json.Unmarshal(a[i].Raw, &x) != nil || json.Unmarshal(b[i].Raw, &y) != nil || !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// GrantStatus reads whether the grant is applied on the spoke, and why not.
func (p *Provider) GrantStatus(ctx context.Context, cluster string) (applied bool, detail string, err error) {
	kind, err := p.GrantKind(ctx)
	if err != nil {
		return false, "", err
	}
	return p.grantApplied(ctx, cluster, grant{kind: kind, name: p.GrantName()})
}

func (p *Provider) grantApplied(ctx context.Context, cluster string, g grant) (bool, string, error) {
	var conds []metav1.Condition
	var generation int64
	condType := workv1.WorkApplied
	switch g.kind {
	case "ClusterPermission":
		obj, err := p.dyn.Resource(ClusterPermissionGVR).Namespace(cluster).Get(ctx, g.name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		generation = obj.GetGeneration()
		raw, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
		data, _ := json.Marshal(raw)
		_ = json.Unmarshal(data, &conds)
		condType = cpAppliedCondition
	default:
		mw, err := p.work.WorkV1().ManifestWorks(cluster).Get(ctx, g.name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		generation = mw.Generation
		conds = mw.Status.Conditions
	}
	c := meta.FindStatusCondition(conds, condType)
	switch {
	case c == nil:
		return false, fmt.Sprintf("%s %s/%s has no %s condition yet", g.kind, cluster, g.name, condType), nil
	case c.Status != metav1.ConditionTrue:
		return false, fmt.Sprintf("%s %s/%s: %s=%s (%s: %s)", g.kind, cluster, g.name, condType, c.Status, c.Reason, c.Message), nil
	case c.ObservedGeneration != 0 && c.ObservedGeneration < generation:
		return false, fmt.Sprintf("%s %s/%s: the latest change is not applied yet", g.kind, cluster, g.name), nil
	}
	return true, fmt.Sprintf("%s %s/%s applied (ClusterRoles %s and %s)", g.kind, cluster, g.name, p.opts.Role(), p.readerRoleName()), nil
}

func (p *Provider) waitGrant(ctx context.Context, cluster string, g grant) error {
	var detail string
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		ok, d, err := p.grantApplied(ctx, cluster, g)
		if err != nil {
			if ctx.Err() != nil || apierrors.IsNotFound(err) {
				return false, nil
			}
			return false, err
		}
		detail = d
		return ok, nil
	})
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("the RBAC grant for cluster %s was not applied within %s: %s", cluster, p.opts.TokenTimeout, detail)
	}
	return fmt.Errorf("reading the RBAC grant for cluster %s: %w", cluster, err)
}
