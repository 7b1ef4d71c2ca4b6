package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/cast"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/budget"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/guardrails"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/memlimit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/metrics"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/policy"
)

// ConfigFlag names the flag (and MCMCP_CONFIG variable) that points at the YAML config file.
const ConfigFlag = "config"

// Config is the validated configuration of one run.
type Config struct {
	Kubeconfig      string        `mapstructure:"kubeconfig"`
	Context         string        `mapstructure:"context"`
	Transport       string        `mapstructure:"transport"`
	Listen          string        `mapstructure:"listen"`
	ReadOnly        bool          `mapstructure:"read-only"`
	LogLevel        string        `mapstructure:"log-level"`
	LogFormat       string        `mapstructure:"log-format"`
	HubTimeout      time.Duration `mapstructure:"hub-timeout"`
	ShutdownTimeout time.Duration `mapstructure:"shutdown-timeout"`

	ClusterTimeout     time.Duration `mapstructure:"cluster-timeout"`
	MSAName            string        `mapstructure:"msa-name"`
	SpokeClusterRole   string        `mapstructure:"spoke-cluster-role"`
	ManifestWorkGrant  bool          `mapstructure:"manifestwork-grant"`
	PrepareCredentials bool          `mapstructure:"prepare-credentials"`
	TokenTimeout       time.Duration `mapstructure:"token-timeout"`
	ClusterProxyURL    string        `mapstructure:"cluster-proxy-url"`
	ClusterProxyCAFile string        `mapstructure:"cluster-proxy-ca-file"`
	ClientCacheSize    int           `mapstructure:"client-cache-size"`
	DiscoveryCacheSize int           `mapstructure:"discovery-cache-size"`

	MaxOutputBytes    int    `mapstructure:"max-output-bytes"`
	AllowSecretValues bool   `mapstructure:"allow-secret-values"`
	FanOutConcurrency int    `mapstructure:"fanout-concurrency"`
	MemoryLimit       string `mapstructure:"memory-limit"`

	Approval    string        `mapstructure:"approval"`
	ApprovalTTL time.Duration `mapstructure:"approval-ttl"`

	GuardrailsMaxReplicas         int      `mapstructure:"guardrails-max-replicas"`
	GuardrailsMaxScaleFactor      int      `mapstructure:"guardrails-max-scale-factor"`
	GuardrailsMaxDeletes          int      `mapstructure:"guardrails-max-deletes"`
	GuardrailsProtectedNamespaces []string `mapstructure:"guardrails-protected-namespaces"`
	GuardrailsProtectedKinds      []string `mapstructure:"guardrails-protected-kinds"`
	GuardrailsAllow               []string `mapstructure:"guardrails-allow"`

	BudgetWindow                  time.Duration `mapstructure:"budget-window"`
	BudgetChangesPerCaller        int           `mapstructure:"budget-changes-per-caller"`
	BudgetChangesPerCluster       int           `mapstructure:"budget-changes-per-cluster"`
	BudgetFanOutClustersPerCaller int           `mapstructure:"budget-fanout-clusters-per-caller"`
	BudgetMustGathersPerCaller    int           `mapstructure:"budget-must-gathers-per-caller"`

	PolicyDir              string        `mapstructure:"policy-dir"`
	PolicyDisable          []string      `mapstructure:"policy-disable"`
	PolicyProductionGroups []string      `mapstructure:"policy-production-groups"`
	PolicyTimeout          time.Duration `mapstructure:"policy-timeout"`

	MustGather         string `mapstructure:"must-gather"`
	MustGatherDir      string `mapstructure:"must-gather-dir"`
	MustGatherMaxBytes int    `mapstructure:"must-gather-max-bytes"`
	// MustGatherRetention and MustGatherQuotaBytes bound the archives the must_gather tool keeps.
	MustGatherRetention  time.Duration `mapstructure:"must-gather-retention"`
	MustGatherQuotaBytes int           `mapstructure:"must-gather-quota-bytes"`
	MustGatherMaxFiles   int           `mapstructure:"must-gather-max-files"`

	InsecureNoAuth bool `mapstructure:"insecure-no-auth"`
	// AllowUnauthenticatedNonLoopback lets a server without authentication listen beyond loopback.
	AllowUnauthenticatedNonLoopback bool     `mapstructure:"allow-unauthenticated-non-loopback"`
	Audience                        string   `mapstructure:"audience"`
	AuthRateLimit                   int      `mapstructure:"auth-rate-limit"`
	TrustedProxies                  []string `mapstructure:"trusted-proxies"`
	AuthzHub                        string   `mapstructure:"authz-hub"`
	TLSCert                         string   `mapstructure:"tls-cert"`
	TLSKey                          string   `mapstructure:"tls-key"`
	AllowedOrigins                  []string `mapstructure:"allowed-origins"`
	SessionKeyFile                  string   `mapstructure:"session-key-file"`
	OAuthResource                   string   `mapstructure:"oauth-resource"`
	OAuthAuthorizationServers       []string `mapstructure:"oauth-authorization-servers"`
	MaxRequestBytes                 int      `mapstructure:"max-request-bytes"`
	RateLimit                       int      `mapstructure:"rate-limit"`
	AuditLog                        string   `mapstructure:"audit-log"`
	AuthzRead                       string   `mapstructure:"authz-read"`
	AuthzWrite                      string   `mapstructure:"authz-write"`
	Runbooks                        string   `mapstructure:"runbooks"`

	IndexConfig     `mapstructure:",squash"`
	TelemetryConfig `mapstructure:",squash"`
	AddonConfig     `mapstructure:",squash"`

	MetricsHubService     string        `mapstructure:"metrics-hub-service"`
	MetricsClusterService string        `mapstructure:"metrics-cluster-service"`
	MetricsClusterLabel   string        `mapstructure:"metrics-cluster-label"`
	MetricsURL            string        `mapstructure:"metrics-url"`
	MetricsURLTokenFile   string        `mapstructure:"metrics-url-token-file"`
	MetricsURLCAFile      string        `mapstructure:"metrics-url-ca-file"`
	MetricsMaxRange       time.Duration `mapstructure:"metrics-max-range"`
	MetricsMinStep        time.Duration `mapstructure:"metrics-min-step"`
	MetricsMaxPoints      int           `mapstructure:"metrics-max-points"`
	MetricsMaxSeries      int           `mapstructure:"metrics-max-series"`
	MetricsTimeout        time.Duration `mapstructure:"metrics-timeout"`
}

