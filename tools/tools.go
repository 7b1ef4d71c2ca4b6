// Package tools is the MCP surface of the server: each tool's name, description, input schema,
// annotations and handler live together in one file. Register decides which tools exist.
package tools

import (
	"context"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"go.uber.org/zap"
	"k8s.io/client-go/rest"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/approval"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/archives"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/budget"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/guardrails"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/index"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/policy"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/runbooks"
	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// Deps is what tools need from the rest of the server.
type Deps struct {
	Source ocm.Source
	// Clusters connects to the hub and spokes; nil offline.
	Clusters Connector
	ReadOnly bool
	// MaxOutputBytes caps each tool result's text.
	MaxOutputBytes int
	// Now is the clock used for ages; tests pin it.
	Now func() time.Time
	// Kubectl runs kubectl commands in-process; nil offline.
	Kubectl *kubectl.Engine
	// FanOutConcurrency bounds concurrent clusters in one call.
	FanOutConcurrency int
	// Log receives the audit lines.
	Log *zap.Logger
	// Offline is set when the server answers from a must-gather archive.
	Offline bool
	// Archive is the opened must-gather in offline mode.
	Archive *mustgather.Archive
	// MustGatherDir receives collected archives (live mode).
	MustGatherDir string
	// Archives keeps collected archives as resources of their collector, with retention and a quota (nil:
	// archives stay on disk only).
	Archives *archives.Store
	// Authz decides per caller and cluster (HTTP callers); nil allows everything.
	Authz Authorizer
	// Runbooks are offered as resources and searched by search_runbooks.
	Runbooks *runbooks.Set
	// Approval is the autonomy level: which kubectl_write changes wait for approval (default: all).
	Approval approval.Mode
	// Approvals issues and redeems one-time approvals; made at registration when nil.
	Approvals *approval.Store
	// Guardrails are the limits every change is checked against (nil: guardrails.Defaults()).
	Guardrails *guardrails.Settings
	// Budgets limit what callers and clusters spend per window (nil: the default limits).
	Budgets *budget.Ledger
	// Policy is evaluated on every kubectl_write change and every cluster a must_gather collects (nil: none).
	Policy *policy.Engine
	// Index is the fleet index fleet_sql and fleet_history query (nil: those tools are absent).
	Index *index.Store
	// Metrics are the metrics sources (nil: no metrics tools, except metrics_alerts offline).
	Metrics *metrics.Set
	// MetricsLimits are the metrics guardrails (nil: metrics.DefaultLimits()).
	MetricsLimits *metrics.Limits
}

// Authorizer says whether the request's caller may read (or change) a cluster; the error explains a no.
type Authorizer interface {
	Allowed(ctx context.Context, cluster string, write bool) error
	// AllowedHub says whether the caller may read the hub's own status when the hub is not registered as
	// a ManagedCluster of itself.
	AllowedHub(ctx context.Context) error
}

// scoped runs a tool handler with the caller's view of the fleet: names of clusters the caller may not
// read appear nowhere (suggestions, lists of clusters left out, fan-out and fleet-wide results). Without
// a caller (stdio, or HTTP without authentication) the view is the server's.
func (d Deps) scoped(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	if d.Authz == nil {
		return next
	}
	visible := func(ctx context.Context, cluster string) bool { return d.Authz.Allowed(ctx, cluster, false) == nil }
	visibleMany := func(ctx context.Context, clusters []string) []bool {
		errs := d.allowedMany(ctx, clusters, false)
		out := make([]bool, len(errs))
		for i, err := range errs {
			out[i] = err == nil
		}
		return out
	}
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if auth.CallerFrom(ctx) != nil {
			ctx = ocm.WithVisibilityMany(ctx, visible, visibleMany)
		}
		return next(ctx, req)
	}
}

// readable says whether the caller may read what the server itself knows of a target (its status, from
// the server's own view of the hub), for one-cluster tools such as cluster_status. The hub is checked too:
// by the read permission on its own ManagedCluster when it is registered as one (local-cluster), else by
// the hub permission (--authz-hub).
func (d Deps) readable(ctx context.Context, t ocm.Target) error {
	if d.Authz == nil {
		return nil
	}
	var err error
	switch {
	case !t.Hub:
		err = d.Authz.Allowed(ctx, t.Name, false)
	case t.Cluster != nil && t.Cluster.Name != "":
		err = d.Authz.Allowed(ctx, t.Cluster.Name, false)
	default:
		err = d.Authz.AllowedHub(ctx)
	}
	if err != nil {
		audit.Denied(ctx, t.Name)
	}
	return err
}

