package telemetry

import (
	"context"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/ocm-fleet/multicluster-mcp-server/auth"
	"github.com/ocm-fleet/multicluster-mcp-server/internal/audit"
)

// call is one tool call in flight: the parts that work on clusters report to it through the context.
type call struct {
	t    *Telemetry
	tool string

	mu      sync.Mutex
	counted map[string]bool // clusters whose outcome is counted
}

type callKey struct{}

func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// Middleware wraps every tool handler, inside the audit middleware (whose record it reads): it opens
// the call's span, a child of the trace context the MCP request carries (params._meta traceparent, else
// the HTTP request's headers), and counts the call when it ends.
func (t *Telemetry) Middleware() server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			tool := req.Params.Name
			ctx = fromMeta(ctx, req.Params.Meta)
			ctx, span := t.tracer.Start(ctx, "tools/call "+tool, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(callAttributes(ctx, tool)...))
			c := &call{t: t, tool: tool, counted: map[string]bool{}}
			began := time.Now()
			res, err := next(context.WithValue(ctx, callKey{}, c), req)
			t.m.callSeconds.WithLabelValues(tool).Observe(time.Since(began).Seconds())
			outcome := c.finish(ctx, res, err)
			span.SetAttributes(attribute.String("mcmcp.outcome", outcome))
			if outcome != "ok" {
				span.SetStatus(codes.Error, outcome)
			}
			span.End()
			return res, err
		}
	}
}

// callAttributes follow OpenTelemetry's conventions for MCP and tool execution, and name the caller.
func callAttributes(ctx context.Context, tool string) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		attribute.String("mcp.method.name", "tools/call"),
		attribute.String("gen_ai.operation.name", "execute_tool"),
		attribute.String("gen_ai.tool.name", tool),
	}
	if s := server.ClientSessionFromContext(ctx); s != nil && s.SessionID() != "" {
		attrs = append(attrs, attribute.String("mcp.session.id", s.SessionID()))
	}
	if c := auth.CallerFrom(ctx); c != nil {
		attrs = append(attrs, attribute.String("enduser.id", c.User))
	} else {
		attrs = append(attrs, attribute.String("enduser.id", "local (stdio)"))
	}
	return attrs
}

// fromMeta returns ctx with the remote parent the request's _meta names (traceparent, tracestate), as
// MCP clients that trace pass it; without one, ctx is returned as it is.
func fromMeta(ctx context.Context, meta *mcp.Meta) context.Context {
	if meta == nil || meta.AdditionalFields == nil {
		return ctx
	}
	carrier := propagation.MapCarrier{}
	for _, k := range []string{"traceparent", "tracestate"} {
		if v, ok := meta.AdditionalFields[k].(string); ok {
			carrier[k] = v
		}
	}
	if carrier["traceparent"] == "" {
		return ctx
	}
	out := propagation.TraceContext{}.Extract(ctx, carrier)
	if !trace.SpanContextFromContext(out).IsValid() {
		return ctx
	}
	return out
}

// FromHTTPHeaders returns ctx with the remote parent an HTTP request's traceparent header names.
func FromHTTPHeaders(ctx context.Context, h propagation.HeaderCarrier) context.Context {
	return propagation.TraceContext{}.Extract(ctx, h)
}

// finish counts the call, its refusals and the clusters it reached that no part counted, and returns
// its outcome.
func (c *call) finish(ctx context.Context, res *mcp.CallToolResult, err error) string {
	m := c.t.m
	sum, audited := audit.SummaryFrom(ctx)
	outcome := audit.Outcome(ctx, res, err)
	switch {
	case audited && sum.Decision == "refused":
		outcome = "refused"
	case audited && sum.Decision == "denied":
		outcome = "denied"
	}
	m.calls.WithLabelValues(c.tool, outcome).Inc()
	if !audited {
		return outcome
	}
	for _, r := range refusalReasons(sum) {
		m.refusals.WithLabelValues(c.tool, r).Inc()
	}
	clusterOutcome := "ok"
	if outcome != "ok" {
		clusterOutcome = "failed"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, name := range sum.Clusters {
		if !c.counted[name] {
			c.counted[name] = true
			m.clusterCalls.WithLabelValues(c.tool, name, clusterOutcome).Inc()
		}
	}
	for _, name := range sum.Denied {
		if !c.counted[name] {
			c.counted[name] = true
			m.clusterCalls.WithLabelValues(c.tool, name, "denied").Inc()
		}
	}
	return outcome
}

// refusalReasons names why a call was refused, one reason per rule that refused it.
func refusalReasons(s audit.Summary) []string {
	var out []string
	for _, r := range s.Guardrails {
		out = append(out, "guardrail/"+r)
	}
	for _, r := range s.Policy {
		out = append(out, "policy/"+r)
	}
	if s.Budget != "" {
		out = append(out, "budget/"+s.Budget)
	}
	if s.Approval == "declined" {
		out = append(out, "approval-declined")
	}
	if len(out) == 0 && s.Decision == "refused" {
		out = append(out, "request")
	}
	if len(s.Denied) > 0 {
		out = append(out, "denied")
	}
	return out
}

// Cluster opens the span of one cluster's work within a tool call and returns its context and the
// function that ends it with the cluster's outcome (ok, failed, denied, timeout, skipped). Outside a
// tool call it does nothing.
func Cluster(ctx context.Context, cluster string) (context.Context, func(outcome string)) {
	c := callFrom(ctx)
	if c == nil {
		return ctx, func(string) {}
	}
	ctx, span := c.t.tracer.Start(ctx, "cluster "+cluster, trace.WithAttributes(attribute.String("mcmcp.cluster", cluster)))
	return ctx, func(outcome string) {
		c.mu.Lock()
		first := !c.counted[cluster]
		c.counted[cluster] = true
		c.mu.Unlock()
		if first {
			c.t.m.clusterCalls.WithLabelValues(c.tool, cluster, outcome).Inc()
		}
		span.SetAttributes(attribute.String("mcmcp.outcome", outcome))
		if outcome != "ok" {
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
	}
}

// Skipped counts a cluster of a fan-out that was not run (its turn came after the deadline, or it was
// not available).
func Skipped(ctx context.Context, cluster string) {
	_, done := Cluster(ctx, cluster)
	done("skipped")
}

// FanOut records how many clusters one fan-out of the call works on.
func FanOut(ctx context.Context, clusters int) {
	if c := callFrom(ctx); c != nil {
		c.t.m.fanOut.WithLabelValues(c.tool).Observe(float64(clusters))
		trace.SpanFromContext(ctx).SetAttributes(attribute.Int("mcmcp.fanout.clusters", clusters))
	}
}

// Provisioned counts one provisioning of a cluster's credentials.
func (t *Telemetry) Provisioned(took time.Duration, err error) {
	if t == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "failed"
	}
	t.m.provisions.WithLabelValues(outcome).Inc()
	t.m.provisionSec.Observe(took.Seconds())
}

// HTTPRefused counts an HTTP request refused before any tool ran.
func (t *Telemetry) HTTPRefused(reason string) {
	if t != nil {
		t.m.httpRefusals.WithLabelValues(reason).Inc()
	}
}