// MetricsLimits are the metrics guardrails.
func (c *Config) MetricsLimits() metrics.Limits {
	return metrics.Limits{MaxRange: c.MetricsMaxRange, MinStep: c.MetricsMinStep, MaxPoints: c.MetricsMaxPoints,
		MaxSeries: c.MetricsMaxSeries, Timeout: c.MetricsTimeout}
}

// MetricsServices are the hub store's and the clusters' Prometheus services (zero when switched off).
func (c *Config) MetricsServices() (hub, cluster metrics.ServiceRef) {
	hub, _ = metrics.ParseServiceRef(c.MetricsHubService) // validated when loaded
	cluster, _ = metrics.ParseServiceRef(c.MetricsClusterService)
	return hub, cluster
}

func (c *Config) validateMetrics() error {
	for name, v := range map[string]string{"metrics-hub-service": c.MetricsHubService, "metrics-cluster-service": c.MetricsClusterService} {
		if _, err := metrics.ParseServiceRef(v); err != nil {
			return &Error{Setting: name, Err: err}
		}
	}
	if !metricsLabelName(c.MetricsClusterLabel) {
		return &Error{Setting: "metrics-cluster-label", Err: fmt.Errorf("%q is not a label name", c.MetricsClusterLabel)}
	}
	if c.MetricsURL != "" {
		u, err := url.Parse(c.MetricsURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{Setting: "metrics-url", Err: fmt.Errorf("%q is not an http(s) URL", c.MetricsURL)}
		}
	}
	for name, path := range map[string]string{"metrics-url-token-file": c.MetricsURLTokenFile, "metrics-url-ca-file": c.MetricsURLCAFile} {
		if path == "" {
			continue
		}
		if c.MetricsURL == "" {
			return &Error{Setting: name, Err: fmt.Errorf("goes with --metrics-url, which is empty")}
		}
		if _, err := os.Stat(path); err != nil {
			return &Error{Setting: name, Err: fmt.Errorf("%s: %w", path, errors.Unwrap(err))}
		}
	}
	if c.MetricsMaxPoints < 2 {
		return &Error{Setting: "metrics-max-points", Err: fmt.Errorf("must be at least 2, got %d", c.MetricsMaxPoints)}
	}
	if c.MetricsMaxSeries < 1 {
		return &Error{Setting: "metrics-max-series", Err: fmt.Errorf("must be at least 1, got %d", c.MetricsMaxSeries)}
	}
	if c.MetricsTimeout > maxMetricsTimeout {
		return &Error{Setting: "metrics-timeout", Err: fmt.Errorf("must be at most %s, got %s", maxMetricsTimeout, c.MetricsTimeout)}
	}
	return nil
}

