package kubectl

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// Tool is which MCP tool may run a command.
type Tool int

const (
	// ReadTool is the read-only `kubectl` tool.
	ReadTool Tool = iota
	// WriteTool is `kubectl_write`, which may change clusters.
	WriteTool
)

func (t Tool) String() string {
	if t == WriteTool {
		return "kubectl_write"
	}
	return "kubectl"
}

// verbs maps each allowed command to the tool that runs it; for commands with subcommands, the
// allowed subcommands and their tool.
var verbs = map[string]struct {
	tool Tool
	subs map[string]Tool // nil: no subcommand needed
}{
	"get": {tool: ReadTool}, "describe": {tool: ReadTool}, "logs": {tool: ReadTool}, "events": {tool: ReadTool},
	"explain": {tool: ReadTool}, "api-resources": {tool: ReadTool}, "api-versions": {tool: ReadTool},
	"version": {tool: ReadTool}, "top": {tool: ReadTool, subs: map[string]Tool{"node": ReadTool, "nodes": ReadTool, "no": ReadTool, "pod": ReadTool, "pods": ReadTool, "po": ReadTool}},
	"auth":         {tool: ReadTool, subs: map[string]Tool{"can-i": ReadTool, "whoami": ReadTool}},
	"cluster-info": {tool: ReadTool},
	"rollout": {tool: WriteTool, subs: map[string]Tool{
		"status": ReadTool, "history": ReadTool,
		"restart": WriteTool, "undo": WriteTool, "pause": WriteTool, "resume": WriteTool}},
	"apply": {tool: WriteTool}, "create": {tool: WriteTool}, "replace": {tool: WriteTool}, "delete": {tool: WriteTool},
	"patch": {tool: WriteTool}, "label": {tool: WriteTool}, "annotate": {tool: WriteTool}, "scale": {tool: WriteTool},
	"autoscale": {tool: WriteTool},
	"set":       {tool: WriteTool, subs: map[string]Tool{"image": WriteTool, "env": WriteTool, "resources": WriteTool}},
	"cordon":    {tool: WriteTool}, "uncordon": {tool: WriteTool}, "drain": {tool: WriteTool}, "taint": {tool: WriteTool},
}

// blockedCommands explain why a kubectl command is not available, and what to do instead.
var blockedCommands = map[string]string{
	"config":       "it reads and writes kubeconfig files; the cluster argument chooses the cluster",
	"kuberc":       "it reads and writes local preference files",
	"plugin":       "plugins run programs on the server's host",
	"completion":   "shell completion has no use here",
	"edit":         "it opens an editor; use kubectl_write with patch, or apply with the manifest argument",
	"diff":         "it runs a local diff program; compare get -o yaml with your manifest, or use apply --dry-run=server -o yaml",
	"exec":         "it runs processes inside containers",
	"attach":       "it attaches to running containers",
	"run":          "it starts arbitrary pods; use kubectl_write with create or apply and the manifest argument",
	"debug":        "it starts debugging containers",
	"cp":           "it copies files between pods and the server's host",
	"port-forward": "it opens network tunnels",
	"proxy":        "it opens a network proxy to the API server",
	"wait":         "it blocks until a condition holds; use get, or rollout status, with the timeout argument",
	"certificate":  "approving or denying CSRs is not offered",
	"kustomize":    "it reads directories on the server's host",
	"alpha":        "alpha commands are not offered",
	"convert":      "it reads local files",
	"expose":       "not offered; use kubectl_write with create service or apply",
}

