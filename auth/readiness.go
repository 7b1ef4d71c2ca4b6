package auth

import (
	"context"

	"k8s.io/client-go/kubernetes"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// Readiness is whether the server can act on one cluster, in three steps: its credentials, its RBAC
// grant on the spoke, and the spoke's API server answering with them.
type Readiness struct {
	// Credentials is nil once the ManagedServiceAccount's token is in hand (provisioned if it was not).
	Credentials error
	// GrantApplied says the grant is applied; Grant says how it stands, GrantErr why it could not be read.
	GrantApplied bool
	Grant        string
	GrantErr     error
	// API is nil when the cluster's API server answered a version request with the credentials; it is
	// not asked when the credentials are missing.
	API        error
	APIAsked   bool
	APIVersion string
}

// Readiness provisions the cluster's credentials if the server holds none, reads its grant and asks
// its API server for its version, each within the server's timeouts.
func (p *Provider) Readiness(ctx context.Context, t ocm.Target) Readiness {
	var r Readiness
	cfg, err := p.RESTConfig(ctx, t)
	r.Credentials = err
	r.GrantApplied, r.Grant, r.GrantErr = p.GrantStatus(ctx, t.Name)
	if err != nil {
		return r
	}
	r.APIAsked = true
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		r.API = err
		return r
	}
	v, err := kube.Discovery().ServerVersion()
	if err != nil {
		r.API = ExplainSpokeError(t.Name, cfg, err)
		return r
	}
	r.APIVersion = v.GitVersion
	return r
}
