package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLatexBuild: the error classes real model-written sections hit each
// still give a PDF (built with problems, reported), and a document that
// cannot give one exits 1.
func TestLatexBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("pdflatex runs skipped in -short mode")
	}
	for _, tool := range []string{"pdflatex", "bibtex"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (scripts/setup.sh)", tool)
		}
	}
	skeleton, err := os.ReadFile("../templates/grokking/latex/template.tex")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body string
		problem    string // in the report
		noPDF      bool
	}{
		{name: "undefined control sequence", body: `We use \fancyoptimizer{} throughout.`, problem: "Undefined control sequence"},
		{name: "missing figure", body: "\\begin{figure}[h]\\centering\\includegraphics[width=0.5\\linewidth]{val_acc_missing.png}\\caption{Accuracy.}\\end{figure}", problem: "val_acc_missing.png"},
		{name: "a dollar typo", body: `The learning rate $\eta is 0.001 and the decay $\lambda = 1$.`, problem: "Missing $ inserted"},
		{name: "an algorithm environment", body: "\\begin{algorithm}[h]\\caption{Training}\\begin{algorithmic}\\For{each step}\\State $w \\gets w - \\eta g$\\EndFor\\end{algorithmic}\\end{algorithm}"},
		{name: "a fatal error gives no PDF", body: `\input{no_such_file_anywhere}`, noPDF: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "latex"), 0o755); err != nil {
				t.Fatal(err)
			}
			tex := strings.Replace(string(skeleton), "METHOD HERE", tt.body, 1)
			if err := os.WriteFile(filepath.Join(dir, "latex", "template.tex"), []byte(tex), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := latexCmd()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetArgs([]string{"build", dir, "--name", "paper"})
			err := cmd.Execute()
			if tt.noPDF {
				if err != errNoPDF || !strings.Contains(out.String(), "no PDF") {
					t.Fatalf("err = %v, want errNoPDF\n%s", err, out.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("latex build: %v\n%s", err, out.String())
			}
			if _, err := os.Stat(filepath.Join(dir, "paper.pdf")); err != nil {
				t.Fatalf("no PDF: %v\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "pdf: "+filepath.Join(dir, "paper.pdf")) {
				t.Errorf("the report lacks the PDF path:\n%s", out.String())
			}
			if tt.problem != "" && !strings.Contains(out.String(), tt.problem) {
				t.Errorf("the report lacks %q:\n%s", tt.problem, out.String())
			}
		})
	}
}