// maxMetricsTimeout bounds --metrics-timeout.
const maxMetricsTimeout = 5 * time.Minute

func metricsLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Guardrails are the guardrail settings.
func (c *Config) Guardrails() guardrails.Settings {
	return guardrails.Settings{MaxReplicas: c.GuardrailsMaxReplicas, MaxScaleFactor: c.GuardrailsMaxScaleFactor,
		MaxDeletes: c.GuardrailsMaxDeletes, ProtectedNamespaces: c.GuardrailsProtectedNamespaces,
		ProtectedKinds: c.GuardrailsProtectedKinds, Allow: c.GuardrailsAllow}
}

// Budgets are the budget settings.
func (c *Config) Budgets() budget.Options {
	return budget.Options{Window: c.BudgetWindow, Limits: map[budget.Name]int{
		budget.ChangesPerCaller:  c.BudgetChangesPerCaller,
		budget.ChangesPerCluster: c.BudgetChangesPerCluster,
		budget.FanOutPerCaller:   c.BudgetFanOutClustersPerCaller,
		budget.GathersPerCaller:  c.BudgetMustGathersPerCaller,
	}}
}

// Policy are the policy settings.
func (c *Config) Policy() policy.Options {
	return policy.Options{Dir: c.PolicyDir, Disable: c.PolicyDisable, ProductionGroups: c.PolicyProductionGroups, Timeout: c.PolicyTimeout}
}

// ParsePermission reads "<verb> <resource>[/<subresource>][.<group>]".
func ParsePermission(s string) (verb, group, resource, subresource string, err error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return "", "", "", "", fmt.Errorf("%q is not \"<verb> <resource>[/<subresource>].<group>\"", s)
	}
	verb = f[0]
	res, grp, _ := strings.Cut(f[1], ".")
	resource, subresource, _ = strings.Cut(res, "/")
	return verb, grp, resource, subresource, nil
}

// ParseTrustedProxies reads addresses and CIDR prefixes (192.0.2.10, 10.0.0.0/8, fd00::/8).
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR prefix (e.g. 10.0.0.5 or 10.0.0.0/8)", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Unauthenticated says why an HTTP server would serve without authentication ("" when it would not).
func (c *Config) Unauthenticated() string {
	switch {
	case c.Transport != "http":
		return ""
	case c.MustGather != "":
		return "--must-gather: an archive holds no identities to check tokens against"
	case c.InsecureNoAuth:
		return "--insecure-no-auth"
	}
	return ""
}

// checkUnauthenticatedListen refuses an unauthenticated HTTP server on an address beyond loopback unless
// --allow-unauthenticated-non-loopback says so. A host name other than localhost cannot be checked here
// and is refused too; the server checks the address it actually binds as well.
func (c *Config) checkUnauthenticatedListen() error {
	why := c.Unauthenticated()
	if why == "" || c.AllowUnauthenticatedNonLoopback {
		return nil
	}
	host, _, _ := net.SplitHostPort(c.Listen)
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil && a.Unmap().IsLoopback() {
		return nil
	}
	where := fmt.Sprintf("%q is not a loopback address", c.Listen)
	if host == "" {
		where = fmt.Sprintf("%q listens on every interface", c.Listen)
	}
	return &Error{Setting: "listen", Err: fmt.Errorf("%s, and this server has no authentication (%s): anyone who reaches it would act with the server's identity. "+
		"Listen on loopback (--listen 127.0.0.1:8080), or pass --allow-unauthenticated-non-loopback if every host that can reach the address may do so", where, why)}
}

