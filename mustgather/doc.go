// Package mustgather collects must-gather archives from the fleet and reads them back, so that the
// server's tools can answer from an archive with no cluster at all.
//
// Layout (the one `oc adm must-gather` and `oc adm inspect` use, one folder per cluster):
//
//	<root>/<cluster>/cluster-scoped-resources/<group>/<plural>/<name>.yaml
//	<root>/<cluster>/namespaces/<ns>/<group>/<plural>/<name>.yaml   (or <plural>.yaml, a List)
//	<root>/<cluster>/namespaces/<ns>/pods/<pod>/<container>/<container>/logs/{current,previous}.log
//
// The group folder is "core" for the core API group. Every part of a path that a cluster names
// (cluster, namespace, group, resource, object, pod and container names) is checked as a Kubernetes
// name first, and written through the cluster folder's os.Root: an object whose name could not be a
// path is skipped and listed in collection-errors.txt.
//
// Secret values are never stored: each is replaced by its length ("N bytes long"), in Secrets and in
// every object that embeds one (ManifestWork and ManifestWorkReplicaSet workloads, policy templates,
// last-applied copies), and token annotations are elided (internal/redact). The reader elides the same
// way every object it serves, since other archives may hold them in clear.
//
// The reader also accepts a real `oc adm must-gather` folder (must-gather.local.* with an image folder
// below it), a bare inspect folder, and .tar, .tar.gz (.tgz) and .tar.xz archives of any of these (the
// compression is read from the first bytes); archives are unpacked into a
// private folder, refusing absolute paths, "..", links that leave the tree, device files, and anything
// beyond the size and file-count limits (objects in List files count against the file limit). Nothing
// an archive says sizes an allocation unbounded: elided lengths, logs, the timestamp and the collection
// errors are read or rebuilt only up to fixed bounds.
package mustgather
