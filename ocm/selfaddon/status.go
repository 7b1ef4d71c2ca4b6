package selfaddon

import (
	"context"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	addonv1alpha1 "open-cluster-management.io/api/addon/v1alpha1"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/fanout"
)

// The conditions the server reports on each selected cluster's ManagedClusterAddOn.
const (
	ConditionCredentials = "CredentialsIssued"
	ConditionGrant       = "GrantApplied"
	ConditionAPI         = "APIReachable"
	// ConditionAvailable is the one consoles and `clusteradm get addon` show: all three hold.
	ConditionAvailable = addonv1alpha1.ManagedClusterAddOnConditionAvailable
)

// Step is the outcome of one readiness step: True, False or Unknown (not checked, because an earlier
// step failed), with a reason and a message.
type Step struct {
	Status          metav1.ConditionStatus
	Reason, Message string
}

// Readiness is what a check found on one cluster.
type Readiness struct{ Credentials, Grant, API Step }

// Check finds the server's readiness on one cluster.
type Check func(ctx context.Context, cluster string) Readiness

// conditions turns a readiness into the add-on's conditions, Available last.
func (r Readiness) conditions() []metav1.Condition {
	steps := []struct {
		kind string
		s    Step
	}{{ConditionCredentials, r.Credentials}, {ConditionGrant, r.Grant}, {ConditionAPI, r.API}}
	var out []metav1.Condition
	avail := metav1.Condition{Type: ConditionAvailable, Status: metav1.ConditionTrue, Reason: "ServerReady",
		Message: "the MCP server holds credentials for this cluster, its grant is applied and the cluster's API server answers"}
	for _, st := range steps {
		out = append(out, metav1.Condition{Type: st.kind, Status: st.s.Status, Reason: st.s.Reason, Message: st.s.Message})
		if st.s.Status != metav1.ConditionTrue && avail.Status == metav1.ConditionTrue {
			avail = metav1.Condition{Type: ConditionAvailable, Status: metav1.ConditionFalse, Reason: st.s.Reason,
				Message: st.kind + " is " + string(st.s.Status) + ": " + st.s.Message}
		}
	}
	return append(out, avail)
}

// Report writes the readiness of every selected cluster on its ManagedClusterAddOn, at start, when the
// decisions change, and every Interval, until ctx ends. A cluster whose ManagedClusterAddOn the add-on
// manager has not created yet is reported at the next round.
func (a *Addon) Report(ctx context.Context, log *zap.Logger, check Check) {
	tick := time.NewTicker(a.opts.Interval)
	defer tick.Stop()
	for {
		a.reportAll(ctx, log, check)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-a.changed:
		}
	}
}

func (a *Addon) reportAll(ctx context.Context, log *zap.Logger, check Check) {
	clusters := a.Selected()
	round, cancel := context.WithTimeout(ctx, a.opts.Interval)
	defer cancel()
	fanout.Run(round, len(clusters), a.opts.Concurrency, func(ctx context.Context, i int) {
		if err := a.write(ctx, clusters[i], check(ctx, clusters[i]).conditions()); err != nil && ctx.Err() == nil {
			log.Warn("reporting the add-on's readiness", zap.String("cluster", clusters[i]), zap.Error(err))
		}
	}, func(int, error) {})
}

// write sets the conditions on the cluster's ManagedClusterAddOn, and marks its health as the server's
// to report (Customized), so the cluster's agent does not look for a lease of an add-on agent that
// does not exist.
func (a *Addon) write(ctx context.Context, cluster string, conds []metav1.Condition) error {
	mcas := a.addons.AddonV1alpha1().ManagedClusterAddOns(cluster)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ctx, cancel := context.WithTimeout(ctx, a.opts.Timeout)
		defer cancel()
		cur, err := mcas.Get(ctx, a.opts.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		changed := cur.Status.HealthCheck.Mode != addonv1alpha1.HealthCheckModeCustomized
		cur.Status.HealthCheck.Mode = addonv1alpha1.HealthCheckModeCustomized
		for _, c := range conds {
			c.ObservedGeneration = cur.Generation
			changed = meta.SetStatusCondition(&cur.Status.Conditions, c) || changed
		}
		if !changed {
			return nil
		}
		_, err = mcas.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
}
