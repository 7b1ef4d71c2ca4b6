package kubectl

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
)

// policyGetter is a client getter over no cluster, for building the command tree the policy parses
// with. Building commands contacts nothing; the tree it builds is never run.
func policyGetter() *clientGetter {
	return &clientGetter{cfg: &rest.Config{Host: "https://policy.invalid"}, namespace: new(string)}
}

// checkFlags parses args (the command line less the command path) with cmd's own flag set, exactly as
// the run will, and checks every flag given against the allow-list of path and its value rule. It
// returns the positional arguments and the flags set (long name to value).
func checkFlags(cmd *cobra.Command, path string, args []string) ([]string, map[string]string, error) {
	cmd.InitDefaultHelpFlag()
	fs := cmd.Flags()
	fs.SetOutput(io.Discard)
	if err := cmd.ParseFlags(args); err != nil {
		return nil, nil, explainParseError(path, err)
	}
	var problem error
	set := map[string]string{}
	fs.Visit(func(f *pflag.Flag) {
		if problem != nil {
			return
		}
		set[f.Name] = f.Value.String()
		rule, ok := allows(path, f.Name)
		if !ok {
			problem = refusal(path, f.Name)
			return
		}
		if rule == nil {
			return
		}
		values := []string{f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			values = sv.GetSlice()
		}
		for _, v := range values {
			if err := rule(v); err != nil {
				problem = fmt.Errorf("flag --%s: %v", f.Name, err)
				return
			}
		}
	})
	if problem != nil {
		return nil, nil, problem
	}
	if len(fs.Args()) == 0 {
		return nil, set, nil
	}
	return fs.Args(), set, nil
}

var (
	unknownLong  = regexp.MustCompile(`unknown flag: --([^ =]+)`)
	unknownShort = regexp.MustCompile(`unknown shorthand flag: '(.)'`)
)

// explainParseError turns pflag's errors into the reason a flag is absent and what is accepted.
func explainParseError(path string, err error) error {
	name := ""
	if m := unknownLong.FindStringSubmatch(err.Error()); m != nil {
		name = m[1]
	} else if m := unknownShort.FindStringSubmatch(err.Error()); m != nil {
		name = m[1]
	}
	if name == "" {
		return fmt.Errorf("cannot read the flags of `kubectl %s`: %v", path, err)
	}
	dashes := "--"
	if len(name) == 1 {
		dashes = "-"
	}
	if why, known := absentFlags[name]; known {
		return fmt.Errorf("flag %s%s is not available: %s", dashes, name, why)
	}
	if why, known := refusedFlags[name]; known {
		return fmt.Errorf("flag %s%s is not available: %s", dashes, name, why)
	}
	return fmt.Errorf("flag %s%s is not a flag of `kubectl %s`; it accepts: %s", dashes, name, path, allowedList(path))
}

// allowedList names the flags a command accepts, for messages.
func allowedList(path string) string {
	names := make([]string, 0, len(allowed[path])+len(rootFlags))
	for n := range allowed[path] {
		names = append(names, "--"+n)
	}
	for n := range rootFlags {
		names = append(names, "--"+n)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}
