package tools

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"go.uber.org/zap"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/budget"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/fanout"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/output"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/telemetry"
	"github.com/ocm-fleet/multicluster-mcp-server/ocm"
)

// Call timeouts.
const (
	defaultCallTimeout = 30 * time.Second
	maxCallTimeout     = 5 * time.Minute
)

type kubectlArgs struct {
	Cluster   string `json:"cluster" jsonschema:"Where to run: a ManagedCluster name from list_clusters, or hub. Also a fan-out: a comma-separated list, * for every available cluster, selector:<label selector>, or clusterset:<name>"`
	Command   string `json:"command" jsonschema:"The kubectl command line, e.g. get pods -n kube-system -o wide (a leading kubectl is fine). One command; no pipes or shell syntax"`
	Timeout   string `json:"timeout,omitempty" jsonschema:"Optional time limit for the whole call, fan-out included, e.g. 45s or 2m (default 30s, at most 5m)"`
	Aggregate string `json:"aggregate,omitempty" jsonschema:"Optional, for tables (get, events): answer with counts instead of rows, so that a question over many clusters fits. count: rows per cluster and in all. group-by:<COLUMN>: rows by the value of a column of the table (e.g. group-by:STATUS for pods), over the fleet and per cluster"`
}

type kubectlWriteArgs struct {
	Cluster  string `json:"cluster" jsonschema:"Where to run: one ManagedCluster name from list_clusters, or hub"`
	Command  string `json:"command" jsonschema:"The kubectl command line, e.g. scale deploy/web -n shop --replicas=3, or apply when a manifest is given"`
	Manifest string `json:"manifest,omitempty" jsonschema:"YAML or JSON for apply, create, replace or delete; passed to kubectl as -f"`
	Timeout  string `json:"timeout,omitempty" jsonschema:"Optional time limit, e.g. 45s or 2m (default 30s, at most 5m)"`
	Approval string `json:"approval,omitempty" jsonschema:"The approval a preview returned, once the user approved that change: the call must repeat the cluster, command and manifest of the preview"`
}

