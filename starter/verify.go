package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aiscientist/aiscientist/internal/numbers"
)

// errUnmatched: verify found numbers that match no run (its report says which).
var errUnmatched = errors.New("numbers match no run")

func verifyCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify DIR",
		Short: "Check every number a paper states against its runs' results (exit 1 when one matches none)",
		Long: `Checks every number in the abstract, the Results section and the tables of
DIR/latex/template.tex against DIR/run_*/final_info.json (rounded, as a percent,
or a difference, relative change or ratio of two runs) and the settings in
experiment.py and run_i.py, as the pipeline does before compiling. DIR is a
paper's workspace or its exported results folder. Prints each number that
matches nothing with its line; exits 1 when any remain. Nothing is written.`,
		Example: `  starter verify results/grokking/20261201_101500_weight_decay_grokking`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := numbers.CheckDir(args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				js, err := json.MarshalIndent(rep, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(w, string(js))
			} else {
				for _, n := range numbers.Unmatched(rep) {
					fmt.Fprintf(w, "%s:%d: %s (%s) matches no run result", numbers.TexPath, n.Line, n.Text, n.Where)
					if len(n.Closest) > 0 {
						fmt.Fprintf(w, "; closest: %s", strings.Join(n.Closest, "; "))
					}
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "%d numbers checked, %d match no run result\n", rep.Checked, rep.Unmatched)
			}
			if rep.Unmatched > 0 {
				return errUnmatched
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the whole report (every number, where it is, what it matched) as JSON")
	return cmd
}
