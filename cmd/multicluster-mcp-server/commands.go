package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/approval"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/archives"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/budget"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/config"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/logging"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/mcpserver"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/memlimit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/policy"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/runbooks"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/telemetry"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/version"
	"github.com/ocm-fleet/multicluster-mcp-server/mustgather"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm/selfaddon"
	"github.com/ocm-fleet/multicluster-mcp-server/tools"
)

// usageError marks a command-line mistake (unknown flag, stray argument): exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func newRootCommand() *cobra.Command {
	serve := newServeCommand()
	root := &cobra.Command{
		Use:   "multicluster-mcp-server",
		Short: "An MCP server that operates an Open Cluster Management fleet from its hub",
		Long: "multicluster-mcp-server lets an MCP client (Claude, IDE agents, the MCP Inspector) see and operate every\n" +
			"cluster managed by an Open Cluster Management hub. Without a subcommand it runs `serve`.",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE:          serve.RunE,
	}
	config.AddFlags(root.Flags(), "serve")
	root.AddCommand(serve, newVersionCommand(), newMustGatherCommand())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, Go version and the MCP protocol versions served",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), version.String())
			return err
		},
	}
}

func newServeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve MCP over stdio or HTTP",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags())
			if err != nil {
				return err
			}
			return serve(cmd, cfg)
		},
	}
	config.AddFlags(cmd.Flags(), "serve")
	return cmd
}

func serve(cmd *cobra.Command, cfg *config.Config) error {
	log, err := logging.New(logging.Options{Level: cfg.LogLevel, Format: cfg.LogFormat})
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	limit, err := memlimit.Resolve(cfg.MemoryLimit, os.Getenv, memlimit.ReadCgroup)
	if err != nil {
		return &config.Error{Setting: "memory-limit", Err: err}
	}
	memlimit.Apply(limit)
	log.Info("memory limit", zap.Int64("bytes", limit.Bytes), zap.String("from", limit.From))
	tel, stopTelemetry, err := startTelemetry(cmd.Context(), cfg, log)
	if err != nil {
		return err
	}
	defer stopTelemetry()
	if cfg.MustGather != "" {
		return serveOffline(cmd, cfg, log, tel)
	}
	// The policies compile before anything else: a file that does not stops the server at once.
	pol, err := policy.New(cmd.Context(), cfg.Policy())
	if err != nil {
		return &config.Error{Setting: "policy-dir", Err: err}
	}
	log.Info("policy", zap.Strings("builtin", pol.Builtin()), zap.Strings("files", pol.Files()),
		zap.Strings("disabled", cfg.PolicyDisable), zap.Strings("productionGroups", cfg.PolicyProductionGroups), zap.Duration("timeout", pol.Timeout()))
	hub, registry, provider, addon, err := connectFleet(cmd.Context(), cfg, tel, log)
	if err != nil {
		return err
	}
	if addon != nil {
		go addon.Report(cmd.Context(), log.Named("addon"), addonCheck(registry, provider))
	}
	log.Info("starting", zap.String("version", version.Version()), zap.String("hub", hub.Name),
		zap.String("transport", cfg.Transport), zap.Bool("readOnly", cfg.ReadOnly))
	if cfg.PrepareCredentials {
		go prepareCredentials(cmd.Context(), log, registry, provider)
	}
	sh, closeShared, err := openShared(cfg)
	if err != nil {
		return err
	}
	defer closeShared()
	idx, closeIndex, err := startIndexLive(cmd.Context(), cfg, log, registry, provider)
	if err != nil {
		return err
	}
	defer closeIndex()
	mode, err := approval.ParseMode(cfg.Approval)
	if err != nil {
		return &config.Error{Setting: "approval", Err: err}
	}
	approvals, err := approval.NewStore(cfg.ApprovalTTL, 0, nil)
	if err != nil {
		return err
	}
	if key, _ := cfg.SessionKey(); key != nil { // validated when loaded
		approvals.ShareKey(key)
	}
	log.Info("approval", zap.String("level", string(mode)), zap.Duration("ttl", cfg.ApprovalTTL))
	rails := cfg.Guardrails()
	log.Info("guardrails", zap.Int("maxReplicas", rails.MaxReplicas), zap.Int("maxScaleFactor", rails.MaxScaleFactor),
		zap.Int("maxDeletes", rails.MaxDeletes), zap.Strings("protectedNamespaces", rails.ProtectedNamespaces),
		zap.Strings("protectedKinds", rails.ProtectedKinds), zap.Strings("allow", rails.Allow))
	budgets := cfg.Budgets()
	log.Info("budgets", zap.Duration("window", budgets.Window), zap.Any("limits", budgets.Limits))
	metricsSet, err := newMetrics(cfg, hub)
	if err != nil {
		return err
	}
	metricsLimits := cfg.MetricsLimits()
	log.Info("metrics", zap.String("hubService", cfg.MetricsHubService), zap.String("clusterService", cfg.MetricsClusterService),
		zap.String("clusterLabel", cfg.MetricsClusterLabel), zap.Bool("url", cfg.MetricsURL != ""), zap.Any("limits", metricsLimits))
	gatherDir := mustGatherDir(cfg, filepath.Join(os.TempDir(), "multicluster-mcp-server-must-gather"))
	var kept *archives.Store
	if !cfg.ReadOnly {
		if kept, err = archives.Open(archives.Options{Dir: gatherDir, Retention: cfg.MustGatherRetention, QuotaBytes: int64(cfg.MustGatherQuotaBytes), Log: log.Named("archives")}); err != nil {
			return err
		}
		go kept.Run(cmd.Context(), 0)
	}
	s := mcpserver.New(log, tools.Deps{
		Archives:          kept,
		Metrics:           metricsSet,
		MetricsLimits:     &metricsLimits,
		Budgets:           budget.New(budgets),
		Runbooks:          sh.books,
		Source:            registry,
		Clusters:          provider,
		Kubectl:           sh.engine,
		Approval:          mode,
		Approvals:         approvals,
		Guardrails:        &rails,
		Policy:            pol,
		ReadOnly:          cfg.ReadOnly,
		MaxOutputBytes:    cfg.MaxOutputBytes,
		FanOutConcurrency: cfg.FanOutConcurrency,
		Log:               log,
		MustGatherDir:     gatherDir,
		Authz:             newAuthorizer(hub, cfg),
		Index:             idx,
	}, sh.audit, toolMiddlewares(tel)...)
	tel.CacheSizes(map[string]func() int{"spoke-clients": provider.CachedClusters, "kubectl-connections": sh.engine.CachedConnections})
	opts := serveOptions(cfg, tel)
	opts.Ready = registry.Ready
	if !cfg.InsecureNoAuth {
		opts.Guard.Authenticator = auth.NewAuthenticator(hub.Kube, auth.AuthenticatorOptions{
			TTL: auth.DefaultAuthCacheTTL, Timeout: cfg.HubTimeout, Audiences: opts.Guard.Audiences,
		})
	}
	return mcpserver.Serve(cmd.Context(), s, log, opts)
}

