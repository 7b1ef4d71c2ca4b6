package index

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// DefaultKinds are indexed on every cluster; DefaultHubKinds on the hub besides.
func DefaultKinds() []string {
	return []string{"pods", "nodes", "deployments.apps", "replicasets.apps", "services", "events"}
}

// DefaultHubKinds are the OCM kinds indexed on the hub.
func DefaultHubKinds() []string {
	return []string{
		"managedclusters.cluster.open-cluster-management.io",
		"managedclusteraddons.addon.open-cluster-management.io",
		"manifestworks.work.open-cluster-management.io",
		"placements.cluster.open-cluster-management.io",
		"placementdecisions.cluster.open-cluster-management.io",
	}
}

// ParseKinds reads "plural[.group]" entries (lowercase, as kubectl api-resources names them).
func ParseKinds(list []string) ([]schema.GroupResource, error) {
	var out []schema.GroupResource
	seen := map[schema.GroupResource]bool{}
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.ToLower(s) != s || strings.ContainsAny(s, " /*") {
			return nil, fmt.Errorf("%q is not <plural>[.<group>] in lowercase (e.g. pods, deployments.apps, manifestworks.work.open-cluster-management.io)", s)
		}
		res, group, _ := strings.Cut(s, ".")
		gr := schema.GroupResource{Group: group, Resource: res}
		if !seen[gr] {
			seen[gr] = true
			out = append(out, gr)
		}
	}
	return out, nil
}
