package main

import (
	"context"
	"fmt"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	addonclient "open-cluster-management.io/api/client/addon/clientset/versioned"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/config"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm/selfaddon"
)

// startAddon registers the server as an add-on of its own when --addon-placements names Placements,
// and waits until their decisions are read; nil when it does not.
func startAddon(ctx context.Context, cfg *config.Config, hub *ocm.Hub, log *zap.Logger) (*selfaddon.Addon, error) {
	if len(cfg.AddonPlacements) == 0 {
		return nil, nil
	}
	addons, err := addonclient.NewForConfig(hub.Config)
	if err != nil {
		return nil, err
	}
	a, err := selfaddon.New(addons, hub.Cluster, selfaddon.Options{Name: cfg.AddonName, Placements: cfg.Placements(),
		Concurrency: cfg.FanOutConcurrency, Timeout: cfg.HubTimeout})
	if err != nil {
		return nil, &config.Error{Setting: "addon-placements", Err: err}
	}
	if err := a.Start(ctx); err != nil {
		return nil, err
	}
	log.Info("serving as an OCM add-on", zap.String("clusterManagementAddOn", cfg.AddonName),
		zap.Strings("placements", cfg.AddonPlacements), zap.Int("selected", len(a.Selected())))
	return a, nil
}

// addonCheck is the add-on's readiness check: the server's credentials, grant and reach on a cluster.
func addonCheck(registry *ocm.Registry, provider *auth.Provider) selfaddon.Check {
	return func(ctx context.Context, cluster string) selfaddon.Readiness {
		t, err := ocm.Resolve(ctx, registry, cluster)
		if err != nil {
			unknown := selfaddon.Step{Status: metav1.ConditionUnknown, Reason: "ClusterNotFound", Message: err.Error()}
			return selfaddon.Readiness{Credentials: selfaddon.Step{Status: metav1.ConditionFalse, Reason: "ClusterNotFound", Message: err.Error()},
				Grant: unknown, API: unknown}
		}
		r := provider.Readiness(ctx, t)
		var out selfaddon.Readiness
		if r.Credentials != nil {
			out.Credentials = selfaddon.Step{Status: metav1.ConditionFalse, Reason: "CredentialsNotIssued", Message: r.Credentials.Error()}
		} else {
			out.Credentials = selfaddon.Step{Status: metav1.ConditionTrue, Reason: "TokenIssued",
				Message: fmt.Sprintf("the token of ManagedServiceAccount %s/%s is in hand", cluster, provider.GrantName())}
		}
		switch {
		case r.GrantErr != nil:
			out.Grant = selfaddon.Step{Status: metav1.ConditionUnknown, Reason: "GrantUnread", Message: r.GrantErr.Error()}
		case r.GrantApplied:
			out.Grant = selfaddon.Step{Status: metav1.ConditionTrue, Reason: "GrantApplied", Message: r.Grant}
		default:
			out.Grant = selfaddon.Step{Status: metav1.ConditionFalse, Reason: "GrantNotApplied", Message: r.Grant}
		}
		switch {
		case !r.APIAsked:
			out.API = selfaddon.Step{Status: metav1.ConditionUnknown, Reason: "NotChecked", Message: "not asked: the server holds no credentials for the cluster"}
		case r.API != nil:
			out.API = selfaddon.Step{Status: metav1.ConditionFalse, Reason: "APIUnreachable", Message: r.API.Error()}
		default:
			out.API = selfaddon.Step{Status: metav1.ConditionTrue, Reason: "APIReachable", Message: "the cluster's API server answered (" + r.APIVersion + ")"}
		}
		return out
	}
}
