package kubectl

import (
	"fmt"
	"strings"
)

// No tool issues credentials or widens anyone's rights. These tables name what that means for RBAC:
// bindings to the roles that administer a cluster, and subjects that stand for everyone or for the
// control plane. The API server's own escalation check refuses the rest (a binding of a role with more
// rights than the requester has), because the server's grants hold neither bind nor escalate.

// PrivilegedRole reports roles no binding made through a tool may reference.
func PrivilegedRole(name string) bool {
	switch name {
	case "cluster-admin", "admin":
		return true
	}
	return strings.HasPrefix(name, "system:") || strings.HasPrefix(name, "open-cluster-management:")
}

// PrivilegedGroup reports groups a tool may neither bind nor impersonate: they stand for the control
// plane, for every user or for every ServiceAccount.
func PrivilegedGroup(name string) bool {
	switch name {
	case "system:masters", "system:nodes", "system:authenticated", "system:unauthenticated", "system:serviceaccounts",
		"system:bootstrappers", "system:cluster-admins", "system:monitoring":
		return true
	}
	return strings.HasPrefix(name, "system:serviceaccounts:") || strings.HasPrefix(name, "system:bootstrappers:")
}

// PrivilegedUser reports user names a tool may not bind: the anonymous user and the control plane's own.
func PrivilegedUser(name string) bool {
	return name == "system:anonymous" || name == "system:admin" || strings.HasPrefix(name, "system:kube-") ||
		strings.HasPrefix(name, "system:node:") || strings.HasPrefix(name, "system:serviceaccount:kube-system:")
}

func grantableRole(v string) error {
	if PrivilegedRole(v) {
		return fmt.Errorf("binding role %q is not available: no tool grants administrative or control-plane roles", v)
	}
	return nil
}

func grantableGroups(v string) error {
	if PrivilegedGroup(v) {
		return fmt.Errorf("binding group %q is not available: it stands for the control plane or for everyone", v)
	}
	return nil
}

func grantableUsers(v string) error {
	if PrivilegedUser(v) {
		return fmt.Errorf("binding user %q is not available: it is anonymous or part of the control plane", v)
	}
	return nil
}
