package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func load(t *testing.T, args []string, env map[string]string, file string) (*Config, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	AddFlags(fs, "serve")
	if file != "" {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", path)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(fs)
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		file string
		want string // Listen
	}{
		{"default", nil, nil, "", "127.0.0.1:8080"},
		{"file", nil, nil, "listen: 127.0.0.1:9001\n", "127.0.0.1:9001"},
		{"env beats file", nil, map[string]string{"MCMCP_LISTEN": "127.0.0.1:9002"}, "listen: 127.0.0.1:9001\n", "127.0.0.1:9002"},
		{"flag beats env", []string{"--listen", "127.0.0.1:9003"}, map[string]string{"MCMCP_LISTEN": "127.0.0.1:9002"}, "listen: 127.0.0.1:9001\n", "127.0.0.1:9003"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, tc.args, tc.env, tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Listen != tc.want {
				t.Errorf("listen = %q, want %q", cfg.Listen, tc.want)
			}
		})
	}
}

func TestTypedValuesFromEveryLayer(t *testing.T) {
	cfg, err := load(t, nil, map[string]string{"MCMCP_READ_ONLY": "true", "MCMCP_HUB_TIMEOUT": "3s"}, "log-level: debug\ntransport: http\n")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.ReadOnly || cfg.HubTimeout != 3*time.Second || cfg.LogLevel != "debug" || cfg.Transport != "http" {
		t.Errorf("unexpected config %+v", cfg)
	}
}

func TestConfigFileFromEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("read-only: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, nil, map[string]string{"MCMCP_CONFIG": path}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.ReadOnly {
		t.Error("MCMCP_CONFIG was not read")
	}
}

