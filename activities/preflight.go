package activities

import (
	"context"
	"time"

	"github.com/aiscientist/aiscientist/internal/preflight"
	"github.com/aiscientist/aiscientist/internal/pyrun"
)

// PreflightInput names what a campaign will need.
type PreflightInput struct {
	Template string
	Model    string
	// NeedBaseline: papers use the template's run_0 (not quick, no re-run).
	NeedBaseline bool
	// Budget: the campaign has a budget, so the model needs a known price.
	Budget bool `json:",omitempty"`
}

// PreflightResult reports the interpreter chosen for the template.
type PreflightResult struct {
	Python string
	// RunTimeout is the template's own limit for one run (0: none given).
	RunTimeout time.Duration `json:",omitempty"`
}

// Preflight checks everything a paper needs before any money is spent on
// the model: the template, the TeX tools, a Python that imports the
// template's packages and a usable model configuration. Every problem is
// reported at once; the error is final, since only a person can fix them.
func (a *Activities) Preflight(ctx context.Context, in PreflightInput) (PreflightResult, error) {
	r := preflight.Run(ctx, preflight.Options{Templates: a.Templates, Template: in.Template, Model: in.Model,
		Python: a.Python, Registry: a.LLM, NeedBaseline: in.NeedBaseline, Budget: in.Budget})
	if len(r.Problems) > 0 {
		typ := ErrTypeBadInput
		if r.Problems[0].Kind == preflight.KindModel {
			typ = ErrTypeModel
		}
		return PreflightResult{}, nonRetryable(typ, r.Summary())
	}
	a.pythons.Store(in.Template, r.Python)
	res := PreflightResult{Python: r.Python}
	if t, err := a.template(in.Template); err == nil {
		res.RunTimeout = time.Duration(t.Prompt.RunTimeoutSeconds) * time.Second
	}
	return res, nil
}

// python finds (once per template) an interpreter that imports what the
// template's scripts import.
func (a *Activities) python(ctx context.Context, name, dir string) (string, error) {
	if p, ok := a.pythons.Load(name); ok {
		return p.(string), nil
	}
	p, err := pyrun.ForTemplate(ctx, a.Python, dir)
	if err != nil {
		return "", badInput("template %s: %v", name, err)
	}
	a.pythons.Store(name, p)
	return p, nil
}
