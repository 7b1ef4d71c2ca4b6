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
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
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
	// DiscoveryCacheSize bounds how many clusters' discovery data are kept.
	DiscoveryCacheSize int
}

// Engine runs kubectl commands in-process.
type Engine struct {
	opts Options

	mu        sync.Mutex
	discovery *lru.Cache // cluster key -> discovery.CachedDiscoveryInterface
}

// NewEngine prepares the engine. kubectl's fatal-error hook is process-global: it is set once, to a
// panic that each call recovers in its own goroutine, instead of os.Exit.
func NewEngine(o Options) (*Engine, error) {
	installFatalHandler.Do(func() {
		cmdutil.BehaviorOnFatal(func(msg string, code int) { panic(fatalExit{msg: msg, code: code}) })
	})
	if o.DiscoveryCacheSize <= 0 {
		o.DiscoveryCacheSize = 256
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
	return &Engine{opts: o, discovery: lru.New(o.DiscoveryCacheSize)}, nil
}

// Request is one command for one cluster.
type Request struct {
	// Key identifies the cluster for the discovery cache (name and URL).
	Key      string
	Config   *rest.Config
	Plan     *Plan
	Manifest string
	Timeout  time.Duration
}

// Result is what kubectl printed.
type Result struct {
	Stdout string
	Stderr string
	// Err is set when kubectl failed (non-zero exit); its text is kubectl's own message.
	Err error
}

// ErrTimeout marks a call that did not finish within its timeout.
var ErrTimeout = errors.New("timed out")

// Run executes a validated plan. It returns when kubectl finishes or the timeout passes, whichever is
// first: a cluster that hangs cannot hold the call.
func (e *Engine) Run(ctx context.Context, r Request) Result {
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
	var stdout, stderr bytes.Buffer
	// Discovery is cached across calls, so it is built from the plain config, not this call's wrappers.
	disco, err := e.discoveryFor(r.Key, r.Config)
	if err != nil {
		return Result{Err: err}
	}
	cfg := rest.CopyConfig(r.Config)
	// JSON only: the Secret filter rewrites JSON, and typed clients would otherwise ask for protobuf.
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", "application/json"
	// kubectl runs some requests under context.Background: tie every request to this call instead.
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &callContext{ctx: ctx, next: rt} })
	var filter *elider
	if !e.opts.AllowSecretValues {
		filter = newElider()
		cfg.Wrap(filter.wrap)
	}
	cfg.WarningHandler = rest.NewWarningWriter(&stderr, rest.WarningWriterOptions{Deduplicate: true})
	done := make(chan Result, 1)
	go func() {
		done <- execute(ctx, cfg, disco, r.Plan.Tool, args, &stdout, &stderr)
	}()
	var res Result
	select {
	case res = <-done:
	case <-ctx.Done():
		return Result{Err: fmt.Errorf("%w after %s", ErrTimeout, r.Timeout)}
	}
	if filter != nil {
		res.Stdout, res.Stderr = filter.Humanize(res.Stdout), filter.Humanize(res.Stderr)
	}
	return res
}

// execute builds a fresh command tree and runs it, turning kubectl's fatal exits into errors.
func execute(ctx context.Context, cfg *rest.Config, disco discovery.CachedDiscoveryInterface, tool Tool, args []string, stdout, stderr *bytes.Buffer) (res Result) {
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
	root := newRoot(cfg, disco, tool, streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	res = Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if err != nil {
		res.Err = err
	}
	return res
}

// newRoot assembles a kubectl command tree holding only the commands the tool may run.
func newRoot(cfg *rest.Config, disco discovery.CachedDiscoveryInterface, tool Tool, streams genericiooptions.IOStreams) *cobra.Command {
	root := &cobra.Command{Use: "kubectl", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetIn(streams.In)
	flags := root.PersistentFlags()
	var namespace string
	flags.StringVarP(&namespace, "namespace", "n", "", "namespace")
	var warningsAsErrors bool
	flags.BoolVar(&warningsAsErrors, "warnings-as-errors", false, "treat warnings as errors")
	getter := &clientGetter{cfg: cfg, discovery: disco, namespace: &namespace}
	mvf := cmdutil.NewMatchVersionFlags(getter)
	mvf.AddFlags(flags)
	f := cmdutil.NewFactory(mvf)

	root.AddCommand(
		get.NewCmdGet("kubectl", f, streams),
		describe.NewCmdDescribe("kubectl", f, streams),
		logs.NewCmdLogs(f, streams),
		events.NewCmdEvents(f, streams),
		explain.NewCmdExplain("kubectl", f, streams),
		apiresources.NewCmdAPIResources(f, streams),
		apiresources.NewCmdAPIVersions(f, streams),
		version.NewCmdVersion(f, streams),
		top.NewCmdTop(f, streams),
		authCommand(f, streams),
		only(clusterinfo.NewCmdClusterInfo(f, streams)),
	)
	ro := rollout.NewCmdRollout("kubectl", f, streams)
	if tool == ReadTool {
		root.AddCommand(only(ro, "status", "history"))
		return root
	}
	root.AddCommand(
		only(ro, "status", "history", "restart", "undo", "pause", "resume"),
		apply.NewCmdApply("kubectl", f, streams),
		create.NewCmdCreate(f, streams),
		replace.NewCmdReplace(f, streams),
		delete.NewCmdDelete(f, streams),
		patch.NewCmdPatch(f, streams),
		label.NewCmdLabel(f, streams),
		annotate.NewCmdAnnotate("kubectl", f, streams),
		scale.NewCmdScale(f, streams),
		autoscale.NewCmdAutoscale(f, streams),
		only(set.NewCmdSet(f, streams), "image", "env", "resources"),
		drain.NewCmdCordon(f, streams),
		drain.NewCmdUncordon(f, streams),
		drain.NewCmdDrain(f, streams),
		taint.NewCmdTaint(f, streams),
	)
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

// discoveryFor returns the cluster's cached discovery client, kept across calls: discovery is most of
// the cost of a cold kubectl run.
func (e *Engine) discoveryFor(key string, cfg *rest.Config) (discovery.CachedDiscoveryInterface, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := e.discovery.Get(key); ok {
		return v.(discovery.CachedDiscoveryInterface), nil
	}
	dcfg := rest.CopyConfig(cfg)
	dcfg.Burst, dcfg.QPS = 300, 50
	dc, err := discovery.NewDiscoveryClientForConfig(dcfg)
	if err != nil {
		return nil, err
	}
	cached := memory.NewMemCacheClient(dc)
	e.discovery.Add(key, cached)
	return cached, nil
}

// ForgetDiscovery drops a cluster's discovery cache (after its API changed, or its credentials).
func (e *Engine) ForgetDiscovery(key string) {
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
	rctx, cancel := context.WithCancel(req.Context())
	// Not cancelled on return: the body is still being read. It ends with the call.
	context.AfterFunc(c.ctx, cancel)
	return c.next.RoundTrip(req.WithContext(rctx))
}
