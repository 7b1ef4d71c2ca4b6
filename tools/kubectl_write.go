package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"k8s.io/client-go/rest"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/approval"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// A change waits for approval unless the autonomy level waives it: the server first previews it (a
// server-side dry run, shown as a diff), then asks the person through elicitation when the client
// offers it, or returns a one-time approval for the caller to present in a second call.

// maxElicitDiff bounds the diff shown in an elicitation.
const maxElicitDiff = 16 << 10

// writeChange is one kubectl_write call waiting for approval.
type writeChange struct {
	args  callArgs
	token string
	// how the token came: "approval presented" or "elicitation"
	how     string
	elicits bool
	plan    *kubectl.Plan
	target  ocm.Target
	binding approval.Binding
	timeout time.Duration
	// required is false when the autonomy level waives approval: the change runs after its preview and
	// the guardrails.
	required bool
}

func (d Deps) kubectlWrite(ctx context.Context, req mcp.CallToolRequest, a callArgs, token string) *mcp.CallToolResult {
	words, err := kubectl.Split(a.command)
	if err != nil {
		return d.runKubectl(ctx, kubectl.WriteTool, a) // refused there, with the same message
	}
	plan, err := kubectl.Check(words, kubectl.WriteTool, a.manifest != "")
	if err != nil {
		return d.runKubectl(ctx, kubectl.WriteTool, a)
	}
	if kubectl.HasDryRun(plan) {
		return d.runKubectl(ctx, kubectl.WriteTool, a)
	}
	timeout, err := parseTimeout(a.timeout)
	if err != nil {
		return d.runKubectl(ctx, kubectl.WriteTool, a)
	}
	sel, err := ocm.ResolveMany(ctx, d.Source, a.cluster)
	if err != nil || sel.Many {
		return d.runKubectl(ctx, kubectl.WriteTool, a)
	}
	targets, denied := d.permitted(ctx, sel.Targets, true)
	if len(denied) > 0 || len(targets) != 1 {
		return d.runKubectl(ctx, kubectl.WriteTool, a)
	}
	w := writeChange{args: a, token: token, how: "approval presented", plan: plan, target: targets[0], timeout: timeout,
		required: d.Approval.Requires(kubectl.Destructive(plan)),
		elicits:  clientElicits(server.ClientSessionFromContext(ctx)),
		binding:  approval.Binding{Caller: callerName(ctx), Cluster: targets[0].Name, Command: words, Manifest: a.manifest}}
	audit.Clusters(ctx, w.target.Name)
	if approved, answered := elicitAnswer(req); answered && token == "" {
		if !approved {
			audit.Approval(ctx, "declined", w.binding.Caller)
			return mcp.NewToolResultError("The change was not approved; nothing was changed.")
		}
		w.token, w.how = req.Params.RequestState, "elicitation"
	}
	return d.approveThenRun(ctx, w)
}

