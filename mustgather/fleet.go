package mustgather

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/rest"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// Configs gives REST configs for targets (auth.Provider in live mode).
type Configs interface {
	RESTConfig(ctx context.Context, t ocm.Target) (*rest.Config, error)
	// Provisioned reports whether credentials for the cluster are already held.
	Provisioned(cluster string) bool
}

// FleetOptions say which clusters of the fleet to collect.
type FleetOptions struct {
	Source  ocm.Source
	Configs Configs
	// Clusters selects spokes like the kubectl tool's cluster argument: names, "*", "selector:...",
	// "clusterset:..."; empty means every available cluster. The hub is always collected.
	Clusters string
	// Timeout bounds getting credentials for each spoke.
	Timeout time.Duration
	// Permit, when set, may refuse a cluster (the caller may not read it); refused clusters are left
	// out of the archive.
	Permit func(ctx context.Context, t ocm.Target) error
	// Check, when set, may refuse a cluster the caller may read (the policy): it is recorded as not
	// collected, with the refusal, and the others are collected.
	Check func(ctx context.Context, t ocm.Target) error
	CollectOptions
}

// CollectFleet resolves the targets and collects them. A spoke that cannot be reached is recorded in
// the archive and the summary, and the collection goes on.
func CollectFleet(ctx context.Context, o FleetOptions) (*Summary, error) {
	sel := o.Clusters
	if sel == "" {
		sel = "*"
	}
	selection, err := ocm.ResolveMany(ctx, o.Source, sel)
	if err != nil {
		return nil, err
	}
	hubCfg, err := o.Configs.RESTConfig(ctx, ocm.Target{Name: ocm.HubName, Hub: true})
	if err != nil {
		return nil, err
	}
	hub := ocm.Target{Name: ocm.HubName, Hub: true}
	for _, t := range selection.Targets {
		if t.Hub {
			hub.Cluster = t.Cluster
		}
	}
	targets := []Target{{Name: HubName, Hub: true, Config: hubCfg, Err: o.check(ctx, hub)}}
	for _, t := range selection.Targets {
		if t.Hub {
			continue
		}
		if o.Permit != nil && o.Permit(ctx, t) != nil {
			continue // like any fan-out, a collection silently covers only the clusters the caller may read
		}
		if err := o.check(ctx, t); err != nil {
			targets = append(targets, Target{Name: t.Name, Err: err})
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, o.Timeout)
		cfg, err := o.Configs.RESTConfig(cctx, t)
		cancel()
		targets = append(targets, Target{Name: t.Name, Config: cfg, Err: err})
	}
	// A cluster the hub sees as unavailable may still answer (its agent alone may be down): an incident
	// is when its data matters most. It is tried when the server already holds its credentials;
	// provisioning them now would only wait for a token that cannot come.
	for name, why := range selection.Skipped {
		t := ocm.Target{Name: name}
		if o.Permit != nil && o.Permit(ctx, t) != nil {
			continue
		}
		if err := o.check(ctx, t); err != nil {
			targets = append(targets, Target{Name: name, Err: err})
			continue
		}
		if !o.Configs.Provisioned(name) {
			targets = append(targets, Target{Name: name, Err: fmt.Errorf("not collected: %s, and the server holds no credentials for it yet", why)})
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, o.Timeout)
		cfg, err := o.Configs.RESTConfig(cctx, t)
		cancel()
		targets = append(targets, Target{Name: name, Config: cfg, Err: err})
	}
	o.CollectOptions.Targets = targets
	return Collect(ctx, o.CollectOptions)
}

// check asks Check about a cluster (nil when there is no Check).
func (o FleetOptions) check(ctx context.Context, t ocm.Target) error {
	if o.Check == nil {
		return nil
	}
	return o.Check(ctx, t)
}
