package activities

import (
	"slices"
	"strings"
	"testing"

	"github.com/aiscientist/aiscientist/internal/latex"
)

func TestPlanOf(t *testing.T) {
	long := strings.Repeat("x", 150)
	tests := []struct{ reply, want string }{
		{"THOUGHT: Sweep weight decay 1.0 in run 2.\n\nexperiment.py\n```python\n", "Sweep weight decay 1.0 in run 2."},
		{"\n\n  THOUGHT:\n  Lower the learning rate.\n", "Lower the learning rate."},
		{"```python\n<<<<<<< SEARCH\n", ""},
		{"", ""},
		{long, strings.Repeat("x", 99) + "…"},
	}
	for _, tt := range tests {
		if got := planOf(tt.reply); got != tt.want {
			t.Errorf("planOf(%.30q) = %q, want %q", tt.reply, got, tt.want)
		}
	}
}

func TestBodyOnly(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Plain text.", "Plain text."},
		{"\\section{Results}\\label{sec:results}\nWe find.", "We find."},
		{"\\section{Results}\n\\label{sec:results}\nWe find.\n\\subsection{More}", "We find.\n\\subsection{More}"},
		{"\\begin{abstract}\nWe study.\n\\end{abstract}", "We study."},
		{"We cite \\label{x} inline.", "We cite \\label{x} inline."},
	}
	for _, tt := range tests {
		if got := bodyOnly(tt.in); got != tt.want {
			t.Errorf("bodyOnly(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSectionSpan(t *testing.T) {
	skeleton := "\\begin{abstract}\nABSTRACT HERE\n\\end{abstract}\n\n\\section{Method}\\label{sec:method}\nMETHOD HERE\n\n\\section{Results}\nRESULTS HERE\n\\end{document}\n"
	doc := "\\begin{abstract}\nWe study.\nTwo lines.\n\\end{abstract}\n\n\\section{Method}\\label{sec:method}\nM1\n\nM2 \\cite{a}\n\n\\section{Results}\nR\n\\end{document}\n"
	for _, tt := range []struct {
		placeholder string
		want        string
		ok          bool
	}{
		{"ABSTRACT HERE", "We study.\nTwo lines.", true},
		{"METHOD HERE", "M1\n\nM2 \\cite{a}\n", true},
		{"RESULTS HERE", "R", true},
		{"NOWHERE HERE", "", false},
	} {
		start, end, ok := sectionSpan(doc, skeleton, tt.placeholder)
		got := ""
		if ok {
			got = strings.Join(strings.Split(doc, "\n")[start:end], "\n")
		}
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: %q, %v; want %q, %v", tt.placeholder, got, ok, tt.want, tt.ok)
		}
	}
	// A heading the writer edited away: not found, so the section is left alone.
	if _, _, ok := sectionSpan(strings.Replace(doc, "\\section{Method}\\label{sec:method}", "\\section{Approach}", 1), skeleton, "METHOD HERE"); ok {
		t.Error("found a section whose heading is gone")
	}
}

// TestPlaceholdersAgree: what templates validate checks is what the write-up fills.
func TestPlaceholdersAgree(t *testing.T) {
	var ours []string
	for _, s := range Sections {
		ours = append(ours, s.Placeholder)
	}
	for _, p := range latex.SectionPlaceholders {
		if !slices.Contains(ours, p) {
			t.Errorf("latex.SectionPlaceholders has %q, which no section fills", p)
		}
	}
	if len(ours) != len(latex.SectionPlaceholders) {
		t.Errorf("sections fill %v, latex.SectionPlaceholders lists %v", ours, latex.SectionPlaceholders)
	}
}
