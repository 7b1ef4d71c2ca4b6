// Package audit writes one JSON line per tool call: who, on which clusters, what, the authorization
// decision, the outcome and the duration. Never a token, never manifest content.
package audit

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/kubectl"
)

// Record is filled during a tool call by the parts that decide (authorization, the kubectl policy).
type Record struct {
	mu       sync.Mutex
	clusters []string
	denied   []string
	refused  string
	// approval is how the change was approved (or that it was only previewed), approvedBy by whom.
	approval, approvedBy string
	// guardrails are the rules that refused the change.
	guardrails []string
	// budget is the budget that refused the call because it was spent.
	budget string
	// policy are the policy rules that refused a change or a cluster.
	policy []string
}

type recordKey struct{}

func from(ctx context.Context) *Record {
	r, _ := ctx.Value(recordKey{}).(*Record)
	return r
}

// Clusters notes the clusters a call ran on.
func Clusters(ctx context.Context, names ...string) {
	if r := from(ctx); r != nil {
		r.mu.Lock()
		r.clusters = append(r.clusters, names...)
		r.mu.Unlock()
	}
}

// Denied notes clusters the caller may not use.
func Denied(ctx context.Context, names ...string) {
	if r := from(ctx); r != nil {
		r.mu.Lock()
		r.denied = append(r.denied, names...)
		r.mu.Unlock()
	}
}

// Refused notes a request the server refused before any authorization (bad command, policy).
func Refused(ctx context.Context, why string) {
	if r := from(ctx); r != nil {
		r.mu.Lock()
		r.refused = why
		r.mu.Unlock()
	}
}

// Approval notes how a change was approved (elicitation, approval, not required at this level) or that
// it was only previewed, and who approved it.
func Approval(ctx context.Context, how, by string) {
	if r := from(ctx); r != nil {
		r.mu.Lock()
		r.approval, r.approvedBy = how, by
		r.mu.Unlock()
	}
}

// Guardrails notes the guardrails that refused a change.
func Guardrails(ctx context.Context, rules ...string) {
	if r := from(ctx); r != nil {
		r.mu.Lock()
		r.guardrails = append(r.guardrails, rules...)
		r.mu.Unlock()
	}
}

// Budget notes the budget that refused a call because it was spent.
func Budget(ctx context.Context, name string) {
	if r := from(ctx); r != nil {
		r.mu.Lock()
		r.budget = name
		r.mu.Unlock()
	}
}

// Policy notes the policy rules that refused a change (or a cluster of a collection).
func Policy(ctx context.Context, rules ...string) {
	if r := from(ctx); r != nil {
		r.mu.Lock()
		r.policy = append(r.policy, rules...)
		r.mu.Unlock()
	}
}

// Summary is what the deciding parts noted during one call.
type Summary struct {
	Clusters, Denied []string
	// Decision is allowed, refused, denied (every cluster) or partially denied.
	Decision             string
	Refused              string
	Approval, ApprovedBy string
	Guardrails, Policy   []string
	Budget               string
}

// Summary copies what the record holds.
func (r *Record) Summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Summary{Clusters: append([]string(nil), r.clusters...), Denied: append([]string(nil), r.denied...),
		Refused: r.refused, Approval: r.approval, ApprovedBy: r.approvedBy,
		Guardrails: append([]string(nil), r.guardrails...), Policy: append([]string(nil), r.policy...), Budget: r.budget}
	switch {
	case r.refused != "":
		s.Decision = "refused"
	case len(r.denied) > 0 && len(r.clusters) == 0:
		s.Decision = "denied"
	case len(r.denied) > 0:
		s.Decision = "partially denied"
	default:
		s.Decision = "allowed"
	}
	return s
}

// SummaryFrom returns the summary of the call ctx belongs to, if the audit middleware opened a record.
func SummaryFrom(ctx context.Context) (Summary, bool) {
	r := from(ctx)
	if r == nil {
		return Summary{}, false
	}
	return r.Summary(), true
}

// Logger writes audit lines.
type Logger struct{ z *zap.Logger }

