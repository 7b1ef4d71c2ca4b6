// Package config turns flags, environment variables and an optional YAML file into one validated Config.
//
// Every setting is declared once in Settings: the cobra flags, the MCMCP_* environment variables, the
// config file keys and the README's settings table all derive from that list, so they cannot drift apart.
package config

import (
	"fmt"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/archives"
	"strings"
	"time"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/budget"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/guardrails"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/policy"
)

// EnvPrefix is prepended (with an underscore) to every setting's environment variable.
const EnvPrefix = "MCMCP"

// Kind is the type of a setting's value.
type Kind int

const (
	KindString Kind = iota
	KindBool
	KindInt
	KindDuration
	KindStringList
)

// Setting describes one configuration key.
type Setting struct {
	Name    string // flag name and config file key, e.g. "read-only"
	Kind    Kind
	Default any
	Usage   string
	// Allowed, when set, lists the only accepted values of a string setting.
	Allowed []string
	// Commands lists the cobra commands that expose the setting as a flag.
	Commands []string
}

// EnvVar is the environment variable that carries the setting.
func (s Setting) EnvVar() string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
}

// DefaultString renders the default for documentation.
func (s Setting) DefaultString() string {
	switch v := s.Default.(type) {
	case string:
		return v
	case []string:
		return strings.Join(v, ",")
	case time.Duration:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

const (
	cmdServe      = "serve"
	cmdMustGather = "must-gather"
)

var (
	serveOnly = []string{cmdServe}
	allCmds   = []string{cmdServe, cmdMustGather}
)

// Settings is the single list of every configuration key. It is a function, not a variable, so that no
// caller can mutate shared state.
func Settings() []Setting {
	out := append(baseSettings(), budgetSettings()...)
	out = append(out, indexSettings()...)
	out = append(out, telemetrySettings()...)
	out = append(out, addonSettings()...)
	return append(out, metricsSettings()...)
}

// Metrics sources' defaults.
const (
	DefaultMetricsHubService     = "http:open-cluster-management-observability/observability-thanos-query:9090"
	DefaultMetricsClusterService = "https:openshift-monitoring/prometheus-k8s:9091"
)

// metricsSettings are the metrics sources, then the metrics guardrails from the metrics package's table.
func metricsSettings() []Setting {
	out := []Setting{
		{Name: "metrics-hub-service", Kind: KindString, Default: DefaultMetricsHubService, Commands: serveOnly,
			Usage: "the hub's fleet store (ACM observability's Thanos querier) as [scheme:]namespace/name:port, reached through the hub API server's service proxy with the server's own hub identity; empty: none"},
		{Name: "metrics-cluster-service", Kind: KindString, Default: DefaultMetricsClusterService, Commands: allCmds,
			Usage: "each cluster's own Prometheus as [scheme:]namespace/name:port, reached through that cluster's API server service proxy with its ManagedServiceAccount; the spoke grant allows get on exactly this services/proxy; empty: none"},
		{Name: "metrics-cluster-label", Kind: KindString, Default: "cluster", Commands: serveOnly,
			Usage: "the label that names the cluster in a fleet store's series (hub store, metrics URL)"},
		{Name: "metrics-url", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "a Prometheus or Thanos HTTP API base URL used as a fleet store (series labelled by --metrics-cluster-label); empty: none"},
		{Name: "metrics-url-token-file", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "file holding a bearer token for --metrics-url, read once at start"},
		{Name: "metrics-url-ca-file", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "PEM CA bundle that verifies --metrics-url, read once at start (default: system roots)"},
	}
	for _, l := range metrics.LimitTable() {
		kind := KindInt
		if _, ok := l.Default.(time.Duration); ok {
			kind = KindDuration
		}
		out = append(out, Setting{Name: "metrics-" + l.Name, Kind: kind, Default: l.Default, Commands: serveOnly, Usage: l.Usage})
	}
	return out
}

// budgetSettings are the limits of the budgets, one setting each, from the budget package's table.
func budgetSettings() []Setting {
	var out []Setting
	for _, b := range budget.Budgets() {
		out = append(out, Setting{Name: "budget-" + string(b.Name), Kind: KindInt, Default: b.Default, Commands: serveOnly,
			Usage: "budget: " + b.Usage + " (see --budget-window); 0: no limit"})
	}
	return out
}

func baseSettings() []Setting {
	return []Setting{
		{Name: "kubeconfig", Kind: KindString, Default: "", Commands: allCmds,
			Usage: "kubeconfig of the OCM hub (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)"},
		{Name: "context", Kind: KindString, Default: "", Commands: allCmds,
			Usage: "kubeconfig context to use for the hub (default: the kubeconfig's current context)"},
		{Name: "transport", Kind: KindString, Default: "stdio", Allowed: []string{"stdio", "http"}, Commands: serveOnly,
			Usage: "MCP transport: stdio, or http (Streamable HTTP at /mcp and legacy SSE at /sse + /message)"},
		{Name: "listen", Kind: KindString, Default: "127.0.0.1:8080", Commands: serveOnly,
			Usage: "address the http transport listens on"},
		{Name: "read-only", Kind: KindBool, Default: false, Commands: allCmds,
			Usage: "register no tool that changes a cluster, and request read-only RBAC on spokes"},
		{Name: "log-level", Kind: KindString, Default: "info", Allowed: []string{"debug", "info", "warn", "error"}, Commands: allCmds,
			Usage: "log level (logs always go to stderr)"},
		{Name: "log-format", Kind: KindString, Default: "json", Allowed: []string{"json", "console"}, Commands: allCmds,
			Usage: "log encoding"},
		{Name: "hub-timeout", Kind: KindDuration, Default: 15 * time.Second, Commands: allCmds,
			Usage: "timeout of each call to the hub API server"},
		{Name: "cluster-timeout", Kind: KindDuration, Default: 30 * time.Second, Commands: allCmds,
			Usage: "timeout of each call to a spoke's API server"},
		{Name: "msa-name", Kind: KindString, Default: "multicluster-mcp-server", Commands: allCmds,
			Usage: "name of the ManagedServiceAccount (and of its RBAC grant) the server creates in each cluster namespace"},
		{Name: "spoke-cluster-role", Kind: KindString, Default: "", Commands: allCmds,
			Usage: "ClusterRole bound to the server's account on spokes instead of the default: view, plus in read-write mode the server's own ClusterRole (what edit allows, without token requests, impersonation or RBAC writes); never cluster-admin unless set here"},
		{Name: "manifestwork-grant", Kind: KindBool, Default: false, Commands: allCmds,
			Usage: "carry the spoke RBAC grant in a ManifestWork when the hub has no ClusterPermission API (the hub role then needs create on manifestworks: manifests/components/manifestwork-grant)"},
		{Name: "prepare-credentials", Kind: KindBool, Default: false, Commands: serveOnly,
			Usage: "provision spoke credentials for every cluster at start instead of on first use"},
		{Name: "token-timeout", Kind: KindDuration, Default: 60 * time.Second, Commands: allCmds,
			Usage: "how long first use of a cluster waits for its token and RBAC grant"},
		{Name: "cluster-proxy-url", Kind: KindString, Default: "", Commands: allCmds,
			Usage: "reach spokes through the cluster-proxy user server at <url>/<cluster> instead of their published API URLs"},
		{Name: "cluster-proxy-ca-file", Kind: KindString, Default: "", Commands: allCmds,
			Usage: "PEM CA bundle that verifies the cluster-proxy user server (default: system roots)"},
		{Name: "client-cache-size", Kind: KindInt, Default: 5000, Commands: allCmds,
			Usage: "how many spokes' credentials and clients are kept in memory"},
		{Name: "discovery-cache-size", Kind: KindInt, Default: 5000, Commands: allCmds,
			Usage: "how many clusters' connections and API discovery kubectl keeps in memory; clusters that serve the same APIs share one copy of discovery (about 0.8 MB), so each costs a connection; others connect and are discovered again when used"},
		{Name: "max-output-bytes", Kind: KindInt, Default: 32768, Commands: serveOnly,
			Usage: "cap on each tool result's text; longer output is cut with a note on how to narrow the query"},
		{Name: "allow-secret-values", Kind: KindBool, Default: false, Commands: serveOnly,
			Usage: "show Secret data values in kubectl output (by default they are replaced by their byte counts)"},
		{Name: "approval", Kind: KindString, Default: "all", Allowed: []string{"all", "destructive", "none"}, Commands: serveOnly,
			Usage: "autonomy level: which kubectl_write changes wait for a person's approval after their preview: all, destructive (deletes, drains, cordons, taints, replaces, rollbacks, scaling to zero), or none"},
		{Name: "approval-ttl", Kind: KindDuration, Default: 10 * time.Minute, Commands: serveOnly,
			Usage: "how long an approval returned by a preview stays valid (it is also used once at most)"},
		{Name: "guardrails-max-replicas", Kind: KindInt, Default: 50, Commands: serveOnly,
			Usage: "guardrail: most replicas a kubectl_write change may give an object (spec.replicas, an autoscaler's maxReplicas); 0: no limit"},
		{Name: "guardrails-max-scale-factor", Kind: KindInt, Default: 2, Commands: serveOnly,
			Usage: "guardrail: a change of replicas multiplies or divides them by at most this (2: at most doubling or halving; 0 counts as 1); 0: no limit"},
		{Name: "guardrails-max-deletes", Kind: KindInt, Default: 10, Commands: serveOnly,
			Usage: "guardrail: most objects one kubectl_write command may delete; 0: no limit"},
		{Name: "guardrails-protected-namespaces", Kind: KindStringList, Default: guardrails.DefaultProtectedNamespaces(), Commands: serveOnly,
			Usage: "guardrail: namespaces (glob patterns, comma-separated) in which kubectl_write changes nothing, nor the namespaces themselves"},
		{Name: "guardrails-protected-kinds", Kind: KindStringList, Default: guardrails.DefaultProtectedKinds(), Commands: serveOnly,
			Usage: "guardrail: resource types (plural, optionally resource.group; comma-separated) kubectl_write changes no object of"},
		{Name: "guardrails-allow", Kind: KindStringList, Default: []string{}, Commands: serveOnly,
			Usage: "guardrails switched off, by rule name (comma-separated): pod-disruption-budgets, max-replicas, max-scale-factor, protected-namespaces, protected-kinds, max-deletes"},
		{Name: "budget-window", Kind: KindDuration, Default: time.Hour, Commands: serveOnly,
			Usage: "how far back the budgets count spending (whole minutes, at least one)"},
		{Name: "policy-dir", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "folder of Rego policies (its .rego files, in package mcmcp) evaluated with the built-in ones on every kubectl_write change and every cluster a must_gather collects; a file that does not compile stops the server at start"},
		{Name: "policy-disable", Kind: KindStringList, Default: []string{}, Commands: serveOnly,
			Usage: "built-in policies switched off, by name (comma-separated): " + strings.Join(policy.Builtins(), ", ")},
		{Name: "policy-production-groups", Kind: KindStringList, Default: []string{}, Commands: serveOnly,
			Usage: "groups whose members may run destructive kubectl_write commands on clusters labelled environment=production (policy production-destructive; comma-separated); empty: nobody"},
		{Name: "policy-timeout", Kind: KindDuration, Default: policy.DefaultTimeout, Commands: serveOnly,
			Usage: "how long one policy evaluation may take; one that fails or takes longer refuses the change"},
		{Name: "fanout-concurrency", Kind: KindInt, Default: 128, Commands: serveOnly,
			Usage: "how many clusters one fan-out call (kubectl, diagnose) works on at once; each holds at most the answer's cap of output while it runs (1 MiB with aggregate)"},
		{Name: "memory-limit", Kind: KindString, Default: "auto", Commands: serveOnly,
			Usage: "soft limit of the server's memory (the Go runtime's GOMEMLIMIT; the garbage collector works harder near it): a size such as 512Mi, auto (90% of the container's memory limit when it has one, else a GOMEMLIMIT from the environment, else none) or 0 (none)"},
		{Name: "must-gather", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "serve offline from a must-gather folder or .tar.gz instead of a hub (no hub is contacted; write tools are absent)"},
		{Name: "must-gather-dir", Kind: KindString, Default: "", Commands: allCmds,
			Usage: "folder where collected must-gather archives are written (default: the current folder for the CLI, the system temp folder for the server)"},
		{Name: "must-gather-retention", Kind: KindDuration, Default: archives.DefaultRetention, Commands: serveOnly,
			Usage: "how long an archive the must_gather tool collected is kept (a resource of its collector) before it is deleted"},
		{Name: "must-gather-quota-bytes", Kind: KindInt, Default: archives.DefaultQuotaBytes, Commands: serveOnly,
			Usage: "most disk the kept must_gather archives take together; a collection that would exceed it is refused"},
		{Name: "must-gather-max-bytes", Kind: KindInt, Default: 8 << 30, Commands: allCmds,
			Usage: "largest unpacked size of a must-gather archive the server opens"},
		{Name: "must-gather-max-files", Kind: KindInt, Default: 1_000_000, Commands: allCmds,
			Usage: "most files a must-gather archive may hold"},
		{Name: "insecure-no-auth", Kind: KindBool, Default: false, Commands: serveOnly,
			Usage: "HTTP only: accept requests without a bearer token, acting with the server's identity (local development only; logged loudly; loopback only unless --allow-unauthenticated-non-loopback)"},
		{Name: "allow-unauthenticated-non-loopback", Kind: KindBool, Default: false, Commands: serveOnly,
			Usage: "HTTP only: let a server without authentication (--insecure-no-auth, or --must-gather) listen on an address other than loopback, where every host that reaches it acts with the server's identity"},
		{Name: "audience", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "HTTP only: the audience bearer tokens must be issued for (sent in each TokenReview; a token the hub does not accept for it is refused); default: the hub API server's own audience"},
		{Name: "auth-rate-limit", Kind: KindInt, Default: 10, Commands: serveOnly,
			Usage: "HTTP only: new tokens checked (TokenReviews) and failed authentications per second per client address (burst: twice as many); over it the client gets 429 and its token is not sent to the hub"},
		{Name: "trusted-proxies", Kind: KindStringList, Default: []string{}, Commands: serveOnly,
			Usage: "HTTP only: IP addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client address (comma-separated); by default X-Forwarded-For is ignored"},
		{Name: "tls-cert", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "HTTP only: PEM certificate to serve HTTPS (with --tls-key)"},
		{Name: "tls-key", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "HTTP only: PEM private key for --tls-cert"},
		{Name: "allowed-origins", Kind: KindStringList, Default: []string{}, Commands: serveOnly,
			Usage: "HTTP only: browser Origins accepted besides the server's own loopback host (comma-separated)"},
		{Name: "session-key-file", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "HTTP only: a file of at least 32 random bytes shared by the server's replicas: Streamable HTTP sessions become stateless (each id carries its owner's MAC under the key), so any replica serves any request of a session without sticky sessions"},
		{Name: "oauth-resource", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "HTTP only: the server's OAuth resource identifier, its public MCP URL (e.g. https://mcp.example.com/mcp), in /.well-known/oauth-protected-resource and 401 challenges; empty: the URL each request reached"},
		{Name: "oauth-authorization-servers", Kind: KindStringList, Default: []string{}, Commands: serveOnly,
			Usage: "HTTP only: issuers of tokens the hub accepts, published in the protected resource metadata (comma-separated; e.g. OpenShift's OAuth server URL)"},
		{Name: "max-request-bytes", Kind: KindInt, Default: 1 << 20, Commands: serveOnly,
			Usage: "HTTP only: largest request body accepted"},
		{Name: "rate-limit", Kind: KindInt, Default: 20, Commands: serveOnly,
			Usage: "HTTP only: requests per second each caller may make (burst: twice as many)"},
		{Name: "audit-log", Kind: KindString, Default: "stderr", Commands: serveOnly,
			Usage: "where the audit log goes: one JSON line per tool call (a file path, or stderr)"},
		{Name: "authz-read", Kind: KindString, Default: "get managedclusters.cluster.open-cluster-management.io", Commands: serveOnly,
			Usage: "HTTP only: the hub permission (\"<verb> <resource>[/<subresource>].<group>\", on the cluster's name) a caller needs to read a cluster"},
		{Name: "authz-write", Kind: KindString, Default: "update managedclusters.cluster.open-cluster-management.io", Commands: serveOnly,
			Usage: "HTTP only: the hub permission a caller needs to change a cluster through kubectl_write"},
		{Name: "authz-hub", Kind: KindString, Default: "list managedclusters.cluster.open-cluster-management.io", Commands: serveOnly,
			Usage: "HTTP only: the hub permission (asked without a resource name) a caller needs to read the hub's own status when the hub is not registered as a ManagedCluster of itself; when it is (local-cluster=true), --authz-read on that ManagedCluster applies"},
		{Name: "runbooks", Kind: KindString, Default: "", Commands: serveOnly,
			Usage: "folder of the team's own runbooks (*.md), offered beside the built-in ones as runbook://team/<name>"},
		{Name: "shutdown-timeout", Kind: KindDuration, Default: 10 * time.Second, Commands: serveOnly,
			Usage: "how long a graceful shutdown waits for requests in flight"},
	}
}

// Lookup returns the setting with the given name.
func Lookup(name string) (Setting, bool) {
	for _, s := range Settings() {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}
