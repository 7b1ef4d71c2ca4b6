package kubectl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/trace"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/kubectl/pkg/cmd/annotate"
	"k8s.io/kubectl/pkg/cmd/apiresources"
	"k8s.io/kubectl/pkg/cmd/apply"
	"k8s.io/kubectl/pkg/cmd/autoscale"
	"k8s.io/kubectl/pkg/cmd/clusterinfo"
	"k8s.io/kubectl/pkg/cmd/create"
	"k8s.io/kubectl/pkg/cmd/delete"
	"k8s.io/kubectl/pkg/cmd/describe"
	"k8s.io/kubectl/pkg/cmd/drain"
	"k8s.io/kubectl/pkg/cmd/events"
	"k8s.io/kubectl/pkg/cmd/explain"
	"k8s.io/kubectl/pkg/cmd/get"
	"k8s.io/kubectl/pkg/cmd/label"
	"k8s.io/kubectl/pkg/cmd/logs"
	"k8s.io/kubectl/pkg/cmd/patch"
	"k8s.io/kubectl/pkg/cmd/replace"
	"k8s.io/kubectl/pkg/cmd/rollout"
	"k8s.io/kubectl/pkg/cmd/scale"
	"k8s.io/kubectl/pkg/cmd/set"
	"k8s.io/kubectl/pkg/cmd/taint"
	"k8s.io/kubectl/pkg/cmd/top"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/cmd/version"
	"k8s.io/utils/lru"
)

// fatalExit carries kubectl's "print and exit" out of the command as a panic the engine recovers.
type fatalExit struct {
	msg  string
	code int
}

var installFatalHandler sync.Once

// Options configure the engine.
type Options struct {
	// AllowSecretValues turns Secret elision off.
	AllowSecretValues bool
	// WorkDir receives manifest files for the duration of one call (a private temporary folder).
	WorkDir string
	// DiscoveryCacheSize bounds how many clusters' connections and discovery are kept (default
	// DefaultDiscoveryCacheSize); clusters with the same APIs share one copy of discovery.
	DiscoveryCacheSize int
	// MaxOutputBytes stops a command once its output reaches this many bytes (default 1 MiB); the
	// tools cut their answers shorter still.
	MaxOutputBytes int
}

// DefaultDiscoveryCacheSize is how many clusters' connections and discovery the engine keeps by default.
const DefaultDiscoveryCacheSize = 5000

// DefaultMaxOutputBytes is the engine's output cap per command and cluster.
const DefaultMaxOutputBytes = 1 << 20

// maxErrorBytes caps what a command may print on its error stream.
const maxErrorBytes = 64 << 10

// Engine runs kubectl commands in-process.
type Engine struct {
	opts Options

	mu        sync.Mutex
	discovery *lru.Cache // cluster key -> *connection
	// snapshots are the discovery contents the clusters' connections share.
	snapshots *snapshots
}

// CachedConnections is how many clusters' connections and discovery the engine holds.
func (e *Engine) CachedConnections() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.discovery.Len()
}