func kubectlTool(d Deps) server.ServerTool {
	tool := mcp.NewTool("kubectl",
		mcp.WithTitleAnnotation("kubectl (read-only)"),
		mcp.WithDescription("Run a read-only kubectl command on the hub, on one managed cluster, or on many at once. "+
			"Commands: get, describe, logs, events, explain, api-resources, api-versions, version, top, auth can-i, auth whoami, "+
			"cluster-info, rollout status/history. Output is kubectl's own (tables by default), capped in size; logs default to "+
			"the last 200 lines; Secret values are replaced by their byte counts. Fan-out merges tables under a CLUSTER column. "+
			"A fan-out answer starts with how every cluster fared. For wide fan-outs set aggregate: count (rows per cluster and in all) "+
			"or group-by:<COLUMN> (e.g. group-by:STATUS with get pods -A: counts by status over the fleet and per cluster). "+
			"Changes go through kubectl_write."),
		mcp.WithInputSchema[kubectlArgs](),
		mcp.WithOutputSchema[RunData](),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
		// A wide fan-out may run as a task: progress per cluster, and tasks/cancel stops it.
		mcp.WithTaskSupport(mcp.TaskSupportOptional),
	)
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, req mcp.CallToolRequest, args kubectlArgs) (*mcp.CallToolResult, error) {
		return d.runKubectl(ctx, kubectl.ReadTool, callArgs{cluster: args.Cluster, command: args.Command, timeout: args.Timeout, aggregate: args.Aggregate,
			progress: progressReporter(ctx, req)}), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

func kubectlWriteTool(d Deps) server.ServerTool {
	tool := mcp.NewTool("kubectl_write",
		mcp.WithTitleAnnotation("kubectl (changes clusters)"),
		mcp.WithDescription("Run a kubectl command that changes one cluster (the hub or one managed cluster): apply, create, "+
			"replace, delete, patch, label, annotate, scale, autoscale, rollout restart/undo/pause/resume, set image/env/resources, "+
			"cordon, uncordon, drain, taint. Give YAML or JSON in manifest for apply/create/replace/delete. Every change is first "+
			"previewed by a server-side dry run and shown as a diff; it runs only once approved: the server asks the user itself "+
			"when the client supports it, else the preview returns an approval to pass in a second identical call after the user "+
			"approved (one use, short-lived, void if the objects change). The server refuses changes that break a "+
			"PodDisruptionBudget, exceed its scaling limits, touch protected namespaces or kinds, or delete too many objects; "+
			"the refusal says why and how to proceed. Reads go through the kubectl tool."),
		mcp.WithInputSchema[kubectlWriteArgs](),
		mcp.WithReadOnlyHintAnnotation(false),
		mcp.WithDestructiveHintAnnotation(true),
		mcp.WithIdempotentHintAnnotation(false),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	handler := mcp.NewTypedToolHandler(func(ctx context.Context, req mcp.CallToolRequest, args kubectlWriteArgs) (*mcp.CallToolResult, error) {
		return d.kubectlWrite(ctx, req, callArgs{cluster: args.Cluster, command: args.Command, manifest: args.Manifest, timeout: args.Timeout}, args.Approval), nil
	})
	return server.ServerTool{Tool: tool, Handler: handler}
}

// clusterRun is one cluster's outcome in a (possibly one-cluster) call.
type clusterRun struct {
	cluster string
	res     kubectl.Result
}

// callArgs are a kubectl call's arguments.
type callArgs struct {
	cluster, command, manifest, timeout, aggregate string
	// progress, when set, hears about each cluster of a fan-out as it finishes.
	progress func(done, total int, msg string)
}

func (d Deps) runKubectl(ctx context.Context, tool kubectl.Tool, a callArgs) *mcp.CallToolResult {
	res, refusal := d.kubectlCall(ctx, tool, a)
	if refusal != "" {
		audit.Refused(ctx, refusal)
	}
	return res
}

// kubectlCall validates and runs a command; a refusal (bad command, policy) is also returned as text
// for the audit line.
func (d Deps) kubectlCall(ctx context.Context, tool kubectl.Tool, a callArgs) (*mcp.CallToolResult, string) {
	cluster, command, manifest := a.cluster, a.command, a.manifest
	refuse := func(err error) (*mcp.CallToolResult, string) { return mcp.NewToolResultError(err.Error()), err.Error() }
	timeout, err := parseTimeout(a.timeout)
	if err != nil {
		return refuse(err)
	}
	words, err := kubectl.Split(command)
	if err != nil {
		return refuse(err)
	}
	plan, err := kubectl.Check(words, tool, manifest != "")
	if err != nil {
		return refuse(err)
	}
	if d.Offline && !offlineVerbs[plan.Verb] {
		return refuse(fmt.Errorf("`kubectl %s` is not available on a must-gather archive; offline the tool answers get, describe, logs, events, api-resources and api-versions", plan.Verb))
	}
	if acceptsManifestOnly(plan.Verb) && manifest == "" && !hasResourceArgs(plan) {
		return refuse(fmt.Errorf("`kubectl %s` needs the manifest argument (YAML or JSON), or resource arguments", plan.Verb))
	}
	agg, err := parseAggregate(a.aggregate, plan)
	if err != nil {
		return refuse(err)
	}
	sel, err := ocm.ResolveMany(ctx, d.Source, cluster)
	if err != nil {
		return refuse(err)
	}
	d.leaveOutUncollected(ctx, &sel)
	if tool == kubectl.WriteTool && sel.Many {
		return refuse(fmt.Errorf("kubectl_write changes one cluster per call: name a single cluster (or hub)"))
	}
	targets, denied := d.permitted(ctx, sel.Targets, plan.Tool == kubectl.WriteTool)
	if !sel.Many && len(denied) > 0 {
		return mcp.NewToolResultError(denied[0].Error()), ""
	}
	if len(targets) == 0 {
		msg := fmt.Sprintf("%q selects no cluster you may use", cluster)
		if len(sel.Skipped) > 0 {
			msg += "; left out:" + skippedLines(sel.Skipped)
		}
		return mcp.NewToolResultError(msg), ""
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	audit.Clusters(ctx, names...)
	if sel.Many {
		if err := d.spend(ctx, false, budget.Spend{Budget: budget.FanOutPerCaller, Who: callerName(ctx), N: len(targets)}); err != nil {
			return refuse(err)
		}
	}
	// One deadline for the whole call: a wide fan-out does not take timeout per wave of clusters.
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// What a cluster's output can add to the answer: an aggregate counts every row, one cluster's answer
	// leaves room for the note saying it was cut, and a fan-out shows no more of a cluster than of all.
	shown := d.MaxOutputBytes
	switch {
	case agg != nil:
		shown = 0
	case !sel.Many:
		shown = max(d.MaxOutputBytes-cappedNoteRoom, 1024)
	}
	var progress func(done, total int, msg string)
	if sel.Many {
		progress = a.progress
	}
	runs := d.fanOut(ctx, targets, progress, func(ctx context.Context, t ocm.Target) kubectl.Result {
		return d.runOne(ctx, t, plan, manifest, timeout, shown)
	})
	hint := narrowHint(plan)
	if !sel.Many && runs[0].res.Err != nil {
		r := runs[0].res
		return mcp.NewToolResultError(strings.TrimSpace(joinNonEmpty(r.Err.Error(), r.Stdout))), ""
	}
	if agg != nil {
		text, failed, err := renderAggregate(agg, runs, sel.Skipped, sel.Many)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), ""
		}
		text = output.Truncate(text, d.MaxOutputBytes, hint)
		if failed == len(runs) {
			return mcp.NewToolResultError(text), ""
		}
		return withRunData(tool, runs, sel.Skipped, text), ""
	}
	if !sel.Many {
		r := runs[0].res
		text := joinNonEmpty(r.Stdout, r.Stderr)
		if strings.TrimSpace(text) == "" {
			text = "(kubectl printed nothing)\n"
		}
		text = output.Truncate(text, d.MaxOutputBytes, hint)
		if r.Capped {
			text += cappedNote(hint, r.Unread)
		}
		return withRunData(tool, runs, sel.Skipped, text), ""
	}
	text, failed := renderFanOut(runs, sel.Skipped)
	if failed == len(runs) {
		return mcp.NewToolResultError(output.Truncate(text, d.MaxOutputBytes, hint)), ""
	}
	return withRunData(tool, runs, sel.Skipped, output.Truncate(text, d.MaxOutputBytes, hint)), ""
}

// withRunData is a successful answer: the kubectl tool's carries how every cluster fared as data too.
func withRunData(tool kubectl.Tool, runs []clusterRun, skipped map[string]string, text string) *mcp.CallToolResult {
	if tool != kubectl.ReadTool {
		return mcp.NewToolResultText(text)
	}
	return mcp.NewToolResultStructured(runData(runs, skipped), text)
}

// leaveOutUncollected moves the clusters a must-gather holds nothing of from a many-cluster selection to
// its skipped list: offline, "every cluster" means every cluster in the archive. A single named cluster
// stays, so that its error says what the archive holds. Only clusters the caller may see are named; the
// others stay for permitted to leave out silently.
func (d Deps) leaveOutUncollected(ctx context.Context, sel *ocm.Selection) {
	if d.Archive == nil || !sel.Many {
		return
	}
	var holds []string
	for _, n := range d.Archive.Names() {
		if n == ocm.HubName || ocm.Visible(ctx, n) {
			holds = append(holds, n)
		}
	}
	kept := sel.Targets[:0]
	for _, t := range sel.Targets {
		if t.Hub || d.Archive.Clusters[t.Name] != nil || !ocm.Visible(ctx, t.Name) {
			kept = append(kept, t)
			continue
		}
		sel.Skipped[t.Name] = "not in the must-gather (it holds: " + strings.Join(holds, ", ") + ")"
	}
	sel.Targets = kept
}

// skippedLines lists why clusters were left out, one indented line each, sorted by cluster.
func skippedLines(skipped map[string]string) string {
	names := make([]string, 0, len(skipped))
	for n := range skipped {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "\n  %s: %s", n, skipped[n])
	}
	return b.String()
}

