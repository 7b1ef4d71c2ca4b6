package mustgather

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/fanout"
)

// Namespaces collected in full.
var (
	hubNamespaces   = []string{"open-cluster-management-hub", "open-cluster-management-addon", "open-cluster-management", "multicluster-engine"}
	spokeNamespaces = []string{"open-cluster-management-agent", "open-cluster-management-agent-addon"}
)

// hubResources are the OCM objects collected from the hub, in every namespace.
var hubResources = []schema.GroupVersionResource{
	{Group: "cluster.open-cluster-management.io", Version: "v1", Resource: "managedclusters"},
	{Group: "cluster.open-cluster-management.io", Version: "v1beta2", Resource: "managedclustersets"},
	{Group: "cluster.open-cluster-management.io", Version: "v1beta2", Resource: "managedclustersetbindings"},
	{Group: "cluster.open-cluster-management.io", Version: "v1beta1", Resource: "placements"},
	{Group: "cluster.open-cluster-management.io", Version: "v1beta1", Resource: "placementdecisions"},
	{Group: "addon.open-cluster-management.io", Version: "v1alpha1", Resource: "clustermanagementaddons"},
	{Group: "addon.open-cluster-management.io", Version: "v1alpha1", Resource: "managedclusteraddons"},
	{Group: "addon.open-cluster-management.io", Version: "v1alpha1", Resource: "addondeploymentconfigs"},
	{Group: "work.open-cluster-management.io", Version: "v1", Resource: "manifestworks"},
	{Group: "authentication.open-cluster-management.io", Version: "v1beta1", Resource: "managedserviceaccounts"},
	{Group: "rbac.open-cluster-management.io", Version: "v1alpha1", Resource: "clusterpermissions"},
	{Group: "certificates.k8s.io", Version: "v1", Resource: "certificatesigningrequests"},
	{Version: "v1", Resource: "namespaces"},
	{Version: "v1", Resource: "nodes"},
}

// spokeResources are collected from every spoke, in every namespace.
var spokeResources = []schema.GroupVersionResource{
	{Version: "v1", Resource: "namespaces"},
	{Version: "v1", Resource: "nodes"},
	{Group: "cluster.open-cluster-management.io", Version: "v1alpha1", Resource: "clusterclaims"},
	{Group: "work.open-cluster-management.io", Version: "v1", Resource: "appliedmanifestworks"},
	{Group: "operator.open-cluster-management.io", Version: "v1", Resource: "klusterlets"},
}

// Target is one cluster to collect, with the config to read it, or why it cannot be read.
type Target struct {
	Name   string
	Hub    bool
	Config *rest.Config
	Err    error
}

// CollectOptions say what to collect and where.
type CollectOptions struct {
	Targets []Target
	// Namespaces are collected in full on every cluster, in addition to the OCM ones.
	Namespaces []string
	// LogBytes caps each container log (current and previous each).
	LogBytes int64
	// OutDir receives the .tar.gz.
	OutDir string
	// Concurrency bounds the clusters collected at once.
	Concurrency int
	// Progress, when set, hears about each cluster as it finishes.
	Progress func(done, total int, message string)
	Now      func() time.Time
}

// ClusterResult is what was collected from one cluster.
type ClusterResult struct {
	Name    string
	Objects int
	Logs    int
	Skipped []string // "what: why"
	Error   string   // the cluster could not be collected at all
}

// Summary describes a finished collection.
type Summary struct {
	Path     string
	Bytes    int64
	Duration time.Duration
	Clusters []ClusterResult
}