func serveOptions(cfg *config.Config, tel *telemetry.Telemetry) mcpserver.ServeOptions {
	proxies, _ := config.ParseTrustedProxies(cfg.TrustedProxies) // validated when loaded
	sessionKey, _ := cfg.SessionKey()                            // validated when loaded
	var audiences []string
	if cfg.Audience != "" {
		audiences = []string{cfg.Audience}
	}
	return mcpserver.ServeOptions{
		Transport:             cfg.Transport,
		Listen:                cfg.Listen,
		ShutdownTimeout:       cfg.ShutdownTimeout,
		TLSCert:               cfg.TLSCert,
		TLSKey:                cfg.TLSKey,
		SessionKey:            sessionKey,
		UnauthenticatedReason: cfg.Unauthenticated(),
		Guard: mcpserver.GuardOptions{
			InsecureNoAuth:                  cfg.InsecureNoAuth,
			AllowUnauthenticatedNonLoopback: cfg.AllowUnauthenticatedNonLoopback,
			Audiences:                       audiences,
			AllowedOrigins:                  cfg.AllowedOrigins,
			MaxRequestBytes:                 int64(cfg.MaxRequestBytes),
			RatePerSecond:                   float64(cfg.RateLimit),
			RateBurst:                       2 * cfg.RateLimit,
			AuthRatePerSecond:               float64(cfg.AuthRateLimit),
			AuthBurst:                       2 * cfg.AuthRateLimit,
			TrustedProxies:                  proxies,
			Resource:                        mcpserver.ProtectedResource{Resource: cfg.OAuthResource, AuthorizationServers: cfg.OAuthAuthorizationServers},
			OnRefuse:                        tel.HTTPRefused,
		},
	}
}

