package auth

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	msav1beta1 "open-cluster-management.io/managed-serviceaccount/apis/authentication/v1beta1"
)

// Provisioned reports whether the server already holds credentials for the cluster.
func (p *Provider) Provisioned(cluster string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.cache.Get(cluster)
	return ok
}

// CredentialState describes, in a few lines and without any secret, the server's credentials for a
// cluster: the ManagedServiceAccount's conditions and whether the RBAC grant is applied.
func (p *Provider) CredentialState(ctx context.Context, cluster string) []string {
	ctx, cancel := context.WithTimeout(ctx, p.opts.HubTimeout)
	defer cancel()
	var lines []string
	msa, err := p.msa.AuthenticationV1beta1().ManagedServiceAccounts(cluster).Get(ctx, p.opts.MSAName, metav1.GetOptions{})
	switch {
	case err != nil && isNotFound(err):
		lines = append(lines, fmt.Sprintf("ManagedServiceAccount %s/%s: not created yet (it is created on first use of the cluster)", cluster, p.opts.MSAName))
	case err != nil:
		lines = append(lines, fmt.Sprintf("ManagedServiceAccount %s/%s: cannot be read: %v", cluster, p.opts.MSAName, err))
	default:
		lines = append(lines, describeMSA(msa, time.Now()))
	}
	applied, detail, err := p.GrantStatus(ctx, cluster)
	switch {
	case err != nil && isNotFound(err):
		lines = append(lines, "RBAC grant: not created yet")
	case err != nil:
		lines = append(lines, "RBAC grant: cannot be read: "+err.Error())
	case applied:
		lines = append(lines, "RBAC grant: "+detail)
	default:
		lines = append(lines, "RBAC grant: NOT applied: "+detail)
	}
	return lines
}

func describeMSA(msa *msav1beta1.ManagedServiceAccount, now time.Time) string {
	ready := meta.IsStatusConditionTrue(msa.Status.Conditions, msav1beta1.ConditionTypeTokenReported) &&
		meta.IsStatusConditionTrue(msa.Status.Conditions, msav1beta1.ConditionTypeSecretCreated)
	s := fmt.Sprintf("ManagedServiceAccount %s/%s: ", msa.Namespace, msa.Name)
	if !ready {
		s += "NOT ready"
		for _, c := range msa.Status.Conditions {
			s += fmt.Sprintf("; %s=%s (%s: %s)", c.Type, c.Status, c.Reason, c.Message)
		}
		if len(msa.Status.Conditions) == 0 {
			s += ": no conditions yet (the managed-serviceaccount agent has not acted on it)"
		}
		return s
	}
	s += "ready"
	if ref := msa.Status.TokenSecretRef; ref != nil && !ref.LastRefreshTimestamp.IsZero() {
		s += ", token refreshed " + duration.HumanDuration(now.Sub(ref.LastRefreshTimestamp.Time)) + " ago"
	}
	if exp := msa.Status.ExpirationTimestamp; exp != nil {
		s += ", expires in " + duration.HumanDuration(exp.Sub(now))
	}
	return s
}