func TestBadSettingsNameTheSetting(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		file    string
		setting string
		detail  string
	}{
		{"enum", []string{"--transport", "grpc"}, nil, "", "transport", "not one of stdio, http"},
		{"bool env", nil, map[string]string{"MCMCP_READ_ONLY": "yes please"}, "", "read-only", "true or false"},
		{"duration", nil, map[string]string{"MCMCP_HUB_TIMEOUT": "-1s"}, "", "hub-timeout", "positive"},
		{"listen", []string{"--listen", "8080"}, nil, "", "listen", "host:port"},
		{"unknown file key", nil, nil, "raed-only: true\n", "config", `unknown key "raed-only"`},
		{"unparsable file", nil, nil, "read-only: [\n", "config", "reading"},
		{"kubeconfig missing", []string{"--kubeconfig", "/nonexistent"}, nil, "", "kubeconfig", "/nonexistent"},
		{"log format in file", nil, nil, "log-format: xml\n", "log-format", "json, console"},
		{"unknown guardrail", []string{"--guardrails-allow", "pdb"}, nil, "", "guardrails-allow", "pod-disruption-budgets"},
		{"bad namespace pattern", nil, map[string]string{"MCMCP_GUARDRAILS_PROTECTED_NAMESPACES": "kube-system,a[b"}, "", "guardrails-protected-namespaces", "a[b"},
		{"negative limit", []string{"--guardrails-max-replicas=-1"}, nil, "", "guardrails-max-replicas", "negative"},
		{"unknown policy", []string{"--policy-disable", "change-freeze,freeze"}, nil, "", "policy-disable", "change-freeze, must-gather-restricted"},
		{"policy folder missing", []string{"--policy-dir", "/nonexistent"}, nil, "", "policy-dir", "/nonexistent is not a folder"},
		{"policy timeout", nil, map[string]string{"MCMCP_POLICY_TIMEOUT": "1ns"}, "", "policy-timeout", "between 10ms and 1m"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.args, tc.env, tc.file)
			var cfgErr *Error
			if !errors.As(err, &cfgErr) {
				t.Fatalf("want *Error, got %v", err)
			}
			if cfgErr.Setting != tc.setting || !strings.Contains(err.Error(), tc.detail) {
				t.Errorf("error %q: want setting %q and %q", err, tc.setting, tc.detail)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestEnvVarNames(t *testing.T) {
	s, ok := Lookup("read-only")
	if !ok || s.EnvVar() != "MCMCP_READ_ONLY" {
		t.Fatalf("env var = %q", s.EnvVar())
	}
}

// TestUnauthenticatedHTTPStaysOnLoopback: a server without authentication (--insecure-no-auth, or an
// offline --must-gather over HTTP) refuses an address other hosts can reach, unless the flag that allows
// it is given; the error says why and names the flag.
func TestUnauthenticatedHTTPStaysOnLoopback(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "mg")
	if err := os.Mkdir(archive, 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		refuse []string // what the error says; nil when accepted
	}{
		{"insecure-no-auth on every interface", []string{"--transport", "http", "--insecure-no-auth", "--listen", "0.0.0.0:8080"},
			[]string{`"0.0.0.0:8080" is not a loopback address`, "--insecure-no-auth", "--allow-unauthenticated-non-loopback"}},
		{"insecure-no-auth on an empty host", []string{"--transport", "http", "--insecure-no-auth", "--listen", ":8080"},
			[]string{"every interface", "--allow-unauthenticated-non-loopback"}},
		{"insecure-no-auth on a host name", []string{"--transport", "http", "--insecure-no-auth", "--listen", "mcp.example:8080"},
			[]string{"not a loopback address"}},
		{"must-gather on a public address", []string{"--transport", "http", "--must-gather", archive, "--listen", "192.0.2.1:8080"},
			[]string{"--must-gather", "--allow-unauthenticated-non-loopback"}},
		{"must-gather on IPv6 every interface", []string{"--transport", "http", "--must-gather", archive, "--listen", "[::]:8080"},
			[]string{"not a loopback address"}},
		{"allowed explicitly", []string{"--transport", "http", "--insecure-no-auth", "--listen", "0.0.0.0:8080", "--allow-unauthenticated-non-loopback"}, nil},
		{"loopback", []string{"--transport", "http", "--insecure-no-auth", "--listen", "127.0.0.1:8080"}, nil},
		{"localhost", []string{"--transport", "http", "--must-gather", archive, "--listen", "localhost:8080"}, nil},
		{"IPv6 loopback", []string{"--transport", "http", "--insecure-no-auth", "--listen", "[::1]:8080"}, nil},
		{"authenticated on every interface", []string{"--transport", "http", "--listen", "0.0.0.0:8080"}, nil},
		{"stdio ignores listen", []string{"--must-gather", archive, "--listen", "0.0.0.0:8080"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.args, nil, "")
			if tc.refuse == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var cfgErr *Error
			if !errors.As(err, &cfgErr) || cfgErr.Setting != "listen" {
				t.Fatalf("want a listen error, got %v", err)
			}
			for _, w := range tc.refuse {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
		})
	}
}

func TestNewSecuritySettings(t *testing.T) {
	cfg, err := load(t, []string{"--audience", "mcp", "--trusted-proxies", "10.0.0.0/8,192.0.2.1"}, nil, "auth-rate-limit: 3\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Audience != "mcp" || cfg.AuthRateLimit != 3 || len(cfg.TrustedProxies) != 2 || cfg.AuthzHub != "list managedclusters.cluster.open-cluster-management.io" {
		t.Errorf("unexpected config %+v", cfg)
	}
	prefixes, err := ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil || prefixes[1].String() != "192.0.2.1/32" {
		t.Errorf("prefixes %v, %v", prefixes, err)
	}
	for _, bad := range []struct{ args []string }{
		{[]string{"--trusted-proxies", "10.0.0.0/33"}},
		{[]string{"--trusted-proxies", "proxy.example"}},
	} {
		var cfgErr *Error
		if _, err := load(t, bad.args, nil, ""); !errors.As(err, &cfgErr) || cfgErr.Setting != "trusted-proxies" {
			t.Errorf("%v: err = %v", bad.args, err)
		}
	}
	var cfgErr *Error
	if _, err := load(t, []string{"--authz-hub", "list"}, nil, ""); !errors.As(err, &cfgErr) || cfgErr.Setting != "authz-hub" {
		t.Errorf("bad authz-hub: err = %v", err)
	}
}

// TestGuardrailSettings: defaults, and a list from the environment.
func TestGuardrailSettings(t *testing.T) {
	cfg, err := load(t, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Guardrails()
	if g.MaxReplicas != 50 || g.MaxScaleFactor != 2 || g.MaxDeletes != 10 || len(g.Allow) != 0 ||
		!slices.Contains(g.ProtectedNamespaces, "openshift-*") || !slices.Contains(g.ProtectedKinds, "customresourcedefinitions") {
		t.Errorf("defaults: %+v", g)
	}
	cfg, err = load(t, []string{"--guardrails-max-deletes", "0"}, map[string]string{"MCMCP_GUARDRAILS_ALLOW": "max-replicas, protected-kinds"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if g := cfg.Guardrails(); g.MaxDeletes != 0 || strings.Join(g.Allow, ",") != "max-replicas,protected-kinds" {
		t.Errorf("settings: %+v", g)
	}
}