// Open returns a logger writing to path, or to stderr when path is "" or "stderr".
func Open(path string) (*Logger, func() error, error) {
	var ws zapcore.WriteSyncer = zapcore.Lock(os.Stderr)
	closeFn := func() error { return nil }
	if path != "" && path != "stderr" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, nil, err
		}
		ws, closeFn = zapcore.Lock(f), f.Close
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	enc.MessageKey = "event"
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), ws, zapcore.InfoLevel)
	return &Logger{z: zap.New(core).Named("audit")}, closeFn, nil
}

// Middleware wraps every tool handler: it opens a record, runs the tool, and writes the line.
func (l *Logger) Middleware() server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			rec := &Record{}
			ctx = context.WithValue(ctx, recordKey{}, rec)
			began := time.Now()
			res, err := next(ctx, req)
			l.write(ctx, req, rec, res, err, time.Since(began))
			return res, err
		}
	}
}

func (l *Logger) write(ctx context.Context, req mcp.CallToolRequest, rec *Record, res *mcp.CallToolResult, err error, took time.Duration) {
	args := req.GetArguments()
	fields := []zap.Field{zap.String("tool", req.Params.Name), zap.Duration("duration", took)}
	if c := auth.CallerFrom(ctx); c != nil {
		fields = append(fields, zap.String("user", c.User), zap.Strings("groups", c.Groups))
	} else {
		fields = append(fields, zap.String("user", "local (stdio)"))
	}
	for _, k := range []string{"cluster", "clusters"} {
		if v, ok := args[k].(string); ok && v != "" {
			fields = append(fields, zap.String("target", v))
		}
	}
	if cmd, ok := args["command"].(string); ok {
		verb, resources := describeCommand(cmd)
		fields = append(fields, zap.String("verb", verb), zap.Strings("resources", resources))
	}
	if _, ok := args["manifest"]; ok {
		fields = append(fields, zap.Bool("manifest", true)) // its content is never logged
	}
	sum := rec.Summary()
	if sum.Refused != "" {
		fields = append(fields, zap.String("reason", sum.Refused))
	}
	fields = append(fields, zap.Strings("clusters", sum.Clusters), zap.String("decision", sum.Decision))
	if len(sum.Denied) > 0 {
		fields = append(fields, zap.Strings("denied", sum.Denied))
	}
	if len(sum.Guardrails) > 0 {
		fields = append(fields, zap.Strings("guardrails", sum.Guardrails))
	}
	if sum.Budget != "" {
		fields = append(fields, zap.String("budget", sum.Budget))
	}
	if len(sum.Policy) > 0 {
		fields = append(fields, zap.Strings("policy", sum.Policy))
	}
	if sum.Approval != "" {
		fields = append(fields, zap.String("approval", sum.Approval))
		if sum.ApprovedBy != "" {
			fields = append(fields, zap.String("approvedBy", sum.ApprovedBy))
		}
	}
	fields = append(fields, zap.String("outcome", Outcome(ctx, res, err)))
	l.z.Info("tool call", fields...)
}

// Outcome names how a tool call ended: cancelled (tasks/cancel, or the client went away: what the call
// returned reached no one), failed (the handler's error), error (the tool answered with an error) or ok.
func Outcome(ctx context.Context, res *mcp.CallToolResult, err error) string {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return "cancelled"
	case err != nil:
		return "failed"
	case res != nil && res.IsError:
		return "error"
	}
	return "ok"
}

// describeCommand returns the verb and resource words of a kubectl command line, or nothing if it
// does not parse (the refusal is in the record then).
func describeCommand(cmd string) (string, []string) {
	words, err := kubectl.Split(cmd)
	if err != nil || len(words) == 0 {
		return "", nil
	}
	for _, tool := range []kubectl.Tool{kubectl.ReadTool, kubectl.WriteTool} {
		if p, err := kubectl.Check(words, tool, false); err == nil {
			return strings.TrimSpace(p.Verb + " " + p.Sub), p.Refs
		}
	}
	return words[0], nil
}
