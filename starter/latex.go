package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/paper"
)

// errNoPDF makes `latex build` exit 1 after its report.
var errNoPDF = errors.New("no PDF was produced")

func latexCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "latex",
		Short: "Work with a paper's LaTeX as the pipeline does",
	}
	var name string
	build := &cobra.Command{
		Use:   "build DIR",
		Short: "Check and compile a paper folder's latex/template.tex with the pipeline's own checks",
		Long: `DIR is a paper folder: a workspace or an exported results folder, with
latex/template.tex and the figures beside latex/ (the reference system's layout). Runs
exactly the LaTeX stage's checks (citations, figures, duplicates, placeholders, chktex)
and compile (pdflatex, bibtex, pdflatex twice), prints the problems the writer would be
sent and the PDF path, and writes them to latex/problems.txt. A PDF that pdflatex writes
despite errors counts: the exit status is 0 when a PDF was produced, 1 otherwise.`,
		Example: `  starter latex build results/grokking/20261201_120000_my_idea`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if _, err := os.Stat(filepath.Join(dir, "latex", "template.tex")); err != nil {
				return fmt.Errorf("%s is not a paper folder: %w", dir, err)
			}
			if name == "" {
				name = paperName(dir)
			}
			res, err := activities.BuildLatex(cmd.Context(), latex.Compiler{}, dir, name)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if res.Problems > 0 {
				b, _ := os.ReadFile(filepath.Join(dir, "latex", "problems.txt"))
				fmt.Fprintf(w, "%d problems:\n%s\n", res.Problems, strings.TrimRight(string(b), "\n"))
			}
			switch {
			case res.PDF == "":
				fmt.Fprintln(w, "no PDF")
				return errNoPDF
			case res.Earlier:
				fmt.Fprintf(w, "no new PDF; the last one built stays: %s (its source: latex/%s)\n", res.PDF, "pdf_source.tex")
			case res.OK:
				fmt.Fprintf(w, "pdf: %s (clean)\n", res.PDF)
			default:
				fmt.Fprintf(w, "pdf: %s (built with problems)\n", res.PDF)
			}
			return nil
		},
	}
	build.Flags().StringVar(&name, "name", "", "the PDF's name, <DIR>/<name>.pdf (default: the Name in DIR/idea.json, else the folder's name)")
	cmd.AddCommand(build)
	return cmd
}

// paperName is the idea's Name from idea.json, else the folder's name.
func paperName(dir string) string {
	if b, err := os.ReadFile(filepath.Join(dir, "idea.json")); err == nil {
		if i, err := paper.ParseIdea(string(b)); err == nil {
			return i.Name
		}
	}
	abs, _ := filepath.Abs(dir)
	return filepath.Base(abs)
}