// runOne runs the plan on one cluster, with its credentials, within what is left of the call's deadline
// (ctx carries it); timeout is the call's whole limit, for messages.
//
// shown is how much of the output the answer can show (0: all of it, up to the engine's cap): the
// command stops there, and a get stops fetching pages once it has more than that to print.
func (d Deps) runOne(ctx context.Context, t ocm.Target, plan *kubectl.Plan, manifest string, timeout time.Duration, shown int) (res kubectl.Result) {
	ctx, done := telemetry.Cluster(ctx, t.Name)
	defer func() { done(clusterOutcome(res.Err)) }()
	timedOut := func() kubectl.Result {
		return kubectl.Result{Err: fmt.Errorf("cluster %s did not finish within %s: %w", t.Name, timeout, kubectl.ErrTimeout)}
	}
	if ctx.Err() != nil {
		return timedOut()
	}
	cfg, err := d.Clusters.RESTConfig(ctx, t)
	if err != nil {
		return kubectl.Result{Err: err}
	}
	left := timeout
	if dl, ok := ctx.Deadline(); ok {
		left = time.Until(dl)
	}
	if left <= 0 {
		return timedOut()
	}
	res = d.Kubectl.Run(ctx, kubectl.Request{Key: t.Name + "|" + cfg.Host, Config: cfg, Plan: plan, Manifest: manifest, Timeout: left, OutputBytes: shown})
	if res.Err != nil {
		if errors.Is(res.Err, kubectl.ErrTimeout) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			res.Err = fmt.Errorf("cluster %s did not finish within %s (raise the timeout argument, or check the cluster with cluster_status): %w", t.Name, timeout, kubectl.ErrTimeout)
		} else {
			res.Err = auth.ExplainSpokeError(t.Name, cfg, res.Err)
		}
	}
	return res
}

