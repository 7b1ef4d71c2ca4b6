package mcmcp.builtin.production_destructive

# production-destructive: on a cluster labelled environment=production, a destructive command
# (delete, drain, cordon, taint, replace, rollout undo, scale to zero, apply --force) is refused unless
# the caller is in one of the groups of --policy-production-groups (data.mcmcp.settings.production_groups).
# Over stdio the caller has no groups.

deny contains {"rule": "production-destructive", "msg": msg} if {
	input.tool == "kubectl_write"
	input.destructive
	input.cluster.labels.environment == "production"
	not production_caller
	msg := sprintf(
		"`%s` is destructive and cluster %s is labelled environment=production: %s",
		[concat(" ", input.command), input.cluster.name, who_may],
	)
}

default production_groups := []

production_groups := data.mcmcp.settings.production_groups

production_caller if {
	some group in input.caller.groups
	group in production_groups
}

who_may := sprintf(
	"only members of the groups %v may run destructive commands there (--policy-production-groups), and %s is not one",
	[production_groups, caller_name],
) if {
	count(production_groups) > 0
} else := "no one may run destructive commands there through this server until --policy-production-groups names the groups who may"

caller_name := input.caller.user if input.caller.user != ""

else := "the local (stdio) user"