// newMetrics builds the metrics sources; the metrics URL's token and CA files are read here, once.
func newMetrics(cfg *config.Config, hub *ocm.Hub) (*metrics.Set, error) {
	hubSvc, clusterSvc := cfg.MetricsServices()
	src := metrics.Sources{HubService: hubSvc, ClusterService: clusterSvc, ClusterLabel: cfg.MetricsClusterLabel, URL: cfg.MetricsURL, Hub: hub.Config}
	if cfg.MetricsURLTokenFile != "" {
		data, err := os.ReadFile(cfg.MetricsURLTokenFile)
		if err != nil {
			return nil, &config.Error{Setting: "metrics-url-token-file", Err: err}
		}
		src.URLToken = strings.TrimSpace(string(data))
	}
	if cfg.MetricsURLCAFile != "" {
		data, err := os.ReadFile(cfg.MetricsURLCAFile)
		if err != nil {
			return nil, &config.Error{Setting: "metrics-url-ca-file", Err: err}
		}
		src.URLCA = data
	}
	set, err := metrics.NewSet(src)
	if err != nil {
		return nil, &config.Error{Setting: "metrics-url", Err: err}
	}
	return set, nil
}

// newAuthorizer checks HTTP callers' access per cluster with SubjectAccessReviews on the hub.
func newAuthorizer(hub *ocm.Hub, cfg *config.Config) *auth.ClusterAuthorizer {
	perm := func(s string) auth.Permission {
		verb, group, resource, sub, _ := config.ParsePermission(s) // validated when loaded
		return auth.Permission{Verb: verb, Group: group, Resource: resource, Subresource: sub}
	}
	return auth.NewClusterAuthorizer(hub.Kube, auth.AuthorizerOptions{
		Read: perm(cfg.AuthzRead), Write: perm(cfg.AuthzWrite), Hub: perm(cfg.AuthzHub),
		TTL: auth.DefaultAuthzCacheTTL, Timeout: cfg.HubTimeout,
	})
}

func mustGatherDir(cfg *config.Config, fallback string) string {
	if cfg.MustGatherDir != "" {
		return cfg.MustGatherDir
	}
	return fallback
}

// connectFleet connects to the hub, starts the cluster registry's informers (they stop with ctx) and
// builds the spoke credential provider: what both serve and must-gather stand on.
func connectFleet(ctx context.Context, cfg *config.Config, tel *telemetry.Telemetry, log *zap.Logger) (*ocm.Hub, *ocm.Registry, *auth.Provider, *selfaddon.Addon, error) {
	hub, err := ocm.ConnectHub(ocm.HubOptions{
		Kubeconfig: cfg.Kubeconfig,
		Context:    cfg.Context,
		Timeout:    cfg.HubTimeout,
		UserAgent:  mcpserver.Name + "/" + version.Version(),
	})
	if err != nil {
		return nil, nil, nil, nil, &config.Error{Setting: "kubeconfig", Err: err}
	}
	registry, err := ocm.NewRegistry(hub)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	registry.Start(ctx)
	addon, err := startAddon(ctx, cfg, hub, log)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	provider, err := newProvider(hub, registry, cfg, tel, addon)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return hub, registry, provider, addon, nil
}

func newProvider(hub *ocm.Hub, registry *ocm.Registry, cfg *config.Config, tel *telemetry.Telemetry, addon *selfaddon.Addon) (*auth.Provider, error) {
	o := auth.Options{
		MSAName:           cfg.MSAName,
		ClusterRole:       cfg.SpokeClusterRole,
		ManifestWorkGrant: cfg.ManifestWorkGrant,
		ReadOnly:          cfg.ReadOnly,
		TokenTimeout:      cfg.TokenTimeout,
		ClusterTimeout:    cfg.ClusterTimeout,
		HubTimeout:        cfg.HubTimeout,
		ProxyURL:          cfg.ClusterProxyURL,
		CacheSize:         cfg.ClientCacheSize,
	}
	if tel != nil {
		o.WrapTransport, o.OnProvision = tel.WrapTransport, tel.Provisioned
	}
	if addon != nil {
		o.Scope = addon.Allows
	}
	if _, svc := cfg.MetricsServices(); !svc.IsZero() {
		o.MetricsProxyName = svc.ProxyName()
	}
	if cfg.ClusterProxyCAFile != "" {
		ca, err := os.ReadFile(cfg.ClusterProxyCAFile)
		if err != nil {
			return nil, &config.Error{Setting: "cluster-proxy-ca-file", Err: err}
		}
		o.ProxyCA = ca
	}
	return auth.NewProvider(hub, registry, o)
}

