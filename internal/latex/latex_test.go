package latex

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// bq lets raw strings below contain TeX's backquote: ‘ stands for `.
func bq(s string) string { return strings.ReplaceAll(s, "‘", "`") }

const sampleTex = `\documentclass{article}
\usepackage{natbib}
\begin{filecontents}{references.bib}
@article{smith2020,
  title = {A Study},
  author = {Smith, John},
  year = {2020}
}

@inproceedings{ doe:2021 ,
  title = {Other % not a comment in BibTeX},
  year = {2021}
}
@string{jml = "JMLR"}
@Misc(lee_2019,
  title = {Paren form}
)
\end{filecontents}
\begin{document}
See \citep{smith2020} and \citet[p.~3]{doe:2021, lee_2019}.
% \cite{commented}
Discount 50\% \cite{afterpercent} % \cite{trailing}
\citeauthor*{smith2020} \citeyear{zed} \nocite{*}
\citep[see][chap.~2]{multi1,
  multi2}
\end{document}
`

func TestBibKeys(t *testing.T) {
	tests := []struct {
		name string
		tex  string
		want []string
	}{
		{"sample", sampleTex, []string{"smith2020", "doe:2021", "lee_2019"}},
		{"no block", `\begin{document}\cite{a}\end{document}`, nil},
		{"starred and duplicate", "\\begin{filecontents*}{references.bib}\n@book{b1, title={x}}\n@book{b1, title={y}}\n@article{b2,\n}\n\\end{filecontents*}\n", []string{"b1", "b2"}},
		{"non-bib block ignored", "\\begin{filecontents}{data.txt}\n@book{nope,}\n\\end{filecontents}\n\\begin{filecontents}[overwrite]{references.bib}\n@book{yes,}\n\\end{filecontents}\n", []string{"yes"}},
		{"commented begin ignored", "% \\begin{filecontents}{references.bib}\n@book{nope,}\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BibKeys(tt.tex); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("BibKeys = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCiteKeys(t *testing.T) {
	tests := []struct {
		name string
		tex  string
		want []string
	}{
		{"sample", sampleTex, []string{"smith2020", "doe:2021", "lee_2019", "afterpercent", "zed", "multi1", "multi2"}},
		{"double backslash percent is a comment", `a\\% \cite{hidden}` + "\n" + `\cite{shown}`, []string{"shown"}},
		{"starred natbib", `\citet*{a} \citep*[e.g.][]{b,a}`, []string{"a", "b"}},
		{"spaces", `\cite {x , y}`, []string{"x", "y"}},
		{"citestyle is not a citation", `\citestyle{plain} \citealp{k}`, []string{"k"}},
		{"verbatim ignored", "\\begin{verbatim}\n\\cite{v}\n\\end{verbatim}\n\\cite{w}", []string{"w"}},
		{"none", `plain text`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CiteKeys(tt.tex); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CiteKeys = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAddBibEntries(t *testing.T) {
	base := "\\documentclass{article}\n\\begin{filecontents}{references.bib}\n@article{old,\n  title={Old}\n}\n\\end{filecontents}\n\\begin{document}\n\\end{document}\n"
	tests := []struct {
		name      string
		tex       string
		entries   []string
		wantAdded []string
		wantKeys  []string
		wantErr   bool
	}{
		{"adds new", base, []string{"@book{new1,\n  title={New}\n}"}, []string{"new1"}, []string{"old", "new1"}, false},
		{"skips existing (case-insensitive)", base, []string{"@article{OLD, title={x}}", "@misc{n2, title={y}}"}, []string{"n2"}, []string{"old", "n2"}, false},
		{"dedupes within call and splits multi-entry strings", base, []string{"@misc{a1,}\n@misc{a2,}", "@misc{a1,}"}, []string{"a1", "a2"}, []string{"old", "a1", "a2"}, false},
		{"nothing to add", base, []string{"@article{old,}"}, nil, []string{"old"}, false},
		{"no block", "\\begin{document}\\end{document}", []string{"@misc{x,}"}, nil, nil, true},
		{"garbage entry", base, []string{"not bibtex"}, nil, []string{"old"}, true},
		{"starred end not at line start", "\\begin{filecontents*}{references.bib}\n@misc{p,} \\end{filecontents*}\n", []string{"@misc{q,}"}, []string{"q"}, []string{"p", "q"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, added, err := AddBibEntries(tt.tex, tt.entries)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if got != tt.tex {
					t.Errorf("source changed on error")
				}
				return
			}
			if !reflect.DeepEqual(added, tt.wantAdded) {
				t.Errorf("added = %q, want %q", added, tt.wantAdded)
			}
			if keys := BibKeys(got); !reflect.DeepEqual(keys, tt.wantKeys) {
				t.Errorf("BibKeys after add = %q, want %q\n%s", keys, tt.wantKeys, got)
			}
			// The document outside the block is untouched and the block still closes.
			if !strings.Contains(got, "\\end{filecontents") || strings.Count(got, "\\end{filecontents") != 1 {
				t.Errorf("filecontents block broken:\n%s", got)
			}
			blk, _ := mainBibBlock(got)
			for _, k := range tt.wantAdded {
				if !strings.Contains(got[blk.start:blk.end], "{"+k+",") {
					t.Errorf("entry %q not inside the block:\n%s", k, got)
				}
			}
		})
	}
	// An added entry lands on its own lines, before \end{filecontents}.
	got, _, _ := AddBibEntries(base, []string{"@book{new1, title={New}}"})
	if !strings.Contains(got, "}\n\n@book{new1, title={New}}\n\\end{filecontents}\n") {
		t.Errorf("unexpected layout:\n%s", got)
	}
}

func writePNG(t *testing.T, path string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := 0; x < 40; x++ {
		for y := 0; y < 30; y++ {
			img.Set(x, y, color.RGBA{uint8(6 * x), uint8(8 * y), 128, 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "loss.png"))
	writePNG(t, filepath.Join(dir, "acc.png"))

	const head = "\\documentclass{article}\n\\begin{filecontents}{references.bib}\n@article{smith2020, title={x}}\n\\end{filecontents}\n\\begin{document}\n" // 5 lines
	type want struct {
		kind string
		line int
		text string // substring of the message
	}
	tests := []struct {
		name string
		body string // starts on line 6; \end{document} is appended
		want []want
	}{
		{"clean", "\\section{Intro}\nWe cite \\citep{smith2020}.\n\\includegraphics[width=0.5\\textwidth]{loss.png}\n\\includegraphics{acc}\n\\label{fig:a}\n", nil},
		{"missing citation", "A \\cite{smith2020,ghost}.\n% \\cite{commented}\nB \\citet{ghost}.\n", []want{{KindMissingCitation, 6, `"ghost" is cited on lines 6, 8`}}},
		{"missing figure", "\\includegraphics{nothere.png}\n", []want{{KindMissingFigure, 6, "acc.png, loss.png"}}},
		{"duplicate figure via extension", "\\includegraphics{loss.png}\n\\includegraphics[width=3cm]{loss}\n", []want{{KindDuplicateFigure, 7, "first included on line 6"}}},
		{"duplicate section", "\\section{Results}\n\\subsection{Setup}\n\\subsection{Setup}\n\\section{Other}\n\\subsection{Setup}\n\\section*{ results }\n", []want{
			{KindDuplicateSection, 8, "subsection"}, {KindDuplicateSection, 11, "line 6"}}},
		{"duplicate label", "\\label{eq:1}\n\\label{sec:x}\n\\label{eq:1}\n", []want{{KindDuplicateLabel, 8, "already defined on line 6"}}},
		{"placeholders", "INTRODUCTION HERE\n  RELATED WORK HERE  \nThe data is HERE\n% CONCLUSION HERE\n\\title{TITLE HERE}\n", []want{
			{KindPlaceholder, 6, "INTRODUCTION HERE"}, {KindPlaceholder, 7, "RELATED WORK HERE"}, {KindPlaceholder, 10, "TITLE HERE"}}},
		{"writers' placeholders", "Accuracy rose by [insert number] points.\nTODO: discuss seeds.\nThe TODOS list and [1] stay.\n% TODO in a comment\n", []want{
			{KindPlaceholder, 6, `"[insert number]"`}, {KindPlaceholder, 7, `"TODO"`}}},
		{"unclosed environment", "\\begin{figure}\n\\begin{center}\n\\end{figure}\n", []want{{KindEnvironment, 7, "\\begin{center} on line 7 is not closed before \\end{figure} on line 8"}}},
		{"stray end", "text\n\\end{table}\n", []want{{KindEnvironment, 7, "\\end{table} on line 7 has no matching"}}},
		{"commented environment ignored", "% \\begin{table}\n\\begin{verbatim}\n\\begin{x}\n\\end{verbatim}\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tex := head + tt.body + "\\end{document}\n"
			got := Check(tex, dir)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), FormatProblems(got))
			}
			for i, w := range tt.want {
				p := got[i]
				if p.Kind != w.kind || p.Line != w.line || !strings.Contains(p.Message, w.text) {
					t.Errorf("problem %d = %+v, want kind %s line %d containing %q", i, p, w.kind, w.line, w.text)
				}
			}
		})
	}

	t.Run("never closed and no bib block", func(t *testing.T) {
		got := Check("\\begin{document}\n\\cite{k}\n\\begin{itemize}\n", "")
		kinds := map[string]int{}
		for _, p := range got {
			kinds[p.Kind]++
		}
		if kinds[KindMissingCitation] != 1 || kinds[KindEnvironment] != 2 || len(got) != 3 {
			t.Fatalf("unexpected problems:\n%s", FormatProblems(got))
		}
		if !strings.Contains(got[0].Message, "no \\begin{filecontents}{references.bib}") {
			t.Errorf("message should explain the missing block: %s", got[0].Message)
		}
		if got[2].Line != 3 || !strings.Contains(got[2].Message, "\\begin{itemize} on line 3 is never closed") {
			t.Errorf("got %+v", got[2])
		}
	})
	t.Run("empty figureDir skips existence checks", func(t *testing.T) {
		if got := Check(head+"\\includegraphics{x.png}\n\\end{document}\n", ""); len(got) != 0 {
			t.Errorf("got %v", got)
		}
	})
}

// capturedLog is an excerpt of the pdflatex log (TeX Live 2022, default
// max_print_line=79) of this document, produced by compiling it:
//
//	13: Hello world \citep{smith2020} and \citet{nokey}. See \ref{sec:none}.
//	14: \foo bar baz
//	15: \includegraphics{missing.png}
//
// Note the citation warning wrapped at column 79.
var capturedLog = bq(`(/usr/share/texlive/texmf-dist/tex/latex/latexconfig/epstopdf-sys.cfg
File: epstopdf-sys.cfg 2010/07/13 v1.3 Configuration of (r)epstopdf for TeX Liv
e
))

Package natbib Warning: Citation ‘smith2020' on page 1 undefined on input line 
13.


Package natbib Warning: Citation ‘nokey' on page 1 undefined on input line 13.


LaTeX Warning: Reference ‘sec:none' on page 1 undefined on input line 13.

! Undefined control sequence.
l.14 \foo
          bar baz
The control sequence at the end of the top line
of your error message was never \def'ed. If you have
misspelled it (e.g., ‘\hobx'), type ‘I' and the correct
spelling (e.g., ‘I\hbox'). Otherwise just continue,
and I'll forget about whatever was undefined.


LaTeX Warning: File ‘missing.png' not found on input line 15.


! Package pdftex.def Error: File ‘missing.png' not found: using draft setting.

See the pdftex.def package documentation for explanation.
Type  H <return>  for immediate help.
 ...                                              
                                                  
l.15 \includegraphics{missing.png}
                                  
Try typing  <return>  to proceed.
If that doesn't work, type  X <return>  to quit.

(./t.bbl)
`)

// capturedFatalLog is the end of the log of a document loading a missing
// package (\usepackage{nosuchpkg} on line 2).
var capturedFatalLog = bq(`! LaTeX Error: File ‘nosuchpkg.sty' not found.

Type X to quit or <RETURN> to proceed,
or enter new name. (Default extension: sty)

Enter file name: 
! Emergency stop.
<read *> 
         
l.3 \begin
          {document}^^M
*** (cannot \read from terminal in nonstop modes)

!  ==> Fatal error occurred, no output PDF file produced!
`)

func TestParseLog(t *testing.T) {
	if !strings.Contains(capturedLog, "on input line \n13.") {
		t.Fatal("captured log lost its wrapped line")
	}
	tests := []struct {
		name string
		log  string
		want []LogError
	}{
		{"captured undefined control sequence", capturedLog, []LogError{
			{Line: 13, Message: "Package natbib Warning: Citation `smith2020' on page 1 undefined"},
			{Line: 13, Message: "Package natbib Warning: Citation `nokey' on page 1 undefined"},
			{Line: 13, Message: "LaTeX Warning: Reference `sec:none' on page 1 undefined"},
			{Line: 14, Message: "Undefined control sequence.", Context: "l.14 \\foo\n          bar baz"},
			{Line: 15, Message: "LaTeX Warning: File `missing.png' not found"},
			{Line: 15, Message: "Package pdftex.def Error: File `missing.png' not found: using draft setting.", Context: "l.15 \\includegraphics{missing.png}"},
		}},
		{"captured fatal", capturedFatalLog, []LogError{
			{Message: "LaTeX Error: File `nosuchpkg.sty' not found."},
			{Line: 3, Message: "Emergency stop.", Context: "l.3 \\begin\n          {document}"},
		}},
		{"file-line-error style", "./template.tex:7: Undefined control sequence.\nl.7 \\bad\n    \n", []LogError{
			{Line: 7, Message: "Undefined control sequence.", Context: "l.7 \\bad", File: "./template.tex"},
		}},
		{"wrapped error message", "! " + strings.Repeat("x", 77) + "\nyy.\nl.2 a\n", []LogError{
			{Line: 2, Message: strings.Repeat("x", 77) + "yy.", Context: "l.2 a"},
		}},
		{"duplicate warnings collapse", "LaTeX Warning: Citation `a' undefined on input line 4.\nLaTeX Warning: Citation `a' undefined on input line 4.\nLaTeX Warning: Citation `a' undefined on input line 5.\n", []LogError{
			{Line: 4, Message: "LaTeX Warning: Citation `a' undefined"},
			{Line: 5, Message: "LaTeX Warning: Citation `a' undefined"},
		}},
		{"summary warnings ignored", "LaTeX Warning: There were undefined references.\nPackage natbib Warning: There were undefined citations.\n", []LogError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseLog(tt.log)
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseLog =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestParseBibtex(t *testing.T) {
	// Captured from bibtex on a filecontents* block opened on line 3.
	out := bq(`This is BibTeX, Version 0.99d (TeX Live 2022/Debian)
The top-level auxiliary file: b.aux
The style file: plainnat.bst
Database file #1: references.bib
I was expecting a ‘,' or a ‘}'---line 3 of file references.bib
 :   
 :   author = {Smith, John},
(Error may have been on previous line)
I'm skipping whatever remains of this entry
Repeated entry---line 6 of file references.bib
 : @article{smith2020
 :                   ,
I'm skipping whatever remains of this entry
Warning--empty year in smith2020
(There were 2 error messages)
`)
	tex := "\\documentclass{article}\n\\usepackage{natbib}\n\\begin{filecontents*}{references.bib}\n@article{smith2020,\n  title = {A Study}\n  author = {Smith, John},\n}\n@article{smith2020,\n}\n\\end{filecontents*}\n"
	errs := parseBibtex(out, tex, "b.tex", nil)
	if len(errs) != 2 {
		t.Fatalf("got %d errors: %v", len(errs), errs)
	}
	if errs[0].Line != 6 || !strings.Contains(errs[0].Message, "I was expecting a `,' or a `}'") ||
		!strings.Contains(errs[0].Message, "references.bib line 3, i.e. b.tex line 6") ||
		!strings.Contains(errs[0].Context, "author = {Smith, John},") {
		t.Errorf("first error = %+v", errs[0])
	}
	if errs[1].Line != 9 || !strings.HasPrefix(errs[1].Message, "BibTeX error: Repeated entry") {
		t.Errorf("second error = %+v", errs[1])
	}
	// "no \citation commands" is not an error.
	if e := parseBibtex("I found no \\citation commands---while reading file t.aux\n", tex, "t.tex", nil); len(e) != 0 {
		t.Errorf("got %v", e)
	}
	// A missing database.
	e := parseBibtex("I couldn't open database file refs.bib\n---line 3 of file t.aux\n : \\bibdata{refs\n :             }\nI'm skipping whatever remains of this command\n", tex, "t.tex", nil)
	if len(e) != 1 || !strings.Contains(e[0].Message, "I couldn't open database file refs.bib") || e[0].Line != 0 {
		t.Errorf("got %+v", e)
	}
}

func TestFeedback(t *testing.T) {
	ce := &CompileError{
		Stage:   "pdflatex (pass 3)",
		Errors:  ParseLog(capturedLog),
		texName: "template.tex",
		source:  make([]string, 20),
	}
	ce.source[13] = `\foo bar baz`
	fb := ce.Feedback()
	for _, want := range []string{
		"failed at stage pdflatex (pass 3)",
		"Line 14: Undefined control sequence.",
		"Source line 14: \\foo bar baz",
		"TeX stopped reading here: l.14 \\foo <<HERE>> bar baz",
		"Line 13: Package natbib Warning: Citation `nokey' on page 1 undefined",
	} {
		if !strings.Contains(fb, want) {
			t.Errorf("Feedback lacks %q:\n%s", want, fb)
		}
	}
	if msg := ce.Error(); !strings.HasPrefix(msg, "latex: pdflatex (pass 3) failed: line 13:") || !strings.Contains(msg, "(and 5 more)") {
		t.Errorf("Error() = %q", msg)
	}
	// Errors located in other files must not be paired with main-file lines.
	other := &CompileError{Stage: "pdflatex (pass 3)", texName: "template.tex", source: []string{`\documentclass{article}`},
		Errors: ParseLog("./template.bbl:1: LaTeX Error: Something's wrong--perhaps a missing \\item.\nl.1 \\begin{thebibliography}{1}\n")}
	fb = other.Feedback()
	if !strings.Contains(fb, "1. template.bbl line 1: LaTeX Error: Something's wrong") || strings.Contains(fb, "Source line") ||
		!strings.Contains(fb, "generated by BibTeX") {
		t.Errorf("Feedback for a .bbl error:\n%s", fb)
	}

	empty := &CompileError{Stage: "pdflatex (pass 1)", LogTail: "tail text"}
	if fb := empty.Feedback(); !strings.Contains(fb, "tail text") {
		t.Errorf("Feedback without errors should include the log tail:\n%s", fb)
	}
}

// ---- integration tests (need TeX Live) ----

func needTeX(t *testing.T) {
	t.Helper()
	for _, b := range []string{"pdflatex", "bibtex"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not on PATH", b)
		}
	}
}

// newPaper creates <tmp>/paper/latex/template.tex with content and a figure
// <tmp>/paper/plot.png, returning the paper and latex folders.
func newPaper(t *testing.T, content string) (paper, latexDir string) {
	t.Helper()
	paper = filepath.Join(t.TempDir(), "paper")
	latexDir = filepath.Join(paper, "latex")
	if err := os.MkdirAll(latexDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writePNG(t, filepath.Join(paper, "plot.png"))
	if err := os.WriteFile(filepath.Join(latexDir, "template.tex"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return paper, latexDir
}

const goodDoc = `\documentclass{article}
\usepackage{graphicx}
\usepackage{natbib}
\graphicspath{{../}}
\begin{filecontents}{references.bib}
@article{smith2020,
  title = {Widgets in the Wild},
  author = {Smith, John and Doe, Jane},
  journal = {Journal of Widgetry},
  year = {2020}
}
\end{filecontents}
\title{A Test Paper}
\begin{document}
\maketitle
\section{Introduction}
Quantum widgets improve everything \citep{smith2020}.
\begin{figure}[h]
\centering
\includegraphics[width=0.3\textwidth]{plot.png}
\caption{A plot.}
\end{figure}
\bibliographystyle{plainnat}
\bibliography{references}
\end{document}
`

func TestCompileSuccess(t *testing.T) {
	needTeX(t)
	ctx := context.Background()
	paper, latexDir := newPaper(t, goodDoc)
	if probs := Check(goodDoc, paper); len(probs) != 0 {
		t.Fatalf("Check found problems in the good document:\n%s", FormatProblems(probs))
	}
	out := filepath.Join(t.TempDir(), "out", "paper.pdf")
	if err := (Compiler{}).Compile(ctx, latexDir, "template.tex", out); err != nil {
		if ce, ok := err.(*CompileError); ok {
			t.Fatalf("Compile: %v\n%s\n%s", err, ce.Feedback(), ce.LogTail)
		}
		t.Fatalf("Compile: %v", err)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Size() == 0 {
		t.Fatalf("output PDF missing: %v", err)
	}
	pages, err := PDFPages(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	if pages < 1 {
		t.Errorf("PDFPages = %d, want >= 1", pages)
	}
	text, err := PDFText(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{"Quantum widgets improve everything", "Smith and Doe", "Widgets in the wild", "A Test Paper"} {
		if !strings.Contains(flat, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(flat, "(?)") {
		t.Errorf("PDF has an unresolved citation:\n%s", text)
	}

	// Recompiling after editing the bibliography must pick up the edit even
	// though references.bib from the first run still exists.
	edited := strings.Replace(goodDoc, "Widgets in the Wild", "Gadgets Everywhere", 1)
	if err := os.WriteFile(filepath.Join(latexDir, "template.tex"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := (Compiler{}).Compile(ctx, latexDir, "template.tex", out); err != nil {
		t.Fatalf("second Compile: %v", err)
	}
	text, err = PDFText(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	if flat := strings.Join(strings.Fields(text), " "); !strings.Contains(flat, "Gadgets everywhere") || strings.Contains(flat, "Widgets in the wild") {
		t.Errorf("recompile used a stale bibliography:\n%s", text)
	}
}

func TestCompileBrokenDocument(t *testing.T) {
	needTeX(t)
	ctx := context.Background()
	broken := strings.Replace(goodDoc, "Quantum widgets improve everything", "Quantum widgets \\undefinedmacro{improve} everything", 1)
	const badLine = 17
	if l := strings.Split(broken, "\n")[badLine-1]; !strings.Contains(l, `\undefinedmacro`) {
		t.Fatalf("test setup: line %d is %q", badLine, l)
	}
	_, latexDir := newPaper(t, broken)
	out := filepath.Join(t.TempDir(), "paper.pdf")
	err := (Compiler{}).Compile(ctx, latexDir, "template.tex", out)
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("Compile error = %v (%T), want *CompileError", err, err)
	}
	if ce.Stage != "pdflatex (pass 3)" {
		t.Errorf("Stage = %q", ce.Stage)
	}
	found := false
	for _, e := range ce.Errors {
		if e.Line == badLine && e.Message == "Undefined control sequence." && strings.Contains(e.Context, `\undefinedmacro`) &&
			e.File == "./template.tex" {
			found = true
		}
	}
	if !found {
		t.Errorf("no undefined-control-sequence error on line %d in %+v", badLine, ce.Errors)
	}
	fb := ce.Feedback()
	if !strings.Contains(fb, "Line 17: Undefined control sequence.") ||
		!strings.Contains(fb, "Source line 17: Quantum widgets \\undefinedmacro{improve} everything") {
		t.Errorf("Feedback:\n%s", fb)
	}
	// nonstopmode goes on past the error: the PDF is kept, built with problems.
	if _, err := os.Stat(out); err != nil || !ce.PDFProduced() {
		t.Errorf("the PDF pdflatex wrote despite the error was not kept (stat err %v, PDFProduced %v)", err, ce.PDFProduced())
	}
}

func TestCompileFatalMissingPackage(t *testing.T) {
	needTeX(t)
	doc := strings.Replace(goodDoc, `\usepackage{natbib}`, `\usepackage{nosuchpackagexyz}`, 1)
	_, latexDir := newPaper(t, doc)
	err := (Compiler{}).Compile(context.Background(), latexDir, "template.tex", filepath.Join(t.TempDir(), "p.pdf"))
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *CompileError", err)
	}
	if ce.Stage != "pdflatex (pass 1)" || len(ce.Errors) == 0 || !strings.Contains(ce.Errors[0].Message, "nosuchpackagexyz.sty' not found") {
		t.Errorf("got stage %q errors %+v", ce.Stage, ce.Errors)
	}
}

func TestCompileBibtexError(t *testing.T) {
	needTeX(t)
	// Missing comma after the title field: BibTeX error on the author line.
	doc := strings.Replace(goodDoc, "title = {Widgets in the Wild},", "title = {Widgets in the Wild}", 1)
	authorLine := 0
	for i, l := range strings.Split(doc, "\n") {
		if strings.Contains(l, "author = {Smith") {
			authorLine = i + 1
		}
	}
	_, latexDir := newPaper(t, doc)
	out := filepath.Join(t.TempDir(), "p.pdf")
	err := (Compiler{}).Compile(context.Background(), latexDir, "template.tex", out)
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *CompileError", err)
	}
	if ce.Stage != "bibtex" || !ce.PDFProduced() {
		t.Fatalf("stage %q produced %v: %s", ce.Stage, ce.PDFProduced(), ce.Feedback())
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("PDF should still be copied: %v", err)
	}
	e := ce.Errors[0]
	if e.Line != authorLine || !strings.Contains(e.Message, "I was expecting a `,' or a `}'") {
		t.Errorf("first error %+v, want line %d (non-star filecontents header must be accounted for)", e, authorLine)
	}
	if fb := ce.Feedback(); !strings.Contains(fb, "author = {Smith, John and Doe, Jane}") {
		t.Errorf("Feedback lacks the offending source line:\n%s", fb)
	}
}

func TestCompileTimeoutKillsProcess(t *testing.T) {
	needTeX(t)
	doc := "\\documentclass{article}\n\\begin{document}\n\\def\\loop{\\loop}\\loop\n\\end{document}\n"
	_, latexDir := newPaper(t, doc)
	start := time.Now()
	err := Compiler{Timeout: 2 * time.Second}.Compile(context.Background(), latexDir, "template.tex", filepath.Join(t.TempDir(), "p.pdf"))
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *CompileError", err)
	}
	if ce.Stage != "pdflatex (pass 1)" || !strings.Contains(ce.Errors[0].Message, "killed after 2s") {
		t.Errorf("got %q %+v", ce.Stage, ce.Errors)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("timeout not enforced: took %s", d)
	}
}

func TestCompileMissingBinary(t *testing.T) {
	err := Compiler{PDFLatex: "pdflatex-does-not-exist-xyz"}.Compile(context.Background(), t.TempDir(), "x.tex", "x.pdf")
	if err == nil || !strings.Contains(err.Error(), "pdflatex-does-not-exist-xyz not found on PATH: install texlive-latex-base") {
		t.Errorf("err = %v", err)
	}
}

func TestChktex(t *testing.T) {
	if _, err := exec.LookPath("chktex"); err != nil {
		t.Skip("chktex not on PATH")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "c.tex")
	src := "\\documentclass{article}\n\\begin{document}\nA value $x$ .\n\\end{document}\n"
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	warns, err := Chktex(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 1 || !strings.HasPrefix(warns[0], "Warning 26 in c.tex line 3:") || !strings.Contains(warns[0], "\nA value $x$ .") {
		t.Errorf("warnings = %q", warns)
	}
	clean := filepath.Join(dir, "ok.tex")
	if err := os.WriteFile(clean, []byte("\\documentclass{article}\n\\begin{document}\nFine.\n\\end{document}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if warns, err := Chktex(context.Background(), clean); err != nil || len(warns) != 0 {
		t.Errorf("clean file: %q, %v", warns, err)
	}
	if _, err := Chktex(context.Background(), filepath.Join(dir, "missing.tex")); err == nil {
		t.Error("missing file should be an error")
	}
}

func TestNormalizeSkeleton(t *testing.T) {
	in := "\\section{Introduction}\n\\label{sec:intro}\nINTRO HERE\n\n\\section{Results}\nRESULTS HERE\n\n" +
		"% EXAMPLE FIGURE: REPLACE AND ADD YOUR OWN FIGURES / CAPTIONS\n\\begin{figure}[h]\n  \\centering\n" +
		"  \\begin{subfigure}{0.49\\textwidth}\n    \\includegraphics[width=\\textwidth]{val_loss_enwik8.png}\n  \\end{subfigure}\n" +
		"  \\includegraphics[width=\\textwidth]{train_loss_enwik8.png}\n  \\caption{PLEASE FILL IN CAPTION HERE}\n  \\label{fig:first_figure}\n\\end{figure}\n\n" +
		"\\begin{figure}\n\\includegraphics{kept.png}\n\\caption{A real caption.}\n\\end{figure}\n\\section{Conclusions}\nCONCLUSIONS HERE\n"
	out, figs := NormalizeSkeleton(in)
	if !strings.Contains(out, "\nINTRODUCTION HERE\n") || strings.Contains(out, "INTRO HERE") {
		t.Errorf("INTRO HERE not rewritten:\n%s", out)
	}
	if strings.Contains(out, "PLEASE FILL IN") || strings.Contains(out, "EXAMPLE FIGURE") || strings.Contains(out, "val_loss_enwik8") {
		t.Errorf("example figure left:\n%s", out)
	}
	if !strings.Contains(out, "kept.png") || !strings.Contains(out, "RESULTS HERE\n\n") {
		t.Errorf("a real figure or the text around it was removed:\n%s", out)
	}
	if strings.Join(figs, ",") != "val_loss_enwik8.png,train_loss_enwik8.png" {
		t.Errorf("figures = %v", figs)
	}
	if same, figs := NormalizeSkeleton("\\section{A}\nINTRODUCTION HERE\n"); same != "\\section{A}\nINTRODUCTION HERE\n" || figs != nil {
		t.Errorf("a normal skeleton changed: %q %v", same, figs)
	}
}