// Collect writes a must-gather of the targets into one .tar.gz. A cluster that fails is recorded (in
// the summary and in its folder's collection-errors.txt) and does not stop the others.
func Collect(ctx context.Context, o CollectOptions) (*Summary, error) {
	began := time.Now()
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LogBytes <= 0 {
		o.LogBytes = 1 << 20
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if err := os.MkdirAll(o.OutDir, 0o700); err != nil {
		return nil, err
	}
	stamp := o.Now().UTC().Format("20060102-150405")
	name := "must-gather-" + stamp
	staging, err := os.MkdirTemp(o.OutDir, ".collecting-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)
	root := filepath.Join(staging, name)
	results := make([]ClusterResult, len(o.Targets))
	var mu sync.Mutex
	done := 0
	// collect collects target i; a target the collection ended before (late) records why, in the
	// summary and in its folder, like a cluster that cannot be read.
	collect := func(ctx context.Context, i int, late error) {
		t := o.Targets[i]
		if err := checkClusterName(t.Name); err != nil {
			// The name would be the cluster's folder: one that is no cluster name may climb out.
			results[i] = ClusterResult{Name: t.Name, Error: fmt.Sprintf("not collected: %q is not a valid cluster name (%v)", t.Name, err)}
		} else {
			if late != nil {
				t = Target{Name: t.Name, Hub: t.Hub, Err: fmt.Errorf("not collected: the collection ended before this cluster's turn (%w)", late)}
			}
			results[i] = collectCluster(ctx, t, filepath.Join(root, t.Name), o)
		}
		mu.Lock()
		defer mu.Unlock()
		done++
		if o.Progress != nil {
			o.Progress(done, len(o.Targets), describeResult(results[i]))
		}
	}
	fanout.Run(ctx, len(o.Targets), o.Concurrency, func(ctx context.Context, i int) { collect(ctx, i, nil) },
		func(i int, err error) { collect(ctx, i, err) })
	// A collection that ran out of time keeps what it gathered; one that was cancelled keeps nothing.
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil, fmt.Errorf("the collection was cancelled: no archive was written")
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, "timestamp"), []byte(o.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
		return nil, err
	}
	out := filepath.Join(o.OutDir, name+".tar.gz")
	size, err := pack(root, name, out)
	if err != nil {
		return nil, err
	}
	return &Summary{Path: out, Bytes: size, Duration: time.Since(began), Clusters: results}, nil
}

func describeResult(r ClusterResult) string {
	if r.Error != "" {
		return fmt.Sprintf("%s: failed: %s", r.Name, r.Error)
	}
	return fmt.Sprintf("%s: %d objects, %d logs", r.Name, r.Objects, r.Logs)
}

// clusterCollector writes one cluster's folder.
type clusterCollector struct {
	// root is the cluster's folder: every write goes through it, so that no path can leave it.
	root *os.Root
	dyn  dynamic.Interface
	kube kubernetes.Interface
	disc discovery.DiscoveryInterface
	opts CollectOptions
	res  *ClusterResult
}

func collectCluster(ctx context.Context, t Target, dir string, o CollectOptions) ClusterResult {
	res := ClusterResult{Name: t.Name}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		res.Error = err.Error()
		return res
	}
	fail := func(err error) ClusterResult {
		res.Error = err.Error()
		_ = os.WriteFile(filepath.Join(dir, collectionErrorsFile), []byte(res.Error+"\n"), 0o600)
		return res
	}
	if t.Err != nil {
		return fail(t.Err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fail(err)
	}
	defer root.Close()
	c := &clusterCollector{root: root, opts: o, res: &res}
	if c.dyn, err = dynamic.NewForConfig(t.Config); err != nil {
		return fail(err)
	}
	if c.kube, err = kubernetes.NewForConfig(t.Config); err != nil {
		return fail(err)
	}
	c.disc = c.kube.Discovery()
	// One cheap request first: a cluster that is down fails here, once, with a clear reason.
	if _, err := c.disc.ServerVersion(); err != nil {
		return fail(fmt.Errorf("cluster %s cannot be read: %w", t.Name, err))
	}
	resources, namespaces := spokeResources, spokeNamespaces
	if t.Hub {
		resources, namespaces = hubResources, hubNamespaces
		c.collectCRDs(ctx)
	}
	for _, gvr := range resources {
		c.collectList(ctx, gvr, "")
	}
	if t.Hub {
		c.collectClusterLeases(ctx)
	}
	c.collectWarnings(ctx)
	full := append(append([]string{}, namespaces...), o.Namespaces...)
	c.collectWorkloads(ctx, full)
	for _, ns := range full {
		c.collectNamespace(ctx, ns)
	}
	if len(res.Skipped) > 0 {
		sort.Strings(res.Skipped)
		_ = root.WriteFile(collectionErrorsFile, []byte(strings.Join(res.Skipped, "\n")+"\n"), 0o600)
	}
	return res
}

// refuse records something that was not collected because what names it cannot be a path; verb is
// "not written" for an object, "not collected" for what was not even asked for.
func (c *clusterCollector) refuse(what, verb string, err error) {
	c.res.Skipped = append(c.res.Skipped, what+": "+verb+": "+err.Error())
}

func (c *clusterCollector) skip(what string, err error) {
	reason := err.Error()
	switch {
	case apierrors.IsForbidden(err):
		reason = "forbidden by the role the server holds on this cluster"
	case apierrors.IsNotFound(err):
		return // the API or namespace does not exist here: nothing to collect, nothing to report
	}
	c.res.Skipped = append(c.res.Skipped, what+": "+reason)
}

// collectList writes every object of a resource (in ns, or everywhere).
func (c *clusterCollector) collectList(ctx context.Context, gvr schema.GroupVersionResource, ns string) {
	c.collect(ctx, gvr.Resource+inNamespace(ns), gvr, ns, metav1.ListOptions{}, nil)
}

// collect writes the objects of a resource (in ns, or everywhere) that opts select and keep accepts
// (nil keeps all); what names them in the list of what was skipped.
func (c *clusterCollector) collect(ctx context.Context, what string, gvr schema.GroupVersionResource, ns string,
	opts metav1.ListOptions, keep func(*unstructured.Unstructured) bool) {
	// A page at a time: a large cluster's list never has to fit in one answer, nor in memory.
	opts.Limit = listPageSize
	for {
		list, err := c.dyn.Resource(gvr).Namespace(ns).List(ctx, opts)
		if err != nil {
			c.skip(what, err)
			return
		}
		for i := range list.Items {
			if keep == nil || keep(&list.Items[i]) {
				c.writeObject(gvr, &list.Items[i])
			}
		}
		if opts.Continue = list.GetContinue(); opts.Continue == "" {
			return
		}
	}
}

// listPageSize is how many objects one list request of the collector asks for.
const listPageSize = 500

func inNamespace(ns string) string {
	if ns == "" {
		return ""
	}
	return " in " + ns
}

// quotedIn is inNamespace for names that may be hostile: quoted, so that any byte shows.
func quotedIn(ns string) string {
	if ns == "" {
		return ""
	}
	return fmt.Sprintf(" in %q", ns)
}

// describeResource names a resource of a group in the list of what was skipped.
func describeResource(gv schema.GroupVersion, resource string) string {
	if gv.Group == "" {
		return fmt.Sprintf("resource %q of the core group", resource)
	}
	return fmt.Sprintf("resource %q of group %q", resource, gv.Group)
}

// collectClusterLeases keeps the registration lease of every cluster (in the cluster namespaces).
func (c *clusterCollector) collectClusterLeases(ctx context.Context) {
	gvr := schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}
	c.collect(ctx, "cluster leases", gvr, "", metav1.ListOptions{FieldSelector: "metadata.name=managed-cluster-lease"}, nil)
}

