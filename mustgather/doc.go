// Package mustgather collects must-gather archives from the fleet and reads them back, so that the
// server's tools can answer from an archive with no cluster at all.
//
// Layout (the one `oc adm must-gather` and `oc adm inspect` use, one folder per cluster):
//
//	<root>/<cluster>/cluster-scoped-resources/<group>/<plural>/<name>.yaml
//	<root>/<cluster>/namespaces/<ns>/<group>/<plural>/<name>.yaml   (or <plural>.yaml, a List)
//	<root>/<cluster>/namespaces/<ns>/pods/<pod>/<container>/<container>/logs/{current,previous}.log
//
// The group folder is "core" for the core API group. Secret values are never stored: each is replaced
// by its length. The reader also accepts a real `oc adm must-gather` folder (must-gather.local.* with an
// image folder below it), a bare inspect folder, and .tar.gz archives of any of these; archives are
// unpacked into a private folder, refusing absolute paths, "..", links that leave the tree, device files,
// and anything beyond the size and file-count limits.
package mustgather
