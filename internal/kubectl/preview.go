package kubectl

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Preview is what a command would change, computed by a server-side dry run.
type Preview struct {
	// Result is kubectl's own output of the dry run.
	Result Result
	// Changes are the objects the command would change, in the order it would change them.
	Changes []Change
	// Cascade lists, already rendered, what a delete's cascade would also remove (the guardrails read it).
	Cascade string
	// humanize turns Secret placeholders in rendered objects into "<elided: N bytes>".
	humanize func(string) string
}

// dryRunVerbs have kubectl's --dry-run=server.
var dryRunVerbs = map[string]bool{
	"apply": true, "create": true, "replace": true, "delete": true, "patch": true, "label": true, "annotate": true,
	"scale": true, "autoscale": true, "set": true, "cordon": true, "uncordon": true, "drain": true, "taint": true,
}

// HasDryRun says whether the command is itself a dry run (it changes nothing).
func HasDryRun(p *Plan) bool {
	for _, w := range p.Args {
		if w == "--dry-run" || (strings.HasPrefix(w, "--dry-run=") && w != "--dry-run=none") {
			return true
		}
	}
	return false
}

// previewPlan is the plan that computes what p would change without changing it: p with
// --dry-run=server, or for rollout restart, pause and resume (which have no dry run) the patch they
// send, as a dry run.
func previewPlan(p *Plan, now time.Time) (*Plan, error) {
	q := *p
	switch {
	case dryRunVerbs[p.Verb] || (p.Verb == "rollout" && p.Sub == "undo"):
		q.Args = append(append([]string(nil), p.Args...), "--dry-run=server")
		return &q, nil
	case p.Verb == "rollout" && (p.Sub == "restart" || p.Sub == "pause" || p.Sub == "resume"):
		var patch map[string]any
		switch p.Sub {
		case "restart":
			patch = map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
				"annotations": map[string]any{"kubectl.kubernetes.io/restartedAt": now.Format(time.RFC3339)}}}}}
		case "pause":
			patch = map[string]any{"spec": map[string]any{"paused": true}}
		default:
			patch = map[string]any{"spec": map[string]any{"paused": false}}
		}
		data, err := json.Marshal(patch)
		if err != nil {
			return nil, err
		}
		args := []string{"patch"}
		seenSub := false
		for _, w := range p.Args {
			switch {
			case !seenSub && w == "rollout":
				continue
			case !seenSub && w == p.Sub:
				seenSub = true
				continue
			case w == "-l" || w == "--selector" || strings.HasPrefix(w, "--selector=") || strings.HasPrefix(w, "-l="):
				return nil, fmt.Errorf("`rollout %s` with a label selector cannot be previewed: name the objects (e.g. deployment/web)", p.Sub)
			}
			args = append(args, w)
		}
		q.Verb, q.Sub, q.Path = "patch", "", "patch"
		q.Args = append(args, "--type=merge", "-p", string(data), "--dry-run=server")
		return &q, nil
	}
	return nil, fmt.Errorf("`kubectl %s` cannot be previewed", p.Path)
}

// Preview runs the plan as a server-side dry run behind a recorder that refuses any request without
// dry run, and returns each object before and after.
func (e *Engine) Preview(ctx context.Context, r Request) (Preview, error) {
	plan, err := previewPlan(r.Plan, time.Now())
	if err != nil {
		return Preview{}, err
	}
	r.Plan = plan
	rec := newRecording()
	res := e.run(ctx, r, rec, nil)
	return Preview{Result: res, Changes: rec.list(), humanize: rec.humanize}, nil
}

// Fingerprints maps each changed object's path to the fingerprint of its content before the change ("" for
// an object that did not exist): what an approval is bound to. A status update by a controller (which
// moves the resourceVersion all the time) leaves it; any other change to the object voids it.
func (p Preview) Fingerprints() map[string]string {
	out := make(map[string]string, len(p.Changes))
	for _, c := range p.Changes {
		out[c.Path] = c.Fingerprint
	}
	return out
}

// Destructive says whether a command removes, evicts, stops scheduling or rolls back: what the
// "destructive" approval level asks about. Scaling to zero counts.
func Destructive(p *Plan) bool {
	switch p.Verb {
	case "delete", "drain", "cordon", "taint", "replace":
		return true
	case "rollout":
		return p.Sub == "undo"
	case "scale":
		for i, w := range p.Args {
			if w == "--replicas=0" || (w == "--replicas" && i+1 < len(p.Args) && p.Args[i+1] == "0") {
				return true
			}
		}
	case "apply":
		for _, w := range p.Args {
			if w == "--force" || w == "--force=true" {
				return true
			}
		}
	}
	return false
}
