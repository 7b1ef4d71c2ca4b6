package tools

import (
	"context"
	"errors"

	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/budget"
)

// Budgets are spent where a call does its work: a kubectl_write change when it runs (checked before its
// preview too, so that a spent budget does not cost an approval), a read fan-out by its width before
// it starts, a must-gather when it starts.

// spend takes (or, with check, only checks) spends from the ledger; a refusal names its budget in the
// audit line.
func (d Deps) spend(ctx context.Context, check bool, spends ...budget.Spend) error {
	if d.Budgets == nil {
		return nil
	}
	var err error
	if check {
		err = d.Budgets.Check(spends...)
	} else {
		err = d.Budgets.Take(spends...)
	}
	if err != nil {
		name := "spenders"
		var spent *budget.Spent
		if errors.As(err, &spent) {
			name = string(spent.Budget)
		}
		audit.Budget(ctx, name)
	}
	return err
}

// changeSpends are what one change on a cluster spends: one of the caller's changes and one of the
// cluster's.
func changeSpends(ctx context.Context, cluster string) []budget.Spend {
	return []budget.Spend{
		{Budget: budget.ChangesPerCaller, Who: callerName(ctx), N: 1},
		{Budget: budget.ChangesPerCluster, Who: cluster, N: 1},
	}
}
