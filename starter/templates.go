package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/aiscientist/aiscientist/internal/template"
)

// errInvalid: validate found problems (its report names them).
var errInvalid = errors.New("template breaks the contract")

func templatesCmd() *cobra.Command {
	var roots string
	var dirs []string
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "List research templates and check a template folder against the contract",
	}
	cmd.PersistentFlags().StringVar(&roots, "templates", "templates", "folder holding the research templates")
	cmd.PersistentFlags().StringSliceVar(&dirs, "templates-dir", nil, "more folders of templates, searched first; repeatable")
	all := func() string { return template.Roots(append(append([]string(nil), dirs...), roots)...) }

	list := &cobra.Command{
		Use:   "list",
		Short: "The templates a launch can use, with their folder and whether they follow the contract",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tFOLDER\tCONTRACT")
			for _, name := range template.List(all()) {
				dir := ""
				for _, root := range filepath.SplitList(all()) {
					if st, err := os.Stat(filepath.Join(root, name)); err == nil && st.IsDir() {
						dir = filepath.Join(root, name)
						break
					}
				}
				state := "ok"
				if p := template.Validate(dir); len(p) > 0 {
					state = fmt.Sprintf("%d problems (starter templates validate %s)", len(p), dir)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", name, dir, state)
			}
			return tw.Flush()
		},
	}
	validate := &cobra.Command{
		Use:   "validate DIR...",
		Short: "Check template folders against the contract; one line per problem, exit 1 on any",
		Long: `Checks what the pipeline relies on: experiment.py (run with --out_dir, writing
final_info.json), plot.py (its labels dict), prompt.json (system, task_description),
seed_ideas.json, a baseline run_0/final_info.json when there is one, and
latex/template.tex (every placeholder the write-up fills, in any spelling it accepts;
the embedded references.bib; \graphicspath{{../}}). It reads files only. A template
of the reference system that follows its contract passes as it is.`,
		Example: `  starter templates validate templates/grokking
  starter templates validate ~/AI-Scientist/templates/*`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			bad := 0
			for _, dir := range args {
				probs := template.Validate(dir)
				for _, p := range probs {
					fmt.Fprintf(w, "%s: %s\n", dir, p)
				}
				if len(probs) == 0 {
					fmt.Fprintf(w, "%s: ok\n", dir)
				} else {
					bad++
				}
			}
			if bad > 0 {
				return fmt.Errorf("%w: %d of %d folders", errInvalid, bad, len(args))
			}
			return nil
		},
	}
	cmd.AddCommand(list, validate)
	return cmd
}
