package kubectl

import (
	"fmt"
	"strings"
	"text/template/parse"
)

// Templates run inside the server, so their cost is bounded before they run: a template is short, and
// its loops can only walk the object they are given (a range over a field of the current element, or a
// variable a range bound), so the work grows with the size of the answer, never beyond it. Ranges over
// numbers, the root ($) or a function's result, nested templates and recursion are refused.
const (
	maxTemplateBytes = 4096
	maxRangeDepth    = 3
)

// outputFormat checks -o: the printers kubectl has, templates inline only.
func outputFormat(v string) error {
	name, tmpl, hasTmpl := strings.Cut(v, "=")
	switch name {
	case "json", "yaml", "kyaml", "wide", "name":
		if hasTmpl {
			return fmt.Errorf("output %q takes no value", name)
		}
		return nil
	case "go-template", "template":
		if !hasTmpl {
			return nil // the template comes in --template
		}
		return goTemplate(tmpl)
	case "jsonpath", "jsonpath-as-json", "custom-columns":
		if !hasTmpl {
			if name == "custom-columns" {
				return fmt.Errorf("custom-columns needs its columns inline, e.g. -o custom-columns=NAME:.metadata.name")
			}
			return nil
		}
		return jsonPath(tmpl)
	}
	if strings.HasSuffix(name, "-file") || name == "templatefile" {
		return fmt.Errorf("output templates read from files are not available: give the template inline, e.g. -o jsonpath='{.metadata.name}'")
	}
	return fmt.Errorf("output format %q is not available: use json, yaml, wide or name, or an inline jsonpath, custom-columns or go-template (e.g. -o jsonpath={.metadata.name})", name)
}

// inlineTemplate checks --template and --sort-by values, which may be a Go template or a JSONPath.
func inlineTemplate(v string) error {
	if len(v) > maxTemplateBytes {
		return fmt.Errorf("the template is %d bytes long; at most %d are accepted", len(v), maxTemplateBytes)
	}
	if strings.Contains(v, "{{") {
		return goTemplate(v)
	}
	return jsonPath(v)
}

// jsonPath bounds a JSONPath expression: its ranges walk the current element only (in Kubernetes'
// JSONPath, $ and @ are both the current object), so length and nesting are what need bounds.
func jsonPath(v string) error {
	if len(v) > maxTemplateBytes {
		return fmt.Errorf("the expression is %d bytes long; at most %d are accepted", len(v), maxTemplateBytes)
	}
	depth := 0
	for i := 0; i < len(v); i++ {
		switch {
		case strings.HasPrefix(v[i:], "{range"):
			depth++
			if depth > maxRangeDepth {
				return fmt.Errorf("ranges nest %d deep; at most %d are accepted", depth, maxRangeDepth)
			}
		case strings.HasPrefix(v[i:], "{end}"):
			depth--
		}
	}
	return nil
}

// goTemplate parses a Go template and checks the shape of its loops.
func goTemplate(v string) error {
	if len(v) > maxTemplateBytes {
		return fmt.Errorf("the template is %d bytes long; at most %d are accepted", len(v), maxTemplateBytes)
	}
	trees, err := parse.Parse("output", v, "{{", "}}", templateFuncs)
	if err != nil {
		return fmt.Errorf("the template does not parse: %v", err)
	}
	if len(trees) != 1 {
		return fmt.Errorf("templates may not define other templates")
	}
	for _, t := range trees {
		if err := checkTemplateNode(t.Root, 0); err != nil {
			return fmt.Errorf("the template is refused: %v", err)
		}
	}
	return nil
}

// templateFuncs are the functions kubectl's template printer knows, so that parsing succeeds; their
// bodies are never called here.
var templateFuncs = func() map[string]any {
	m := map[string]any{}
	for _, name := range []string{"base64decode", "exists", "and", "or", "not", "index", "slice", "len", "print", "printf", "println",
		"eq", "ne", "lt", "le", "gt", "ge", "html", "js", "urlquery", "call"} {
		m[name] = true
	}
	return m
}()

func checkTemplateNode(n parse.Node, depth int) error {
	switch x := n.(type) {
	case nil:
		return nil
	case *parse.ListNode:
		if x == nil {
			return nil
		}
		for _, c := range x.Nodes {
			if err := checkTemplateNode(c, depth); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return checkPipe(x.Pipe, false)
	case *parse.IfNode:
		return checkBranch(&x.BranchNode, depth)
	case *parse.WithNode:
		return checkBranch(&x.BranchNode, depth)
	case *parse.RangeNode:
		if depth+1 > maxRangeDepth {
			return fmt.Errorf("ranges nest %d deep; at most %d are accepted", depth+1, maxRangeDepth)
		}
		if err := checkPipe(x.Pipe, true); err != nil {
			return err
		}
		if err := checkTemplateNode(x.List, depth+1); err != nil {
			return err
		}
		return checkTemplateNode(x.ElseList, depth)
	case *parse.TemplateNode:
		return fmt.Errorf("it calls template %q: nested templates are not available", x.Name)
	case *parse.BreakNode, *parse.ContinueNode, *parse.TextNode, *parse.CommentNode:
	default:
		return fmt.Errorf("%s is not available in templates", n.String())
	}
	return nil
}

func checkBranch(b *parse.BranchNode, depth int) error {
	if err := checkPipe(b.Pipe, false); err != nil {
		return err
	}
	if err := checkTemplateNode(b.List, depth); err != nil {
		return err
	}
	return checkTemplateNode(b.ElseList, depth)
}

// checkPipe refuses the root variable, variables declared outside a range, and (for a range) anything
// but a field of the current element or of a variable a range bound.
func checkPipe(p *parse.PipeNode, isRange bool) error {
	if p == nil {
		return nil
	}
	if len(p.Decl) > 0 && !isRange {
		return fmt.Errorf("variables may only be declared by range ($k, $v := ...)")
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			if v, ok := arg.(*parse.VariableNode); ok && v.Ident[0] == "$" {
				return fmt.Errorf("$ (the root object) is not available: address fields from the current element")
			}
		}
	}
	if !isRange {
		return nil
	}
	if len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return fmt.Errorf("a range must walk one field, e.g. {{range .items}}")
	}
	switch arg := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode, *parse.DotNode:
		return nil
	case *parse.VariableNode:
		if len(arg.Ident) > 1 || arg.Ident[0] != "$" {
			return nil
		}
	}
	return fmt.Errorf("a range must walk a field of the current element or of a range variable, not %s", p.Cmds[0].String())
}