// NewEngine prepares the engine. kubectl's fatal-error hook is process-global: it is set once, to a
// panic that each call recovers in its own goroutine, instead of os.Exit.
func NewEngine(o Options) (*Engine, error) {
	installFatalHandler.Do(func() {
		cmdutil.BehaviorOnFatal(func(msg string, code int) { panic(fatalExit{msg: msg, code: code}) })
	})
	if o.DiscoveryCacheSize <= 0 {
		o.DiscoveryCacheSize = DefaultDiscoveryCacheSize
	}
	if o.MaxOutputBytes <= 0 {
		o.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if o.WorkDir == "" {
		dir, err := os.MkdirTemp("", "mcmcp-kubectl-")
		if err != nil {
			return nil, err
		}
		o.WorkDir = dir
	}
	if err := os.MkdirAll(o.WorkDir, 0o700); err != nil {
		return nil, err
	}
	return &Engine{opts: o, discovery: lru.New(o.DiscoveryCacheSize), snapshots: newSnapshots()}, nil
}

// Request is one command for one cluster.
type Request struct {
	// Key identifies the cluster for the discovery cache (name and URL).
	Key      string
	Config   *rest.Config
	Plan     *Plan
	Manifest string
	Timeout  time.Duration
	// OutputBytes, when set, is what the caller shows of the output: the command stops there instead of
	// at the engine's cap, and a get stops fetching pages once it has more than that to print.
	OutputBytes int
}

// Result is what kubectl printed.
type Result struct {
	Stdout string
	Stderr string
	// Err is set when kubectl failed (non-zero exit); its text is kubectl's own message.
	Err error
	// Capped says the command was stopped because its output reached the engine's cap: Stdout holds
	// the first part.
	Capped bool
	// Unread is how many more objects the cluster held when a capped get stopped fetching its pages,
	// as the cluster counted them (0 when it did not say).
	Unread int64
}

// ErrTimeout marks a call that did not finish within its timeout.
var ErrTimeout = errors.New("timed out")

// Run executes a validated plan. It returns when kubectl finishes or the timeout passes, whichever is
// first: a cluster that hangs cannot hold the call.
func (e *Engine) Run(ctx context.Context, r Request) Result {
	if r.OutputBytes <= 0 || !canCutPages(r.Plan) {
		return e.run(ctx, r, nil, nil)
	}
	cut := newPageCut(r.Plan, r.OutputBytes)
	res := e.run(ctx, r, nil, cut)
	stopped, unread := cut.result()
	switch {
	case !stopped || res.Err != nil:
	case res.Capped:
		res.Unread = unread
	default:
		// The rows printed shorter than estimated: the whole list is the answer.
		if dl, ok := ctx.Deadline(); ok {
			r.Timeout = min(r.Timeout, time.Until(dl))
		}
		res = e.run(ctx, r, nil, nil)
	}
	return res
}

// run executes a plan; with a recording, every change it would send must be a dry run, and each is
// recorded.
func (e *Engine) run(ctx context.Context, r Request, rec *recording, cut *pageCut) Result {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	args := r.Plan.Args
	if r.Manifest != "" {
		path, cleanup, err := e.writeManifest(r.Manifest)
		if err != nil {
			return Result{Err: err}
		}
		defer cleanup()
		args = append(append([]string(nil), args...), "-f", path)
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	limit := e.opts.MaxOutputBytes
	if r.OutputBytes > 0 {
		limit = min(limit, r.OutputBytes)
	}
	stdout := &cappedBuffer{limit: limit, onCap: stop}
	stderr := &cappedBuffer{limit: maxErrorBytes, onCap: stop}
	// Discovery and the TLS transport are kept per cluster across calls; this call's wrappers (its
	// context, the Secret filter) and the credentials wrap the shared transport.
	conn, err := e.connectionFor(r.Key, r.Config)
	if err != nil {
		return Result{Err: err}
	}
	defer conn.calls.enter(ctx)()
	cfg := rest.CopyConfig(r.Config)
	cfg.Transport = conn.transport
	cfg.TLSClientConfig, cfg.Dial = rest.TLSClientConfig{}, nil
	// JSON only: the Secret filter rewrites JSON, and typed clients would otherwise ask for protobuf.
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", "application/json"
	// kubectl runs some requests under context.Background: tie every request to this call instead.
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &callContext{ctx: ctx, next: rt} })
	if cut != nil {
		cfg.Wrap(cut.wrap)
	}
	var filter *elider
	if !e.opts.AllowSecretValues {
		filter = newElider()
		cfg.Wrap(filter.wrap)
	}
	if rec != nil {
		cfg.Wrap(rec.wrap)
		if filter != nil {
			rec.humanize = filter.Humanize
		}
	}
	// Outermost: the request guard sees every request, with its final headers, before anything is sent.
	impersonating := r.Config.Impersonate.UserName
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &requestGuard{next: rt, impersonating: impersonating}
	})
	cfg.WarningHandler = rest.NewWarningWriter(stderr, rest.WarningWriterOptions{Deduplicate: true})
	done := make(chan Result, 1)
	go func() {
		done <- execute(ctx, cfg, conn, r.Plan, args, stdout, stderr)
	}()
	var res Result
	select {
	case res = <-done:
	case <-ctx.Done():
		if !stdout.Capped() && !stderr.Capped() {
			return Result{Err: fmt.Errorf("%w after %s", ErrTimeout, r.Timeout)}
		}
	}
	if stdout.Capped() || stderr.Capped() {
		// The cap stopped the command; what it printed so far is the answer, and the failure the stop
		// caused is not the cluster's.
		res = Result{Stdout: stdout.String(), Stderr: stderr.String(), Capped: true}
	}
	if filter != nil {
		res.Stdout, res.Stderr = filter.Humanize(res.Stdout), filter.Humanize(res.Stderr)
	}
	return res
}

