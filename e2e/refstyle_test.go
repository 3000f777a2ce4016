package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/numbers"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestReferenceStyleTemplate: a template folder laid out as the reference
// system's are (testdata/refstyle/walks, written here: settings as argparse
// defaults, a helper module beside experiment.py, INTRO HERE, an example
// figure with a placeholder caption) runs unchanged from --templates-dir,
// the scripted double sweeping one of its argparse settings. Its data lies
// beside the templates folder (testdata/data) and is read at ../../data
// and ../../../data of the paper folder; its baseline comes from
// `starter templates baseline`.
func TestReferenceStyleTemplate(t *testing.T) {
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	templates, _ := filepath.Abs("../templates")
	extra, _ := filepath.Abs("testdata/refstyle")
	results, dataDir := t.TempDir(), t.TempDir()
	a, err := app.Start(ctx, app.Config{Dev: true, DataDir: dataDir, Port: -1, UIPort: freePort(t), Templates: templates,
		TemplatesDirs: []string{extra}, Python: os.Getenv("AISCI_PYTHON")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	// `starter templates baseline` puts run_0 into this host's cache (its
	// data read at ../../data); the paper below copies it.
	out, stderr := runStarter(ctx, t, "templates", "baseline", "walks", "--quick", "--address", a.Server.HostPort(), "--json")
	var base workflows.BaselineResult
	if err := json.Unmarshal(out, &base); err != nil || base.Cached || base.Host != app.HostName("") || base.Results["walk"].Means["max_distance"] <= 0 ||
		!strings.HasPrefix(base.Cache, filepath.Join(dataDir, "artifacts", "baselines", base.Host, "walks", "quick")) {
		t.Fatalf("starter templates baseline printed %v:\n%s\n%s", err, out, stderr)
	}
	baseHist := history(ctx, t, a.Client, workflows.BaselineWorkflowID("walks", true, base.Host))
	replayer := worker.NewWorkflowReplayer()
	workflows.RegisterWorkflows(replayer)
	if err := replayer.ReplayWorkflowHistory(nil, baseHist); err != nil {
		t.Errorf("baseline history does not replay: %v", err)
	}
	if out := os.Getenv("AISCI_RECORD_HISTORY"); out != "" {
		save(t, filepath.Join(out, "baseline.json"), baseHist)
	}
	id, err := app.StartCampaign(ctx, a.Client, workflows.CampaignInput{
		Template: "walks", Model: "scripted", NumIdeas: 1, Quick: true, ResultsDir: results, MaxRuns: 2, RunTimeout: 5 * time.Minute,
		SkipNoveltyCheck: true, SkipCitations: true, Review: activities.ReviewSpec{Ensemble: 1, Reflections: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	var prog workflows.CampaignProgress
	if err := a.Client.GetWorkflow(ctx, id, "").Get(ctx, &prog); err != nil {
		t.Fatalf("campaign on the reference-style template: %v", err)
	}
	if len(prog.Ideas) != 1 || prog.Ideas[0].State != workflows.StateCompleted {
		t.Fatalf("campaign progress = %+v", prog)
	}
	idea := prog.Ideas[0]
	if idea.Name != "num_walkers_sweep" {
		t.Errorf("idea %q, want the sweep of the first argparse setting", idea.Name)
	}
	dir := idea.Result
	// run_0 came from the host's cache; later runs read the data at ../../../data.
	if pp := paperProgress(ctx, t, a, idea.PaperID); len(pp.Runs) < 2 || !pp.Runs[0].Cached || !pp.Runs[1].OK {
		t.Errorf("runs %+v: want run_0 from the host's cache and run_1 done", pp.Runs)
	}
	if run1, err := os.ReadFile(filepath.Join(dir, "run_1.py")); err != nil || !strings.Contains(string(run1), `"--num_walkers", type=int, default=200)`) {
		t.Errorf("run_1.py does not carry the swept argparse default: %v", err)
	}
	text, err := latex.PDFText(ctx, filepath.Join(dir, idea.Name+".pdf"))
	if err != nil {
		t.Fatal(err)
	}
	text = strings.Join(strings.Fields(text), " ")
	// The Introduction went where INTRO HERE was; the example figure and its
	// placeholder caption are gone.
	for _, want := range []string{"How a single setting of an experiment", "Introduction", "max distance", "How the Setting num walkers Changes the Results"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%.3000s", want, text)
		}
	}
	for _, bad := range []string{"PLEASE FILL IN", "INTRO HERE", "HERE"} {
		if strings.Contains(text, bad) {
			t.Errorf("PDF text has %q", bad)
		}
	}
	// Built clean: no LaTeX problem, no unmatched number, no other warning.
	if pp := paperProgress(ctx, t, a, idea.PaperID); len(pp.Warnings) > 0 {
		t.Errorf("warnings: %q", pp.Warnings)
	}
	rep, err := numbers.CheckDir(dir)
	if err != nil || rep.Unmatched != 0 {
		t.Errorf("numbers: %+v, %v", numbers.Unmatched(rep), err)
	}
}