// Error is a configuration problem tied to one setting. The CLI prints it as a single line and exits 2.
type Error struct {
	Setting string
	Err     error
}

func (e *Error) Error() string {
	if e.Setting == ConfigFlag {
		return fmt.Sprintf("invalid setting %q: %v", e.Setting, e.Err)
	}
	s, _ := Lookup(e.Setting)
	return fmt.Sprintf("invalid setting %q (flag --%s, env %s): %v", e.Setting, e.Setting, s.EnvVar(), e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// AddFlags registers the flags of every setting that belongs to the named command.
func AddFlags(fs *pflag.FlagSet, command string) {
	fs.String(ConfigFlag, "", "YAML config file; its keys are the flag names (env "+EnvPrefix+"_CONFIG)")
	for _, s := range Settings() {
		if !slices.Contains(s.Commands, command) {
			continue
		}
		usage := s.Usage
		if len(s.Allowed) > 0 {
			usage += " (one of: " + strings.Join(s.Allowed, ", ") + ")"
		}
		switch s.Kind {
		case KindBool:
			fs.Bool(s.Name, s.Default.(bool), usage)
		case KindInt:
			fs.Int(s.Name, s.Default.(int), usage)
		case KindDuration:
			fs.Duration(s.Name, s.Default.(time.Duration), usage)
		case KindStringList:
			fs.StringSlice(s.Name, s.Default.([]string), usage)
		default:
			fs.String(s.Name, s.Default.(string), usage)
		}
	}
}

// Load resolves every setting with the precedence flag > environment > config file > default and
// validates the result. Any problem is returned as an *Error naming the setting.
func Load(fs *pflag.FlagSet) (*Config, error) {
	v := viper.New()
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	settings := Settings()
	for _, s := range settings {
		v.SetDefault(s.Name, s.Default)
		if f := fs.Lookup(s.Name); f != nil {
			if err := v.BindPFlag(s.Name, f); err != nil {
				return nil, &Error{Setting: s.Name, Err: err}
			}
		}
	}
	if err := readConfigFile(v, fs); err != nil {
		return nil, err
	}
	values := make(map[string]any, len(settings))
	for _, s := range settings {
		val, err := parse(s, v.Get(s.Name))
		if err != nil {
			return nil, &Error{Setting: s.Name, Err: err}
		}
		values[s.Name] = val
	}
	var cfg Config
	if err := mapstructure.Decode(values, &cfg); err != nil {
		return nil, fmt.Errorf("decoding settings: %w", err)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func readConfigFile(v *viper.Viper, fs *pflag.FlagSet) error {
	path := os.Getenv(EnvPrefix + "_CONFIG")
	if f := fs.Lookup(ConfigFlag); f != nil && f.Changed {
		path = f.Value.String()
	}
	if path == "" {
		return nil
	}
	v.SetConfigFile(path)
	v.SetConfigType("yaml")
	if err := v.ReadInConfig(); err != nil {
		return &Error{Setting: ConfigFlag, Err: fmt.Errorf("reading %s: %w", path, err)}
	}
	// A misspelt key would otherwise be ignored silently.
	file := viper.New()
	file.SetConfigFile(path)
	file.SetConfigType("yaml")
	if err := file.ReadInConfig(); err != nil {
		return &Error{Setting: ConfigFlag, Err: fmt.Errorf("reading %s: %w", path, err)}
	}
	for key := range file.AllSettings() {
		if _, ok := Lookup(key); !ok {
			return &Error{Setting: ConfigFlag, Err: fmt.Errorf("%s: unknown key %q (keys are the flag names, e.g. read-only)", path, key)}
		}
	}
	return nil
}

// parse converts a raw value from any source into the setting's type, strictly: "yes" is not a bool.
func parse(s Setting, raw any) (any, error) {
	switch s.Kind {
	case KindBool:
		b, err := cast.ToBoolE(raw)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", fmt.Sprint(raw))
		}
		return b, nil
	case KindInt:
		n, err := cast.ToIntE(raw)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, fmt.Errorf("must not be negative, got %d", n)
		}
		return n, nil
	case KindDuration:
		d, err := cast.ToDurationE(raw)
		if err != nil {
			return nil, fmt.Errorf("%v (use a Go duration such as 30s or 2m)", err)
		}
		if d <= 0 {
			return nil, fmt.Errorf("must be positive, got %s", d)
		}
		return d, nil
	case KindStringList:
		return stringList(raw)
	default:
		str, err := cast.ToStringE(raw)
		if err != nil {
			return nil, err
		}
		if len(s.Allowed) > 0 && !slices.Contains(s.Allowed, str) {
			return nil, fmt.Errorf("%q is not one of %s", str, strings.Join(s.Allowed, ", "))
		}
		return str, nil
	}
}

// stringList accepts a YAML list, or a comma-separated string from a flag or the environment.
func stringList(raw any) ([]string, error) {
	if str, ok := raw.(string); ok {
		if str == "" {
			return nil, nil
		}
		raw = strings.Split(str, ",")
	}
	list, err := cast.ToStringSliceE(raw)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, item := range list {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out, nil
}

func (c *Config) validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return &Error{Setting: "listen", Err: fmt.Errorf("%q is not host:port: %w", c.Listen, err)}
	}
	if c.MSAName == "" || len(c.MSAName) > 63 || strings.Trim(c.MSAName, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return &Error{Setting: "msa-name", Err: fmt.Errorf("%q is not a valid object name (lowercase letters, digits and '-', at most 63)", c.MSAName)}
	}
	if c.ClusterProxyURL != "" {
		u, err := url.Parse(c.ClusterProxyURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return &Error{Setting: "cluster-proxy-url", Err: fmt.Errorf("%q is not an https URL", c.ClusterProxyURL)}
		}
	}
	if c.ClusterProxyCAFile != "" {
		if _, err := os.Stat(c.ClusterProxyCAFile); err != nil {
			return &Error{Setting: "cluster-proxy-ca-file", Err: fmt.Errorf("%s: %w", c.ClusterProxyCAFile, errors.Unwrap(err))}
		}
	}
	if c.SessionKeyFile != "" {
		if _, err := c.SessionKey(); err != nil {
			return &Error{Setting: "session-key-file", Err: err}
		}
	}
	if c.OAuthResource != "" {
		if u, err := url.Parse(c.OAuthResource); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
			return &Error{Setting: "oauth-resource", Err: fmt.Errorf("%q is not an absolute http(s) URL without a fragment", c.OAuthResource)}
		}
	}
	for _, a := range c.OAuthAuthorizationServers {
		if u, err := url.Parse(a); err != nil || u.Scheme != "https" || u.Host == "" {
			return &Error{Setting: "oauth-authorization-servers", Err: fmt.Errorf("%q is not an https issuer URL", a)}
		}
	}
	if c.MaxOutputBytes < 1024 {
		return &Error{Setting: "max-output-bytes", Err: fmt.Errorf("must be at least 1024, got %d", c.MaxOutputBytes)}
	}
	if c.FanOutConcurrency < 1 {
		return &Error{Setting: "fanout-concurrency", Err: fmt.Errorf("must be at least 1, got %d", c.FanOutConcurrency)}
	}
	if _, err := memlimit.Resolve(c.MemoryLimit, func(string) string { return "" }, func() (int64, bool) { return 0, false }); err != nil {
		return &Error{Setting: "memory-limit", Err: err}
	}
	if c.ApprovalTTL < time.Second || c.ApprovalTTL > 24*time.Hour {
		return &Error{Setting: "approval-ttl", Err: fmt.Errorf("must be between 1s and 24h, got %s", c.ApprovalTTL)}
	}
	if c.BudgetWindow < time.Minute || c.BudgetWindow > 24*time.Hour || c.BudgetWindow%time.Minute != 0 {
		return &Error{Setting: "budget-window", Err: fmt.Errorf("must be whole minutes between 1m and 24h, got %s", c.BudgetWindow)}
	}
	if err := guardrails.CheckAllow(c.GuardrailsAllow); err != nil {
		return &Error{Setting: "guardrails-allow", Err: err}
	}
	if err := guardrails.CheckPatterns(c.GuardrailsProtectedNamespaces); err != nil {
		return &Error{Setting: "guardrails-protected-namespaces", Err: err}
	}
	if err := policy.CheckDisable(c.PolicyDisable); err != nil {
		return &Error{Setting: "policy-disable", Err: err}
	}
	if c.PolicyTimeout < 10*time.Millisecond || c.PolicyTimeout > time.Minute {
		return &Error{Setting: "policy-timeout", Err: fmt.Errorf("must be between 10ms and 1m, got %s", c.PolicyTimeout)}
	}
	if c.PolicyDir != "" {
		if st, err := os.Stat(c.PolicyDir); err != nil || !st.IsDir() {
			return &Error{Setting: "policy-dir", Err: fmt.Errorf("%s is not a folder", c.PolicyDir)}
		}
	}
	if c.MustGather != "" {
		if _, err := os.Stat(c.MustGather); err != nil {
			return &Error{Setting: "must-gather", Err: fmt.Errorf("%s: %w", c.MustGather, errors.Unwrap(err))}
		}
	}
	if c.MustGatherMaxBytes < 1 || c.MustGatherMaxFiles < 1 {
		return &Error{Setting: "must-gather-max-bytes", Err: fmt.Errorf("archive limits must be positive")}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return &Error{Setting: "tls-cert", Err: fmt.Errorf("--tls-cert and --tls-key go together")}
	}
	for name, path := range map[string]string{"tls-cert": c.TLSCert, "tls-key": c.TLSKey} {
		if path != "" {
			if _, err := os.Stat(path); err != nil {
				return &Error{Setting: name, Err: fmt.Errorf("%s: %w", path, errors.Unwrap(err))}
			}
		}
	}
	for name, perm := range map[string]string{"authz-read": c.AuthzRead, "authz-write": c.AuthzWrite, "authz-hub": c.AuthzHub} {
		if _, _, _, _, err := ParsePermission(perm); err != nil {
			return &Error{Setting: name, Err: err}
		}
	}
	if _, err := ParseTrustedProxies(c.TrustedProxies); err != nil {
		return &Error{Setting: "trusted-proxies", Err: err}
	}
	if err := c.checkUnauthenticatedListen(); err != nil {
		return err
	}
	if err := c.validateTelemetry(); err != nil {
		return err
	}
	if err := c.validateAddon(); err != nil {
		return err
	}
	if err := c.validateIndex(); err != nil {
		return err
	}
	if c.MaxRequestBytes < 1024 {
		return &Error{Setting: "max-request-bytes", Err: fmt.Errorf("must be at least 1024, got %d", c.MaxRequestBytes)}
	}
	if c.ClientCacheSize < 1 {
		return &Error{Setting: "client-cache-size", Err: fmt.Errorf("must be at least 1, got %d", c.ClientCacheSize)}
	}
	if c.DiscoveryCacheSize < 1 {
		return &Error{Setting: "discovery-cache-size", Err: fmt.Errorf("must be at least 1, got %d", c.DiscoveryCacheSize)}
	}
	if err := c.validateMetrics(); err != nil {
		return err
	}
	if c.Kubeconfig != "" {
		if _, err := os.Stat(c.Kubeconfig); err != nil {
			return &Error{Setting: "kubeconfig", Err: fmt.Errorf("%s: %w", c.Kubeconfig, errors.Unwrap(err))}
		}
	}
	return nil
}

// minSessionKey is the least a session key may hold.
const minSessionKey = 32

// SessionKey reads the shared session key (nil when none is set).
func (c *Config) SessionKey() ([]byte, error) {
	if c.SessionKeyFile == "" {
		return nil, nil
	}
	key, err := os.ReadFile(c.SessionKeyFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.SessionKeyFile, errors.Unwrap(err))
	}
	if len(bytes.TrimSpace(key)) < minSessionKey {
		return nil, fmt.Errorf("%s holds %d bytes; a session key needs at least %d (e.g. head -c 48 /dev/urandom | base64 > %s)", c.SessionKeyFile, len(bytes.TrimSpace(key)), minSessionKey, c.SessionKeyFile)
	}
	return bytes.TrimSpace(key), nil
}
