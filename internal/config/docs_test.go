package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEDocumentsEverySetting keeps the README's settings table in step with Settings().
func TestREADMEDocumentsEverySetting(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for _, s := range Settings() {
		row := "| `--" + s.Name + "` | `" + s.EnvVar() + "` |"
		if !strings.Contains(readme, row) {
			t.Errorf("README lacks a settings row starting %q", row)
		}
	}
}

// TestExampleConfigLoads proves the example file in the repository is valid.
func TestExampleConfigLoads(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "hub.kubeconfig")
	if err := os.WriteFile(kubeconfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "/etc/ocm/hub.kubeconfig", kubeconfig, 1)
	cfg, err := load(t, nil, nil, text)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.ReadOnly || cfg.Transport != "http" {
		t.Errorf("example not applied: %+v", cfg)
	}
}