// collectCRDs keeps the CRDs of the OCM API groups, so that tables read offline have their columns.
func (c *clusterCollector) collectCRDs(ctx context.Context) {
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	c.collect(ctx, "customresourcedefinitions", gvr, "", metav1.ListOptions{}, func(o *unstructured.Unstructured) bool {
		return strings.HasSuffix(o.GetName(), "open-cluster-management.io")
	})
}

// collectWarnings keeps every Warning event of the cluster, whatever its namespace.
func (c *clusterCollector) collectWarnings(ctx context.Context) {
	c.collect(ctx, "warning events", schema.GroupVersionResource{Version: "v1", Resource: "events"}, "", metav1.ListOptions{FieldSelector: "type=Warning"}, nil)
}

// collectNamespace writes every listable object of a namespace, and its pods' logs.
func (c *clusterCollector) collectNamespace(ctx context.Context, ns string) {
	if err := checkNamespace(ns); err != nil {
		c.refuse(fmt.Sprintf("namespace %q", ns), "not collected", err)
		return
	}
	if _, err := c.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		if !apierrors.IsNotFound(err) {
			c.skip("namespace "+ns, err)
		}
		return
	}
	lists, err := c.disc.ServerPreferredNamespacedResources()
	if err != nil && len(lists) == 0 {
		c.skip("discovery", err)
		return
	}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerb(r.Verbs, "list") {
				continue // a subresource, or nothing to list
			}
			if err := checkGroupResource(gv.Group, r.Name); err != nil {
				c.refuse(describeResource(gv, r.Name), "not collected", err)
				continue
			}
			c.collectList(ctx, gv.WithResource(r.Name), ns)
		}
	}
	pods, err := c.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return // already reported by collectList
	}
	for i := range pods.Items {
		c.collectLogs(ctx, &pods.Items[i])
	}
}

