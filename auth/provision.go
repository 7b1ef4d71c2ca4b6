package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	msav1beta1 "open-cluster-management.io/managed-serviceaccount/apis/authentication/v1beta1"

	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

const pollInterval = 250 * time.Millisecond

// provision makes sure the cluster has our ManagedServiceAccount, that its RBAC grant is applied on the
// spoke, and that its token has been reported to the hub; then it reads the token into memory.
func (p *Provider) provision(ctx context.Context, t ocm.Target) (*spoke, error) {
	addonNS, err := p.addonNamespace(ctx, t.Name)
	if err != nil {
		return nil, err
	}
	if err := p.ensureMSA(ctx, t.Name); err != nil {
		return nil, err
	}
	g, err := p.ensureGrant(ctx, t.Name, addonNS)
	if err != nil {
		return nil, err
	}
	deadline, cancel := context.WithTimeout(ctx, p.opts.TokenTimeout)
	defer cancel()
	sec, err := p.waitToken(deadline, t.Name)
	if err != nil {
		return nil, err
	}
	// The Secret just read is the token's first copy: it is not read again.
	src := &tokenSource{hub: p.hub.Kube, namespace: t.Name, name: p.opts.MSAName, recheck: p.opts.TokenRecheck, timeout: p.opts.HubTimeout}
	if err := src.set(sec); err != nil {
		return nil, err
	}
	if err := p.waitGrant(deadline, t.Name, g); err != nil {
		return nil, err
	}
	host, ca, err := p.spokeEndpoint(t, sec.Data[caKey])
	if err != nil {
		return nil, err
	}
	return &spoke{host: host, ca: ca, src: src}, nil
}

// Prepare provisions every given cluster, concurrently with a bound, and returns the failures by name.
func (p *Provider) Prepare(ctx context.Context, clusters []ocm.Target, concurrency int) map[string]error {
	sem := make(chan struct{}, max(concurrency, 1))
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(map[string]error)
	for _, t := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := p.spoke(ctx, t); err != nil {
				mu.Lock()
				errs[t.Name] = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// addonNamespace checks that the managed-serviceaccount add-on is enabled for the cluster and returns the
// namespace it installs into on the spoke (where the ServiceAccount is created).
func (p *Provider) addonNamespace(ctx context.Context, cluster string) (string, error) {
	addons, err := p.reg.AddOns(ctx, cluster)
	if err != nil {
		return "", err
	}
	for _, a := range addons {
		if a.Name != MSAAddonName {
			continue
		}
		switch {
		case a.Status.Namespace != "":
			return a.Status.Namespace, nil
		//lint:ignore SA1019 the deprecated field is still what hubs without AddOnDeploymentConfig set
		case a.Spec.InstallNamespace != "":
			//lint:ignore SA1019 see above
			return a.Spec.InstallNamespace, nil
		default:
			return defaultAddonNamespace, nil
		}
	}
	return "", fmt.Errorf("the managed-serviceaccount add-on is not enabled on cluster %s, so the server cannot get credentials for it. "+
		"Enable it on the hub: `clusteradm addon enable --names managed-serviceaccount --clusters %s`, or create the "+
		"ManagedClusterAddOn %q in namespace %q", cluster, cluster, MSAAddonName, cluster)
}

// ModeAnnotation records, on the server's ManagedServiceAccount, the grant it carries (Options.Mode).
const ModeAnnotation = "multicluster-mcp-server.io/grant"

// TokenValidity is how long a ManagedServiceAccount token lives; the agent rotates it before it expires,
// and the server reads the rotated one.
const TokenValidity = 24 * time.Hour

// ensureMSA creates the cluster's ManagedServiceAccount, or checks one that exists: it must carry this
// server's grant (another server with another mode or role would share the spoke identity and widen
// or narrow it), and short-lived rotated tokens.
func (p *Provider) ensureMSA(ctx context.Context, cluster string) error {
	msas := p.msa.AuthenticationV1beta1().ManagedServiceAccounts(cluster)
	rot := msav1beta1.ManagedServiceAccountRotation{Enabled: true, Validity: metav1.Duration{Duration: TokenValidity}}
	cur, err := msas.Get(ctx, p.opts.MSAName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		msa := &msav1beta1.ManagedServiceAccount{
			ObjectMeta: metav1.ObjectMeta{Name: p.opts.MSAName, Namespace: cluster, Labels: map[string]string{ManagedByLabel: managedByValue},
				Annotations: map[string]string{ModeAnnotation: p.opts.Mode()}},
			Spec: msav1beta1.ManagedServiceAccountSpec{Rotation: rot},
		}
		_, err := msas.Create(ctx, msa, metav1.CreateOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating ManagedServiceAccount %s/%s on the hub: %w", cluster, p.opts.MSAName, err)
		}
		// Another server created it meanwhile: check what it carries.
		if cur, err = msas.Get(ctx, p.opts.MSAName, metav1.GetOptions{}); err != nil {
			return p.hub.Explain(err, "managedserviceaccounts.authentication.open-cluster-management.io")
		}
	} else if err != nil {
		return p.hub.Explain(err, "managedserviceaccounts.authentication.open-cluster-management.io")
	}
	if mode, ok := cur.Annotations[ModeAnnotation]; ok && mode != p.opts.Mode() {
		return fmt.Errorf("ManagedServiceAccount %s/%s belongs to a server that grants %q, and this server grants %q: servers sharing it "+
			"would share one identity on the spoke. Give this server its own --msa-name (e.g. %s-%s), or delete the ManagedServiceAccount "+
			"%q in every cluster namespace to switch the grant", cluster, p.opts.MSAName, mode, p.opts.Mode(), p.opts.MSAName, modeSuffix(p.opts), p.opts.MSAName)
	}
	if cur.Annotations[ModeAnnotation] == p.opts.Mode() && cur.Spec.Rotation == rot {
		return nil
	}
	// Adopt one made before grants were recorded, and shorten a long-lived token.
	if cur.Annotations == nil {
		cur.Annotations = map[string]string{}
	}
	cur.Annotations[ModeAnnotation] = p.opts.Mode()
	cur.Spec.Rotation = rot
	if _, err := msas.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating ManagedServiceAccount %s/%s on the hub: %w", cluster, p.opts.MSAName, err)
	}
	return nil
}

func modeSuffix(o Options) string {
	if o.ReadOnly {
		return "readonly"
	}
	return "write"
}

// waitToken waits until the token Secret holds a token and the spoke CA, and returns it.
func (p *Provider) waitToken(ctx context.Context, cluster string) (*corev1.Secret, error) {
	var sec *corev1.Secret
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		s, err := p.hub.Kube.CoreV1().Secrets(cluster).Get(ctx, p.opts.MSAName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err != nil && ctx.Err() != nil) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		sec = s
		return len(s.Data[tokenKey]) > 0 && len(s.Data[caKey]) > 0, nil
	})
	if err == nil {
		return sec, nil
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("reading token Secret %s/%s on the hub: %w", cluster, p.opts.MSAName, err)
	}
	return nil, fmt.Errorf("no token for cluster %s within %s: %s", cluster, p.opts.TokenTimeout, p.msaDiagnosis(context.WithoutCancel(ctx), cluster))
}

