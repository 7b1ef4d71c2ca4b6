package mcmcp.builtin.protected_object

# protected-object: no change to an object its owner annotated multicluster-mcp-server.io/protected
# (any value but "false"; the value is the owner's note, e.g. "payments team: migrations by hand only").
# For a subresource (a Deployment's scale) the annotation is read on the object itself.

deny contains {"rule": "protected-object", "msg": msg} if {
	input.tool == "kubectl_write"
	some obj in input.objects
	note := obj.annotations["multicluster-mcp-server.io/protected"]
	note != "false"
	msg := sprintf(
		"%s on cluster %s is protected by its owner (annotation multicluster-mcp-server.io/protected=%q): this server changes no part of it; ask its owner, who can remove the annotation",
		[obj.ref, input.cluster.name, note],
	)
}
