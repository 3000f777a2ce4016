package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/aiscientist/aiscientist/internal/editblock"
)

// errSomeBlocksFailed makes `edit apply` exit 1 after its report.
var errSomeBlocksFailed = errors.New("not every block applied")

func editCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "edit",
		Short: "Work with SEARCH/REPLACE edit blocks as the coder applies them",
	}
	var dir string
	var allow []string
	apply := &cobra.Command{
		Use:   "apply --dir DIR [--allow FILE ...] < reply.txt",
		Short: "Apply the SEARCH/REPLACE blocks of a model reply (stdin) to files under DIR",
		Long: `Reads a model reply on stdin and applies its SEARCH/REPLACE blocks to the files under
DIR with exactly the code the coder step uses: the same parser, matching rules, path
safety and messages. Blocks that match are applied even when others fail, as aider does.
Prints a report (for failures, the feedback the model would get) and exits 0 when every
block applied, 1 otherwise.`,
		Example: `  starter edit apply --dir results/grokking/20260101_120000_my_idea --allow experiment.py < reply.txt`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return fmt.Errorf("--dir %s is not a folder", dir)
			}
			reply, err := io.ReadAll(cmd.InOrStdin())
			if err != nil {
				return fmt.Errorf("read the reply from stdin: %w", err)
			}
			code, err := applyReply(cmd.OutOrStdout(), dir, string(reply), allow)
			if err != nil {
				return err
			}
			if code != 0 {
				cmd.SilenceUsage = true
				return errSomeBlocksFailed
			}
			return nil
		},
	}
	apply.Flags().StringVar(&dir, "dir", "", "folder the paths in the reply are relative to (required)")
	apply.Flags().StringSliceVar(&allow, "allow", nil, "a file the reply may edit or create, relative to DIR (repeatable; default: any file inside DIR)")
	cmd.AddCommand(apply)
	return cmd
}

// applyReply parses and applies one reply, writes the report and returns
// the exit status: 0 when every block applied, 1 otherwise.
func applyReply(w io.Writer, dir, reply string, allow []string) (int, error) {
	blocks, perr := editblock.Parse(reply)
	if perr != nil {
		fmt.Fprintf(w, "the reply is malformed, nothing was applied:\n%v\n", perr)
		return 1, nil
	}
	if len(blocks) == 0 {
		fmt.Fprintln(w, "the reply holds no SEARCH/REPLACE blocks; nothing changed")
		return 1, nil
	}
	res, err := editblock.Apply(dir, blocks, allow)
	if err != nil {
		return 1, fmt.Errorf("apply: %w", err)
	}
	for _, b := range res.Applied {
		fmt.Fprintf(w, "applied  block %d  %s\n", b.Index, b.Path)
	}
	for _, f := range res.Failed {
		fmt.Fprintf(w, "FAILED   block %d  %s\n", f.Block.Index, f.Block.Path)
	}
	for _, c := range res.Changed {
		fmt.Fprintf(w, "changed  %s\n", c)
	}
	if len(res.Failed) > 0 {
		fmt.Fprintf(w, "\n%s", res.Feedback())
		return 1, nil
	}
	return 0, nil
}