func hasVerb(verbs []string, v string) bool {
	for _, x := range verbs {
		if x == v {
			return true
		}
	}
	return false
}

func (c *clusterCollector) collectLogs(ctx context.Context, pod *corev1.Pod) {
	what := fmt.Sprintf("logs of pod %q%s", pod.Name, quotedIn(pod.Namespace))
	if err := checkNamespace(pod.Namespace); err != nil {
		c.refuse(what, "not collected", err)
		return
	}
	if err := checkSubdomain("pod name", pod.Name); err != nil {
		c.refuse(what, "not collected", err)
		return
	}
	var containers []string
	for _, ct := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if err := checkLabel("container name", ct.Name); err != nil {
			c.refuse(fmt.Sprintf("logs of container %q of pod %q%s", ct.Name, pod.Name, quotedIn(pod.Namespace)), "not collected", err)
			continue
		}
		containers = append(containers, ct.Name)
	}
	for _, ct := range containers {
		for _, previous := range []bool{false, true} {
			file := "current.log"
			if previous {
				file = "previous.log"
			}
			// The newest lines matter: ask for the last lines only (limitBytes would keep the oldest),
			// and keep the newest LogBytes of what comes.
			tailLines := logTailLines(c.opts.LogBytes)
			opts := &corev1.PodLogOptions{Container: ct, Previous: previous, Timestamps: true, TailLines: &tailLines}
			stream, err := c.kube.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, opts).Stream(ctx)
			if err != nil {
				if !previous && !apierrors.IsBadRequest(err) {
					c.skip(fmt.Sprintf("logs of %s/%s/%s", pod.Namespace, pod.Name, ct), err)
				}
				continue
			}
			path, err := localPath("namespaces", pod.Namespace, "pods", pod.Name, ct, ct, "logs", file)
			if err == nil {
				var kept []byte
				var info logCut
				kept, info, err = keepNewest(stream, c.opts.LogBytes, tailLines)
				if err == nil {
					err = c.writeFile(path, func(w io.Writer) error {
						if note := info.note(c.opts.LogBytes, tailLines); note != "" {
							if _, err := io.WriteString(w, note+"\n"); err != nil {
								return err
							}
						}
						_, err := w.Write(kept)
						return err
					})
				}
			}
			stream.Close()
			if err != nil {
				c.refuse(fmt.Sprintf("logs of container %q of pod %q%s", ct, pod.Name, quotedIn(pod.Namespace)), "not written", err)
				continue
			}
			c.res.Logs++
		}
	}
}

// logTailLines is how many of the newest lines a log request asks for: more than a cap of LogBytes
// can hold of lines of 16 bytes or more (a timestamp alone takes 21).
func logTailLines(logBytes int64) int64 { return max(logBytes/16, 100) }

// maxLogReadFactor bounds what is read of one log, in caps: a log is asked for by lines, and lines
// may be long.
const maxLogReadFactor = 64

// logCut says what keepNewest left out of a log.
type logCut struct {
	read, dropped int64 // bytes read, and read but left out (the oldest)
	lines         int64 // lines read
	stopped       bool  // the read stopped at its bound: the newest lines are not all there
}

// note is the first line of a log file that was cut, saying how; empty when nothing was cut.
func (c logCut) note(logBytes, tailLines int64) string {
	var parts []string
	if c.dropped > 0 {
		parts = append(parts, fmt.Sprintf("%d older bytes cut: the collector keeps the newest %d bytes of each log", c.dropped, logBytes))
	}
	if c.lines >= tailLines {
		parts = append(parts, fmt.Sprintf("older lines cut: only the newest %d lines were asked for", tailLines))
	}
	if c.stopped {
		parts = append(parts, fmt.Sprintf("the read stopped after %d bytes, so the newest lines may be missing", c.read))
	}
	if len(parts) == 0 {
		return ""
	}
	return "... (must-gather: " + strings.Join(parts, "; ") + ")"
}

