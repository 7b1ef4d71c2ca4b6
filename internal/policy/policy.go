// Package policy evaluates changes against policy written in Rego, with the OPA library: the built-in
// policies embedded in the binary and the .rego files of a folder, compiled once when the server starts.
//
// The decision is data.mcmcp.deny, a set of messages or of {msg, rule} objects; an empty set allows the
// change. Every evaluation is bounded by a timeout, and an evaluation that fails or does not finish
// refuses (fail closed). Policies are pure: they cannot reach the network or read the server's
// environment.
package policy

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// Query is the decision every evaluation asks for.
const Query = "data.mcmcp.deny"

// DefaultTimeout bounds one evaluation unless Options say otherwise.
const DefaultTimeout = 2 * time.Second

// UnnamedRule is the rule a plain-string denial is reported under.
const UnnamedRule = "policy"

//go:embed defaults/*.rego
var defaults embed.FS

// decisionFile gathers the built-in policies' denials into the decision; it is not a policy of its own
// and cannot be disabled.
const decisionFile = "decision"

// packageRoot is the package every policy is in (or below); builtinRoot and settingsRoot are reserved
// for the built-in policies and for the server's settings.
const (
	packageRoot  = "data.mcmcp"
	builtinRoot  = "data.mcmcp.builtin"
	settingsRoot = "data.mcmcp.settings"
)

// forbiddenBuiltins would let a policy reach the network or read the server's environment.
var forbiddenBuiltins = []string{"http.send", "net.lookup_ip_addr", "opa.runtime"}

// Options say which policies to load.
type Options struct {
	// Dir is a folder of .rego files (not its subfolders; *_test.rego files are skipped); "" for none.
	Dir string
	// Disable names built-in policies not to load.
	Disable []string
	// ProductionGroups may run destructive commands on clusters labelled environment=production
	// (data.mcmcp.settings.production_groups).
	ProductionGroups []string
	// Timeout bounds one evaluation (DefaultTimeout when 0).
	Timeout time.Duration
}

// Engine holds the compiled policies. It is safe for concurrent use.
type Engine struct {
	query   rego.PreparedEvalQuery
	timeout time.Duration
	builtin []string
	files   []string
}

// Deny is one denial: the rule that made it and its message.
type Deny struct {
	Rule string
	Msg  string
}

// Builtins lists the names of the built-in policies, sorted.
func Builtins() []string {
	entries, _ := defaults.ReadDir("defaults") // embedded: cannot fail
	var names []string
	for _, e := range entries {
		if name := strings.TrimSuffix(e.Name(), ".rego"); name != decisionFile {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// CheckDisable refuses names that are no built-in policy.
func CheckDisable(names []string) error {
	known := Builtins()
	for _, n := range names {
		if !slices.Contains(known, n) {
			return fmt.Errorf("no built-in policy is named %q; they are: %s", n, strings.Join(known, ", "))
		}
	}
	return nil
}

// New compiles the built-in policies not disabled and the folder's. A file that is not valid Rego, is
// in a package outside mcmcp, or does not compile with the others is an error naming it and the line.
func New(ctx context.Context, o Options) (*Engine, error) {
	if err := CheckDisable(o.Disable); err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	caps := capabilities()
	e := &Engine{timeout: o.Timeout}
	opts := []func(*rego.Rego){rego.Query(Query), rego.Capabilities(caps), rego.StrictBuiltinErrors(true)}
	entries, _ := defaults.ReadDir("defaults")
	for _, entry := range entries {
		name := strings.TrimSuffix(entry.Name(), ".rego")
		if slices.Contains(o.Disable, name) {
			continue
		}
		src, _ := defaults.ReadFile(path.Join("defaults", entry.Name()))
		m, err := parse("builtin/"+entry.Name(), string(src), caps)
		if err != nil {
			return nil, err
		}
		if name != decisionFile {
			e.builtin = append(e.builtin, name)
		}
		opts = append(opts, rego.ParsedModule(m))
	}
	if o.Dir != "" {
		mods, err := loadDir(o.Dir, caps)
		if err != nil {
			return nil, err
		}
		for _, m := range mods {
			e.files = append(e.files, m.Package.Location.File)
			opts = append(opts, rego.ParsedModule(m))
		}
	}
	groups := o.ProductionGroups
	if groups == nil {
		groups = []string{}
	}
	settings := map[string]any{"production_groups": groups}
	opts = append(opts, rego.Store(inmem.NewFromObject(map[string]any{"mcmcp": map[string]any{"settings": settings}})))
	q, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("the policies do not compile: %s", describe(err))
	}
	e.query = q
	return e, nil
}

// Builtin lists the built-in policies loaded; Files the folder's files.
func (e *Engine) Builtin() []string { return e.builtin }

// IsBuiltin says whether a rule is a built-in policy that is loaded.
func (e *Engine) IsBuiltin(rule string) bool { return slices.Contains(e.builtin, rule) }

// Files lists the policy folder's files that were loaded.
func (e *Engine) Files() []string { return e.files }

// Timeout is the bound of one evaluation.
func (e *Engine) Timeout() time.Duration { return e.timeout }

// Evaluate asks for the decision on one input. An error means the policy could not decide: the caller
// refuses (fail closed).
func (e *Engine) Evaluate(ctx context.Context, in Input) ([]Deny, error) {
	doc, err := in.document()
	if err != nil {
		return nil, fmt.Errorf("the policy input could not be built: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	rs, err := e.query.Eval(ctx, rego.EvalInput(doc))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("the policy evaluation did not finish within %s", e.timeout)
		}
		return nil, fmt.Errorf("the policy evaluation failed: %s", describe(err))
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil // no rule defines data.mcmcp.deny: nothing denies
	}
	return denials(rs[0].Expressions[0].Value)
}

// denials reads the decision: a set (an array once converted) of messages or {msg, rule} objects.
func denials(v any) ([]Deny, error) {
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("the policy decision %s is not a set of messages but %T", Query, v)
	}
	out := make([]Deny, 0, len(items))
	for _, it := range items {
		switch x := it.(type) {
		case string:
			out = append(out, Deny{Rule: UnnamedRule, Msg: x})
		case map[string]any:
			msg, ok := x["msg"].(string)
			if !ok || msg == "" {
				return nil, fmt.Errorf("a denial of %s has no msg string: %v", Query, x)
			}
			rule, _ := x["rule"].(string)
			if rule == "" {
				rule = UnnamedRule
			}
			out = append(out, Deny{Rule: rule, Msg: msg})
		default:
			return nil, fmt.Errorf("a denial of %s is neither a message nor {msg, rule}: %v", Query, it)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].Msg < out[j].Msg
	})
	return out, nil
}

