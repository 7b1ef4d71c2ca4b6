package mcmcp

# The decision is data.mcmcp.deny: the built-in policies (each in its own package under
# mcmcp.builtin, loaded unless --policy-disable names it) add their denials here, and the policies of
# --policy-dir add theirs to the same set.

deny contains d if {
	some name
	some d in data.mcmcp.builtin[name].deny
}