// keepNewest reads a log and keeps its newest bytes, at most limit, starting at a whole line, in
// memory bounded by twice the limit.
func keepNewest(r io.Reader, limit, tailLines int64) ([]byte, logCut, error) {
	var cut logCut
	buf := make([]byte, 0, min(2*limit, 64<<10))
	chunk := make([]byte, 32<<10)
	bound := limit * maxLogReadFactor
	for {
		n, err := r.Read(chunk)
		cut.read += int64(n)
		cut.lines += int64(bytes.Count(chunk[:n], []byte{'\n'}))
		buf = append(buf, chunk[:n]...)
		if int64(len(buf)) > 2*limit {
			drop := int64(len(buf)) - limit
			cut.dropped += drop
			buf = append(buf[:0], buf[drop:]...)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, cut, err
		}
		if cut.read >= bound {
			cut.stopped = true
			break
		}
	}
	if int64(len(buf)) > limit {
		drop := int64(len(buf)) - limit
		cut.dropped += drop
		buf = buf[drop:]
	}
	if cut.dropped > 0 {
		// The window starts inside a line: leave that line out too.
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			cut.dropped += int64(i + 1)
			buf = buf[i+1:]
		}
	}
	return buf, cut, nil
}

// writeFile writes one file of the cluster's folder, at a path made of checked parts, through the
// folder's os.Root: nothing can land outside it, not even through a link.
func (c *clusterCollector) writeFile(path string, write func(io.Writer) error) error {
	if err := c.root.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := c.root.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeObject stores one object at its inspect path, with Secret values replaced by their length. An
// object whose names cannot be a path is recorded as skipped, never written.
func (c *clusterCollector) writeObject(gvr schema.GroupVersionResource, o *unstructured.Unstructured) {
	ns, name := o.GetNamespace(), o.GetName()
	what := fmt.Sprintf("%s %q%s", gvr.Resource, name, quotedIn(ns))
	group := gvr.Group
	if group == "" {
		group = "core"
	}
	var path string
	err := checkObjectName(name)
	if err == nil {
		err = checkGroupResource(gvr.Group, gvr.Resource)
	}
	if err == nil && ns != "" {
		err = checkNamespace(ns)
		if err == nil {
			path, err = localPath("namespaces", ns, group, gvr.Resource, name+".yaml")
		}
	} else if err == nil {
		path, err = localPath("cluster-scoped-resources", group, gvr.Resource, name+".yaml")
	}
	if err != nil {
		c.refuse(what, "not written", err)
		return
	}
	secrets := gvr.Group == "" && gvr.Resource == "secrets"
	if secrets && o.GetLabels()[msaSecretLabel] == "true" {
		c.res.Skipped = append(c.res.Skipped, fmt.Sprintf("secret %s/%s: a ManagedServiceAccount token, never copied", ns, name))
		return
	}
	o.SetManagedFields(nil)
	// Every object, not only Secrets: ManifestWorks, policies and last-applied copies embed them.
	elideObject(o.Object, secrets)
	data, err := yaml.Marshal(o.Object)
	if err == nil {
		err = c.writeFile(path, func(w io.Writer) error { _, err := w.Write(data); return err })
	}
	if err != nil {
		c.refuse(what, "not written", err)
		return
	}
	c.res.Objects++
}

// msaSecretLabel marks ManagedServiceAccount token Secrets on the hub.
const msaSecretLabel = "authentication.open-cluster-management.io/is-managed-serviceaccount"

// kubeconfigServer returns the server URL of a base64 kubeconfig's current context.
func kubeconfigServer(b64 string) string {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return ""
	}
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		return ""
	}
	if c := cfg.Contexts[cfg.CurrentContext]; c != nil {
		if cl := cfg.Clusters[c.Cluster]; cl != nil {
			return cl.Server
		}
	}
	for _, cl := range cfg.Clusters {
		return cl.Server
	}
	return ""
}
