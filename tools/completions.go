package tools

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// Completions offer values for prompt arguments and resource template variables as a client types
// them: cluster names (those the caller may read, and hub), add-on names, a cluster's namespaces (read
// from the cluster with the caller's view of it) and runbook names.
type Completions struct {
	d Deps
}

// NewCompletions is the completion provider of the tools registered with d.
func NewCompletions(d Deps) *Completions { return &Completions{d: d} }

// maxCompletions is what the MCP spec allows in one answer.
const maxCompletions = 100

// namespaceTimeout bounds the read of a cluster's namespaces for one completion.
const namespaceTimeout = 5 * time.Second

// CompletePromptArgument completes the arguments of the prompts.
func (c *Completions) CompletePromptArgument(ctx context.Context, _ string, arg mcp.CompleteArgument, cc mcp.CompleteContext) (*mcp.Completion, error) {
	switch arg.Name {
	case "cluster":
		return c.clusters(ctx, arg.Value)
	case "addon":
		return c.addons(ctx, arg.Value, cc.Arguments["cluster"])
	case "namespace":
		return c.namespaces(ctx, arg.Value, cc.Arguments["cluster"])
	}
	return &mcp.Completion{Values: []string{}}, nil
}

// CompleteResourceArgument completes runbook://{source}/{name}.
func (c *Completions) CompleteResourceArgument(_ context.Context, uri string, arg mcp.CompleteArgument, cc mcp.CompleteContext) (*mcp.Completion, error) {
	if !strings.HasPrefix(uri, "runbook://") || c.d.Runbooks == nil {
		return &mcp.Completion{Values: []string{}}, nil
	}
	var values []string
	for _, rb := range c.d.Runbooks.Runbooks {
		source, name, _ := strings.Cut(strings.TrimPrefix(rb.URI, "runbook://"), "/")
		switch arg.Name {
		case "source":
			values = append(values, source)
		case "name":
			if want := cc.Arguments["source"]; want == "" || want == source {
				values = append(values, name)
			}
		}
	}
	return completion(values, arg.Value), nil
}

func (c *Completions) clusters(ctx context.Context, prefix string) (*mcp.Completion, error) {
	all, err := c.d.Source.ManagedClusters(ctx, labels.Everything())
	if err != nil {
		return nil, err
	}
	var names []string
	for _, mc := range all {
		if strings.HasPrefix(mc.Name, prefix) {
			names = append(names, mc.Name)
		}
	}
	names = c.visible(ctx, names)
	if strings.HasPrefix(ocm.HubName, prefix) {
		names = append(names, ocm.HubName)
	}
	return completion(names, prefix), nil
}

// visible keeps the clusters the caller may read (all without a caller).
func (c *Completions) visible(ctx context.Context, names []string) []string {
	if c.d.Authz == nil || auth.CallerFrom(ctx) == nil || len(names) == 0 {
		return names
	}
	errs := c.d.allowedMany(ctx, names, false)
	kept := names[:0]
	for i, n := range names {
		if errs[i] == nil {
			kept = append(kept, n)
		}
	}
	return kept
}

func (c *Completions) addons(ctx context.Context, prefix, cluster string) (*mcp.Completion, error) {
	var clusters []string
	if cluster != "" {
		clusters = c.visible(ctx, []string{cluster})
	} else {
		all, err := c.d.Source.ManagedClusters(ctx, labels.Everything())
		if err != nil {
			return nil, err
		}
		for _, mc := range all {
			clusters = append(clusters, mc.Name)
		}
		clusters = c.visible(ctx, clusters)
	}
	seen := map[string]bool{}
	for _, name := range clusters {
		addons, err := c.d.Source.AddOns(ctx, name)
		if err != nil {
			continue
		}
		for _, a := range addons {
			seen[a.Name] = true
		}
	}
	values := make([]string, 0, len(seen))
	for n := range seen {
		values = append(values, n)
	}
	return completion(values, prefix), nil
}

// namespaces lists the namespaces of the cluster the prompt names, as the caller sees them (requests to
// the hub impersonate the caller; a spoke is read with the server's grant there after the caller's
// permission on the cluster is checked).
func (c *Completions) namespaces(ctx context.Context, prefix, cluster string) (*mcp.Completion, error) {
	none := &mcp.Completion{Values: []string{}}
	if cluster == "" || c.d.Clusters == nil {
		return none, nil
	}
	t, err := ocm.Resolve(ctx, c.d.Source, cluster)
	if err != nil {
		return none, nil
	}
	if ok, _ := c.d.permitted(ctx, []ocm.Target{t}, false); len(ok) == 0 {
		return none, nil
	}
	if !t.Hub && ocm.WouldWaitForToken(t, c.d.Clusters.Provisioned) {
		return none, nil
	}
	cfg, err := c.d.Clusters.RESTConfig(ctx, t)
	if err != nil {
		return none, nil
	}
	cfg.Timeout = namespaceTimeout
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return none, nil
	}
	ctx, cancel := context.WithTimeout(ctx, namespaceTimeout)
	defer cancel()
	list, err := kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 500})
	if err != nil {
		return none, nil
	}
	values := make([]string, 0, len(list.Items))
	for _, ns := range list.Items {
		values = append(values, ns.Name)
	}
	return completion(values, prefix), nil
}

// completion is the sorted values that start with prefix, at most maxCompletions, saying if there are more.
func completion(values []string, prefix string) *mcp.Completion {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		if strings.HasPrefix(v, prefix) && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	total := len(out)
	if total > maxCompletions {
		out = out[:maxCompletions]
	}
	return &mcp.Completion{Values: append([]string{}, out...), Total: total, HasMore: total > maxCompletions}
}
