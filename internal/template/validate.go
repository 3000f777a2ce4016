package template

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/paper"
)

var (
	outDirRe   = regexp.MustCompile(`out_dir`)
	labelsRe   = regexp.MustCompile(`(?m)^\s*labels\s*=\s*\{`)
	graphicsRe = regexp.MustCompile(`\\graphicspath\s*\{\s*\{\.\./?\}`)
)

// Validate checks a template folder against the contract the pipeline
// relies on and returns one line per problem (none: the folder can be
// used as it is). It reads files only; it runs nothing.
func Validate(dir string) []string {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return []string{fmt.Sprintf("%s is not a folder", dir)}
	}
	read := func(rel string) (string, bool) {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			add("%s is missing (every template needs %s)", rel, strings.Join(Required, ", "))
			return "", false
		}
		return string(b), true
	}
	if code, ok := read("experiment.py"); ok {
		if !outDirRe.MatchString(code) {
			add("experiment.py never reads --out_dir: it is run as `python experiment.py --out_dir=run_i` and must write run_i/final_info.json")
		}
		if !strings.Contains(code, "final_info") {
			add("experiment.py never writes final_info.json (shaped {\"<dataset>\": {\"means\": {\"<metric>\": number}}})")
		}
	}
	if code, ok := read("plot.py"); ok && !labelsRe.MatchString(code) {
		add("plot.py has no `labels = {...}` dict (run folder -> legend label) naming the runs to plot")
	}
	if b, ok := read("prompt.json"); ok {
		var p map[string]any
		if err := json.Unmarshal([]byte(b), &p); err != nil {
			add("prompt.json is not a JSON object: %v", err)
		} else {
			for _, k := range []string{"system", "task_description"} {
				if s, _ := p[k].(string); strings.TrimSpace(s) == "" {
					add("prompt.json has no %q (a non-empty string)", k)
				}
			}
			if v, ok := p["network"]; ok {
				if _, isBool := v.(bool); !isBool {
					add("prompt.json: network must be true or false (true: the experiments download at run time, so the sandbox keeps the network), got %v", v)
				}
			}
			if v, ok := p["run_timeout_seconds"]; ok {
				if n, isNum := v.(float64); !isNum || n <= 0 {
					add("prompt.json: run_timeout_seconds must be a positive number of seconds, got %v", v)
				}
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "seed_ideas.json")); err == nil {
		var ideas []json.RawMessage
		if err := json.Unmarshal(b, &ideas); err != nil {
			add("seed_ideas.json is not a JSON list of ideas: %v", err)
		}
		for i, raw := range ideas {
			if _, err := paper.ParseIdea(string(raw)); err != nil {
				add("seed_ideas.json: idea %d: %v", i+1, err)
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "run_0", "final_info.json")); err == nil {
		if _, err := paper.ParseFinalInfo(b); err != nil {
			add("run_0/final_info.json (the baseline): %v", err)
		}
	}
	if tex, ok := read(filepath.Join("latex", "template.tex")); ok {
		probs = append(probs, skeletonProblems(tex)...)
	}
	return probs
}

// skeletonProblems checks the LaTeX skeleton: every placeholder the
// write-up fills (in any spelling it accepts), the embedded bibliography,
// and figures looked up in the paper folder.
func skeletonProblems(tex string) []string {
	var probs []string
	norm, _ := latex.NormalizeSkeleton(tex)
	lines := map[string]bool{}
	for _, l := range strings.Split(norm, "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	if !strings.Contains(norm, `\title{TITLE HERE}`) {
		probs = append(probs, `latex/template.tex has no \title{TITLE HERE}: the write-up puts the paper's title there`)
	}
	for _, p := range latex.SectionPlaceholders {
		if !lines[p] {
			probs = append(probs, fmt.Sprintf("latex/template.tex has no line %q: that part of the paper would be written and then lost", p))
		}
	}
	if !latex.HasBibBlock(tex) {
		probs = append(probs, `latex/template.tex has no \begin{filecontents}{references.bib} ... \end{filecontents} block: citations are added there`)
	}
	if !graphicsRe.MatchString(tex) {
		probs = append(probs, `latex/template.tex has no \graphicspath{{../}}: plot.py writes the figures into the paper folder, one level above latex/`)
	}
	if !strings.Contains(tex, `\begin{document}`) {
		probs = append(probs, `latex/template.tex has no \begin{document}`)
	}
	return probs
}