// fanOut runs fn on every target with bounded concurrency and returns the results in target order. A
// target not started before the call's deadline records a timeout that says so; once the call is
// cancelled (tasks/cancel, or the client went away) no other target starts, and those in flight stop.
// progress, when set, hears about each target as it finishes.
func (d Deps) fanOut(ctx context.Context, targets []ocm.Target, progress func(done, total int, msg string), fn func(context.Context, ocm.Target) kubectl.Result) []clusterRun {
	runs := make([]clusterRun, len(targets))
	telemetry.FanOut(ctx, len(targets))
	var mu sync.Mutex
	finished := 0
	var notStarted []string
	fanout.Run(ctx, len(targets), d.FanOutConcurrency, func(ctx context.Context, i int) {
		runs[i] = clusterRun{cluster: targets[i].Name, res: fn(ctx, targets[i])}
		if progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		finished++
		msg := targets[i].Name + ": ok"
		if err := runs[i].res.Err; err != nil {
			msg = targets[i].Name + ": failed: " + oneLine(err.Error())
		}
		progress(finished, len(targets), msg)
	}, func(i int, err error) {
		name := targets[i].Name
		telemetry.Skipped(ctx, name)
		why := fmt.Errorf("cluster %s was not started before the call's deadline (narrow the selection, or raise the timeout argument): %w", name, kubectl.ErrTimeout)
		if errors.Is(err, context.Canceled) {
			why = fmt.Errorf("cluster %s was not started: the call was cancelled", name)
			mu.Lock()
			notStarted = append(notStarted, name)
			mu.Unlock()
		}
		runs[i] = clusterRun{cluster: name, res: kubectl.Result{Err: why}}
	})
	if len(notStarted) > 0 && d.Log != nil {
		sort.Strings(notStarted)
		d.Log.Info("fan-out cancelled before it started every cluster", zap.String("user", callerName(ctx)), zap.Strings("notStarted", notStarted), zap.Int("of", len(targets)))
	}
	return runs
}

