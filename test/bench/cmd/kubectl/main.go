// Command kubectl is the stock kubectl, built from the same k8s.io/kubectl module as the server, so the
// benchmark can compare the in-process interpreter with spawning the binary.
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
)

func main() {
	cli.RunNoErrOutput(cmd.NewDefaultKubectlCommand())
}
