// Package template loads and checks research templates: a folder with
// experiment.py, plot.py, prompt.json, seed_ideas.json, latex/template.tex
// and a baseline run_0/final_info.json.
package template

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/aiscientist/aiscientist/internal/paper"
)

// Required files every template must have.
var Required = []string{"experiment.py", "plot.py", "prompt.json", "latex/template.tex"}

// Prompt is prompt.json.
type Prompt struct {
	System          string `json:"system"`
	TaskDescription string `json:"task_description"`
	// RunTimeoutSeconds is how long one experiment run may take on this
	// template (optional; the default is 7,200 s); --run-timeout overrides.
	RunTimeoutSeconds int `json:"run_timeout_seconds,omitempty"`
	// Network: the experiments download data or models at run time, so
	// the sandbox keeps the network for this template (off by default).
	Network bool `json:"network,omitempty"`
}

// Template is a loaded template folder.
type Template struct {
	Name   string
	Dir    string
	Prompt Prompt
}

// ErrUnknown means no template of that name exists.
var ErrUnknown = errors.New("unknown template")

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Roots joins template folders into the list Load and List search, first
// first: the --templates-dir folders, then the built-in templates folder.
func Roots(dirs ...string) string {
	var keep []string
	for _, d := range dirs {
		if d != "" {
			keep = append(keep, d)
		}
	}
	return strings.Join(keep, string(os.PathListSeparator))
}

// Load finds template name under roots (one folder, or several joined by
// Roots: the first that has it wins) and checks its contract.
func Load(roots, name string) (Template, error) {
	if !validName.MatchString(name) {
		return Template{}, fmt.Errorf("%w %q: names are letters, digits, '_', '-', '.'", ErrUnknown, name)
	}
	var dir string
	for _, root := range filepath.SplitList(roots) {
		if st, err := os.Stat(filepath.Join(root, name)); err == nil && st.IsDir() {
			dir = filepath.Join(root, name)
			break
		}
	}
	if dir == "" {
		return Template{}, fmt.Errorf("%w %q: no folder %s in %s (available: %s)", ErrUnknown, name, name,
			strings.Join(filepath.SplitList(roots), ", "), strings.Join(List(roots), ", "))
	}
	var missing []string
	for _, f := range Required {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return Template{}, fmt.Errorf("template %q is missing %s", name, strings.Join(missing, ", "))
	}
	b, err := os.ReadFile(filepath.Join(dir, "prompt.json"))
	if err != nil {
		return Template{}, fmt.Errorf("template %q: %w", name, err)
	}
	var p Prompt
	if err := json.Unmarshal(b, &p); err != nil {
		return Template{}, fmt.Errorf("template %q: prompt.json: %w", name, err)
	}
	if p.RunTimeoutSeconds < 0 {
		return Template{}, fmt.Errorf("template %q: prompt.json: run_timeout_seconds must be positive", name)
	}
	if p.TaskDescription == "" {
		return Template{}, fmt.Errorf("template %q: prompt.json has no task_description", name)
	}
	return Template{Name: name, Dir: dir, Prompt: p}, nil
}

// List names the template folders under roots (see Load), each name once.
func List(roots string) []string {
	var out []string
	for _, root := range filepath.SplitList(roots) {
		entries, _ := os.ReadDir(root)
		for _, e := range entries {
			if e.IsDir() && !slices.Contains(out, e.Name()) {
				out = append(out, e.Name())
			}
		}
	}
	return out
}

// SeedIdeas reads seed_ideas.json (empty when the template has none).
func (t Template) SeedIdeas() ([]paper.Idea, error) {
	b, err := os.ReadFile(filepath.Join(t.Dir, "seed_ideas.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ideas []paper.Idea
	if err := json.Unmarshal(b, &ideas); err != nil {
		return nil, fmt.Errorf("template %q: seed_ideas.json: %w", t.Name, err)
	}
	return ideas, nil
}

// Read returns a file of the template as text.
func (t Template) Read(rel string) (string, error) {
	b, err := os.ReadFile(filepath.Join(t.Dir, rel))
	return string(b), err
}

// DataDir is the data folder beside the folder of templates this one lies
// in (<root>/../data), as an absolute path, or "" when there is none. The
// reference system keeps its datasets there (data/shakespeare_char, …),
// and its templates read them relative to the paper folder (../../data for
// the baseline, ../../../data for later runs); the experiment activities
// make that folder appear at both places, read-only.
func (t Template) DataDir() string {
	d, err := filepath.Abs(filepath.Join(filepath.Dir(filepath.Dir(t.Dir)), "data"))
	if err != nil {
		return ""
	}
	if st, err := os.Stat(d); err != nil || !st.IsDir() {
		return ""
	}
	return d
}
