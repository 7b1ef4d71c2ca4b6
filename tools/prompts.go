package tools

import (
	"context"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// The prompts set up an engineer agent: which tools, in what order, what to report, and to ask first.
const promptRules = `Rules: work from evidence. Quote exact object names, conditions, reasons and timestamps. Do not guess a
cause the evidence does not show; say what is unknown and which call would tell. Never change anything
without asking the user first: propose the exact kubectl_write call and wait for a yes. After a change,
verify it the way the runbook says.`

func registerPrompts(s *server.MCPServer) {
	s.AddPrompt(mcp.NewPrompt("troubleshoot_cluster",
		mcp.WithPromptDescription("Find out why one managed cluster is not healthy, and propose a fix."),
		mcp.WithArgument("cluster", mcp.RequiredArgument(), mcp.ArgumentDescription("The ManagedCluster name (from list_clusters)")),
	), func(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		c := req.Params.Arguments["cluster"]
		text := fmt.Sprintf(`Troubleshoot the managed cluster %[1]q of this OCM fleet.

1. Call cluster_status with cluster=%[1]s: read the verdict, the conditions, the lease and the add-ons.
2. Call diagnose with cluster=%[1]s: take its top finding as the working hypothesis, with its evidence.
3. Call search_runbooks with the finding's words, and read the best runbook (its runbook:// URI).
4. Gather what the runbook's checks ask for with the kubectl tool (on the hub with cluster=hub, on the
   spoke with cluster=%[1]s), for example the agent's logs with --tail.
5. Report: the verdict, the root cause with its evidence, what you ruled out, and the fix as exact
   kubectl_write calls, with how to verify it.

%[2]s`, c, promptRules)
		return mcp.NewGetPromptResult("Troubleshoot cluster "+c, []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(text))}), nil
	})
	s.AddPrompt(mcp.NewPrompt("troubleshoot_addon",
		mcp.WithPromptDescription("Find out why an add-on is missing or unhealthy, on one cluster or across the fleet."),
		mcp.WithArgument("addon", mcp.RequiredArgument(), mcp.ArgumentDescription("The add-on name (ClusterManagementAddOn)")),
		mcp.WithArgument("cluster", mcp.ArgumentDescription("Optional: one ManagedCluster name")),
	), func(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		a, c := req.Params.Arguments["addon"], req.Params.Arguments["cluster"]
		where := "across the fleet"
		diag := "addon=" + a
		if c != "" {
			where, diag = "on cluster "+c, "addon="+a+" and cluster="+c
		}
		text := fmt.Sprintf(`Troubleshoot the add-on %[1]q %[2]s.

1. Call diagnose with %[3]s: it reads the install strategy, the Placements and their decisions, the
   ManagedClusterSetBindings, the ManagedClusterAddOn conditions, its ManifestWorks and health lease.
2. Depending on the finding, read runbook://ocm/addon-not-created or runbook://ocm/addon-unavailable
   (or search_runbooks), and gather the evidence its checks list with the kubectl tool on cluster=hub.
3. If the add-on exists but is unhealthy, look at its agent on the spoke (pods, logs with --tail).
4. Report: where the add-on is missing or unhealthy, why (with the exact conditions), and the fix as
   kubectl_write calls.

%[4]s`, a, where, diag, promptRules)
		return mcp.NewGetPromptResult("Troubleshoot add-on "+a, []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(text))}), nil
	})
	s.AddPrompt(mcp.NewPrompt("troubleshoot_workload",
		mcp.WithPromptDescription("Find out why the workloads of one namespace of a cluster fail (pods, rollouts, Jobs, Services), and propose a fix."),
		mcp.WithArgument("cluster", mcp.RequiredArgument(), mcp.ArgumentDescription("The ManagedCluster name (from list_clusters), or hub")),
		mcp.WithArgument("namespace", mcp.RequiredArgument(), mcp.ArgumentDescription("The namespace on that cluster")),
	), func(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		c, ns := req.Params.Arguments["cluster"], req.Params.Arguments["namespace"]
		text := fmt.Sprintf(`Troubleshoot the workloads of namespace %[2]q on cluster %[1]q.

1. Call diagnose with cluster=%[1]s and read the findings about namespace %[2]s: crash loops with their
   log lines, image pulls, OOM kills, unschedulable pods, Services without endpoints, stuck rollouts,
   failed Jobs, PodDisruptionBudgets; the root cause comes first.
2. Confirm with the kubectl tool on cluster=%[1]s: get pods,deploy,svc,pdb -n %[2]s, describe the failing
   objects, logs --previous --tail=50 of a crashing container, events -n %[2]s --types=Warning.
3. Read the finding's runbook (its runbook:// URI).
4. Report: what fails, why (with the exact messages), what you ruled out, and the fix as exact
   kubectl_write calls, with how to verify it.

%[3]s`, c, ns, promptRules)
		return mcp.NewGetPromptResult("Troubleshoot namespace "+ns+" on "+c, []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(text))}), nil
	})
	s.AddPrompt(mcp.NewPrompt("fleet_health_check",
		mcp.WithPromptDescription("A health check of the whole fleet: what is wrong, ordered by impact."),
	), func(context.Context, mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		text := `Check the health of the whole OCM fleet.

1. Call list_clusters: note every cluster that is not AVAILABLE=True, whose LEASE is late or stale, that
   has taints, or whose ADDONS are not all healthy.
2. Call diagnose with no target: it checks every cluster and add-on; read the findings by severity.
3. For each unhealthy cluster call cluster_status; for the worst ones follow troubleshoot_cluster.
4. Report a short table: cluster, verdict, cause, next step; then the fleet-wide problems (add-ons,
   placements). Say plainly when everything is healthy, and what was checked.

` + promptRules
		return mcp.NewGetPromptResult("Fleet health check", []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(text))}), nil
	})
}
