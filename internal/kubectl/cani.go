package kubectl

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/cmd/auth"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
)

// authCommand is `kubectl auth` with can-i and whoami only. Upstream can-i calls os.Exit(1) when the
// answer is "no", which would end the whole server; here "no" is printed and returned as an answer.
func authCommand(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := only(auth.NewCmdAuth(f, streams), "can-i", "whoami")
	for _, sub := range cmd.Commands() {
		if sub.Name() == "can-i" {
			sub.Run = canIRun(f, streams)
		}
	}
	return cmd
}

func canIRun(f cmdutil.Factory, streams genericiooptions.IOStreams) func(*cobra.Command, []string) {
	return func(c *cobra.Command, args []string) {
		o := &auth.CanIOptions{IOStreams: streams}
		flags := c.Flags()
		o.AllNamespaces, _ = flags.GetBool("all-namespaces")
		o.Quiet, _ = flags.GetBool("quiet")
		o.Subresource, _ = flags.GetString("subresource")
		o.List, _ = flags.GetBool("list")
		o.NoHeaders, _ = flags.GetBool("no-headers")
		cmdutil.CheckErr(o.Complete(f, args))
		cmdutil.CheckErr(o.Validate())
		if o.List {
			cmdutil.CheckErr(o.RunAccessList())
			return
		}
		_, err := o.RunAccessCheck() // prints yes or no
		cmdutil.CheckErr(err)
	}
}
