package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/aiscientist/aiscientist/activities"
)

// errUnreadable makes `parse` exit 1 after printing the model's message.
var errUnreadable = errors.New("the reply could not be read")

func parseCmd() *cobra.Command {
	var step string
	cmd := &cobra.Command{
		Use:   "parse idea|review|section|final-info [FILE]",
		Short: "Read a model reply (or a final_info.json) exactly as the pipeline does",
		Long: `Reads FILE (standard input without it) with the code the stages use and prints the
normalised JSON the pipeline would go on with: an idea, a review form, a section's
LaTeX (and title), or a run's results. When the reply cannot be read it prints exactly
the message the model would be sent back and exits 1.

What is read leniently, as real models write it: JSON in prose or fences, trailing commas,
// and /* */ comments, single quotes, True/False/None, LaTeX inside strings (\beta, \alpha,
\%), quotes inside strings, scores as strings or halves ("4", 5.5 → 6, "4 (borderline
reject)"), any decision word ("Reject.", "weak accept"), yes/no flags, a missing Decision
(from Overall, Accept at 6 or more), an idea wrapped in a list, latex blocks among
blocks in other languages, Title: in any case; in final_info.json nested metrics
(flattened with dots), NaN and Infinity (diverged), null (missing).`,
		Example: `  starter parse review < reply.txt
  starter parse final-info results/grokking/20261201_120000_my_idea/run_1/final_info.json`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = cmd.InOrStdin()
			if len(args) == 2 {
				f, err := os.Open(args[1])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			b, err := io.ReadAll(in)
			if err != nil {
				return err
			}
			var v any
			switch args[0] {
			case activities.ReplyIdea:
				v, err = activities.ReadIdea(string(b))
			case activities.ReplyReview:
				v, err = activities.ReadReview(string(b))
			case activities.ReplySection:
				v, err = activities.ReadSection(string(b))
			case activities.ReplyFinalInfo:
				v, err = activities.ReadFinalInfo(b)
			default:
				return fmt.Errorf("unknown kind %q: idea, review, section or final-info", args[0])
			}
			if err != nil {
				fmt.Fprintln(cmd.OutOrStdout(), activities.Correction(args[0], step, err))
				return errUnreadable
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(v)
		},
	}
	cmd.Flags().StringVar(&step, "step", "Write section", "for sections: the request named in the message back (\"Write section: Method\")")
	return cmd
}