// execute builds a fresh command tree and runs it, turning kubectl's fatal exits into errors.
func execute(ctx context.Context, cfg *rest.Config, conn *connection, plan *Plan, args []string, stdout, stderr *cappedBuffer) (res Result) {
	defer func() {
		if r := recover(); r != nil {
			fe, ok := r.(fatalExit)
			if !ok {
				res = Result{Stdout: stdout.String(), Stderr: stderr.String(), Err: fmt.Errorf("kubectl panicked: %v", r)}
				return
			}
			msg := strings.TrimSpace(fe.msg)
			if msg == "" {
				msg = strings.TrimSpace(stderr.String())
			}
			res = Result{Stdout: stdout.String(), Stderr: stderr.String(), Err: errors.New(strings.TrimPrefix(msg, "error: "))}
		}
	}()
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: stdout, ErrOut: stderr}
	root := newRoot(cfg, conn, plan, streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	res = Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if err != nil {
		res.Err = err
	}
	return res
}

// commands builds each allowed kubectl command; a call builds only the one it runs.
var commands = map[string]func(f cmdutil.Factory, streams genericiooptions.IOStreams, tool Tool) *cobra.Command{
	"get": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return get.NewCmdGet("kubectl", f, s)
	},
	"describe": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return describe.NewCmdDescribe("kubectl", f, s)
	},
	"logs": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return logs.NewCmdLogs(f, s)
	},
	"events": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return events.NewCmdEvents(f, s)
	},
	"explain": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return explain.NewCmdExplain("kubectl", f, s)
	},
	"api-resources": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return apiresources.NewCmdAPIResources(f, s)
	},
	"api-versions": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return apiresources.NewCmdAPIVersions(f, s)
	},
	"version": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return version.NewCmdVersion(f, s)
	},
	"top": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return top.NewCmdTop(f, s)
	},
	"auth": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command { return authCommand(f, s) },
	"cluster-info": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return only(clusterinfo.NewCmdClusterInfo(f, s))
	},
	"rollout": func(f cmdutil.Factory, s genericiooptions.IOStreams, tool Tool) *cobra.Command {
		if tool == ReadTool {
			return only(rollout.NewCmdRollout("kubectl", f, s), "status", "history")
		}
		return only(rollout.NewCmdRollout("kubectl", f, s), "status", "history", "restart", "undo", "pause", "resume")
	},
	"apply": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return apply.NewCmdApply("kubectl", f, s)
	},
	"create": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return create.NewCmdCreate(f, s)
	},
	"replace": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return replace.NewCmdReplace(f, s)
	},
	"delete": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return delete.NewCmdDelete(f, s)
	},
	"patch": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return patch.NewCmdPatch(f, s)
	},
	"label": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return label.NewCmdLabel(f, s)
	},
	"annotate": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return annotate.NewCmdAnnotate("kubectl", f, s)
	},
	"scale": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return scale.NewCmdScale(f, s)
	},
	"autoscale": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return autoscale.NewCmdAutoscale(f, s)
	},
	"set": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return only(set.NewCmdSet(f, s), "image", "env", "resources")
	},
	"cordon": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return drain.NewCmdCordon(f, s)
	},
	"uncordon": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return drain.NewCmdUncordon(f, s)
	},
	"drain": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return drain.NewCmdDrain(f, s)
	},
	"taint": func(f cmdutil.Factory, s genericiooptions.IOStreams, _ Tool) *cobra.Command {
		return taint.NewCmdTaint(f, s)
	},
}

// newRoot assembles a kubectl root holding only the command the plan runs (and, for rollout, only the
// subcommands of the plan's tool): nothing outside the allow-list exists to be reached.
func newRoot(cfg *rest.Config, conn *connection, plan *Plan, streams genericiooptions.IOStreams) *cobra.Command {
	var namespace string
	getter := &clientGetter{cfg: cfg, discovery: conn.discovery, mapper: conn.mapper, namespace: &namespace}
	return buildRoot(getter, plan.Verb, plan.Tool, streams)
}

