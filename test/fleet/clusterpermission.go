package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	workv1 "open-cluster-management.io/api/work/v1"
)

var clusterPermissionGVR = schema.GroupVersionResource{Group: "rbac.open-cluster-management.io", Version: "v1alpha1", Resource: "clusterpermissions"}

// clusterPermissionController stands in for the ClusterPermission controller, which cannot be built from
// the Go module proxy. Like the real one, it renders each ClusterPermission's bindings into a ManifestWork
// (applied on the spoke by the real work agent), rewrites ManagedServiceAccount subjects to the spoke
// ServiceAccount, and reports condition AppliedRBACManifestWork from the ManifestWork's Applied condition.
// It supports clusterRole, clusterRoleBinding and clusterRoleBindings, which is what the server writes.
func (f *Fleet) clusterPermissionController(ctx context.Context) {
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			list, err := f.Hub.Dynamic.Resource(clusterPermissionGVR).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue // CRD absent (some tests remove it) or hub busy
			}
			for i := range list.Items {
				if err := f.reconcileClusterPermission(ctx, &list.Items[i]); err != nil && ctx.Err() == nil {
					f.logf("clusterpermission %s/%s: %v", list.Items[i].GetNamespace(), list.Items[i].GetName(), err)
				}
			}
		}
	}
}

// ClusterPermissionWorkName is the ManifestWork the stand-in controller renders a ClusterPermission into.
func ClusterPermissionWorkName(cp string) string { return "clusterpermission-" + cp }

func (f *Fleet) reconcileClusterPermission(ctx context.Context, cp *unstructured.Unstructured) error {
	cluster := cp.GetNamespace()
	var spec struct {
		ClusterRole *struct {
			Rules []rbacv1.PolicyRule `json:"rules"`
		} `json:"clusterRole"`
		ClusterRoleBinding  *cpBinding  `json:"clusterRoleBinding"`
		ClusterRoleBindings []cpBinding `json:"clusterRoleBindings"`
	}
	raw, _ := json.Marshal(cp.Object["spec"])
	if err := json.Unmarshal(raw, &spec); err != nil {
		return err
	}
	bindings := spec.ClusterRoleBindings
	if spec.ClusterRoleBinding != nil {
		bindings = append([]cpBinding{*spec.ClusterRoleBinding}, bindings...)
	}
	var manifests []workv1.Manifest
	if spec.ClusterRole != nil {
		// Like the real controller: the ClusterRole is named after the ClusterPermission.
		role := rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: cp.GetName()},
			Rules:      spec.ClusterRole.Rules,
		}
		data, err := json.Marshal(role)
		if err != nil {
			return err
		}
		manifests = append(manifests, workv1.Manifest{RawExtension: runtime.RawExtension{Raw: data}})
	}
	for _, b := range bindings {
		crb := rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: b.Name},
			RoleRef:    b.RoleRef,
		}
		subjects := b.Subjects
		if b.Subject != nil {
			subjects = append([]rbacv1.Subject{*b.Subject}, subjects...)
		}
		for _, s := range subjects {
			if s.Kind == "ManagedServiceAccount" {
				s = rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: s.Name, Namespace: AgentAddonNamespace}
			}
			crb.Subjects = append(crb.Subjects, s)
		}
		data, err := json.Marshal(crb)
		if err != nil {
			return err
		}
		manifests = append(manifests, workv1.Manifest{RawExtension: runtime.RawExtension{Raw: data}})
	}
	works := f.HubWork.WorkV1().ManifestWorks(cluster)
	name := ClusterPermissionWorkName(cp.GetName())
	mw, err := works.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		mw = &workv1.ManifestWork{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: cluster},
			Spec: workv1.ManifestWorkSpec{Workload: workv1.ManifestsTemplate{Manifests: manifests}}}
		if mw, err = works.Create(ctx, mw, metav1.CreateOptions{}); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		old, _ := json.Marshal(mw.Spec.Workload.Manifests)
		nu, _ := json.Marshal(manifests)
		if string(old) != string(nu) {
			mw.Spec.Workload.Manifests = manifests
			if mw, err = works.Update(ctx, mw, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
	}
	cond := metav1.Condition{Type: "AppliedRBACManifestWork", Status: metav1.ConditionFalse, Reason: "ManifestWorkNotApplied",
		Message: fmt.Sprintf("ManifestWork %s is not applied yet", name), ObservedGeneration: cp.GetGeneration()}
	if c := meta.FindStatusCondition(mw.Status.Conditions, workv1.WorkApplied); c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == mw.Generation {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionTrue, "AppliedRBACManifestWork", "Applied RBAC ManifestWork "+name
	}
	var conds []metav1.Condition
	rawConds, _, _ := unstructured.NestedSlice(cp.Object, "status", "conditions")
	data, _ := json.Marshal(rawConds)
	_ = json.Unmarshal(data, &conds)
	if !meta.SetStatusCondition(&conds, cond) {
		return nil
	}
	data, _ = json.Marshal(conds)
	var out []any
	_ = json.Unmarshal(data, &out)
	if err := unstructured.SetNestedSlice(cp.Object, out, "status", "conditions"); err != nil {
		return err
	}
	_, err = f.Hub.Dynamic.Resource(clusterPermissionGVR).Namespace(cluster).UpdateStatus(ctx, cp, metav1.UpdateOptions{})
	return err
}

type cpBinding struct {
	Name     string           `json:"name"`
	RoleRef  rbacv1.RoleRef   `json:"roleRef"`
	Subject  *rbacv1.Subject  `json:"subject"`
	Subjects []rbacv1.Subject `json:"subjects"`
}
