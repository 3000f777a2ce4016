// Command starter is the AI Scientist's command line: launch campaigns,
// follow and inspect papers, fetch their files, run the offline demo.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// globals shared by the commands that talk to a server.
type globals struct {
	address   string
	namespace string
	ui        string
	dataDir   string
	artifacts string
}

func main() {
	g := &globals{}
	root := &cobra.Command{
		Use:           "starter",
		Short:         "Launch and follow AI Scientist research campaigns",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.address, "address", "", "Temporal frontend address (default $TEMPORAL_ADDRESS or 127.0.0.1:7233)")
	pf.StringVar(&g.namespace, "namespace", "", "Temporal namespace (default $TEMPORAL_NAMESPACE or default)")
	pf.StringVar(&g.ui, "ui", "", "Web UI address used in printed links (default: the server's gRPC port + 1000, as worker --dev serves it)")
	root.AddCommand(benchCmd(), launchCmd(g), statusCmd(g), listCmd(g), fetchCmd(g), budgetCmd(g), editCmd(), demoCmd(), scriptedCmd(), preflightCmd(), replayCmd(g),
		pauseCmd(g), unpauseCmd(g), cancelCmd(g), skipCmd(g), resumeCmd(g), approveCmd(g), rejectCmd(g), parseCmd(), latexCmd(), searchCmd(), reviewCmd(g), verifyCmd(), templatesCmd(g), benchReviewCmd(g), codecServerCmd(), watchCmd(g))
	if err := root.Execute(); err != nil {
		if !errors.Is(err, errSomeBlocksFailed) && !errors.Is(err, errUnreadable) && !errors.Is(err, errNoPDF) && !errors.Is(err, errUnmatched) { // its report says it all
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}