func (d Deps) approveThenRun(ctx context.Context, w writeChange) *mcp.CallToolResult {
	refuse := func(msg string) *mcp.CallToolResult {
		audit.Refused(ctx, msg)
		return mcp.NewToolResultError(msg)
	}
	// A spent budget refuses before the preview: an approval that could not be used is worth nothing.
	if err := d.spend(ctx, true, changeSpends(ctx, w.target.Name)...); err != nil {
		return refuse(err.Error())
	}
	var checked *approval.Approved
	if w.token != "" && w.required {
		var err error
		if checked, err = d.Approvals.Check(w.token, w.binding); err != nil {
			return refuse(err.Error())
		}
	}
	pv, cfg, err := d.preview(ctx, w)
	if err != nil {
		return refuse(err.Error())
	}
	if checked != nil {
		if same, what := approval.Same(checked.Versions, pv.Fingerprints()); !same {
			return refuse(fmt.Sprintf("%v (%s); nothing was changed", approval.ErrChanged, what))
		}
	}
	if err := d.guard(ctx, w, cfg, &pv); err != nil {
		return refuse(err.Error())
	}
	if err := d.policyChange(ctx, w, cfg, pv); err != nil {
		return refuse(err.Error())
	}
	if !w.required {
		if err := d.spend(ctx, false, changeSpends(ctx, w.target.Name)...); err != nil {
			return refuse(err.Error())
		}
		audit.Approval(ctx, "not required at level "+string(d.Approval), "")
		return d.runKubectl(ctx, kubectl.WriteTool, w.args)
	}
	if checked != nil {
		// The budget is spent before the approval is used: a refusal leaves the approval valid.
		if err := d.spend(ctx, false, changeSpends(ctx, w.target.Name)...); err != nil {
			return refuse(err.Error())
		}
		if err := d.Approvals.Use(checked); err != nil {
			return refuse(err.Error())
		}
		audit.Approval(ctx, w.how, w.binding.Caller)
		return d.runKubectl(ctx, kubectl.WriteTool, w.args)
	}
	diff := pv.Diff()
	tok, err := d.Approvals.Issue(w.binding, pv.Fingerprints())
	if err != nil {
		return refuse("cannot issue an approval: " + err.Error())
	}
	if w.elicits {
		audit.Approval(ctx, "asked the person", "")
		return askApproval(w, diff, tok)
	}
	audit.Approval(ctx, "previewed", "")
	var b strings.Builder
	fmt.Fprintf(&b, "Preview (server-side dry run) of `kubectl %s` on cluster %s: nothing was changed.\n", strings.Join(w.binding.Command, " "), w.target.Name)
	fmt.Fprintf(&b, "To make this change, show this preview to the user and, once they approve, call kubectl_write again with the same cluster, command and manifest, and approval set to:\n%s\n", tok)
	fmt.Fprintf(&b, "(valid for %s, once; refused if the objects change before then)\n\n", d.Approvals.TTL())
	body := diff
	if out := strings.TrimSpace(joinNonEmpty(pv.Result.Stdout, pv.Result.Stderr)); out != "" {
		body += "\nkubectl (dry run):\n" + out + "\n"
	}
	b.WriteString(output.Truncate(body, max(d.MaxOutputBytes-b.Len(), 1024), "preview a narrower change"))
	return mcp.NewToolResultText(b.String())
}

// preview runs the change as a server-side dry run on its cluster (a drain only once the guardrails let
// its evictions go); a dry run that fails is an error (the change would fail too). It returns the
// cluster's REST config too, for the guardrails on the preview.
func (d Deps) preview(ctx context.Context, w writeChange) (kubectl.Preview, *rest.Config, error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	cfg, err := d.Clusters.RESTConfig(ctx, w.target)
	if err != nil {
		return kubectl.Preview{}, nil, err
	}
	if err := d.guard(ctx, w, cfg, nil); err != nil {
		return kubectl.Preview{}, nil, err
	}
	pv, err := d.Kubectl.Preview(ctx, kubectl.Request{Key: w.target.Name + "|" + cfg.Host, Config: cfg, Plan: w.plan, Manifest: w.args.manifest, Timeout: w.timeout})
	if err != nil {
		return kubectl.Preview{}, nil, fmt.Errorf("%v; a change is checked against the guardrails on its preview (and approved on it when --approval=%s asks), so it cannot run", err, d.Approval)
	}
	if r := pv.Result; r.Err != nil {
		if errors.Is(r.Err, kubectl.ErrTimeout) {
			return kubectl.Preview{}, nil, fmt.Errorf("the preview on cluster %s did not finish within %s: %w", w.target.Name, w.timeout, r.Err)
		}
		msg := strings.TrimSpace(joinNonEmpty(auth.ExplainSpokeError(w.target.Name, cfg, r.Err).Error(), r.Stdout))
		return kubectl.Preview{}, nil, fmt.Errorf("the preview (server-side dry run) failed, so the change would fail too; nothing was changed: %s", msg)
	}
	return pv, cfg, nil
}

// callerName is who an approval is bound to and who gave it: the HTTP caller, or the local user.
func callerName(ctx context.Context) string {
	c := auth.CallerFrom(ctx)
	if c == nil {
		return "local (stdio)"
	}
	name := c.User
	if c.UID != "" {
		name += " (uid " + c.UID + ")"
	}
	return name
}