// prepareCredentials provisions every cluster's credentials at start, logging what failed.
func prepareCredentials(ctx context.Context, log *zap.Logger, registry *ocm.Registry, provider *auth.Provider) {
	clusters, err := registry.ManagedClusters(ctx, labels.Everything())
	if err != nil {
		log.Error("preparing credentials: cannot list clusters", zap.Error(err))
		return
	}
	targets := make([]ocm.Target, 0, len(clusters))
	for _, mc := range clusters {
		if !ocm.IsLocalCluster(mc) {
			targets = append(targets, ocm.Target{Name: mc.Name, Cluster: mc})
		}
	}
	errs := provider.Prepare(ctx, targets, 16)
	for name, err := range errs {
		log.Warn("preparing credentials failed", zap.String("cluster", name), zap.Error(err))
	}
	log.Info("credentials prepared", zap.Int("clusters", len(targets)), zap.Int("failed", len(errs)))
}

// shared is what both serving modes need: the kubectl engine, the audit log and the runbooks.
type shared struct {
	engine *kubectl.Engine
	audit  *audit.Logger
	books  *runbooks.Set
}

func openShared(cfg *config.Config) (*shared, func(), error) {
	books, err := runbooks.Load(cfg.Runbooks)
	if err != nil {
		return nil, nil, &config.Error{Setting: "runbooks", Err: err}
	}
	auditLog, closeAudit, err := audit.Open(cfg.AuditLog)
	if err != nil {
		return nil, nil, &config.Error{Setting: "audit-log", Err: err}
	}
	engine, cleanup, err := newEngine(cfg)
	if err != nil {
		_ = closeAudit()
		return nil, nil, err
	}
	return &shared{engine: engine, audit: auditLog, books: books}, func() { cleanup(); _ = closeAudit() }, nil
}

// newEngine prepares the in-process kubectl with a private folder for manifests, removed at exit.
func newEngine(cfg *config.Config) (*kubectl.Engine, func(), error) {
	dir, err := os.MkdirTemp("", "multicluster-mcp-server-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	engine, err := kubectl.NewEngine(kubectl.Options{AllowSecretValues: cfg.AllowSecretValues, WorkDir: dir, DiscoveryCacheSize: cfg.DiscoveryCacheSize})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return engine, cleanup, nil
}

// serveOffline answers from a must-gather archive: no hub, no credentials, no write tool.
func serveOffline(cmd *cobra.Command, cfg *config.Config, log *zap.Logger, tel *telemetry.Telemetry) error {
	began := time.Now()
	archive, err := mustgather.Open(cfg.MustGather, mustgather.OpenOptions{
		Limits: mustgather.Limits{MaxBytes: int64(cfg.MustGatherMaxBytes), MaxFiles: cfg.MustGatherMaxFiles},
	})
	if err != nil {
		var hostile *mustgather.HostileArchiveError
		if errors.As(err, &hostile) {
			return &config.Error{Setting: "must-gather", Err: err}
		}
		return fmt.Errorf("opening the must-gather: %w", err)
	}
	defer archive.Close()
	src, err := archive.Source()
	if err != nil {
		return err
	}
	log.Info("serving a must-gather archive", zap.String("path", cfg.MustGather), zap.Strings("clusters", archive.Names()),
		zap.Int("files", archive.Files), zap.Duration("opened in", time.Since(began)), zap.String("transport", cfg.Transport))
	sh, closeShared, err := openShared(cfg)
	if err != nil {
		return err
	}
	defer closeShared()
	ref := archive.ReferenceTime()
	idx, err := openIndexOffline(cmd.Context(), cfg, log, archive)
	if err != nil {
		return err
	}
	defer idx.Close()
	budgets := cfg.Budgets()
	log.Info("budgets", zap.Duration("window", budgets.Window), zap.Any("limits", budgets.Limits))
	metricsLimits := cfg.MetricsLimits()
	s := mcpserver.New(log, tools.Deps{
		MetricsLimits:     &metricsLimits,
		Budgets:           budget.New(budgets),
		Runbooks:          sh.books,
		Source:            src,
		Clusters:          mustgather.Connector{Archive: archive},
		Kubectl:           sh.engine,
		ReadOnly:          true,
		Offline:           true,
		Archive:           archive,
		Index:             idx,
		MaxOutputBytes:    cfg.MaxOutputBytes,
		FanOutConcurrency: cfg.FanOutConcurrency,
		Log:               log,
		Now:               func() time.Time { return ref },
	}, sh.audit, toolMiddlewares(tel)...)
	opts := serveOptions(cfg, tel)
	// An archive holds no identities to check tokens against: offline HTTP serves without authentication,
	// on loopback only unless --allow-unauthenticated-non-loopback.
	opts.Guard.InsecureNoAuth = true
	return mcpserver.Serve(cmd.Context(), s, log, opts)
}
