package activities_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
)

func TestPreflight(t *testing.T) {
	needPython(t)
	for _, tool := range []string{"pdflatex", "bibtex", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	mini := miniTemplate(t, "")
	withBaseline := miniTemplate(t, "")
	writeFile(t, filepath.Join(withBaseline, "mini", "run_0", "final_info.json"), `{"d": {"means": {"acc": 1}}}`)
	tests := []struct {
		name      string
		templates string
		in        activities.PreflightInput
		wantType  string // "" means success
	}{
		{"quick paper needs no baseline", mini, activities.PreflightInput{Template: "mini", Model: llm.ScriptedModel}, ""},
		{"full paper without run_0 is refused before any model call", mini, activities.PreflightInput{Template: "mini", Model: llm.ScriptedModel, NeedBaseline: true}, activities.ErrTypeBadInput},
		{"full paper with run_0", withBaseline, activities.PreflightInput{Template: "mini", Model: llm.ScriptedModel, NeedBaseline: true}, ""},
		{"unknown template", mini, activities.PreflightInput{Template: "nope", Model: llm.ScriptedModel}, activities.ErrTypeBadInput},
		{"model without key", mini, activities.PreflightInput{Template: "mini", Model: "gpt-4o"}, activities.ErrTypeModel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, withTemplates(tt.templates))
			res, err := execute[activities.PreflightResult](t, e, e.acts.Preflight, tt.in)
			if tt.wantType != "" {
				wantFinal(t, err, tt.wantType)
				return
			}
			if err != nil || res.Python == "" {
				t.Fatalf("Preflight = %+v, %v", res, err)
			}
			if n := e.scripted.calls.Load(); n != 0 {
				t.Errorf("preflight called the model %d times", n)
			}
		})
	}
}