// capabilities are this OPA's, without the built-in functions that reach outside the policy.
func capabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	kept := caps.Builtins[:0]
	for _, b := range caps.Builtins {
		if !slices.Contains(forbiddenBuiltins, b.Name) {
			kept = append(kept, b)
		}
	}
	caps.Builtins = kept
	caps.AllowNet = []string{}
	return caps
}

// loadDir parses the folder's .rego files, in name order.
func loadDir(dir string, caps *ast.Capabilities) ([]*ast.Module, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("the policy folder cannot be read: %v", err)
	}
	var mods []*ast.Module
	for _, entry := range entries {
		name := entry.Name()
		if entry.IsDir() || !strings.HasSuffix(name, ".rego") || strings.HasSuffix(name, "_test.rego") {
			continue
		}
		file := filepath.Join(dir, name)
		src, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("policy %s cannot be read: %v", file, err)
		}
		m, err := parse(file, string(src), caps)
		if err != nil {
			return nil, err
		}
		pkg := m.Package.Path.String()
		switch {
		case pkg != packageRoot && !strings.HasPrefix(pkg, packageRoot+"."):
			return nil, fmt.Errorf("policy %s:%d: package %s is not evaluated: policies are in package mcmcp (their deny rules make the decision %s) or a package below it for helpers",
				file, m.Package.Location.Row, strings.TrimPrefix(pkg, "data."), Query)
		case under(pkg, builtinRoot) || under(pkg, settingsRoot):
			return nil, fmt.Errorf("policy %s:%d: package %s is reserved for the server's built-in policies and settings",
				file, m.Package.Location.Row, strings.TrimPrefix(pkg, "data."))
		}
		mods = append(mods, m)
	}
	return mods, nil
}

func under(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+".") }

// parse reads one module as Rego v1.
func parse(file, src string, caps *ast.Capabilities) (*ast.Module, error) {
	m, err := ast.ParseModuleWithOpts(file, src, ast.ParserOptions{RegoVersion: ast.RegoV1, Capabilities: caps})
	if err != nil {
		return nil, fmt.Errorf("policy %s is not valid Rego: %s", file, describe(err))
	}
	if m == nil {
		return nil, fmt.Errorf("policy %s is empty: a policy starts with `package mcmcp`", file)
	}
	return m, nil
}

// describe renders OPA's errors as "file:line: message", one after the other.
func describe(err error) string {
	var errs ast.Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		return err.Error()
	}
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		where := ""
		if e.Location != nil {
			where = fmt.Sprintf("%s:%d: ", e.Location.File, e.Location.Row)
		}
		parts = append(parts, where+e.Message)
	}
	return strings.Join(parts, "; ")
}
