package kubectl

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// FuzzCommandLine feeds arbitrary command lines through the parser and the policy. Whatever the input,
// neither may panic, and a command the policy accepts must hold no denied flag, must use a known verb, and
// must not be a change when it came through the read-only tool. `go test` runs the seed corpus; run
// `go test -fuzz FuzzCommandLine ./internal/kubectl` to search further.
func FuzzCommandLine(f *testing.F) {
	for _, tc := range hostileLines {
		f.Add(tc.line, false)
	}
	for _, tc := range hostileCommands {
		f.Add(tc.line, tc.tool == WriteTool)
	}
	for _, line := range []string{"get pods -A", "-n kube-system get pods", "logs -n ns deploy/x -c app --since=1h",
		"rollout restart deploy/x", "auth can-i list pods", "get pods -o jsonpath='{.items[0].metadata.name}'",
		"top pods -A", "-nfoo get cm", "get pods -lapp=x -ojson", "set image deploy/x app=nginx:1"} {
		f.Add(line, false)
		f.Add(line, true)
	}
	f.Fuzz(func(t *testing.T, line string, write bool) {
		words, err := Split(line)
		if err != nil {
			return
		}
		tool := ReadTool
		if write {
			tool = WriteTool
		}
		p, err := Check(words, tool, false)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("empty refusal for %q", line)
			}
			return
		}
		if _, ok := verbs[p.Verb]; !ok {
			t.Fatalf("accepted unknown verb %q in %q", p.Verb, line)
		}
		if tool == ReadTool && p.Tool != ReadTool {
			t.Fatalf("the read-only tool accepted a change: %q", line)
		}
		if _, ok := allowed[p.Path]; !ok {
			t.Fatalf("accepted command path %q, which is not on the allow-list: %q", p.Path, line)
		}
		cmd, rest, err := buildRoot(policyGetter(), p.Verb, WriteTool, genericiooptions.NewTestIOStreamsDiscard()).Find(words)
		if err != nil {
			t.Fatalf("accepted %q but the tree cannot find it: %v", line, err)
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Fatalf("accepted %q but its flags do not parse: %v", line, err)
		}
		cmd.Flags().Visit(func(f *pflag.Flag) {
			if _, ok := allows(p.Path, f.Name); !ok {
				t.Fatalf("accepted flag --%s, not on the allow-list of %q: %q", f.Name, p.Path, line)
			}
		})
	})
}

// FuzzElideSecretValues puts arbitrary values in the shapes a Secret takes in API responses (an object, a
// list item, a table row; data and stringData) and checks that none survives elision.
func FuzzElideSecretValues(f *testing.F) {
	f.Add("correct horse battery staple", uint8(0))
	f.Add("c2VjcmV0LXRva2VuLXZhbHVl", uint8(1))
	f.Add(`{"nested":"json"} with "quotes" and \ backslashes`, uint8(2))
	f.Add("<elided>****************", uint8(3))
	f.Fuzz(func(t *testing.T, value string, shape uint8) {
		secret := map[string]any{"metadata": map[string]any{"name": "s"}}
		if shape&1 == 0 {
			secret["data"] = map[string]any{"key": value}
		} else {
			secret["stringData"] = map[string]any{"key": value}
		}
		var doc any = secret
		switch shape % 3 {
		case 1:
			doc = map[string]any{"kind": "SecretList", "items": []any{secret}}
		case 2:
			doc = map[string]any{"kind": "Table", "rows": []any{map[string]any{"cells": []any{"s"}, "object": secret}}}
		}
		body, err := json.Marshal(doc)
		if err != nil {
			return
		}
		quoted, _ := json.Marshal(value)
		needle := strings.Trim(string(quoted), `"`)
		out := string(newElider().elide(body, true))
		if len(needle) >= 12 && !strings.Contains(strings.ReplaceAll(string(body), needle, ""), needle) &&
			strings.Trim(value, "*") != "" && !strings.HasPrefix(value, "<elided>") && strings.Contains(out, needle) {
			t.Fatalf("value %q survived elision:\n%s", value, out)
		}
	})
}