// msaDiagnosis says which ManagedServiceAccount condition is missing, for a token that did not come.
func (p *Provider) msaDiagnosis(ctx context.Context, cluster string) string {
	ctx, cancel := context.WithTimeout(ctx, p.opts.HubTimeout)
	defer cancel()
	msa, err := p.msa.AuthenticationV1beta1().ManagedServiceAccounts(cluster).Get(ctx, p.opts.MSAName, metav1.GetOptions{})
	if err != nil {
		return fmt.Sprintf("ManagedServiceAccount %s/%s cannot be read: %v", cluster, p.opts.MSAName, err)
	}
	for _, typ := range []string{msav1beta1.ConditionTypeTokenReported, msav1beta1.ConditionTypeSecretCreated} {
		c := meta.FindStatusCondition(msa.Status.Conditions, typ)
		if c == nil {
			return fmt.Sprintf("ManagedServiceAccount %s/%s has no %s condition yet: the managed-serviceaccount agent on the spoke has not "+
				"acted on it (is it running? see the ManagedClusterAddOn %s in namespace %s, or run diagnose)", cluster, p.opts.MSAName, typ, MSAAddonName, cluster)
		}
		if c.Status != metav1.ConditionTrue {
			return fmt.Sprintf("ManagedServiceAccount %s/%s condition %s=%s (%s: %s)", cluster, p.opts.MSAName, typ, c.Status, c.Reason, c.Message)
		}
	}
	return fmt.Sprintf("ManagedServiceAccount %s/%s reports a token, but Secret %s/%s lacks the %q or %q key", cluster, p.opts.MSAName, cluster, p.opts.MSAName, tokenKey, caKey)
}

// bindingName is the ClusterRoleBinding on the spoke. It carries the role because a binding's roleRef
// cannot change: switching role replaces the binding.
func (p *Provider) bindingName() string { return p.opts.MSAName + ":" + p.opts.Role() }
