// Package kubectl runs kubectl commands in-process, for one cluster at a time, with an allow-list of
// commands and flags: no shell, no local files, no other identity or target than the one it is given.
package kubectl

import (
	"fmt"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// Split parses a kubectl command line with shell syntax and returns its words, unquoted. It accepts
// exactly one simple command made of literal words; anything a shell would act on is refused: pipes,
// lists, redirections, variables, command or process substitution, arithmetic, unquoted globs and tilde.
// A leading "kubectl" is dropped.
func Split(line string) ([]string, error) {
	if strings.TrimSpace(line) == "" {
		return nil, fmt.Errorf("the command is empty: give a kubectl command line such as `get pods -n kube-system`")
	}
	if strings.ContainsAny(line, "\n\r") {
		return nil, fmt.Errorf("the command spans several lines: give one kubectl command per call")
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(line), "")
	if err != nil {
		return nil, fmt.Errorf("cannot parse the command line: %v (quote arguments that contain special characters)", err)
	}
	if len(f.Stmts) != 1 {
		return nil, fmt.Errorf("only one command per call: separators such as ';' and '&&' are not allowed")
	}
	st := f.Stmts[0]
	if st.Background || st.Coprocess || st.Negated {
		return nil, fmt.Errorf("'&' and '!' are not allowed: give one plain kubectl command")
	}
	if len(st.Redirs) > 0 {
		return nil, fmt.Errorf("redirections ('>', '<', '2>&1', here-documents) are not allowed: the tool returns the output itself")
	}
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok {
		return nil, fmt.Errorf("%s: give one plain kubectl command (no pipes, subshells, lists or shell keywords)", describeNode(st.Cmd))
	}
	if len(call.Assigns) > 0 {
		return nil, fmt.Errorf("variable assignments are not allowed")
	}
	words := make([]string, 0, len(call.Args))
	for _, w := range call.Args {
		if err := checkWord(w); err != nil {
			return nil, err
		}
		// Quote removal only: no environment, no globbing (checkWord refused every expansion already).
		fields, err := expand.Fields(&expand.Config{Env: expand.ListEnviron()}, w)
		if err != nil || len(fields) != 1 {
			return nil, fmt.Errorf("cannot read argument %q (%v): quote it", wordText(w), err)
		}
		words = append(words, fields[0])
	}
	if len(words) > 0 && words[0] == "kubectl" {
		words = words[1:]
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("the command has no verb: give e.g. `get pods`")
	}
	return words, nil
}

// checkWord refuses every expansion a shell would perform in a word.
func checkWord(w *syntax.Word) error {
	var err error
	syntax.Walk(w, func(n syntax.Node) bool {
		if err != nil {
			return false
		}
		switch x := n.(type) {
		case *syntax.ParamExp:
			err = fmt.Errorf("variables ($%s) are not allowed: write the value itself", paramName(x))
		case *syntax.CmdSubst:
			err = fmt.Errorf("command substitution ($(...) or backticks) is not allowed")
		case *syntax.ArithmExp:
			err = fmt.Errorf("arithmetic expansion $((...)) is not allowed")
		case *syntax.ProcSubst:
			err = fmt.Errorf("process substitution is not allowed")
		case *syntax.ExtGlob:
			err = fmt.Errorf("extended globs are not allowed")
		case *syntax.BraceExp:
			err = fmt.Errorf("brace expansion is not allowed: quote the argument")
		}
		return true
	})
	if err != nil {
		return err
	}
	// Unquoted literal parts: globs and a leading tilde would be expanded by a shell.
	for i, part := range w.Parts {
		lit, ok := part.(*syntax.Lit)
		if !ok {
			continue
		}
		if i == 0 && strings.HasPrefix(lit.Value, "~") {
			return fmt.Errorf("argument %q starts with an unquoted '~' (a shell would expand it): quote it", wordText(w))
		}
		if strings.ContainsAny(unescape(lit.Value), "*?[") {
			return fmt.Errorf("argument %q holds an unquoted glob character (*, ? or [): quote it, e.g. -o jsonpath='{.items[*].metadata.name}'", wordText(w))
		}
	}
	return nil
}

// unescape drops backslash-escaped characters, which a shell would not glob.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func paramName(p *syntax.ParamExp) string {
	if p.Param != nil {
		return p.Param.Value
	}
	return "..."
}

func wordText(w *syntax.Word) string {
	var b strings.Builder
	_ = syntax.NewPrinter().Print(&b, w)
	return b.String()
}

func describeNode(n syntax.Command) string {
	switch n.(type) {
	case *syntax.BinaryCmd:
		return "pipes and '&&'/'||' lists are not allowed"
	case *syntax.Subshell, *syntax.Block:
		return "subshells and blocks are not allowed"
	case nil:
		return "the command is empty"
	default:
		return "shell constructs are not allowed"
	}
}