// renderFanOut merges the successful outputs (tables under a CLUSTER column, anything else one section
// per cluster), then lists what failed or was skipped. It returns the text and the failure count.
func renderFanOut(runs []clusterRun, skipped map[string]string) (string, int) {
	var parts []output.ClusterOutput
	var notes, failures, capped []string
	st := runData(runs, skipped)
	for _, r := range runs {
		if r.res.Err != nil {
			failures = append(failures, fmt.Sprintf("%s: %s", r.cluster, oneLine(r.res.Err.Error())))
			continue
		}
		if strings.TrimSpace(r.res.Stdout) != "" {
			parts = append(parts, output.ClusterOutput{Cluster: r.cluster, Text: r.res.Stdout})
		}
		if r.res.Capped {
			capped = append(capped, r.cluster)
		}
		if msg := strings.TrimSpace(r.res.Stderr); msg != "" {
			notes = append(notes, fmt.Sprintf("%s: %s", r.cluster, oneLine(msg)))
		}
	}
	if len(capped) > 0 {
		notes = append([]string{fmt.Sprintf("output stopped at the server's cap on %d cluster(s), the rest was not read: %s",
			len(capped), nameList(capped, 10))}, notes...)
	}
	var b strings.Builder
	b.WriteString(st.summary())
	if merged, ok := output.MergeTables(parts); ok {
		b.WriteString(merged)
	} else {
		for _, p := range parts {
			fmt.Fprintf(&b, "=== cluster %s ===\n%s", p.Cluster, p.Text)
			if !strings.HasSuffix(p.Text, "\n") {
				b.WriteString("\n")
			}
		}
	}
	writeTail(&b, notes, skipped, failures, len(runs))
	return b.String(), len(failures)
}

// writeTail ends a fan-out answer: notes, the clusters skipped and those that failed (of ran).
func writeTail(b *strings.Builder, notes []string, skipped map[string]string, failures []string, ran int) {
	if len(notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range notes {
			fmt.Fprintf(b, "  %s\n", n)
		}
	}
	if len(skipped) > 0 {
		b.WriteString("\nSkipped:" + skippedLines(skipped) + "\n")
	}
	if len(failures) > 0 {
		fmt.Fprintf(b, "\nFailed on %d of %d cluster(s):\n", len(failures), ran)
		for _, f := range failures {
			fmt.Fprintf(b, "  %s\n", f)
		}
	}
	if b.Len() == 0 {
		b.WriteString("No output from any cluster.\n")
	}
}

// cappedNote says that the command itself was stopped: the size above is a lower bound.
// cappedNoteRoom is what the answer keeps free for cappedNote after one cluster's output.
const cappedNoteRoom = 512

func cappedNote(hint string, unread int64) string {
	more := "there is more than shown"
	if unread > 0 {
		more = fmt.Sprintf("the cluster holds at least %d more objects than shown", unread)
	}
	return "[the command was stopped when its output reached the server's cap, so " + more + ". To narrow it: " + hint + "]\n"
}

// offlineVerbs are the commands an archive can answer.
var offlineVerbs = map[string]bool{"get": true, "describe": true, "logs": true, "events": true, "api-resources": true, "api-versions": true}

func parseTimeout(arg string) (time.Duration, error) {
	if arg == "" {
		return defaultCallTimeout, nil
	}
	d, err := time.ParseDuration(arg)
	if err != nil {
		return 0, fmt.Errorf("timeout %q is not a duration: use e.g. 45s or 2m", arg)
	}
	if d <= 0 || d > maxCallTimeout {
		return 0, fmt.Errorf("timeout %s is out of range: between 1s and %s", d, maxCallTimeout)
	}
	return d, nil
}

// narrowHint says how to shrink an output that was too large, for the command at hand.
func narrowHint(p *kubectl.Plan) string {
	switch p.Verb {
	case "logs":
		return "use --tail=N, --since=10m, or -c <container>"
	case "events":
		return "use -n <namespace>, --types=Warning, or --for <kind>/<name>"
	case "describe":
		return "describe one object by name, or use get with -o custom-columns"
	default:
		return "add -n <namespace> or -l <selector>, or select fields with -o custom-columns=NAME:.metadata.name,... or -o jsonpath"
	}
}

func acceptsManifestOnly(verb string) bool { return verb == "apply" || verb == "replace" }

func hasResourceArgs(p *kubectl.Plan) bool { return len(p.Refs) > 0 }

func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, strings.TrimRight(p, "\n"))
		}
	}
	return strings.Join(out, "\n") + "\n"
}