// absentFlags explain flags that the kubectl binary has and the server's command tree does not: they
// would change the target, the identity or the process.
var absentFlags = map[string]string{
	"server": "the target is chosen by the cluster argument", "s": "the target is chosen by the cluster argument",
	"kubeconfig": "the target is chosen by the cluster argument", "context": "the target is chosen by the cluster argument",
	"cluster": "the target is chosen by the cluster argument (the tool argument, not a flag)",
	"user":    "the identity is the server's credentials for the cluster", "token": "the identity is the server's credentials for the cluster",
	"username": "the identity is the server's credentials", "password": "the identity is the server's credentials",
	"as": "impersonation is not available", "as-group": "impersonation is not available", "as-uid": "impersonation is not available",
	"as-user-extra":         "impersonation is not available",
	"certificate-authority": "TLS settings are fixed by the server", "client-certificate": "TLS settings are fixed by the server",
	"client-key": "TLS settings are fixed by the server", "insecure-skip-tls-verify": "TLS settings are fixed by the server",
	"tls-server-name": "TLS settings are fixed by the server", "proxy-url": "the connection is fixed by the server",
	"cache-dir": "the discovery cache is managed by the server", "kuberc": "local preference files are not read",
	"k":       "it reads directories on the server's host: render the kustomization and pass it in the manifest argument",
	"profile": "profiling writes files on the server's host", "profile-output": "profiling writes files on the server's host",
	"v": "verbosity flags would print requests, headers and tokens", "vmodule": "verbosity flags are not available",
	"log-flush-frequency": "log flags are not available",
	"output-directory":    "it writes files on the server's host",
	"editor":              "no editor runs here",
	"stdin":               "there is no stdin", "i": "there is no stdin", "tty": "there is no terminal", "t": "there is no terminal",
}

// Plan is a validated command, ready to run.
type Plan struct {
	Args []string // what kubectl receives
	Verb string
	Sub  string   // subcommand of auth, rollout, set, top, create
	Path string   // the command path in kubectl's tree, e.g. "create secret generic"
	Refs []string // positional arguments after the verb (resource types and names), for the audit log
	Tool Tool
	// Flags are the flags the command line sets, by long name, with the values kubectl's own flag set
	// parsed (a slice flag as pflag prints it, e.g. [a,b]); defaults the engine adds are not among them.
	Flags map[string]string
}

// Check validates a command for a tool. hasManifest says whether the manifest argument is set.
func Check(words []string, tool Tool, hasManifest bool) (*Plan, error) {
	verbAt, err := findVerb(words)
	if err != nil {
		return nil, err
	}
	verb := words[verbAt]
	rule, ok := verbs[verb]
	if !ok {
		if why, blocked := blockedCommands[verb]; blocked {
			return nil, fmt.Errorf("`kubectl %s` is not available: %s", verb, why)
		}
		return nil, fmt.Errorf("unknown or unsupported command %q; %s offers: %s", verb, tool, strings.Join(verbsFor(tool), ", "))
	}
	p := &Plan{Verb: verb, Tool: rule.tool}
	for _, w := range words {
		if w == "--" {
			return nil, fmt.Errorf("'--' is not available: it introduces a command to run in a container")
		}
	}
	// The command line is read by the same cobra tree that runs it, so that what is checked is what runs.
	cmd, rest, err := buildRoot(policyGetter(), verb, WriteTool, genericiooptions.NewTestIOStreamsDiscard()).Find(words)
	if err != nil {
		return nil, fmt.Errorf("cannot read the command: %v", err)
	}
	path := strings.TrimPrefix(cmd.CommandPath(), "kubectl ")
	if rule.subs != nil {
		sub, _, _ := strings.Cut(strings.TrimPrefix(path, verb+" "), " ")
		if path == verb {
			sub = firstWord(words[verbAt+1:])
		}
		st, ok := rule.subs[sub]
		if !ok {
			return nil, fmt.Errorf("`kubectl %s %s` is not available; allowed: %s", verb, sub, strings.Join(sortedKeys(rule.subs), ", "))
		}
		p.Sub, p.Tool = sub, st
	}
	if tool == ReadTool && p.Tool == WriteTool {
		return nil, fmt.Errorf("`kubectl %s` changes the cluster: use the kubectl_write tool (not available when the server runs read-only)", strings.TrimSpace(verb+" "+p.Sub))
	}
	if tool == WriteTool && p.Tool == ReadTool && !(verb == "rollout") {
		return nil, fmt.Errorf("`kubectl %s` only reads: use the kubectl tool, which needs no approval", verb)
	}
	if why, refused := refusedCommands[path]; refused {
		return nil, fmt.Errorf("`kubectl %s` is not available: %s", path, why)
	}
	if _, ok := allowed[path]; !ok {
		return nil, fmt.Errorf("`kubectl %s` is not available; %s offers: %s", path, tool, strings.Join(verbsFor(tool), ", "))
	}
	refs, flags, err := checkFlags(cmd, path, rest)
	if err != nil {
		return nil, err
	}
	p.Path, p.Flags = path, flags
	if sub := strings.TrimPrefix(path, verb); sub != "" {
		p.Refs = append(strings.Fields(sub), refs...)
	} else {
		p.Refs = refs
	}
	if hasManifest && !acceptsManifest(verb) {
		return nil, fmt.Errorf("the manifest argument is only for apply, create, replace and delete (-f); `kubectl %s` does not read one", verb)
	}
	if verb == "cluster-info" && len(p.Refs) > 0 {
		return nil, fmt.Errorf("`kubectl cluster-info %s` is not available: only plain cluster-info is (dump writes files on the server's host)", p.Refs[0])
	}
	p.Args = append([]string(nil), words...)
	p.Args = append(p.Args, defaults(p)...)
	return p, nil
}

