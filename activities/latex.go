package activities

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/store"
)

// BuildInput is one check-and-compile round.
type BuildInput struct {
	Paper PaperRef
	Round int
	// Suffix names the PDF <name><Suffix>.pdf ("" for the paper,
	// ImprovedSuffix for the improved one).
	Suffix string `json:",omitempty"`
}

// ImprovedSuffix names the improved paper's PDF (<Name>_improved.pdf) and
// the source it was built from (latex/pdf_source_improved.tex).
const ImprovedSuffix = "_improved"

// BuildResult says whether the paper is clean; the details for the model
// are in latex/problems.txt.
type BuildResult struct {
	OK  bool   // compiled, and no problem found by the checks
	PDF string // path of <name>.pdf when one was produced (this round or, see Earlier, before)
	// Earlier: this round built no PDF, and PDF is the last one built, in
	// an earlier round (its source is latex/pdf_source.tex).
	Earlier  bool `json:",omitempty"`
	Problems int
	Summary  string // first problem, for status
}

// pdfSource (in latex/) is the source of the paper's last PDF.
const pdfSource = "pdf_source.tex"

// BuildPDF checks latex/template.tex (citations, figures, duplicates,
// placeholders), runs chktex, and compiles pdflatex → bibtex → pdflatex ×2
// into <paper>/<name>.pdf. Problems are written to latex/problems.txt for
// the next fix round: unlike the reference system, compile errors go back
// to the model. A PDF that pdflatex writes despite errors is kept (built
// with problems); a round that builds none keeps the last PDF built.
func (a *Activities) BuildPDF(ctx context.Context, in BuildInput) (_ BuildResult, err error) {
	s, err := a.paperScope(ctx, in.Paper, false)
	if err != nil {
		return BuildResult{}, err
	}
	defer s.close(ctx, &err)
	return buildLatex(ctx, a.LaTeX, s.dir, in.Paper.Name+in.Suffix, "pdf_source"+in.Suffix+".tex")
}

// BuildLatex is BuildPDF's work on a paper folder dir (a workspace or an
// exported results folder: latex/template.tex, the figures beside latex/),
// building <dir>/<name>.pdf; `starter latex build` runs it too. Its
// problems are also in latex/problems.txt.
func BuildLatex(ctx context.Context, compiler latex.Compiler, dir, name string) (BuildResult, error) {
	return buildLatex(ctx, compiler, dir, name, pdfSource)
}

func buildLatex(ctx context.Context, compiler latex.Compiler, dir, name, sourceName string) (BuildResult, error) {
	latexDir := filepath.Join(dir, "latex")
	texPath := filepath.Join(latexDir, "template.tex")
	texBytes, err := os.ReadFile(texPath)
	if err != nil {
		return BuildResult{}, missingInput("latex/template.tex: %v", err)
	}
	var problems []string
	problems = append(problems, unverifiedEntries(dir, string(texBytes))...)
	for _, p := range latex.Check(string(texBytes), dir) {
		if p.Line > 0 {
			problems = append(problems, fmt.Sprintf("- line %d [%s] %s", p.Line, p.Kind, p.Message))
		} else {
			problems = append(problems, fmt.Sprintf("- [%s] %s", p.Kind, p.Message))
		}
	}
	// chktex findings are style advice: recorded, and shown to the model
	// only when a fix round happens anyway.
	warnings, chkErr := latex.Chktex(ctx, texPath)
	if chkErr == nil {
		_ = store.WriteFile(filepath.Join(latexDir, "chktex.txt"), []byte(strings.Join(warnings, "\n")))
	}
	pdf := filepath.Join(dir, name+".pdf")
	res := BuildResult{}
	cerr := compiler.Compile(ctx, latexDir, "template.tex", pdf)
	var ce *latex.CompileError
	source := filepath.Join(latexDir, sourceName)
	switch {
	case cerr == nil:
		res.PDF = pdf
	case errors.As(cerr, &ce):
		problems = append(problems, "Compilation failed:\n"+ce.Feedback())
		if ce.PDFProduced() {
			res.PDF = pdf // built with problems: still a paper
		} else if store.Exists(pdf) && store.Exists(source) {
			res.PDF, res.Earlier = pdf, true // the last good PDF stays
		} else if store.Exists(pdf) {
			_ = os.Remove(pdf) // of unknown origin: never let it pass for this build
		}
	default:
		return BuildResult{}, badInput("compile LaTeX: %v", cerr)
	}
	if res.PDF != "" && !res.Earlier {
		// What this PDF was built from, for a later round that builds none.
		if err := store.WriteFile(source, texBytes); err != nil {
			return BuildResult{}, err
		}
	}
	res.Problems = len(problems)
	res.OK = res.PDF != "" && len(problems) == 0
	if len(problems) > 0 {
		res.Summary = strings.SplitN(problems[0], "\n", 2)[0]
		text := strings.Join(problems, "\n")
		if len(warnings) > 0 {
			text += "\n\nchktex style warnings (fix those that are real problems):\n" + strings.Join(firstN(warnings, 20), "\n")
		}
		if err := store.WriteFile(filepath.Join(latexDir, "problems.txt"), []byte(text+"\n")); err != nil {
			return BuildResult{}, err
		}
	} else {
		_ = os.Remove(filepath.Join(latexDir, "problems.txt"))
	}
	return res, nil
}

// unverifiedEntries names bibliography entries that came neither from the
// template nor from a literature search (see CitableKeys): a key a model
// invents is sent back, never satisfied with a made-up entry.
func unverifiedEntries(dir, tex string) []string {
	allowed := CitableKeys(dir)
	if allowed == nil {
		allowed = map[string]bool{}
		for _, k := range latex.BibKeys(readText(dir, filepath.Join("latex", "skeleton.tex"))) {
			allowed[k] = true
		}
	}
	if len(allowed) == 0 {
		return nil
	}
	var out []string
	for _, k := range latex.BibKeys(tex) {
		if !allowed[k] {
			out = append(out, fmt.Sprintf("- [unverified-entry] the references.bib entry %q came neither from the template nor from a literature search: remove it, and cite only entries that were there", k))
		}
	}
	return out
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
