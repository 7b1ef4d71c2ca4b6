package mcmcp.builtin.must_gather_restricted

# must-gather-restricted: must_gather does not collect a cluster labelled
# multicluster-mcp-server.io/no-must-gather=true (its objects and logs may not leave it, e.g. regulated
# data); the other clusters are collected and the archive records why this one is not.

deny contains {"rule": "must-gather-restricted", "msg": msg} if {
	input.tool == "must_gather"
	input.cluster.labels["multicluster-mcp-server.io/no-must-gather"] == "true"
	msg := sprintf(
		"cluster %s is labelled multicluster-mcp-server.io/no-must-gather=true: its objects and logs are not collected by must_gather",
		[input.cluster.name],
	)
}