// buildRoot is the command tree of one verb over a client getter. The policy parses command lines with
// the same tree the engine runs, so what is checked is what runs.
func buildRoot(getter *clientGetter, verb string, tool Tool, streams genericiooptions.IOStreams) *cobra.Command {
	root := &cobra.Command{Use: "kubectl", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetIn(streams.In)
	flags := root.PersistentFlags()
	flags.StringVarP(getter.namespace, "namespace", "n", "", "namespace")
	var warningsAsErrors bool
	flags.BoolVar(&warningsAsErrors, "warnings-as-errors", false, "treat warnings as errors")
	mvf := cmdutil.NewMatchVersionFlags(getter)
	mvf.AddFlags(flags)
	f := cmdutil.NewFactory(mvf)
	if build, known := commands[verb]; known {
		root.AddCommand(build(f, streams, tool))
	}
	return root
}

// only removes every subcommand of cmd except the named ones.
func only(cmd *cobra.Command, keep ...string) *cobra.Command {
	for _, sub := range cmd.Commands() {
		name := strings.Fields(sub.Use)[0]
		kept := false
		for _, k := range keep {
			kept = kept || k == name
		}
		if !kept {
			cmd.RemoveCommand(sub)
		}
	}
	return cmd
}

// connection is what the engine keeps per cluster between calls.
type connection struct {
	ca        []byte
	calls     *activeCalls // the calls using discovery now; its requests end with them
	transport http.RoundTripper
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.RESTMapper
}

// connectionFor returns the cluster's shared TLS transport (so calls reuse connections instead of
// handshaking again) and its cached discovery client (discovery is most of a cold kubectl run).
func (e *Engine) connectionFor(key string, cfg *rest.Config) (*connection, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := e.discovery.Get(key); ok {
		if c := v.(*connection); bytes.Equal(c.ca, cfg.CAData) {
			return c, nil
		}
	}
	rt := cfg.Transport // a must-gather archive brings its own
	if rt == nil {
		base := &rest.Config{Host: cfg.Host, TLSClientConfig: cfg.TLSClientConfig, Dial: cfg.Dial, Proxy: cfg.Proxy}
		var err error
		if rt, err = rest.TransportFor(base); err != nil {
			return nil, err
		}
	}
	dcfg := rest.CopyConfig(cfg)
	// Shared by every caller: discovery runs as the server, never as the caller of the first request.
	dcfg.Impersonate = rest.ImpersonationConfig{}
	calls := newActiveCalls()
	dcfg.Transport = &callsBound{calls: calls, next: rt}
	dcfg.TLSClientConfig, dcfg.Dial = rest.TLSClientConfig{}, nil
	dcfg.Burst, dcfg.QPS = 300, 50
	cached, err := newClusterDiscovery(dcfg, e.snapshots, calls)
	if err != nil {
		return nil, err
	}
	c := &connection{ca: cfg.CAData, calls: calls, transport: rt, discovery: cached, mapper: clusterMapper{cached}}
	e.discovery.Add(key, c)
	return c, nil
}

// ForgetCluster drops a cluster's cached connection and discovery (after its API or credentials changed).
func (e *Engine) ForgetCluster(key string) {
	e.mu.Lock()
	e.discovery.Remove(key)
	e.mu.Unlock()
}

func (e *Engine) writeManifest(manifest string) (string, func(), error) {
	f, err := os.CreateTemp(e.opts.WorkDir, "manifest-*.yaml")
	if err != nil {
		return "", nil, err
	}
	path := f.Name()
	cleanup := func() { _ = os.Remove(path) }
	if _, err := f.WriteString(manifest); err != nil {
		f.Close()
		cleanup()
		return "", nil, err
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, err
	}
	return filepath.Clean(path), cleanup, nil
}

// callContext binds every request to the tool call's context.
type callContext struct {
	ctx  context.Context
	next http.RoundTripper
}

func (c *callContext) RoundTrip(req *http.Request) (*http.Response, error) {
	rctx := req.Context()
	// kubectl makes its requests without the call's context: the call's span (its cluster's, when the
	// server traces) becomes the parent of the request's.
	if span := trace.SpanFromContext(c.ctx); span.SpanContext().IsValid() && !trace.SpanContextFromContext(rctx).IsValid() {
		rctx = trace.ContextWithSpan(rctx, span)
	}
	rctx, cancel := context.WithCancel(rctx)
	// Not cancelled on return: the body is still being read. It ends with the call.
	context.AfterFunc(c.ctx, cancel)
	return c.next.RoundTrip(req.WithContext(rctx))
}
