package mcmcp.builtin.change_freeze

# change-freeze: no change on a cluster whose ManagedCluster is labelled
# multicluster-mcp-server.io/change-freeze=true (a release freeze, an incident, a migration).
# Set and remove the label on the hub: kubectl label managedcluster <name> multicluster-mcp-server.io/change-freeze=true

deny contains {"rule": "change-freeze", "msg": msg} if {
	input.tool == "kubectl_write"
	input.cluster.labels["multicluster-mcp-server.io/change-freeze"] == "true"
	msg := sprintf(
		"cluster %s is under a change freeze (its ManagedCluster is labelled multicluster-mcp-server.io/change-freeze=true): no change may be made to it through this server until the label is removed on the hub",
		[input.cluster.name],
	)
}
