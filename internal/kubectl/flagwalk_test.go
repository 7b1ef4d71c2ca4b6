package kubectl

import (
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestEveryFlagIsDecided walks every command of the kubectl tree the server builds and fails on any
// flag that is neither allowed nor refused on purpose, on any command that is neither allowed nor
// refused, and on allow-list entries kubectl no longer has. A kubectl upgrade that adds a flag or a
// command fails here until someone decides about it.
func TestEveryFlagIsDecided(t *testing.T) {
	seen := map[string]bool{}
	var verbsList []string
	for v := range commands {
		verbsList = append(verbsList, v)
	}
	sort.Strings(verbsList)
	counts := map[string]int{}
	for _, verb := range verbsList {
		root := buildRoot(policyGetter(), verb, WriteTool, genericiooptions.NewTestIOStreamsDiscard())
		var walk func(c *cobra.Command)
		walk = func(c *cobra.Command) {
			path := strings.TrimPrefix(c.CommandPath(), "kubectl ")
			seen[path] = true
			_, isAllowed := allowed[path]
			_, isRefused := refusedCommands[path]
			switch {
			case isAllowed && isRefused:
				t.Errorf("command %q is both allowed and refused", path)
			case !isAllowed && !isRefused:
				t.Errorf("command %q is neither allowed nor refused: decide, in allowed or refusedCommands", path)
			}
			if isAllowed {
				c.InitDefaultHelpFlag()
				have := map[string]bool{}
				c.Flags().VisitAll(func(f *pflag.Flag) {
					have[f.Name] = true
					if _, ok := allows(path, f.Name); ok {
						counts[path]++
						return
					}
					if _, ok := refusedFlags[f.Name]; !ok {
						t.Errorf("flag --%s of %q is neither allowed nor refused: decide, in allowed[%q] or refusedFlags", f.Name, path, path)
					}
				})
				for name := range allowed[path] {
					if !have[name] {
						t.Errorf("allowed[%q] names --%s, which kubectl %s does not have", path, name, path)
					}
				}
				for name := range rootFlags {
					if !have[name] {
						t.Errorf("root flag --%s is missing from %q", name, path)
					}
				}
			}
			for _, sub := range c.Commands() {
				walk(sub)
			}
		}
		for _, c := range root.Commands() {
			walk(c)
		}
	}
	for path := range allowed {
		if !seen[path] {
			t.Errorf("allowed names command %q, which the tree does not have", path)
		}
	}
	for path := range refusedCommands {
		if !seen[path] && !strings.HasPrefix(path, "set ") {
			t.Errorf("refusedCommands names %q, which the tree does not have", path)
		}
	}
	for _, name := range []string{"filename", "kustomize", "raw", "edit", "from-file", "from-env-file", "patch-file", "cert", "key"} {
		for path := range allowed {
			if _, ok := allowed[path][name]; ok {
				t.Errorf("%q allows --%s, which reads the server's host or bypasses the API", path, name)
			}
		}
	}
	var total int
	for _, n := range counts {
		total += n
	}
	t.Logf("allow-list: %d commands, %d flags allowed in all (root flags included)", len(counts), total)
}
