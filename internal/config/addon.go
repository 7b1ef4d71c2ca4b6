package config

import (
	"fmt"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm/selfaddon"
)

// AddonConfig makes the server an OCM add-on of its own (see ocm/selfaddon).
type AddonConfig struct {
	AddonPlacements []string `mapstructure:"addon-placements"`
	AddonName       string   `mapstructure:"addon-name"`
}

func addonSettings() []Setting {
	return []Setting{
		{Name: "addon-placements", Kind: KindStringList, Default: []string{}, Commands: serveOnly,
			Usage: "live mode: run as an OCM add-on of its own: register the ClusterManagementAddOn --addon-name with install strategy Placements over these Placements (namespace/name, comma-separated), act only on the clusters they select (others are refused, naming them) and report the server's readiness on each selected cluster's ManagedClusterAddOn (CredentialsIssued, GrantApplied, APIReachable, Available), provisioning credentials for them at start; empty: not an add-on, every cluster may be reached"},
		{Name: "addon-name", Kind: KindString, Default: "multicluster-mcp-server", Commands: serveOnly,
			Usage: "name of the server's ClusterManagementAddOn and of its ManagedClusterAddOns (with --addon-placements)"},
	}
}

// Placements parses --addon-placements (validated when loaded).
func (c *AddonConfig) Placements() []selfaddon.Placement {
	p, _ := selfaddon.ParsePlacements(c.AddonPlacements)
	return p
}

func (c *AddonConfig) validateAddon() error {
	if _, err := selfaddon.ParsePlacements(c.AddonPlacements); err != nil {
		return &Error{Setting: "addon-placements", Err: err}
	}
	if len(c.AddonPlacements) > 0 && c.AddonName == "" {
		return &Error{Setting: "addon-name", Err: fmt.Errorf("is empty")}
	}
	return nil
}