// acceptsManifest lists the commands that take the manifest argument (as -f).
func acceptsManifest(verb string) bool {
	switch verb {
	case "apply", "create", "replace", "delete":
		return true
	}
	return false
}

// findVerb skips namespace flags a user may put first (`-n ns get pods`).
func findVerb(words []string) (int, error) {
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "-n" || w == "--namespace":
			i++
		case strings.HasPrefix(w, "--namespace=") || (strings.HasPrefix(w, "-n") && len(w) > 2 && !strings.HasPrefix(w, "--")):
		case strings.HasPrefix(w, "-"):
			return 0, fmt.Errorf("flag %s comes before the command: write the verb first, e.g. `get pods %s`", w, w)
		default:
			return i, nil
		}
	}
	return 0, fmt.Errorf("the command has no verb: give e.g. `get pods`")
}

// firstWord is the first word that is not a flag, for messages.
func firstWord(words []string) string {
	for _, w := range words {
		if !strings.HasPrefix(w, "-") {
			return w
		}
	}
	return ""
}

// defaults adds bounds the model did not ask for: logs are cut to the last 200 lines, and commands that
// wait (rollout status, drain) get a timeout.
func defaults(p *Plan) []string {
	has := func(names ...string) bool {
		for _, n := range names {
			if _, set := p.Flags[n]; set {
				return true
			}
		}
		return false
	}
	var extra []string
	switch {
	case p.Verb == "logs" && !has("tail", "since", "since-time"):
		extra = append(extra, "--tail=200")
	case (p.Verb == "rollout" && p.Sub == "status") || p.Verb == "drain":
		if !has("timeout") {
			extra = append(extra, "--timeout=25s")
		}
	case canCutPages(p) && objectPages[p.Flags["output"]] && !has("chunk-size"):
		// Whole objects are large: smaller pages let a get stop soon after its output is full.
		extra = append(extra, fmt.Sprintf("--chunk-size=%d", objectPageSize))
	}
	return extra
}

// objectPages are the get outputs that print whole objects, which come in pages of objectPageSize.
var objectPages = map[string]bool{"yaml": true, "json": true}

// objectPageSize holds, for objects of a few KiB, more than the answer shows.
const objectPageSize = 25

func verbsFor(tool Tool) []string {
	var out []string
	for v, r := range verbs {
		if r.tool == tool || (r.subs != nil && containsTool(r.subs, tool)) {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

func containsTool(m map[string]Tool, t Tool) bool {
	for _, v := range m {
		if v == t {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]Tool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