// permitted splits targets into those the caller may use and the refusals. The hub itself is not
// checked here: hub requests impersonate the caller, so the hub's own RBAC decides each one. (What the
// server shows of the hub from its own view is checked by readable.)
func (d Deps) permitted(ctx context.Context, targets []ocm.Target, write bool) ([]ocm.Target, []error) {
	if d.Authz == nil {
		return targets, nil
	}
	var names []string
	for _, t := range targets {
		if !t.Hub {
			names = append(names, t.Name)
		}
	}
	errs := d.allowedMany(ctx, names, write)
	var ok []ocm.Target
	var denied []error
	for _, t := range targets {
		if t.Hub {
			ok = append(ok, t)
			continue
		}
		err := errs[0]
		errs = errs[1:]
		if err != nil {
			audit.Denied(ctx, t.Name)
			denied = append(denied, err)
			continue
		}
		ok = append(ok, t)
	}
	return ok, denied
}

// BulkAuthorizer is an Authorizer that answers for many clusters at once (auth.ClusterAuthorizer: one
// hub review when the caller may use every cluster, else concurrent reviews).
type BulkAuthorizer interface {
	AllowedMany(ctx context.Context, clusters []string, write bool) []error
}

// allowedMany asks the Authorizer about many clusters, in bulk when it can answer so.
func (d Deps) allowedMany(ctx context.Context, clusters []string, write bool) []error {
	if b, ok := d.Authz.(BulkAuthorizer); ok {
		if errs := b.AllowedMany(ctx, clusters, write); len(errs) == len(clusters) {
			return errs
		}
	}
	errs := make([]error, len(clusters))
	for i, c := range clusters {
		errs[i] = d.Authz.Allowed(ctx, c, write)
	}
	return errs
}

// Connector gives REST configs for targets and reports the state of spoke credentials (auth.Provider).
type Connector interface {
	RESTConfig(ctx context.Context, t ocm.Target) (*rest.Config, error)
	Provisioned(cluster string) bool
	CredentialState(ctx context.Context, cluster string) []string
}

// Register adds every tool that the configuration allows.
func Register(s *server.MCPServer, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxOutputBytes == 0 {
		d.MaxOutputBytes = output.DefaultMaxBytes
	}
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	if d.Budgets == nil {
		d.Budgets = budget.New(budget.Options{Limits: budget.Defaults()})
	}
	add := func(tools ...server.ServerTool) {
		for i := range tools {
			tools[i].Handler = d.scoped(tools[i].Handler)
		}
		s.AddTools(tools...)
	}
	add(listClusters(d), clusterStatus(d), dashboardTool(d))
	registerDashboard(s)
	if d.Clusters != nil {
		add(diagnoseTool(d))
	}
	if d.Kubectl != nil && d.Clusters != nil {
		add(kubectlTool(d))
		if !d.ReadOnly && !d.Offline {
			if d.Approval == "" {
				d.Approval = approval.All
			}
			if d.Approvals == nil {
				store, err := approval.NewStore(approval.DefaultTTL, 0, nil)
				if err != nil {
					d.Log.Error("kubectl_write is not available: no approval store", zap.Error(err))
				}
				d.Approvals = store
			}
			if d.Approvals != nil {
				add(kubectlWriteTool(d))
			}
		}
	}
	if d.Archive != nil {
		add(mustGatherSummaryTool(d), metricsAlertsTool(d))
	}
	if d.Metrics != nil && !d.Offline {
		add(metricsQueryTool(d), metricsAlertsTool(d), metricsSeriesTool(d))
	}
	// must_gather writes to the server's disk: read-only mode, which keeps only read-only tools, leaves it
	// to the `must-gather` command.
	if !d.Offline && !d.ReadOnly && d.Clusters != nil && d.MustGatherDir != "" {
		add(mustGatherTool(d))
		if d.Archives != nil {
			registerArchiveResources(s, d.Archives)
		}
	}
	if d.Index != nil {
		add(fleetSQLTool(d), fleetHistoryTool(d))
	}
	if d.Runbooks != nil {
		registerRunbooks(s, d.Runbooks)
		add(searchRunbooksTool(d))
	}
	registerPrompts(s)
}
