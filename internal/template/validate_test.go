package template

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodSkeleton = `\documentclass{article}
\begin{filecontents}{references.bib}
@article{a2020, title={A}, author={B}, year={2020}}
\end{filecontents}
\graphicspath{{../}}
\title{TITLE HERE}
\begin{document}
\begin{abstract}
ABSTRACT HERE
\end{abstract}
\section{Introduction}
INTRO HERE
\section{Related Work}
RELATED WORK HERE
\section{Background}
BACKGROUND HERE
\section{Method}
METHOD HERE
\section{Experimental Setup}
EXPERIMENTAL SETUP HERE
\section{Results}
RESULTS HERE
\section{Conclusions}
CONCLUSIONS HERE
\bibliography{references}
\end{document}
`

func writeTemplate(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	base := map[string]string{
		"experiment.py":      "import argparse\np = argparse.ArgumentParser()\np.add_argument('--out_dir', default='run_0')\n# writes final_info.json\n",
		"plot.py":            "labels = {\n    \"run_0\": \"Baseline\",\n}\n",
		"prompt.json":        `{"system": "s", "task_description": "d"}`,
		"seed_ideas.json":    `[{"Name": "a_b", "Title": "T", "Experiment": "E", "Interestingness": 5, "Feasibility": 5, "Novelty": 5}]`,
		"latex/template.tex": goodSkeleton,
	}
	for k, v := range files {
		base[k] = v
	}
	for rel, content := range base {
		if content == "-" {
			continue // left out
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // in the only problem; "" for none
	}{
		{"a reference-style template", nil, ""},
		{"no plot.py", map[string]string{"plot.py": "-"}, "plot.py is missing"},
		{"no --out_dir", map[string]string{"experiment.py": "print('final_info.json')\n"}, "never reads --out_dir"},
		{"no final_info", map[string]string{"experiment.py": "import sys # out_dir\n"}, "never writes final_info.json"},
		{"no labels", map[string]string{"plot.py": "runs = ['run_0']\n"}, "no `labels = {...}` dict"},
		{"prompt not JSON", map[string]string{"prompt.json": "{system: s}"}, "prompt.json is not a JSON object"},
		{"prompt without task", map[string]string{"prompt.json": `{"system": "s"}`}, `no "task_description"`},
		{"bad timeout", map[string]string{"prompt.json": `{"system": "s", "task_description": "d", "run_timeout_seconds": -5}`}, "run_timeout_seconds must be a positive"},
		{"network not a flag", map[string]string{"prompt.json": `{"system": "s", "task_description": "d", "network": "yes"}`}, "network must be true or false"},
		{"network opt-in", map[string]string{"prompt.json": `{"system": "s", "task_description": "d", "network": true}`}, ""},
		{"seed idea broken", map[string]string{"seed_ideas.json": `[{"Name": "x", "Title": "", "Experiment": "E", "Interestingness": 5, "Feasibility": 5, "Novelty": 50}]`}, "seed_ideas.json: idea 1:"},
		{"seed ideas not a list", map[string]string{"seed_ideas.json": `{"Name": "x"}`}, "not a JSON list"},
		{"baseline of the wrong shape", map[string]string{"run_0/final_info.json": `{"acc": 0.9}`}, "run_0/final_info.json (the baseline)"},
		{"baseline fine", map[string]string{"run_0/final_info.json": `{"d": {"means": {"acc": 0.9}}}`}, ""},
		{"placeholder missing", map[string]string{"latex/template.tex": strings.Replace(goodSkeleton, "METHOD HERE\n", "", 1)}, `no line "METHOD HERE"`},
		{"no bibliography block", map[string]string{"latex/template.tex": strings.Replace(goodSkeleton, "references.bib}", "notes.txt}", 1)}, "no \\begin{filecontents}{references.bib}"},
		{"no graphicspath", map[string]string{"latex/template.tex": strings.Replace(goodSkeleton, "\\graphicspath{{../}}\n", "", 1)}, "no \\graphicspath{{../}}"},
		{"no title placeholder", map[string]string{"latex/template.tex": strings.Replace(goodSkeleton, "TITLE HERE", "My Title", 1)}, "no \\title{TITLE HERE}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Validate(writeTemplate(t, tt.files))
			switch {
			case tt.want == "" && len(got) != 0:
				t.Errorf("problems %q, want none", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
				t.Errorf("problems %q, want one containing %q", got, tt.want)
			}
		})
	}
	if got := Validate(filepath.Join(t.TempDir(), "none")); len(got) != 1 || !strings.Contains(got[0], "is not a folder") {
		t.Errorf("missing folder: %q", got)
	}
}

func TestOurTemplatesValidate(t *testing.T) {
	for _, name := range List("../../templates") {
		if got := Validate(filepath.Join("../../templates", name)); len(got) != 0 {
			t.Errorf("templates/%s: %q", name, got)
		}
	}
}
