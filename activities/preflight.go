package activities

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aiscientist/aiscientist/internal/pyrun"
)

// PreflightInput names what a campaign will need.
type PreflightInput struct {
	Template string
	Model    string
	// NeedBaseline: papers use the template's run_0 (not quick, no re-run).
	NeedBaseline bool
}

// PreflightResult reports the interpreter chosen for the template.
type PreflightResult struct {
	Python string
}

// Preflight checks everything a paper needs before any money is spent on
// the model: the template, the TeX tools, a Python that imports the
// template's packages and a usable model configuration.
func (a *Activities) Preflight(ctx context.Context, in PreflightInput) (PreflightResult, error) {
	t, err := a.template(in.Template)
	if err != nil {
		return PreflightResult{}, err
	}
	if in.NeedBaseline {
		if _, err := os.Stat(filepath.Join(t.Dir, "run_0", "final_info.json")); err != nil {
			return PreflightResult{}, badInput("template %s has no baseline run_0/final_info.json: produce it on this host with `python experiment.py --out_dir=run_0` in the template folder, or launch with --quick", t.Name)
		}
	}
	var missing []string
	for _, tool := range []string{"pdflatex", "bibtex", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return PreflightResult{}, badInput("missing on the worker's PATH: %s (Debian: apt-get install texlive-latex-extra texlive-fonts-recommended poppler-utils)", strings.Join(missing, ", "))
	}
	py, err := a.python(ctx, t.Name, t.Dir)
	if err != nil {
		return PreflightResult{}, err
	}
	if _, err := a.LLM.Client(in.Model); err != nil {
		return PreflightResult{}, temporalError(err)
	}
	return PreflightResult{Python: py}, nil
}

// python finds (once per template) an interpreter that imports what the
// template's scripts import.
func (a *Activities) python(ctx context.Context, name, dir string) (string, error) {
	if p, ok := a.pythons.Load(name); ok {
		return p.(string), nil
	}
	mods, err := pyrun.ModulesOf(dir, "experiment.py", "plot.py")
	if err != nil {
		return "", badInput("template %s: %v", name, err)
	}
	p, err := pyrun.Find(ctx, pyrun.Candidates(a.Python), mods)
	if err != nil {
		return "", badInput("%v", err)
	}
	a.pythons.Store(name, p)
	return p, nil
}
